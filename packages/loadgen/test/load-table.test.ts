import { expect, test } from '@jest/globals';
import { formatLoadTable, LatencyHistogram, type LevelResult } from '../src/index.js';

const row: LevelResult = {
  level: '1000 users',
  users: 1000,
  durationS: 60,
  messages: 12_000,
  failures: 0,
  successRate: 100,
  avgResponseMs: 1234.5,
  ttftMs: { p50: 160.2, p95: 171.9, p99: 205.3 },
  responseMs: { p50: 1200, p95: 1400, p99: 1600 },
  tokensPerSec: 9600.4,
  errors: {},
  tokens: 576_000,
  frames: 576_000,
  reconnects: 0,
  cached: 0,
  elapsedS: 66,
  procs: 1,
  loadCpuS: 12,
  peakConnected: 1000,
  connectMs: { p50: 5, p95: 9, p99: 12 },
};

test('the table has the contract columns and one row per level', () => {
  const lines = formatLoadTable([row]).split('\n');
  expect(lines[0]!.split('|').map((c) => c.trim()).filter(Boolean)).toEqual([
    'Load level',
    'Users',
    'Duration',
    'Success rate',
    'Avg response',
    'p50 / p95 / p99 first token',
    'p95 response',
    'tokens/s',
  ]);
  expect(lines[2]!.split('|').map((c) => c.trim()).filter(Boolean)).toEqual([
    '1000 users',
    '1,000',
    '60 s',
    '100.00%',
    '1.23 s',
    '160 ms / 172 ms / 205 ms',
    '1.40 s',
    '9,600',
  ]);
});

test('histograms from several processes merge exactly', () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  for (let i = 1; i <= 900; i++) a.recordMs(i);
  for (let i = 901; i <= 1000; i++) b.recordMs(i);
  const merged = new LatencyHistogram(a.encode());
  merged.merge(new LatencyHistogram(b.encode()));
  expect(merged.count).toBe(1000);
  expect(merged.percentileMs(50)).toBeCloseTo(500, 0);
  expect(merged.percentileMs(95)).toBeCloseTo(950, 0);
});
