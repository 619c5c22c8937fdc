// A reply's stored frames: its Redis Stream read from a position on, a page at a time. The
// gateway's sockets and the worker's coalescing follower read replies through it.
import type { RedisClient } from '../redis-client.js';
import type { RedisKeys } from '../redis-keys.js';
import { formatPosition, parsePosition, type FramePosition } from './frame-envelope.js';
import type { StoredReader } from './reply-gate.js';

const PAGE = 500;

/**
 * Reads a reply's stored frames after `after`, oldest first, a page at a time, until the stream
 * ends or `onEntry` returns false.
 */
export async function readStoredFrames(
  redis: RedisClient,
  streamKey: string,
  after: FramePosition,
  onEntry: (position: FramePosition, json: string) => boolean,
): Promise<void> {
  let last = after;
  for (;;) {
    const start = last.seq < 0 ? `${last.attempt}-0` : `(${formatPosition(last)}`;
    const entries = await redis.xrange(streamKey, start, '+', 'COUNT', PAGE);
    for (const [id, fields] of entries) {
      const position = parsePosition(id);
      const json = fields[1];
      if (position === undefined || json === undefined) continue;
      last = position;
      if (!onEntry(position, json)) return;
    }
    if (entries.length < PAGE) return;
  }
}

/** Reads the stored frames of any session's replies; bound to one session it is a StoredReader. */
export type SessionFrameReader = (sessionId: string) => StoredReader;

/** A SessionFrameReader over the reply streams under `keys`. */
export function storedFrameReader(redis: RedisClient, keys: RedisKeys): SessionFrameReader {
  return (sessionId) => (messageId, after, onEntry) => readStoredFrames(redis, keys.replyFrames(sessionId, messageId), after, onEntry);
}
