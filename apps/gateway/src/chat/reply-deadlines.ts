// Ends replies whose deadline passed, whichever gateway accepted them. Deadlines live in Redis
// (ReplyState), so a drained or killed gateway does not take them along: every gateway sweeps
// the due ones every `intervalMs`. Ending a reply is idempotent, so two gateways sweeping the
// same one is harmless; an ended reply still waiting in the queue is taken out of it.
import type { Logger, ReplyRef, ReplyState } from '@chat-fleet/shared';

export interface ReplyDeadlineOptions {
  intervalMs: number;
  /** What the client is told, e.g. "no reply within 120000 ms; try again". */
  message: string;
}

export class ReplyDeadlines {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly replies: ReplyState,
    private readonly removeQueued: (ref: ReplyRef) => Promise<boolean>,
    private readonly options: ReplyDeadlineOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      this.sweeping ??= this.sweep()
        .then(() => undefined)
        .catch((err: unknown) => this.log.warn({ err }, 'could not sweep reply deadlines'))
        .finally(() => {
          this.sweeping = undefined;
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ends every reply whose deadline has passed; resolves with how many this call ended. */
  async sweep(now = Date.now()): Promise<number> {
    let ended = 0;
    for (;;) {
      const due = await this.replies.dueDeadlines(now, 100);
      for (const ref of due) if (await this.end(ref)) ended++;
      if (due.length < 100) return ended;
    }
  }

  /** Ends one reply with `unavailable` now (its deadline passed); true when this call ended it. */
  async end(ref: ReplyRef): Promise<boolean> {
    const result = await this.replies.end(ref, { kind: 'error', code: 'unavailable', message: this.options.message });
    if (result !== 'ended') return false;
    this.log.warn({ sessionId: ref.sessionId, messageId: ref.messageId }, 'no reply in time; ended it with an error');
    await this.removeQueued(ref).catch(() => false);
    return true;
  }
}
