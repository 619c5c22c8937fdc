// Ends a reply from outside its worker (a gateway whose reply timed out, a cancel of a reply
// still waiting in the queue): the terminal frame is stored at a position after any attempt, so
// a resume sees it and a late worker's writes to the stream are refused (XADD ids must grow),
// then published to the live channel.
import type { Redis } from 'ioredis';
import type { ErrorCode } from '../errors.js';
import type { RedisKeys } from '../redis-keys.js';
import { encodeEnvelope, formatPosition, type FramePosition } from './frame-envelope.js';

/** The position of a terminal frame written by someone other than the reply's worker. */
export const FENCE_POSITION: FramePosition = Object.freeze({ attempt: 2 ** 31, seq: 0 });

interface ReplyRef {
  sessionId: string;
  messageId: string;
}

async function endFromOutside(redis: Redis, keys: RedisKeys, reply: ReplyRef, frame: Record<string, unknown>, status: string, retentionSeconds: number): Promise<void> {
  const json = JSON.stringify(frame);
  const stream = keys.messageFrames(reply.messageId);
  const meta = keys.messageMeta(reply.messageId);
  const results = await redis
    .multi()
    .xadd(stream, formatPosition(FENCE_POSITION), 'f', json)
    .expire(stream, retentionSeconds)
    .hset(meta, 'status', status)
    .expire(meta, retentionSeconds)
    .publish(keys.sessionChannel(reply.sessionId), encodeEnvelope(FENCE_POSITION, json))
    .exec();
  const failed = results?.find(([err]) => err !== null);
  if (failed?.[0]) throw failed[0];
}

export async function endReplyWithError(
  redis: Redis,
  keys: RedisKeys,
  reply: ReplyRef,
  error: { code: ErrorCode; message: string },
  retentionSeconds: number,
): Promise<void> {
  await endFromOutside(redis, keys, reply, { type: 'error', code: error.code, message: error.message, messageId: reply.messageId }, 'error', retentionSeconds);
}

/** `done` with `finishReason: "cancelled"` and no tokens, for a reply cancelled before it started. */
export async function endReplyCancelled(redis: Redis, keys: RedisKeys, reply: ReplyRef, retentionSeconds: number): Promise<void> {
  const frame = {
    type: 'done',
    messageId: reply.messageId,
    seq: 0,
    cached: false,
    usage: { promptTokens: 0, completionTokens: 0 },
    finishReason: 'cancelled',
  };
  await endFromOutside(redis, keys, reply, frame, 'cancelled', retentionSeconds);
}
