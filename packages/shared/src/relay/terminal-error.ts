// Ends a reply from outside its worker (a gateway whose reply timed out, a reaper): the error
// frame is stored at a position after any attempt, so a resume sees it and a late worker's
// writes to the stream are refused (XADD ids must grow), then published to the live channel.
import type { Redis } from 'ioredis';
import type { ErrorCode } from '../errors.js';
import type { RedisKeys } from '../redis-keys.js';
import { encodeEnvelope, formatPosition, type FramePosition } from './frame-envelope.js';

/** The position of a terminal frame written by someone other than the reply's worker. */
export const FENCE_POSITION: FramePosition = Object.freeze({ attempt: 2 ** 31, seq: 0 });

export async function endReplyWithError(
  redis: Redis,
  keys: RedisKeys,
  reply: { sessionId: string; messageId: string },
  error: { code: ErrorCode; message: string },
  retentionSeconds: number,
): Promise<void> {
  const json = JSON.stringify({ type: 'error', code: error.code, message: error.message, messageId: reply.messageId });
  const stream = keys.messageFrames(reply.messageId);
  await redis
    .multi()
    .xadd(stream, formatPosition(FENCE_POSITION), 'f', json)
    .expire(stream, retentionSeconds)
    .hset(keys.messageMeta(reply.messageId), 'status', 'error')
    .expire(keys.messageMeta(reply.messageId), retentionSeconds)
    .publish(keys.sessionChannel(reply.sessionId), encodeEnvelope(FENCE_POSITION, json))
    .exec();
}
