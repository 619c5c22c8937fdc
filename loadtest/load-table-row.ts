// One row of the contract's load table, as the load runner and the k6 scripts write it to JSON.
// Import-free: the k6 scripts import it by relative path. Times in ms.

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface LoadTableRow {
  level: string;
  users: number;
  durationS: number;
  /** Messages that ended (the load runner adds one per user that never got a session and socket: `connect_failed`). */
  messages: number;
  failures: number;
  /** Percent (0–100) of messages whose reply arrived whole: every `seq` 1..n once after the last `reset`, then `done`. */
  successRate: number;
  /** Mean send → `done` of whole replies. */
  avgResponseMs: number;
  /** Send → first `token` frame, whole replies. */
  ttftMs: Percentiles;
  /** Send → `done`, whole replies. */
  responseMs: Percentiles;
  /** Completion tokens of whole replies per second of the run. */
  tokensPerSec: number;
  /** Failures by code: the contract's error codes, plus `timeout`, `socket_closed`, `incomplete`, `connect_failed`, … */
  errors: Record<string, number>;
}
