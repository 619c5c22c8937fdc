// What every replica may ask about a reply: whose it is, where it stands, whether someone asked
// to cancel it. Written by the gateway that accepts the message, updated by the worker.
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis-keys.js';

export type ReplyStatus = 'queued' | 'streaming' | 'done' | 'cancelled' | 'error';

export interface ReplyInfo {
  sessionId: string;
  status: ReplyStatus;
  /** Attempts started so far (0 while queued). */
  attempt: number;
  cancelRequested: boolean;
}

export class ReplyMeta {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** How long a reply's meta outlives its start when nothing else renews it. */
    private readonly ttlSeconds: number,
  ) {}

  /** Records an accepted message's reply before it is queued. */
  async register(messageId: string, sessionId: string): Promise<void> {
    const key = this.keys.messageMeta(messageId);
    await this.redis.multi().hset(key, { sessionId, status: 'queued' }).expire(key, this.ttlSeconds).exec();
  }

  async get(messageId: string): Promise<ReplyInfo | undefined> {
    const h = await this.redis.hgetall(this.keys.messageMeta(messageId));
    if (h.sessionId === undefined) return undefined;
    return {
      sessionId: h.sessionId,
      status: (h.status ?? 'queued') as ReplyStatus,
      attempt: Number(h.attempt ?? 0),
      cancelRequested: h.cancel === '1',
    };
  }

  /** Marks the reply for cancelling; a worker that starts it later sees the mark. */
  async requestCancel(messageId: string): Promise<void> {
    await this.redis.hset(this.keys.messageMeta(messageId), 'cancel', '1');
  }

  async isCancelRequested(messageId: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.messageMeta(messageId), 'cancel')) === '1';
  }
}

export function isFinished(status: ReplyStatus): boolean {
  return status === 'done' || status === 'cancelled' || status === 'error';
}
