// A real private Sentinel set-up: a primary, a replica and three Sentinels; a forced failover, a
// killed primary, a restart, then stopped without a trace.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startRedisSentinel, type RedisSentinelSet } from '../src/redis-sentinel.js';
import { connectRedis, probeRedis } from '../src/redis-topology.js';
import { alive } from './scripts.js';

jest.setTimeout(60_000);

describe('startRedisSentinel', () => {
  let set: RedisSentinelSet;
  let client: Redis;
  let startedInMs: number;

  beforeAll(async () => {
    const started = Date.now();
    set = await startRedisSentinel({ masterName: 'fleet-test' });
    startedInMs = Date.now() - started;
    client = connectRedis(set.topology) as Redis;
    client.on('error', () => undefined);
  });

  afterAll(async () => {
    if (client !== undefined && client.status !== 'end') client.disconnect();
    await set?.stop();
  });

  it('watches the first server with three Sentinels, each from its own config file', async () => {
    expect(startedInMs).toBeLessThan(15_000);
    expect(set.sentinels).toMatch(/^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    expect(set.topology).toEqual({ mode: 'sentinel', sentinels: set.sentinelPorts.map((port) => ({ host: '127.0.0.1', port })), name: 'fleet-test' });
    expect(await set.primary()).toEqual({ host: '127.0.0.1', port: set.redisPorts[0] });
    for (const port of set.sentinelPorts) {
      const conf = readFileSync(join(set.dir, `sentinel-${port}.conf`), 'utf8');
      expect(conf).toMatch(new RegExp(`sentinel monitor fleet-test 127\\.0\\.0\\.1 ${set.redisPorts[0]} 2`));
    }
    expect(await probeRedis(set.topology)).toBe(true);
    expect(await client.set('k', 'v')).toBe('OK');
  });

  it('failover() promotes the replica; the client follows and the data is there', async () => {
    await client.set('before-failover', 'kept');
    expect(await client.wait(1, 2000)).toBe(1);
    const started = Date.now();
    const promoted = await set.failover();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(promoted).toEqual({ host: '127.0.0.1', port: set.redisPorts[1] });
    expect(await set.primary()).toEqual(promoted);
    // ioredis finds the new primary through the Sentinels on its next connection.
    client.disconnect();
    client = connectRedis(set.topology) as Redis;
    client.on('error', () => undefined);
    expect(await client.get('before-failover')).toBe('kept');
    await set.waitUntilReady();
  });

  it('a killed primary is replaced; restarted, it comes back as a replica', async () => {
    const old = await set.primary();
    expect(await client.wait(1, 2000)).toBe(1);
    const pid = set.pid(old.port)!;
    set.kill(old.port);
    const next = await set.waitForNewPrimary(old.port);
    expect(alive(pid)).toBe(false);
    expect(next.port).not.toBe(old.port);
    expect(set.redisPorts).toContain(next.port);
    await set.restart(old.port);
    await set.waitUntilReady();
    expect(await set.primary()).toEqual(next);
  });

  it('stop() leaves no process and no directory behind', async () => {
    const pids = [...set.redisPorts, ...set.sentinelPorts].map((p) => set.pid(p)!);
    expect(pids.every((p) => p !== undefined)).toBe(true);
    client.disconnect();
    await set.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(existsSync(set.dir)).toBe(false);
  });
});
