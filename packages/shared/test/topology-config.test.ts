import { describe, expect, it } from '@jest/globals';
import keySlot from 'cluster-key-slot';
import { ConfigError, describeTopology, loadGatewayConfig, loadWorkerConfig, pubSubModeOf, redisKeys } from '../src/index.js';

describe('Redis topology settings', () => {
  it('is one Redis at REDIS_URL by default', () => {
    const c = loadWorkerConfig({});
    expect(c.redis).toEqual({ mode: 'single', url: 'redis://127.0.0.1:6379' });
    expect(pubSubModeOf(c.redis)).toBe('classic');
    expect(c.QUEUE_SHARDS).toBe(1);
  });

  it('is a cluster when REDIS_CLUSTER_NODES is set (over REDIS_URL), with sharded pub/sub', () => {
    const c = loadGatewayConfig({ REDIS_URL: 'redis://elsewhere:6379', REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-0.redis:7001,[::1]:7002', REDIS_PASSWORD: 's3cret' });
    expect(c.redis).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-0.redis', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      password: 's3cret',
      tls: false,
    });
    expect(pubSubModeOf(c.redis)).toBe('sharded');
    expect(describeTopology(c.redis)).not.toContain('s3cret');
  });

  it('is Sentinel with REDIS_SENTINELS and the master name', () => {
    const c = loadWorkerConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_MASTER: 'chat' });
    expect(c.redis).toMatchObject({ mode: 'sentinel', name: 'chat', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }] });
    expect(pubSubModeOf(c.redis)).toBe('classic');
  });

  it.each([
    [{ REDIS_CLUSTER_NODES: 'nohost' }, /REDIS_CLUSTER_NODES: expected host:port/],
    [{ REDIS_CLUSTER_NODES: 'a:99999' }, /REDIS_CLUSTER_NODES/],
    [{ REDIS_SENTINELS: 's1:26379' }, /REDIS_SENTINEL_MASTER: required/],
    [{ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'm', REDIS_CLUSTER_NODES: 'a:1' }, /not both/],
    [{ REDIS_CLUSTER_NODES: 'a:1', RELAY_SUBSCRIPTION: 'gateway' }, /RELAY_SUBSCRIPTION/],
    [{ QUEUE_SHARDS: '0' }, /QUEUE_SHARDS/],
  ])('refuses %p with one line naming the variable', (env, message) => {
    expect(() => loadGatewayConfig(env)).toThrow(ConfigError);
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });

  it('spreads sessions over queues whose keys each sit on one cluster slot', () => {
    const k = redisKeys('t');
    const queues = k.chatQueues(3);
    expect(queues).toHaveLength(3);
    // Each queue's hash tag lands in its own third of the slot space (one per primary of three).
    const slots = queues.map((q) => keySlot(/\{([^}]+)\}/.exec(q)![1]!));
    slots.forEach((slot, i) => {
      expect(slot).toBeGreaterThanOrEqual(Math.floor((i * 16384) / 3));
      expect(slot).toBeLessThan(Math.floor(((i + 1) * 16384) / 3));
    });
    expect(redisKeys('other').chatQueues(3)).toEqual(queues);
    const used = new Set(Array.from({ length: 200 }, (_, i) => k.chatQueueOf(`session-${i}`, 3)));
    expect(used).toEqual(new Set(k.chatQueues(3)));
    expect(k.chatQueueOf('abc', 3)).toBe(k.chatQueueOf('abc', 3));
  });
});
