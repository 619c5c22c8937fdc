// The runner against a real fleet: Redis, the simulator, two gateways and a worker as processes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { ensureRedis, REPO_ROOT, startStack, type EnsuredRedis, type Stack } from '@chat-fleet/stack';
import { formatLoadTable, runLoad, type LevelResult } from '../src/index.js';

let redis: EnsuredRedis;
let stack: Stack;
let gateways: string[];

async function sim(path: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${stack.sim!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  await res.body?.cancel();
}

beforeAll(async () => {
  redis = await ensureRedis(process.env.REDIS_URL);
  const dir = join(REPO_ROOT, 'test-artifacts', 'logs', `loadgen-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  stack = await startStack({
    redisUrl: redis.url,
    gateways: 2,
    workers: 1,
    ports: 'auto',
    env: { REDIS_PREFIX: `lg-${Math.random().toString(36).slice(2, 8)}`, LOG_LEVEL: 'info' },
    workerEnv: { FRAME_BATCH_MS: '0' },
    simEnv: { SIM_TTFT_MS: '30', SIM_TOKENS_PER_SEC: '400', SIM_REPLY_TOKENS: '24' },
    output: { dir },
  });
  gateways = stack.gateways.map((g) => g.url);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.server?.stop();
}, 60_000);

test('20 users for 5 s in two processes: every reply whole, plausible histograms, the contract JSON shape', async () => {
  const result = await runLoad({ gateways, users: 20, durationS: 5, rampS: 1, thinkMs: { min: 100, max: 300 }, procs: 2, level: 'small' });

  expect(result).toMatchObject({ level: 'small', users: 20, durationS: 5, failures: 0, successRate: 100, errors: {}, procs: 2 });
  expect(result.messages).toBeGreaterThanOrEqual(40);
  expect(result.peakConnected).toBe(20);
  expect(result.connectMs.p50).toBeGreaterThan(0);
  // Every reply is the simulator's 24 tokens, each in its own frame (FRAME_BATCH_MS=0).
  expect(result.tokens).toBe(result.messages * 24);
  expect(result.frames).toBe(result.tokens);
  // First token no sooner than the model's 30 ms; the whole reply (24 tokens at 400/s) after it.
  expect(result.ttftMs.p50).toBeGreaterThanOrEqual(30);
  expect(result.ttftMs.p50).toBeLessThanOrEqual(result.ttftMs.p95);
  expect(result.ttftMs.p95).toBeLessThanOrEqual(result.ttftMs.p99);
  expect(result.responseMs.p50).toBeGreaterThan(result.ttftMs.p50 + 40);
  expect(result.avgResponseMs).toBeGreaterThan(0);
  expect(result.tokensPerSec).toBeGreaterThan(0);

  const json = JSON.parse(JSON.stringify({ levels: [result] })) as { levels: LevelResult[] };
  const row = json.levels[0]!;
  for (const key of ['level', 'users', 'durationS', 'messages', 'failures', 'successRate', 'avgResponseMs', 'tokensPerSec'] as const) {
    expect(typeof row[key]).toBe(key === 'level' ? 'string' : 'number');
  }
  for (const key of ['ttftMs', 'responseMs'] as const) {
    expect(Object.keys(row[key]).sort()).toEqual(['p50', 'p95', 'p99']);
  }
  expect(row.errors).toEqual({});
  expect(formatLoadTable(json.levels)).toContain('| small ');
}, 60_000);

test('replies the model breaks mid-stream are failures by code, though tokens arrived', async () => {
  await sim('/_sim/config', { failRate: 1, failAfterTokens: 5 });
  try {
    const result = await runLoad({ gateways, users: 4, durationS: 1, thinkMs: { min: 5000, max: 5000 }, staggerFirstMessage: false });
    expect(result.messages).toBe(4);
    expect(result.failures).toBe(4);
    expect(result.successRate).toBe(0);
    expect(result.errors).toEqual({ upstream_error: 4 });
    expect(result.frames).toBeGreaterThanOrEqual(4 * 5);
    expect(result.tokens).toBe(0);
  } finally {
    await sim('/_sim/reset');
  }
}, 60_000);

test('a gateway killed mid-reply: its users reconnect to the other one, resume, and every reply is still whole', async () => {
  // Slow replies (24 tokens at 20/s), so the kill lands while they stream.
  await sim('/_sim/config', { ttftMs: 30, tokensPerSec: 20, replyTokens: 24 });
  try {
    const run = runLoad({ gateways, users: 10, durationS: 2, thinkMs: { min: 100, max: 200 }, staggerFirstMessage: false });
    await new Promise((r) => setTimeout(r, 800));
    stack.gateways[0]!.process.kill('SIGKILL');
    const result = await run;
    expect(result.errors).toEqual({});
    expect(result.successRate).toBe(100);
    expect(result.reconnects).toBeGreaterThanOrEqual(5);
    expect(result.tokens).toBe(result.messages * 24);
  } finally {
    await sim('/_sim/reset');
  }
}, 60_000);
