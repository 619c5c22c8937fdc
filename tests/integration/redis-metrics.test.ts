// RedisClientMetrics against a real Redis: sampled command latency, up/down and reconnects.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { RedisClientMetrics, waitReady, type RedisClient } from '@chat-fleet/shared';
import { testRedis } from '../support/test-redis.js';

// CLIENT LIST/KILL on the server that holds the connection: one Redis or a Sentinel set-up's
// primary, not a cluster (its admin commands go to any node).
let client: RedisClient;
let admin: RedisClient;
const registry = new Registry();
const metrics = new RedisClientMetrics(registry);

beforeAll(async () => {
  client = testRedis({ connectionName: 'metrics-under-test', retryStrategy: () => 50 });
  admin = testRedis();
  await waitReady(client);
});

afterAll(() => {
  client.disconnect();
  admin.disconnect();
});

async function value(name: string, labels: Record<string, string>): Promise<number> {
  const family = (await registry.getMetricsAsJSON()).find((m) => m.name === name.replace(/_count$/, ''));
  const samples = (family?.values ?? []) as Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
  return samples
    .filter((s) => (s.metricName ?? family?.name) === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

it('samples one command in N, labelled by client and command', async () => {
  metrics.watch(client, 'probe', 4);
  for (let i = 0; i < 40; i++) await client.set(`rm:${i}`, 'x');
  await client.get('rm:1');
  await new Promise((r) => setImmediate(r));
  // 41 commands at one in 4: 10 samples, all SETs (the 41st, a GET, is not the 4th of its run).
  expect(await value('chat_redis_command_seconds_count', { client: 'probe' })).toBe(10);
  expect(await value('chat_redis_command_seconds_count', { client: 'probe', command: 'set' })).toBe(10);
  expect(await value('chat_redis_up', { client: 'probe' })).toBe(1);
  expect(await value('chat_redis_reconnects_total', { client: 'probe' })).toBe(0);
});

it('counts a reconnect after the server drops the connection, and shows the client down meanwhile', async () => {
  const down = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const list = (await admin.client('LIST')) as string;
  const id = /id=(\d+) [^\n]*name=metrics-under-test/.exec(list)?.[1];
  expect(id).toBeDefined();
  await admin.client('KILL', 'ID', id!);
  await down;
  expect(await value('chat_redis_up', { client: 'probe' })).toBe(0);
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  expect(await value('chat_redis_up', { client: 'probe' })).toBe(1);
  expect(await value('chat_redis_reconnects_total', { client: 'probe' })).toBe(1);
});
