import { describe, expect, it } from '@jest/globals';
import type { Series, SeriesPoint } from '@chat-fleet/protocol';
import { age, duration, usd } from '../src/admin/format.js';
import { chartData, latest, linePath, niceCeiling } from '../src/admin/series.js';

const point = (t: number, over: Partial<SeriesPoint> = {}): SeriesPoint => ({
  t,
  messages: 0,
  tokens: 0,
  replies: 0,
  errors: {},
  cacheHits: 0,
  coalesced: 0,
  cancelled: 0,
  firstTokenP50Ms: null,
  firstTokenP95Ms: null,
  ...over,
});

describe('the console charts', () => {
  const now = 1_000_000;
  const series: Series = {
    stepSeconds: 10,
    from: now - 30_000,
    points: [
      point(now - 30_000, { messages: 20, tokens: 500, replies: 20, cacheHits: 5, coalesced: 2, errors: { busy: 1 }, firstTokenP50Ms: 300, firstTokenP95Ms: 900 }),
      point(now - 20_000),
      point(now - 10_000, { messages: 5, tokens: 50, replies: 4, errors: { rate_limited: 2 }, firstTokenP50Ms: 250, firstTokenP95Ms: 400 }),
      point(now, { messages: 1 }), // still filling
    ],
  };

  it('turns 10 s buckets into rates, ratios and errors per code, leaving out the bucket still filling', () => {
    const d = chartData(series, now + 1);
    expect(d.times).toEqual([now - 30_000, now - 20_000, now - 10_000]);
    expect(d.messagesPerSec[0]!.values).toEqual([2, 0, 0.5]);
    expect(d.tokensPerSec[0]!.values).toEqual([50, 0, 5]);
    expect(d.firstTokenMs.map((l) => l.values)).toEqual([
      [300, null, 250],
      [900, null, 400],
    ]);
    expect(d.errorsPerMin).toEqual([
      { name: 'busy', values: [6, 0, 0] },
      { name: 'rate_limited', values: [0, 0, 12] },
    ]);
    expect(d.hitRatio.map((l) => l.values)).toEqual([
      [0.25, null, 0],
      [0.1, null, 0],
    ]);
    expect(latest(d.firstTokenMs[1]!)).toBe(400);
    expect(latest({ name: 'x', values: [null, null] })).toBeNull();
  });

  it('scales to a round top and breaks a line where a value is missing', () => {
    expect([niceCeiling(0), niceCeiling(0.7), niceCeiling(3), niceCeiling(7), niceCeiling(120)]).toEqual([1, 1, 5, 10, 200]);
    expect(linePath([0, 5, 10], 10, 100, 50)).toBe('M0.0 50.0L50.0 25.0L100.0 0.0');
    // A gap is a gap, and a value alone between gaps is a dot.
    expect(linePath([10, null, 5, null, 0], 10, 100, 50)).toBe('M0.0 0.0h0M50.0 25.0h0M100.0 50.0h0');
    expect(linePath([2, 4, null, 20], 10, 30, 10)).toBe('M0.0 8.0L10.0 6.0M30.0 0.0h0');
  });

  it('words durations and money briefly', () => {
    expect([duration(12), duration(125), duration(3 * 3600 + 20 * 60), duration(2 * 86_400 + 4 * 3600)]).toEqual(['12 s', '2 min', '3 h 20 min', '2 d 4 h']);
    expect([age(840), age(2000), age(12_400)]).toEqual(['840 ms', '2.0 s', '12 s']);
    expect([usd(0), usd(0.004213), usd(12.4)]).toEqual(['$0', '$0.0042', '$12.40']);
  });
});
