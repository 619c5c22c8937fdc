// Timing of each reply as this page saw it: first-token time from the moment the message was sent,
// and the decode rate from the first token frame to `done`.
import type { DoneFrame } from './protocol.js';

export interface ReplyStats {
  readonly messageId: string;
  /** Send to first token frame; undefined when this page did not send the message. */
  readonly firstTokenMs: number | undefined;
  /** Completion tokens after the first, per second between the first token frame and `done`. */
  readonly tokensPerSec: number | undefined;
  readonly completionTokens: number;
  readonly cached: boolean;
  readonly finishReason: DoneFrame['finishReason'];
}

interface Timing {
  sentAt: number | undefined;
  firstTokenAt: number | undefined;
}

export class ReplyTimer {
  private readonly pending = new Map<string, number>();
  private readonly replies = new Map<string, Timing>();

  /** The page sent a `chat` frame with this id. */
  sent(chatId: string, at: number): void {
    this.pending.set(chatId, at);
  }

  /** The gateway accepted the chat `chatId` as reply `messageId`. */
  accepted(chatId: string | undefined, messageId: string): void {
    const sentAt = chatId === undefined ? undefined : this.pending.get(chatId);
    if (chatId !== undefined) this.pending.delete(chatId);
    this.replies.set(messageId, { sentAt, firstTokenAt: undefined });
  }

  token(messageId: string, at: number): void {
    const t = this.replies.get(messageId) ?? { sentAt: undefined, firstTokenAt: undefined };
    t.firstTokenAt ??= at;
    this.replies.set(messageId, t);
  }

  /** A `reset` restarts the reply: its first token is yet to come again. */
  reset(messageId: string): void {
    const t = this.replies.get(messageId);
    if (t !== undefined) t.firstTokenAt = undefined;
  }

  done(frame: DoneFrame, at: number): ReplyStats {
    const t = this.replies.get(frame.messageId);
    this.replies.delete(frame.messageId);
    const first = t?.firstTokenAt;
    const sentAt = t?.sentAt;
    const seconds = first === undefined ? 0 : (at - first) / 1000;
    const tokens = frame.usage.completionTokens > 0 ? frame.usage.completionTokens : frame.seq;
    return {
      messageId: frame.messageId,
      firstTokenMs: first !== undefined && sentAt !== undefined ? Math.max(0, first - sentAt) : undefined,
      tokensPerSec: tokens > 1 && seconds > 0 ? (tokens - 1) / seconds : undefined,
      completionTokens: tokens,
      cached: frame.cached,
      finishReason: frame.finishReason,
    };
  }

  forget(messageId: string): void {
    this.replies.delete(messageId);
  }
}
