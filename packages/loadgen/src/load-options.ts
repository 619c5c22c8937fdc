// What a load run is asked to do and what it reports: the contract's "Load table" row.
import type { LoadTableRow, Percentiles } from '@chat-fleet/loadtest';

export interface LoadOptions {
  /** Gateway HTTP base URLs, e.g. `http://127.0.0.1:8088`; users are spread round-robin. */
  gateways: string[];
  users: number;
  /** Seconds of full load after the ramp: no new messages after rampS + durationS; in-flight replies are awaited (bounded by `replyTimeoutMs`). */
  durationS: number;
  /** Per-user pause between a reply's end and the next message, uniform in [min, max] ms. */
  thinkMs: { min: number; max: number };
  /** Users start spread evenly over this many seconds; default 0 (all at once, connects still throttled). */
  rampS?: number;
  /** Row label for the table; default `${users} users`. */
  level?: string;
  /** Message text; the default varies per run, user and turn so the response cache never short-circuits. Not with `procs` > 1. */
  content?: (user: number, turn: number) => string;
  signal?: AbortSignal;
  /** About every 500 ms. */
  onProgress?: (p: LoadProgress) => void;
  /** Child processes sharing the users (histograms merged); default 1 = this process. */
  procs?: number;
  /** A message with no `done`/`error` this long after it was sent fails as `timeout`; default 60,000. */
  replyTimeoutMs?: number;
  /** A user starts a new session (an empty history) after this many turns; default never. Keeps long runs under the per-user token limit. */
  turnsPerSession?: number;
  /** Sessions and sockets being opened at once (per process); default 100. */
  connectConcurrency?: number;
  /** Users' first message waits a random pause in [0, thinkMs.max] so they do not all send at once; default true. */
  staggerFirstMessage?: boolean;
  /** Prefix of every `userId` (one rate-limit subject per user); default a random per-run id. */
  userPrefix?: string;
}

export interface LoadProgress {
  elapsedS: number;
  /** Sockets open now. */
  connected: number;
  /** Messages sent and not yet ended. */
  inFlight: number;
  /** Messages ended (whole, failed or timed out). */
  messages: number;
  failures: number;
}

export type { Percentiles } from '@chat-fleet/loadtest';

/** One row of the load table (the contract's columns, then extras the runner measures). */
export interface LevelResult extends LoadTableRow {
  /** Extra: completion tokens of whole replies (done.usage.completionTokens). */
  tokens: number;
  /** Extra: token frames received. */
  frames: number;
  /** Extra: sockets reopened after a drop (each followed by `resume` when a reply was streaming). */
  reconnects: number;
  /** Extra: whole replies that came from the response cache. */
  cached: number;
  /** Extra: wall time from start to the last reply's end, seconds. */
  elapsedS: number;
  /** Extra: processes that drove the load. */
  procs: number;
  /** Extra: CPU seconds the load processes themselves spent (the clients' share of the machine). */
  loadCpuS: number;
  /** Extra: most sockets open at once (with procs > 1, the sum of each process's peak). */
  peakConnected: number;
  /** Extra: POST /chat/session → socket `ready`, per session opened. */
  connectMs: Percentiles;
}
