// The charts' lines from GET /admin/series: per-second rates, first-token percentiles, errors by
// code and hit ratios, one value per finished bucket (null where there is nothing to measure).
import type { Series } from '@chat-fleet/protocol';

export interface Line {
  name: string;
  values: Array<number | null>;
}

export interface ChartData {
  /** Bucket start times, epoch ms, shared by every line of every chart. */
  times: number[];
  messagesPerSec: Line[];
  firstTokenMs: Line[];
  tokensPerSec: Line[];
  errorsPerMin: Line[];
  hitRatio: Line[];
}

/**
 * The bucket still filling is left out: drawn as a rate it would always dip at the right edge.
 * `now` is this page's clock, close enough to the gateways' for a 10 s bucket.
 */
export function chartData(series: Series, now = Date.now()): ChartData {
  const step = series.stepSeconds;
  const points = series.points.filter((p) => p.t + step * 1000 <= now);
  const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);
  const codes = [...new Set(points.flatMap((p) => Object.keys(p.errors)))].sort();
  return {
    times: points.map((p) => p.t),
    messagesPerSec: [{ name: 'messages/s', values: points.map((p) => p.messages / step) }],
    firstTokenMs: [
      { name: 'p50', values: points.map((p) => p.firstTokenP50Ms) },
      { name: 'p95', values: points.map((p) => p.firstTokenP95Ms) },
    ],
    tokensPerSec: [{ name: 'tokens/s', values: points.map((p) => p.tokens / step) }],
    errorsPerMin: codes.map((code) => ({ name: code, values: points.map((p) => ((p.errors[code] ?? 0) * 60) / step) })),
    hitRatio: [
      { name: 'cache', values: points.map((p) => ratio(p.cacheHits, p.replies)) },
      { name: 'coalesced', values: points.map((p) => ratio(p.coalesced, p.replies)) },
    ],
  };
}

/** The newest value of a line that has one. */
export function latest(line: Line): number | null {
  for (let i = line.values.length - 1; i >= 0; i--) {
    const v = line.values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** A round top for a y axis at or above `max`: 1, 2 or 5 times a power of ten. */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].find((m) => m * power >= max) ?? 10;
  return step * power;
}

/**
 * An SVG path through `values` scaled into `width` × `height` (y grows downward), broken where a
 * value is missing so a gap shows as a gap, not as a line to zero. A value alone between gaps is a
 * zero-length segment, which round line caps draw as a dot.
 */
export function linePath(values: ReadonlyArray<number | null>, top: number, width: number, height: number): string {
  const n = values.length;
  const x = (i: number): number => (n === 1 ? width : (i / (n - 1)) * width);
  const y = (v: number): number => height - (Math.min(v, top) / top) * height;
  let d = '';
  values.forEach((v, i) => {
    if (v === null) return;
    const start = i === 0 || values[i - 1] === null;
    const alone = start && (i === n - 1 || values[i + 1] === null);
    d += `${start ? 'M' : 'L'}${x(i).toFixed(1)} ${y(v).toFixed(1)}${alone ? 'h0' : ''}`;
  });
  return d;
}
