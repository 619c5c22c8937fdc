// The admin console's charts: per 10 s bucket, the messages the fleet accepted, how their replies
// ended (by error code, from the cache, coalesced, cancelled), their completion tokens, and a
// first-token histogram with fixed bounds, so p50 and p95 are read from counts. One Redis hash
// per bucket, kept about two hours, all under one hash tag so a read is one pipeline. Each reply
// is counted by the gateway that accepted it (its ReplyTracker): the counts gather in memory and
// go out once a second in one pipeline, never a write per reply or per token.
import type { Logger, RedisClient, RedisKeys, Series, SeriesPoint } from '@chat-fleet/shared';
import type { ReplyOutcomes } from '../chat/reply-tracker.js';

export const SERIES_STEP_MS = 10_000;
/** Buckets are kept two hours and a little, so a two-hour chart is whole. */
const RETENTION_MS = 2 * 3600_000 + 10 * 60_000;
export const SERIES_MAX_MINUTES = 120;
/** Upper bounds (ms) of the first-token histogram's buckets; one more bucket above the last. */
export const FIRST_TOKEN_BOUNDS_MS = [25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 20_000, 30_000, 60_000];

const FIRST_TOKEN_FIELD = 'ft:';
const ERROR_FIELD = 'e:';

/** The histogram bucket a first-token time falls in: the field of its upper bound (`inf` above the last). */
function firstTokenField(ms: number): string {
  const bound = FIRST_TOKEN_BOUNDS_MS.find((b) => ms <= b);
  return `${FIRST_TOKEN_FIELD}${bound ?? 'inf'}`;
}

/**
 * The `p` quantile (0..1) of a histogram (`counts[i]` in the bucket up to FIRST_TOKEN_BOUNDS_MS[i],
 * the last entry above them all), interpolated inside its bucket as Prometheus does; null when empty.
 */
export function quantileOf(counts: readonly number[], p: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = p * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] ?? 0;
    if (n > 0 && below + n >= rank) {
      const upper = FIRST_TOKEN_BOUNDS_MS[i];
      // Above the last bound nothing is known but the bound itself.
      if (upper === undefined) return FIRST_TOKEN_BOUNDS_MS[FIRST_TOKEN_BOUNDS_MS.length - 1]!;
      const lower = i === 0 ? 0 : FIRST_TOKEN_BOUNDS_MS[i - 1]!;
      return Math.round(lower + ((upper - lower) * (rank - below)) / n);
    }
    below += n;
  }
  return null;
}

function pointOf(t: number, h: Record<string, string>): SeriesPoint {
  const n = (field: string): number => Number(h[field] ?? 0);
  const errors: Record<string, number> = {};
  for (const [field, value] of Object.entries(h)) if (field.startsWith(ERROR_FIELD)) errors[field.slice(ERROR_FIELD.length)] = Number(value);
  const counts = [...FIRST_TOKEN_BOUNDS_MS.map(String), 'inf'].map((b) => n(`${FIRST_TOKEN_FIELD}${b}`));
  return {
    t,
    messages: n('messages'),
    tokens: n('tokens'),
    replies: n('replies'),
    errors,
    cacheHits: n('cacheHits'),
    coalesced: n('coalesced'),
    cancelled: n('cancelled'),
    firstTokenP50Ms: quantileOf(counts, 0.5),
    firstTokenP95Ms: quantileOf(counts, 0.95),
  };
}

export class ReplySeries implements ReplyOutcomes {
  /** Counts not yet written: bucket start → field → increment. */
  private pending = new Map<number, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly log: Logger,
    private readonly flushMs = 1000,
  ) {}

  accepted(): void {
    this.add('messages', 1);
  }

  firstToken(ms: number): void {
    this.add(firstTokenField(ms), 1);
  }

  done(reply: { cached: boolean; coalesced: boolean; cancelled: boolean; completionTokens: number }): void {
    this.add('replies', 1);
    this.add('tokens', reply.completionTokens);
    if (reply.cached) this.add('cacheHits', 1);
    if (reply.coalesced) this.add('coalesced', 1);
    if (reply.cancelled) this.add('cancelled', 1);
  }

  failed(code: string): void {
    this.add(`${ERROR_FIELD}${code}`, 1);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** Stops the clock and writes what is pending. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }

  /** Writes the pending counts in one pipeline. A failed write is dropped (the chart misses it): a retry could count a partly applied batch twice. */
  flush(): Promise<void> {
    if (this.flushing !== undefined || this.pending.size === 0) return this.flushing ?? Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    const pipeline = this.redis.pipeline();
    for (const [start, fields] of batch) {
      const key = this.keys.replySeries(start);
      for (const [field, n] of fields) pipeline.hincrby(key, field, n);
      pipeline.pexpireat(key, start + RETENTION_MS);
    }
    this.flushing = pipeline
      .exec()
      .then((results) => {
        const failed = results?.find(([err]) => err !== null)?.[0];
        if (failed) throw failed;
        this.failing = false;
      })
      .catch((err: unknown) => {
        if (!this.failing) this.log.warn({ err }, 'could not write the reply series; its counts are dropped until Redis takes them again');
        this.failing = true;
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** The last `minutes` as points, oldest first, the current (partial) bucket last; empty buckets are zeros. */
  async read(minutes: number, now = Date.now()): Promise<Series> {
    const last = Math.floor(now / SERIES_STEP_MS) * SERIES_STEP_MS;
    const count = Math.max(1, Math.round((minutes * 60_000) / SERIES_STEP_MS));
    const from = last - (count - 1) * SERIES_STEP_MS;
    const starts = Array.from({ length: count }, (_, i) => from + i * SERIES_STEP_MS);
    const pipeline = this.redis.pipeline();
    for (const t of starts) pipeline.hgetall(this.keys.replySeries(t));
    const results = (await pipeline.exec()) ?? [];
    const points = starts.map((t, i) => {
      const [err, h] = results[i] ?? [null, {}];
      if (err) throw err;
      return pointOf(t, (h ?? {}) as Record<string, string>);
    });
    return { stepSeconds: SERIES_STEP_MS / 1000, from, points };
  }

  private add(field: string, n: number): void {
    if (n === 0) return;
    const start = Math.floor(Date.now() / SERIES_STEP_MS) * SERIES_STEP_MS;
    let fields = this.pending.get(start);
    if (fields === undefined) this.pending.set(start, (fields = new Map<string, number>()));
    fields.set(field, (fields.get(field) ?? 0) + n);
  }
}
