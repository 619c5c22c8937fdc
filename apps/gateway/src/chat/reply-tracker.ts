// Follows each reply this gateway accepted until its terminal frame: first-token and response
// timings, outcome counts, and a bound on the wait so no accepted message ends in silence.
import type { ReplyFrame } from '@chat-fleet/shared';
import type { GatewayMetrics } from '../metrics.js';

interface Tracked {
  sessionId: string;
  acceptedAt: number;
  firstTokenSeen: boolean;
  timer: NodeJS.Timeout;
}

export type ReplyTimeoutHandler = (sessionId: string, messageId: string) => void;

export class ReplyTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly timeoutMs: number,
    private readonly onTimeout: ReplyTimeoutHandler,
  ) {}

  get inFlight(): number {
    return this.tracked.size;
  }

  accepted(sessionId: string, messageId: string): void {
    this.metrics.messages.inc({ result: 'accepted' });
    const timer = setTimeout(() => {
      this.tracked.delete(messageId);
      this.metrics.messages.inc({ result: 'failed' });
      this.onTimeout(sessionId, messageId);
    }, this.timeoutMs);
    timer.unref();
    this.tracked.set(messageId, { sessionId, acceptedAt: performance.now(), firstTokenSeen: false, timer });
  }

  /** Called for every frame relayed by this gateway. */
  observe(frame: ReplyFrame): void {
    const t = this.tracked.get(frame.messageId);
    if (t === undefined) return;
    switch (frame.type) {
      case 'token':
        if (!t.firstTokenSeen) {
          t.firstTokenSeen = true;
          this.metrics.firstToken.observe((performance.now() - t.acceptedAt) / 1000);
        }
        return;
      case 'reset':
        return;
      case 'done':
        this.finish(frame.messageId, t, frame.finishReason === 'cancelled' ? 'cancelled' : 'completed');
        this.metrics.cacheRequests.inc({ result: frame.cached ? 'hit' : frame.coalesced === true ? 'coalesced' : 'miss' });
        return;
      case 'error':
        this.finish(frame.messageId, t, 'failed');
        return;
    }
  }

  close(): void {
    for (const t of this.tracked.values()) clearTimeout(t.timer);
    this.tracked.clear();
  }

  private finish(messageId: string, t: Tracked, result: 'completed' | 'cancelled' | 'failed'): void {
    clearTimeout(t.timer);
    this.tracked.delete(messageId);
    this.metrics.messages.inc({ result });
    if (result !== 'failed') this.metrics.response.observe((performance.now() - t.acceptedAt) / 1000);
  }
}
