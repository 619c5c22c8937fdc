import { ConfigError } from '@chat-fleet/shared';
import { describe, expect, it } from '@jest/globals';
import { formatHostPorts, parseHostPorts, probeRedis, redisEnv, topologyFromEnv } from '../src/redis-topology.js';
import { freePort } from '../src/free-port.js';

describe('Redis topologies', () => {
  it('names each topology with the contract variables, and only those', () => {
    expect(redisEnv({ mode: 'single', url: 'redis://r:6379' })).toEqual({ REDIS_URL: 'redis://r:6379' });
    expect(redisEnv({ mode: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: '::1', port: 7001 }] })).toEqual({ REDIS_CLUSTER_NODES: 'a:7000,[::1]:7001' });
    expect(redisEnv({ mode: 'sentinel', sentinels: [{ host: 's', port: 26379 }], name: 'm' })).toEqual({ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm' });
    expect(redisEnv({ mode: 'cluster', nodes: [{ host: 'a', port: 1 }], username: 'u', password: 'p', tls: true })).toEqual({
      REDIS_CLUSTER_NODES: 'a:1',
      REDIS_USERNAME: 'u',
      REDIS_PASSWORD: 'p',
      REDIS_TLS: 'true',
    });
  });

  it('reads the environment with the apps\' precedence: cluster nodes, then Sentinels, then the URL', () => {
    expect(topologyFromEnv({})).toBeUndefined();
    expect(topologyFromEnv({ REDIS_URL: 'redis://r:1', REDIS_PASSWORD: 'ignored' })).toEqual({ mode: 'single', url: 'redis://r:1' });
    expect(topologyFromEnv({ REDIS_URL: 'redis://r:1', REDIS_CLUSTER_NODES: 'a:1' })).toEqual({ mode: 'cluster', nodes: [{ host: 'a', port: 1 }] });
    expect(topologyFromEnv({ REDIS_SENTINELS: ' s:1 ', REDIS_SENTINEL_MASTER: 'm', REDIS_PASSWORD: 'pw', REDIS_TLS: 'yes' })).toEqual({
      mode: 'sentinel',
      sentinels: [{ host: 's', port: 1 }],
      name: 'm',
      password: 'pw',
      tls: true,
    });
    expect(() => topologyFromEnv({ REDIS_SENTINELS: 's:1' })).toThrow(/REDIS_SENTINEL_MASTER/);
    expect(() => topologyFromEnv({ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_MASTER: 'm', REDIS_CLUSTER_NODES: 'a:1' })).toThrow(/not both/);
    expect(() => topologyFromEnv({ REDIS_CLUSTER_NODES: 'a:1', REDIS_TLS: 'maybe' })).toThrow(ConfigError);
  });

  it('parses host:port lists and names the variable on a bad entry', () => {
    expect(parseHostPorts('127.0.0.1:7000, redis-1.internal:7001,[::1]:7002,', 'X')).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: 'redis-1.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    for (const bad of ['', 'host', 'host:0', 'host:65536', 'host:port', ':7000']) {
      expect(() => parseHostPorts(bad, 'REDIS_CLUSTER_NODES')).toThrow(/^invalid environment variable REDIS_CLUSTER_NODES: /);
    }
  });

  it('formats a list back into the variables\' form', () => {
    const text = '127.0.0.1:7000,redis-1.internal:7001,[::1]:7002';
    expect(formatHostPorts(parseHostPorts(text, 'X'))).toBe(text);
  });

  it('probeRedis is false, fast, on every topology when nothing answers', async () => {
    const closed = await freePort();
    const started = Date.now();
    const results = await Promise.all([
      probeRedis({ mode: 'single', url: `redis://127.0.0.1:${closed}` }, 500),
      probeRedis({ mode: 'cluster', nodes: [{ host: '127.0.0.1', port: closed }] }, 500),
      probeRedis({ mode: 'sentinel', sentinels: [{ host: '127.0.0.1', port: closed }], name: 'm' }, 500),
    ]);
    expect(results).toEqual([false, false, false]);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
