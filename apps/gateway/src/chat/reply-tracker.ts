// Follows each reply this gateway accepted until its terminal frame: first-token and response
// timings, outcome counts (the metrics, and the admin console's series), the message's trace
// span, and a bound on the wait so no accepted message ends in silence.
import type { Span } from '@opentelemetry/api';
import { ATTR, recordFailure, type ReplyFrame } from '@chat-fleet/shared';
import type { GatewayMetrics } from '../metrics.js';

interface Tracked {
  sessionId: string;
  /** When the gateway received the message (performance.now()). */
  receivedAt: number;
  firstTokenSeen: boolean;
  timer: NodeJS.Timeout;
  span: Span | undefined;
}

export type ReplyTimeoutHandler = (sessionId: string, messageId: string) => void;

/** What becomes of the replies this gateway accepted, told as it happens (each reply once). */
export interface ReplyOutcomes {
  accepted(): void;
  /** From accepting the message to relaying its first token. */
  firstToken(ms: number): void;
  done(reply: { cached: boolean; coalesced: boolean; cancelled: boolean; completionTokens: number }): void;
  /** An `error` frame, or no end within the reply timeout (`unavailable`). */
  failed(code: string): void;
}

export class ReplyTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly timeoutMs: number,
    private readonly onTimeout: ReplyTimeoutHandler,
    private readonly outcomes: ReplyOutcomes,
  ) {}

  get inFlight(): number {
    return this.tracked.size;
  }

  /** A message is queued: times count from `receivedAt`; `span` ends with the reply. */
  accepted(sessionId: string, messageId: string, receivedAt = performance.now(), span?: Span): void {
    this.metrics.messages.inc({ result: 'accepted' });
    this.metrics.accept.observe((performance.now() - receivedAt) / 1000);
    this.outcomes.accepted();
    const timer = setTimeout(() => {
      this.tracked.delete(messageId);
      this.metrics.inflight.set(this.tracked.size);
      this.metrics.messages.inc({ result: 'failed' });
      this.outcomes.failed('unavailable');
      if (span !== undefined) {
        recordFailure(span, new Error(`no reply within ${this.timeoutMs} ms`), 'unavailable');
        span.end();
      }
      this.onTimeout(sessionId, messageId);
    }, this.timeoutMs);
    timer.unref();
    this.tracked.set(messageId, { sessionId, receivedAt, firstTokenSeen: false, timer, span });
    this.metrics.inflight.set(this.tracked.size);
  }

  /** Called for every frame relayed by this gateway. */
  observe(frame: ReplyFrame): void {
    const t = this.tracked.get(frame.messageId);
    if (t === undefined) return;
    switch (frame.type) {
      case 'token':
        if (!t.firstTokenSeen) {
          t.firstTokenSeen = true;
          const seconds = (performance.now() - t.receivedAt) / 1000;
          this.metrics.firstToken.observe(seconds);
          this.outcomes.firstToken(seconds * 1000);
          t.span?.addEvent('first_token', { [ATTR.firstTokenMs]: Math.round(seconds * 1000) });
        }
        return;
      case 'reset':
        t.span?.addEvent('reset', { [ATTR.attempt]: frame.attempt });
        return;
      case 'done':
        t.span?.setAttributes({
          [ATTR.cacheHit]: frame.cached,
          [ATTR.source]: frame.cached ? 'cache' : frame.coalesced === true ? 'coalesced' : 'model',
          [ATTR.frames]: frame.seq,
          [ATTR.finishReason]: frame.finishReason,
          [ATTR.inputTokens]: frame.usage.promptTokens,
          [ATTR.outputTokens]: frame.usage.completionTokens,
        });
        this.finish(frame.messageId, t, frame.finishReason === 'cancelled' ? 'cancelled' : 'completed');
        this.metrics.cacheRequests.inc({ result: frame.cached ? 'hit' : frame.coalesced === true ? 'coalesced' : 'miss' });
        this.outcomes.done({
          cached: frame.cached,
          coalesced: frame.coalesced === true,
          cancelled: frame.finishReason === 'cancelled',
          completionTokens: frame.usage.completionTokens,
        });
        return;
      case 'error':
        if (t.span !== undefined) recordFailure(t.span, new Error(frame.message), frame.code);
        this.finish(frame.messageId, t, 'failed');
        this.outcomes.failed(frame.code);
        return;
    }
  }

  close(): void {
    for (const t of this.tracked.values()) {
      clearTimeout(t.timer);
      t.span?.end();
    }
    this.tracked.clear();
    this.metrics.inflight.set(0);
  }

  private finish(messageId: string, t: Tracked, result: 'completed' | 'cancelled' | 'failed'): void {
    clearTimeout(t.timer);
    this.tracked.delete(messageId);
    this.metrics.inflight.set(this.tracked.size);
    this.metrics.messages.inc({ result });
    if (result !== 'failed') this.metrics.response.observe((performance.now() - t.receivedAt) / 1000);
    t.span?.addEvent(result === 'failed' ? 'error' : 'done');
    t.span?.end();
  }
}
