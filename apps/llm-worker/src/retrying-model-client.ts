// Retries a model call that failed before it said anything: 429, 408, 409, 5xx, a dropped
// connection, a body broken before its first delta. Exponential backoff with full jitter, or the
// server's Retry-After; every wait is bounded (maxDelayMs, maxRetryAfterMs, the deadline) and
// abortable, so an accepted message always ends in `done` or `error`.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ChatError } from '@chat-fleet/shared';
import { UpstreamBrokenError, type ModelClient, type StreamRequest, type StreamResult } from './model-client.js';

/** Why an attempt failed, for metrics labels: `http_<status>`, a connection that failed or timed out, a broken body. */
export type RetryKind = `http_${number}` | 'connection' | 'timeout' | 'broken_stream';

export interface RetryInfo {
  /** The attempt that failed, from 1; the retry is attempt + 1. */
  attempt: number;
  /** How long the client waits before the retry. */
  delayMs: number;
  /** Whether `delayMs` came from the server (Retry-After / retry-after-ms) or from the backoff. */
  source: 'retry-after' | 'backoff';
  kind: RetryKind;
  error: unknown;
}

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** Backoff before retry n is random() * min(maxDelayMs, baseDelayMs * 2^(n-1)). Default 250. */
  baseDelayMs?: number;
  /** Cap of a backoff wait. Default 4000. */
  maxDelayMs?: number;
  /**
   * A server's Retry-After above this is not waited for: the call gives up with that error.
   * Default 30000.
   */
  maxRetryAfterMs?: number;
  /**
   * Bound on the whole call, attempts and waits included, from the moment `stream` is called.
   * A wait that would end past it is not started (the call fails with the last error); an
   * attempt still running when it passes is aborted and the call fails with a
   * `ChatError('upstream_error')` whose cause is what the attempt threw. Default: none.
   */
  deadlineMs?: number;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  /** Waits `ms`, rejecting when `signal` aborts. Default: a timer. */
  sleep?: Sleep;
  /** Called before each wait; for metrics. Must not throw. */
  onRetry?: (info: RetryInfo) => void;
}

/**
 * True for an upstream failure that a fresh request may not repeat: HTTP 408, 409, 429 and 5xx
 * (unless the server said `x-should-retry: false`), a connection that failed or timed out, and
 * a body that broke off ({@link UpstreamBrokenError}). False for anything else, a cancelled call
 * (APIUserAbortError) included. It does not look at the request's signal: a caller restarting a
 * reply itself must also check that the signal has not aborted.
 */
export function isRetryableUpstreamError(err: unknown): boolean {
  if (err instanceof UpstreamBrokenError) return true;
  if (!(err instanceof APIError) || err instanceof APIUserAbortError) return false;
  if (err instanceof APIConnectionError) return true;
  const should = headerOf(err, 'x-should-retry');
  if (should === 'false') return false;
  if (should === 'true') return true;
  const status: unknown = err.status;
  if (typeof status !== 'number') return false; // an error event inside the stream: the model's own answer
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The wait a failed response asked for, in ms: `retry-after-ms`, else `Retry-After` in seconds or
 * as an HTTP date (a past date reads as 0). Undefined when absent or unreadable.
 */
export function retryAfterMsOf(err: unknown): number | undefined {
  if (!(err instanceof APIError)) return undefined;
  const ms = headerOf(err, 'retry-after-ms');
  if (ms !== undefined) {
    const n = Number(ms);
    if (ms.trim() !== '' && Number.isFinite(n) && n >= 0) return n;
  }
  const after = headerOf(err, 'retry-after');
  if (after === undefined || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(after);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The metrics label for a retryable failure (see {@link RetryKind}). */
export function retryKindOf(err: unknown): RetryKind {
  if (err instanceof UpstreamBrokenError) return 'broken_stream';
  if (err instanceof APIConnectionTimeoutError) return 'timeout';
  const status: unknown = err instanceof APIError ? err.status : undefined;
  if (typeof status === 'number') return `http_${status}`;
  return 'connection';
}

/** Waits `ms`; rejects with an APIUserAbortError as soon as `signal` aborts. */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    const aborted = (): APIUserAbortError => new APIUserAbortError({ message: 'aborted while waiting to retry the model' });
    if (signal.aborted) {
      reject(aborted());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

export class RetryingModelClient implements ModelClient {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly deadlineMs: number | undefined;
  private readonly random: () => number;
  private readonly sleep: Sleep;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;

  constructor(
    private readonly inner: ModelClient,
    options: RetryOptions = {},
  ) {
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3));
    this.baseDelayMs = Math.max(0, options.baseDelayMs ?? 250);
    this.maxDelayMs = Math.max(0, options.maxDelayMs ?? 4000);
    this.maxRetryAfterMs = Math.max(0, options.maxRetryAfterMs ?? 30_000);
    this.deadlineMs = options.deadlineMs;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? abortableSleep;
    this.onRetry = options.onRetry;
  }

  /**
   * Like the inner client's `stream`. A failure is retried only while no delta has reached
   * `onDelta`; once text went out the error is rethrown as it is (check it with
   * {@link isRetryableUpstreamError} to restart the reply yourself). After the last attempt the
   * last error is rethrown. An aborted `request.signal` ends the call at once, waits included.
   */
  async stream(request: StreamRequest, onDelta: (text: string) => void): Promise<StreamResult> {
    const started = performance.now();
    const deadline = this.deadlineMs === undefined ? undefined : new AbortController();
    const deadlineTimer = deadline === undefined ? undefined : setTimeout(() => deadline.abort(), this.deadlineMs);
    const signal = deadline === undefined ? request.signal : AbortSignal.any([request.signal, deadline.signal]);
    try {
      for (let attempt = 1; ; attempt++) {
        let streamed = false;
        try {
          return await this.inner.stream({ ...request, signal }, (text) => {
            streamed = true;
            onDelta(text);
          });
        } catch (err) {
          if (request.signal.aborted) throw err;
          if (deadline?.signal.aborted) throw this.deadlineError(attempt, err);
          if (streamed || attempt >= this.maxAttempts || !isRetryableUpstreamError(err)) throw err;

          const retryAfter = retryAfterMsOf(err);
          let delayMs: number;
          if (retryAfter !== undefined) {
            if (retryAfter > this.maxRetryAfterMs) throw err;
            delayMs = retryAfter;
          } else {
            delayMs = this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
          }
          delayMs = Math.ceil(delayMs);
          // No waiting past the deadline: a retry that cannot start in time is not worth the wait.
          if (this.deadlineMs !== undefined && delayMs >= this.deadlineMs - (performance.now() - started)) throw err;

          this.onRetry?.({ attempt, delayMs, source: retryAfter !== undefined ? 'retry-after' : 'backoff', kind: retryKindOf(err), error: err });
          try {
            await this.sleep(delayMs, signal);
          } catch (sleepErr) {
            if (!request.signal.aborted && deadline?.signal.aborted) throw this.deadlineError(attempt, err);
            throw sleepErr;
          }
          if (request.signal.aborted) throw new APIUserAbortError({ message: 'aborted while waiting to retry the model' });
        }
      }
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  private deadlineError(attempts: number, cause: unknown): ChatError {
    return new ChatError('upstream_error', `the model did not answer within ${this.deadlineMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'})`, { cause });
  }
}

/** A response header of an APIError (a `Headers` in openai v5+; a plain record tolerated). */
function headerOf(err: { headers?: unknown }, name: string): string | undefined {
  const headers = err.headers;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  if (typeof headers === 'object' && headers !== null) {
    const value = (headers as Record<string, unknown>)[name];
    if (typeof value === 'string') return value;
  }
  return undefined;
}
