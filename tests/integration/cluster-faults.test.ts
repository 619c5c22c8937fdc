// The fleet on a Redis Cluster when the cluster misbehaves. Runs only in the cluster run
// (jest.cluster.config.js). The run's cluster is shared by every file of that run: a test that
// kills, stops or moves something on it puts it back (restart, waitUntilOk) before it ends, or
// starts a private cluster of its own with startRedisCluster() and passes `redis: cluster.topology`
// to startTestStack.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RedisClient } from '@chat-fleet/shared';
import { CLUSTER_SLOTS, keySlot } from '@chat-fleet/stack';
import { Cluster } from 'ioredis';
import { http } from '../support/chat-client.js';
import { testRedis, testRedisMode, testTopology } from '../support/test-redis.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/** The environment a running process was started with. */
function environOf(pid: number): Record<string, string> {
  const pairs = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

describe('the cluster harness', () => {
  let redis: RedisClient;
  let stack: TestStack;

  beforeAll(async () => {
    redis = testRedis();
    stack = await startTestStack('cluster-harness', { gateways: 1, workers: 1 });
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it('runs on a Redis Cluster of three primaries with a replica each, every slot served', async () => {
    expect(testRedisMode()).toBe('cluster');
    expect(redis).toBeInstanceOf(Cluster);
    const cluster = redis as Cluster;
    expect(String(await cluster.cluster('INFO'))).toMatch(/cluster_state:ok/);
    const shards = (await cluster.cluster('SLOTS')) as Array<[number, number, ...unknown[]]>;
    expect(shards.reduce((n, [from, to]) => n + to - from + 1, 0)).toBe(CLUSTER_SLOTS);
    expect(cluster.nodes('master')).toHaveLength(3);
    // Keys of one session share a slot; keys of two sessions may not: the client routes both.
    expect(keySlot('t:s:{a}:meta')).toBe(keySlot('t:s:{a}:history'));
    await cluster.set('t:s:{harness-1}:probe', '1');
    await cluster.set('t:s:{harness-2}:probe', '2');
    expect(await cluster.get('t:s:{harness-2}:probe')).toBe('2');
  });

  it('gives every process of a test stack REDIS_CLUSTER_NODES and no other Redis variable', async () => {
    const topology = testTopology();
    if (topology.mode !== 'cluster') throw new Error('not a cluster run');
    const nodes = topology.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    for (const pid of [stack.gateways[0]!.process.pid, stack.workers[0]!.process.pid, stack.sim!.process.pid]) {
      const env = environOf(pid);
      expect(env.REDIS_CLUSTER_NODES).toBe(nodes);
      for (const other of ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER']) expect(env[other]).toBeUndefined();
    }
    const health = await http<{ status: string; redis: string }>(stack.gateways[0]!.url, 'GET', '/health');
    expect(health.json).toMatchObject({ status: 'ok', redis: 'up' });
  });
});

// Fleet-level cluster faults (a primary killed or stopped mid-reply, a failover, a slot moved
// while replies stream) belong below.
