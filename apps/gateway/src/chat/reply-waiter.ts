// A sink for one reply requested over REST or SSE: its frames pass through the same position
// gate as a socket's (once each, in order, gaps filled from the reply's stream) until the
// terminal frame. The messageId is chosen before the message is submitted, so no frame of the
// reply can arrive before the waiter knows it.
import { ChatError, ReplyGate, type FramePosition, type ReplyFrame, type SessionEndReason, type StoredReader } from '@chat-fleet/shared';
import type { ReplySink } from '../relay/session-hub.js';

export type TerminalFrame = Extract<ReplyFrame, { type: 'done' | 'error' }>;

export class ReplyWaiter implements ReplySink {
  private readonly gate: ReplyGate;
  private settle: ((frame: TerminalFrame) => void) | undefined;
  private fail: ((err: unknown) => void) | undefined;
  readonly finished: Promise<TerminalFrame>;

  constructor(
    readonly messageId: string,
    stored: StoredReader,
    onFrame: (frame: ReplyFrame, raw: string) => void = () => undefined,
  ) {
    this.finished = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
    this.finished.catch(() => undefined);
    this.gate = new ReplyGate(
      (frame, raw) => {
        onFrame(frame, raw);
        if (frame.type === 'done' || frame.type === 'error') this.settle?.(frame);
      },
      stored,
      // The waiter expects the reply from its start: a late first frame is caught up at once.
      { graceMs: 0 },
      (err) => this.fail?.(new ChatError('unavailable', 'could not read the reply from Redis; try again', { retryAfterMs: 1000, cause: err })),
    );
    this.gate.expect(messageId);
  }

  deliver(frame: ReplyFrame, raw: string, position: FramePosition): void {
    if (frame.messageId === this.messageId) this.gate.live(frame, raw, position);
  }

  resync(): void {
    this.gate.resync();
  }

  poll(idleMs: number): Promise<boolean> {
    return this.gate.poll(idleMs);
  }

  sessionEnded(reason: SessionEndReason): void {
    this.fail?.(new ChatError('not_found', reason === 'deleted' ? 'the session was deleted' : 'the session expired'));
  }

  close(): void {
    this.gate.close();
  }
}
