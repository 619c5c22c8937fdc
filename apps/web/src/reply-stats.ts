// Timing of a reply as this page saw it, from how it ended (the SDK's ReplyDone): first-token time
// from the moment this page sent the message, and the decode rate from the first token to `done`.
import type { AssistantMessage, FinishReason } from '@chat-fleet/client';

export interface ReplyStats {
  readonly messageId: string;
  /** Send to first token frame; undefined when this page did not send the message. */
  readonly firstTokenMs: number | undefined;
  /** Completion tokens after the first, per second between the first token frame and `done`. */
  readonly tokensPerSec: number | undefined;
  readonly completionTokens: number;
  readonly cached: boolean;
  readonly finishReason: FinishReason;
}

/** The stats of a reply that ended with `done` here; undefined for one read from the history. */
export function replyStats(message: AssistantMessage): ReplyStats | undefined {
  const result = message.result;
  if (result === undefined) return undefined;
  const first = result.firstTokenMs;
  const seconds = first === undefined ? 0 : (result.totalMs - first) / 1000;
  const tokens = result.usage.completionTokens;
  return {
    messageId: result.messageId,
    firstTokenMs: first !== undefined && message.origin === 'sent' ? Math.max(0, first) : undefined,
    tokensPerSec: tokens > 1 && seconds > 0 ? (tokens - 1) / seconds : undefined,
    completionTokens: tokens,
    cached: result.cached,
    finishReason: result.finishReason,
  };
}
