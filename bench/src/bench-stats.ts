// The arithmetic of a bench with repetitions and a baseline: medians, ratios, and the split of a
// process kind's CPU into a cost per message and a cost per token from runs at two reply lengths.

/** The median of the finite values; undefined when there are none. */
export function median(values: readonly number[]): number | undefined {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid] : ((xs[mid - 1] ?? 0) + (xs[mid] ?? 0)) / 2;
}

/** new / baseline; undefined when either is missing or the baseline is zero. */
export function ratio(fresh: number | undefined, baseline: number | undefined): number | undefined {
  if (fresh === undefined || baseline === undefined || baseline === 0 || !Number.isFinite(fresh) || !Number.isFinite(baseline)) return undefined;
  return fresh / baseline;
}

export const roundTo = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** One run's figures for the split: CPU seconds of a process kind, and the messages and tokens it served. */
export interface CostPoint {
  readonly cpuSeconds: number;
  readonly messages: number;
  readonly tokens: number;
}

export interface CostSplit {
  /** CPU milliseconds per message, whatever its length. */
  readonly msPerMessage: number;
  /** CPU microseconds per token. */
  readonly usPerToken: number;
}

/**
 * Solves CPU = a·messages + b·tokens from two runs at different reply lengths. Divided by messages
 * each run reads c = a + b·τ (τ tokens per message), a line through two points: b is its slope and
 * a its intercept. Undefined when the two lengths are (nearly) the same or a run served nothing.
 */
export function splitCost(short: CostPoint, long: CostPoint): CostSplit | undefined {
  if (short.messages <= 0 || long.messages <= 0) return undefined;
  const c1 = short.cpuSeconds / short.messages;
  const c2 = long.cpuSeconds / long.messages;
  const t1 = short.tokens / short.messages;
  const t2 = long.tokens / long.messages;
  if (Math.abs(t2 - t1) < 1) return undefined;
  const b = (c2 - c1) / (t2 - t1);
  const a = c1 - b * t1;
  return { msPerMessage: a * 1000, usPerToken: b * 1e6 };
}

/** CPU seconds per 1000 tokens at replies of `tokens` tokens, from a split: a/tokens + b, per 1000. */
export function perThousandTokensAt(split: CostSplit, tokens: number): number {
  return (split.msPerMessage / 1000 / tokens + split.usPerToken / 1e6) * 1000;
}

/** Several runs at one length as one point: the medians of CPU per message and tokens per message. */
export function medianPoint(points: readonly CostPoint[]): CostPoint | undefined {
  const usable = points.filter((p) => p.messages > 0);
  const c = median(usable.map((p) => p.cpuSeconds / p.messages));
  const t = median(usable.map((p) => p.tokens / p.messages));
  if (c === undefined || t === undefined) return undefined;
  // One message of the median shape: the split only reads the per-message figures.
  return { cpuSeconds: c, messages: 1, tokens: t };
}
