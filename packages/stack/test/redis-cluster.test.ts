// A real private Redis Cluster: created, reached through a cluster client, one slot moved, a
// primary killed and restarted, a graceful failover, then stopped without a trace.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Cluster } from 'ioredis';
import { CLUSTER_SLOTS, keySlot, startRedisCluster, type RedisCluster } from '../src/redis-cluster.js';
import { connectRedis, probeRedis } from '../src/redis-topology.js';
import { alive } from './scripts.js';

jest.setTimeout(60_000);

describe('startRedisCluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let startedInMs: number;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startRedisCluster();
    startedInMs = Date.now() - started;
    client = connectRedis(cluster.topology) as Cluster;
  });

  afterAll(async () => {
    if (client !== undefined && client.status !== 'end') client.disconnect();
    await cluster?.stop();
  });

  it('runs three primaries with a replica each, every slot served, its seed list in REDIS_CLUSTER_NODES form', async () => {
    expect(startedInMs).toBeLessThan(15_000);
    expect(cluster.nodes).toMatch(/^(127\.0\.0\.1:\d+,){5}127\.0\.0\.1:\d+$/);
    expect(cluster.topology).toEqual({ mode: 'cluster', nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })) });
    const primaries = await cluster.primaries();
    expect(primaries).toHaveLength(3);
    expect(primaries.flatMap((p) => p.slots).reduce((n, [a, b]) => n + b - a + 1, 0)).toBe(CLUSTER_SLOTS);
    for (const p of primaries) {
      expect(p.replicas).toHaveLength(1);
      expect(cluster.ports).toContain(p.port);
      expect(cluster.ports).toContain(p.replicas[0]!.port);
    }
    expect(await probeRedis(cluster.topology)).toBe(true);
    expect(String(await client.cluster('INFO'))).toMatch(/cluster_state:ok/);
  });

  it('hashes keys like Redis does, hash tags included, and names the primary of a slot', async () => {
    for (const key of ['foo', 'chat:{s1}:meta', 'chat:{s1}:history', 'a{}b', '{user1000}.following', 'ünïcode']) {
      expect(keySlot(key)).toBe(await client.cluster('KEYSLOT', key));
    }
    expect(keySlot('chat:{s1}:meta')).toBe(keySlot('chat:{s1}:history'));
    const slot = keySlot('foo');
    const owner = await cluster.nodeForSlot(slot);
    const primary = (await cluster.primaries()).find((p) => p.port === owner.port)!;
    expect(primary.slots.some(([a, b]) => slot >= a && slot <= b)).toBe(true);
    await expect(cluster.nodeForSlot(CLUSTER_SLOTS)).rejects.toThrow(/no slot/);
  });

  it('migrateSlot moves one slot and its keys to another primary; clients follow ASK, then MOVED', async () => {
    const keys = Array.from({ length: 250 }, (_, i) => `{moving}:${i}`);
    await Promise.all(keys.map((k, i) => client.set(k, String(i))));
    const slot = keySlot(keys[0]!);
    const from = await cluster.nodeForSlot(slot);
    const to = (await cluster.primaries()).find((p) => p.port !== from.port)!;
    let duringMigration: string | null = null;
    await cluster.migrateSlot(slot, to.port, {
      batch: 100,
      onMigrating: async () => {
        duringMigration = await client.get(keys[7]!);
        // A key written now lands on the target (ASK), and still moves with the slot.
        await client.set('{moving}:late', 'late');
      },
    });
    expect(duringMigration).toBe('7');
    expect(await cluster.nodeForSlot(slot)).toEqual({ host: '127.0.0.1', port: to.port });
    const after = await Promise.all(keys.map((k) => client.get(k)));
    expect(after).toEqual(keys.map((_, i) => String(i)));
    expect(await client.get('{moving}:late')).toBe('late');
    // Every other slot stayed where it was.
    const source = (await cluster.primaries()).find((p) => p.port === from.port)!;
    expect(source.slots.some(([a, b]) => slot >= a && slot <= b)).toBe(false);
  });

  it('a killed primary is replaced by its replica; restarted, it rejoins as a replica', async () => {
    await client.set('survives', 'yes');
    const slot = keySlot('survives');
    const victim = await cluster.nodeForSlot(slot);
    const before = (await cluster.primaries()).find((p) => p.port === victim.port)!;
    // The write reached the replica before the primary dies.
    const primaryClient = client.nodes('master').find((n) => n.options.port === victim.port)!;
    expect(await primaryClient.wait(1, 2000)).toBe(1);
    const pid = cluster.pid(victim.port)!;
    cluster.kill(victim.port);
    const started = Date.now();
    await cluster.waitUntilOk();
    const failoverMs = Date.now() - started;
    expect(alive(pid)).toBe(false);
    expect(cluster.pid(victim.port)).toBeUndefined();
    const promoted = await cluster.nodeForSlot(slot);
    expect(promoted.port).toBe(before.replicas[0]!.port);
    expect(failoverMs).toBeLessThan(15_000);
    expect(await client.get('survives')).toBe('yes');

    await cluster.restart(victim.port);
    const now = (await cluster.primaries()).find((p) => p.port === promoted.port)!;
    expect(now.replicas.map((r) => r.port)).toEqual([victim.port]);
    expect(cluster.pid(victim.port)).not.toBe(pid);
  });

  it('a stopped (SIGSTOP) primary counts as down: its replica takes over; woken, it rejoins as a replica', async () => {
    const [, second] = await cluster.primaries();
    cluster.kill(second!.port, 'SIGSTOP');
    await cluster.waitUntilOk();
    expect((await cluster.primaries()).map((p) => p.port)).toContain(second!.replicas[0]!.port);
    expect(cluster.pid(second!.port)).toBeDefined();
    cluster.kill(second!.port, 'SIGCONT');
    await cluster.waitUntilOk();
    const promoted = (await cluster.primaries()).find((p) => p.port === second!.replicas[0]!.port)!;
    expect(promoted.replicas.map((r) => r.port)).toEqual([second!.port]);
  });

  it('failover() promotes the replica of a running primary', async () => {
    const [first] = await cluster.primaries();
    const promoted = await cluster.failover(first!.port);
    expect(promoted.port).toBe(first!.replicas[0]!.port);
    const primaries = await cluster.primaries();
    expect(primaries.map((p) => p.port)).toContain(promoted.port);
    expect(primaries.map((p) => p.port)).not.toContain(first!.port);
    expect(await client.set('after-failover', '1')).toBe('OK');
  });

  it('stop() leaves no process and no directory behind', async () => {
    const pids = cluster.ports.map((p) => cluster.pid(p)!);
    client.disconnect();
    await cluster.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(existsSync(cluster.dir)).toBe(false);
  });
});
