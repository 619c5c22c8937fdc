import { describe, expect, it } from '@jest/globals';
import { FIRST_TOKEN_BOUNDS_MS, quantileOf } from '../src/admin/reply-series.js';

/** A histogram with `n` observations in the bucket whose upper bound is `bound` ('inf' above the last). */
function histogram(entries: Array<[number | 'inf', number]>): number[] {
  const counts = new Array<number>(FIRST_TOKEN_BOUNDS_MS.length + 1).fill(0);
  for (const [bound, n] of entries) counts[bound === 'inf' ? FIRST_TOKEN_BOUNDS_MS.length : FIRST_TOKEN_BOUNDS_MS.indexOf(bound)] = n;
  return counts;
}

describe('first-token quantiles from the series histogram', () => {
  it('is null without observations', () => {
    expect(quantileOf(histogram([]), 0.5)).toBeNull();
  });

  it('interpolates inside the bucket that holds the rank, as Prometheus does', () => {
    // 10 replies between 100 and 200 ms: p50 is halfway, p95 near the top.
    expect(quantileOf(histogram([[200, 10]]), 0.5)).toBe(150);
    expect(quantileOf(histogram([[200, 10]]), 0.95)).toBe(195);
    // From 0 in the first bucket.
    expect(quantileOf(histogram([[25, 4]]), 0.5)).toBe(13);
  });

  it('finds the bucket over several, and answers the last bound above them all', () => {
    const h = histogram([
      [100, 50],
      [1000, 45],
      ['inf', 5],
    ]);
    expect(quantileOf(h, 0.5)).toBe(100);
    expect(quantileOf(h, 0.95)).toBe(1000);
    expect(quantileOf(h, 0.99)).toBe(60_000);
  });
});
