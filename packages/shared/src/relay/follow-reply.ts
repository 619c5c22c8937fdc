// Reads one reply from a position on: the frames already in its Redis Stream, then the live
// ones from pub/sub, with no gap and no duplicate. The channel is subscribed before the stream
// is read and live frames are held until the stored ones are through, so a frame written while
// the stream is being read arrives exactly once (its position says whether it was seen).
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis-keys.js';
import type { ReplyFrame } from '../protocol/server-frames.js';
import {
  START_POSITION,
  comparePositions,
  decodeEnvelope,
  formatPosition,
  parsePosition,
  type FramePosition,
} from './frame-envelope.js';

export type TerminalReplyFrame = Extract<ReplyFrame, { type: 'done' | 'error' }>;

export type Subscribe = (channel: string, listener: (message: string) => void) => Promise<() => void>;

export interface FollowReplyOptions {
  redis: Redis;
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
 * Reads a reply's stored frames after `from()` (re-read before each page), oldest first, until
 * the stream ends or `onEntry` returns false.
 */
export async function readStoredFrames(
  redis: Redis,
  streamKey: string,
  from: () => FramePosition,
  onEntry: (position: FramePosition, json: string) => boolean,
): Promise<void> {
  for (;;) {
    const last = from();
    const start = last.seq < 0 ? `${last.attempt}-0` : `(${formatPosition(last)}`;
    const entries = await redis.xrange(streamKey, start, '+', 'COUNT', PAGE);
    for (const [id, fields] of entries) {
      const position = parsePosition(id);
      const json = fields[1];
      if (position !== undefined && json !== undefined && !onEntry(position, json)) return;
    }
    if (entries.length < PAGE) return;
  }
}

/** Resolves with the reply's terminal frame (`done` or `error`). */
export async function followReply(options: FollowReplyOptions): Promise<TerminalReplyFrame> {
  const { redis, keys, messageId, onFrame, signal } = options;
  signal?.throwIfAborted();
  const streamKey = keys.messageFrames(messageId);
  let last = options.after ?? START_POSITION;
  let terminal: TerminalReplyFrame | undefined;
  let failure: unknown;
  let loading = true;
  const held: string[] = [];
  let heardSince = false;
  let wake: (() => void) | undefined;
  const settled = new Promise<void>((resolve) => (wake = resolve));

  const take = (position: FramePosition, json: string, known?: ReplyFrame): void => {
    if (terminal !== undefined || failure !== undefined) return;
    if (comparePositions(position, last) <= 0) return;
    let frame: ReplyFrame;
    try {
      frame = known ?? (JSON.parse(json) as ReplyFrame);
    } catch (err) {
      failure = err;
      wake?.();
      return;
    }
    if (frame.messageId !== messageId) return;
    last = position;
    heardSince = true;
    try {
      onFrame(frame, position, json);
    } catch (err) {
      failure = err;
      wake?.();
      return;
    }
    if (frame.type === 'done' || frame.type === 'error') {
      terminal = frame;
      wake?.();
    }
  };
  const onLive = (message: string): void => {
    if (loading) {
      held.push(message);
      return;
    }
    const env = decodeEnvelope(message);
    if (env !== undefined) take(env.position, env.json);
  };
  const readStored = async (): Promise<void> => {
    await readStoredFrames(redis, streamKey, () => last, (position, json) => {
      take(position, json);
      return terminal === undefined && failure === undefined;
    });
  };

  const unsubscribe = await options.subscribe(keys.sessionChannel(options.sessionId), onLive);
  const onAbort = (): void => wake?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  let idleTimer: NodeJS.Timeout | undefined;
  try {
    await readStored();
    loading = false;
    for (const message of held.splice(0)) onLive(message);

    if (options.isAlive !== undefined && terminal === undefined) {
      const isAlive = options.isAlive;
      const check = async (): Promise<void> => {
        if (terminal !== undefined || failure !== undefined || signal?.aborted) return;
        if (heardSince) {
          heardSince = false;
        } else if (!(await isAlive())) {
          await readStored();
          if (terminal === undefined && failure === undefined) {
            failure = new FollowStalledError(messageId, last);
            wake?.();
          }
          return;
        }
        idleTimer = setTimeout(() => void check().catch((err: unknown) => ((failure = err), wake?.())), options.idleCheckMs ?? 1000);
      };
      idleTimer = setTimeout(() => void check().catch((err: unknown) => ((failure = err), wake?.())), options.idleCheckMs ?? 1000);
    }
    if (terminal === undefined && failure === undefined) await settled;
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
    if (terminal === undefined) signal?.throwIfAborted();
    return terminal!;
  } finally {
    clearTimeout(idleTimer);
    signal?.removeEventListener('abort', onAbort);
    unsubscribe();
  }
}
