import { expect, test } from '@jest/globals';
import { LatencyHistogram } from '../src/latency-histogram.js';

test('summarises recorded latencies in ms at 0.1 ms resolution', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 100; i++) h.recordMs(150 + i / 10);
  const s = h.summary();
  expect(s.count).toBe(100);
  expect(s.mean).toBeCloseTo(155, 0);
  expect(s.p50).toBeCloseTo(155, 0);
  expect(s.p99).toBeCloseTo(159.9, 0);
  expect(s.max).toBeCloseTo(160, 0);
  expect(new LatencyHistogram().summary()).toEqual({ count: 0, mean: 0, max: 0, p50: 0, p95: 0, p99: 0 });
});
