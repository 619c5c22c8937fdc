// The goals of ../../scenarios.ts as k6 thresholds, and the contract's load table from a summary.
import type { Options } from 'k6/options';
import { GOALS } from '../../scenarios.ts';
import type { LoadTableRow } from '../../load-table-row.ts';

type Thresholds = NonNullable<Options['thresholds']>;

/** The model's own first-token latency the overhead goals sit on (the simulator's SIM_TTFT_MS). */
export const MODEL_TTFT_MS = Number(__ENV.MODEL_TTFT_MS ?? GOALS.simTtftMs);

/** Every reply whole; first token within the model's TTFT plus the allowed overhead (p95, p99). */
export function goalThresholds(filter = ''): Thresholds {
  return {
    [`whole_replies${filter}`]: [`rate>=${GOALS.wholeReplyRate}`],
    [`first_token_ms${filter}`]: [
      `p(95)<=${MODEL_TTFT_MS + GOALS.firstTokenOverheadP95Ms}`,
      `p(99)<=${MODEL_TTFT_MS + GOALS.firstTokenOverheadP99Ms}`,
    ],
  };
}

/**
 * Thresholds that always pass and only make k6 keep the submetrics of one tag value (k6 reports a
 * submetric only when a threshold names it), so handleSummary can build one row per level.
 */
export function reportThresholds(filter: string): Thresholds {
  return {
    [`whole_replies${filter}`]: ['rate>=0'],
    [`first_token_ms${filter}`]: ['max>=0'],
    [`whole_reply_ms${filter}`]: ['max>=0'],
    [`reply_tokens${filter}`]: ['count>=0'],
  };
}

/** The part of k6's summary data handleSummary reads. */
export interface SummaryData {
  metrics: Record<string, { type: string; values: Record<string, number> } | undefined>;
  state?: { testRunDurationMs?: number };
}

const r1 = (n: number | undefined): number => Math.round((n ?? 0) * 10) / 10;

/** One row of the contract's load table from the submetrics of `filter` (see reportThresholds). */
export function rowFrom(data: SummaryData, filter: string, level: string, users: number, durationS: number, seconds: number): LoadTableRow {
  const whole = data.metrics[`whole_replies${filter}`]?.values ?? {};
  const ttft = data.metrics[`first_token_ms${filter}`]?.values ?? {};
  const reply = data.metrics[`whole_reply_ms${filter}`]?.values ?? {};
  const tokens = data.metrics[`reply_tokens${filter}`]?.values ?? {};
  const passes = whole.passes ?? 0;
  const fails = whole.fails ?? 0;
  const messages = passes + fails;
  return {
    level,
    users,
    durationS,
    messages,
    failures: fails,
    successRate: messages === 0 ? 0 : Math.round((passes / messages) * 1e6) / 1e4,
    avgResponseMs: r1(reply.avg),
    ttftMs: { p50: r1(ttft.med), p95: r1(ttft['p(95)']), p99: r1(ttft['p(99)']) },
    responseMs: { p50: r1(reply.med), p95: r1(reply['p(95)']), p99: r1(reply['p(99)']) },
    tokensPerSec: r1((tokens.count ?? 0) / Math.max(1, seconds)),
    // Per-code counts are in k6's own output (failed_replies{code:…}); k6 cannot list tag values here.
    errors: {},
  };
}

const ms = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);

export function formatTable(rows: LoadTableRow[]): string {
  const head = ['Load level', 'Users', 'Duration', 'Success rate', 'Avg response', 'p50 / p95 / p99 first token', 'p95 response', 'tokens/s'];
  const body = rows.map((r) => [
    r.level,
    String(r.users),
    `${r.durationS} s`,
    `${r.successRate.toFixed(2)}%`,
    ms(r.avgResponseMs),
    `${ms(r.ttftMs.p50)} / ${ms(r.ttftMs.p95)} / ${ms(r.ttftMs.p99)}`,
    ms(r.responseMs.p95),
    String(Math.round(r.tokensPerSec)),
  ]);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}

/** `summaryTrendStats` with the percentiles the table needs. */
export const TREND_STATS: NonNullable<Options['summaryTrendStats']> = ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'];
