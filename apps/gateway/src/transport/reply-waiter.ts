// A sink for one reply requested over REST: buffers frames until the messageId is known,
// then passes that reply's frames on until its terminal frame.
import type { ReplyFrame } from '@chat-fleet/shared';
import type { ReplySink } from '../relay/session-hub.js';

export type TerminalFrame = Extract<ReplyFrame, { type: 'done' | 'error' }>;

export class ReplyWaiter implements ReplySink {
  private messageId: string | undefined;
  private readonly early: Array<[ReplyFrame, string]> = [];
  private settle: ((frame: TerminalFrame) => void) | undefined;
  readonly finished: Promise<TerminalFrame>;

  constructor(private readonly onFrame: (frame: ReplyFrame, raw: string) => void = () => undefined) {
    this.finished = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /** Starts passing on the frames of `messageId`, including any that arrived first. */
  follow(messageId: string): void {
    this.messageId = messageId;
    for (const [frame, raw] of this.early.splice(0)) this.deliver(frame, raw);
  }

  deliver(frame: ReplyFrame, raw: string): void {
    if (this.messageId === undefined) {
      if (this.early.length < 10_000) this.early.push([frame, raw]);
      return;
    }
    if (frame.messageId !== this.messageId) return;
    this.onFrame(frame, raw);
    if (frame.type === 'done' || frame.type === 'error') this.settle?.(frame);
  }
}
