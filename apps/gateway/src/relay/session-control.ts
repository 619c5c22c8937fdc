// Cancel and resume for a session's replies, over Redis, so they work wherever the reply runs
// and wherever the client reconnects.
import {
  ChatError,
  isFinished,
  type FramePosition,
  type Logger,
  type RedisKeys,
  type ReplyInfo,
  type ReplyRef,
  type ReplyState,
  type RedisClient,
} from '@chat-fleet/shared';
import type { CancelResult } from '../metrics.js';

/** A reader that replays a reply's stored frames after a position, then its live ones (a socket's). */
export interface ReplayTarget {
  resume(messageId: string, after: FramePosition): Promise<void>;
}

/** Cancel and resume of a session's replies. */
export interface SessionControl {
  /** What the cancel found; `not_found` is thrown as a ChatError. */
  cancel(sessionId: string, messageId: string): Promise<Exclude<CancelResult, 'not_found'>>;
  /** Replays the reply to `reader` after `afterSeq` (of `attempt`, the first by default); `not_found` is thrown. */
  resume(sessionId: string, messageId: string, afterSeq: number, attempt: number | undefined, reader: ReplayTarget): Promise<void>;
}

/** Removes a job that no worker has taken yet; true when it was removed. */
export type RemoveQueuedJob = (ref: ReplyRef) => Promise<boolean>;

export class RedisSessionControl implements SessionControl {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly replies: ReplyState,
    private readonly removeQueued: RemoveQueuedJob,
    private readonly log: Logger,
  ) {}

  /**
   * Stops a reply. A queued one is taken out of the queue and ended here; a running one is
   * aborted by its worker (the mark in Redis covers a worker that starts it just now), which
   * ends it with `done` `cancelled` and keeps the partial text. A finished one: nothing to do.
   */
  async cancel(sessionId: string, messageId: string): Promise<'running' | 'queued' | 'finished'> {
    const ref = { sessionId, messageId };
    const info = await this.owned(sessionId, messageId);
    if (isFinished(info.status)) return 'finished';
    await this.replies.requestCancel(ref);
    if (info.status === 'queued' && (await this.removeQueued(ref))) {
      await this.replies.end(ref, { kind: 'cancelled' }, { history: { id: messageId, role: 'assistant', content: '', status: 'cancelled', createdAt: new Date().toISOString() } });
      this.log.debug({ sessionId, messageId }, 'cancelled a queued reply');
      return 'queued';
    }
    await this.redis.publish(this.keys.cancelChannel, messageId);
    return 'running';
  }

  async resume(sessionId: string, messageId: string, afterSeq: number, attempt: number | undefined, reader: ReplayTarget): Promise<void> {
    await this.owned(sessionId, messageId);
    // Without `attempt`, afterSeq counts in the first attempt: a client that missed a restart
    // then gets the `reset` and the new attempt whole.
    await reader.resume(messageId, { attempt: attempt ?? 1, seq: afterSeq });
  }

  /** The reply's state; `not_found` for an unknown, expired or other session's reply. */
  private async owned(sessionId: string, messageId: string): Promise<ReplyInfo> {
    const info = await this.replies.info({ sessionId, messageId });
    if (info === undefined) throw new ChatError('not_found', `reply ${messageId} is not in this session or has expired`);
    return info;
  }
}
