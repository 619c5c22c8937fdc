// Reads one reply from a position on: the frames already in its Redis Stream, then the live
// ones from pub/sub, with no gap and no duplicate. The channel is subscribed before the stream
// is read, and a ReplyGate merges stored and live frames by position, as it does for sockets.
import type { RedisClient } from '../redis-client.js';
import type { RedisKeys } from '../redis-keys.js';
import type { ReplyFrame } from '@chat-fleet/protocol';
import { START_POSITION, decodeEnvelope, formatPosition, parsePosition, type FramePosition } from './frame-envelope.js';
import { ReplyGate, type StoredReader } from './reply-gate.js';

export type TerminalReplyFrame = Extract<ReplyFrame, { type: 'done' | 'error' }>;

export type Subscribe = (channel: string, listener: (message: string) => void) => Promise<() => void>;

export interface FollowReplyOptions {
  redis: RedisClient;
  subscribe: Subscribe;
  keys: RedisKeys;
  sessionId: string;
  messageId: string;
  /** Frames at or before this position are skipped; default: from the start. */
  after?: FramePosition;
  /** Every frame after `after`, in order, once. */
  onFrame: (frame: ReplyFrame, position: FramePosition, json: string) => void;
  signal?: AbortSignal;
  /**
   * Asked when no frame came for `idleCheckMs`: is someone still writing this reply? When it
   * says no, the stream is read one last time and, without a terminal frame, the follow fails.
   */
  isAlive?: () => Promise<boolean>;
  idleCheckMs?: number;
}

export class FollowStalledError extends Error {
  constructor(messageId: string, readonly position: FramePosition) {
    super(`reply ${messageId} stopped at ${formatPosition(position)} with nobody writing it`);
    this.name = 'FollowStalledError';
  }
}

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

/** Resolves with the reply's terminal frame (`done` or `error`). */
export async function followReply(options: FollowReplyOptions): Promise<TerminalReplyFrame> {
  const { messageId, onFrame, signal } = options;
  signal?.throwIfAborted();
  let last = options.after ?? START_POSITION;
  let terminal: TerminalReplyFrame | undefined;
  let failure: unknown;
  let heardSince = false;
  let wake: (() => void) | undefined;
  const settled = new Promise<void>((resolve) => (wake = resolve));
  const fail = (err: unknown): void => {
    failure ??= err;
    wake?.();
  };

  const gate = new ReplyGate(
    (frame, json, position) => {
      if (terminal !== undefined || failure !== undefined) return;
      last = position;
      heardSince = true;
      try {
        onFrame(frame, position, json);
      } catch (err) {
        fail(err);
        return;
      }
      if (frame.type === 'done' || frame.type === 'error') {
        terminal = frame;
        wake?.();
      }
    },
    storedFrameReader(options.redis, options.keys)(options.sessionId),
    // The follow starts with a stored read, so a live frame never waits for a resume.
    { graceMs: 0 },
    fail,
  );
  const onLive = (message: string): void => {
    const env = decodeEnvelope(message);
    if (env === undefined) return;
    let frame: ReplyFrame;
    try {
      frame = JSON.parse(env.json) as ReplyFrame;
    } catch (err) {
      fail(err);
      return;
    }
    if (frame.messageId === messageId) gate.live(frame, env.json, env.position);
  };

  gate.hold(messageId, last);
  const unsubscribe = await options.subscribe(options.keys.sessionChannel(options.sessionId), onLive);
  const onAbort = (): void => wake?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  let idleTimer: NodeJS.Timeout | undefined;
  try {
    await gate.resume(messageId, last);
    if (options.isAlive !== undefined && terminal === undefined) {
      const isAlive = options.isAlive;
      const idleMs = options.idleCheckMs ?? 1000;
      const check = async (): Promise<void> => {
        if (terminal !== undefined || failure !== undefined || signal?.aborted) return;
        if (heardSince) {
          heardSince = false;
        } else if (!(await isAlive())) {
          // Nobody writes it any more: whatever was stored meanwhile is the last of it.
          await gate.resume(messageId, last);
          if (terminal === undefined) fail(new FollowStalledError(messageId, last));
          return;
        }
        idleTimer = setTimeout(() => void check().catch(fail), idleMs);
      };
      idleTimer = setTimeout(() => void check().catch(fail), idleMs);
    }
    if (terminal === undefined && failure === undefined) await settled;
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
    if (terminal === undefined) signal?.throwIfAborted();
    return terminal!;
  } finally {
    clearTimeout(idleTimer);
    signal?.removeEventListener('abort', onAbort);
    gate.close();
    unsubscribe();
  }
}
