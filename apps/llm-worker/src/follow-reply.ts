// The coalescing follower: reads one reply from a position on, the frames already in its Redis
// Stream, then the live ones from pub/sub, with no gap and no duplicate. The channel is subscribed
// before the stream is read, and a ReplyGate merges stored and live frames by position, as it does
// for the gateway's sockets.
import {
  ReplyGate,
  START_POSITION,
  decodeEnvelope,
  formatPosition,
  storedFrameReader,
  type FramePosition,
  type RedisClient,
  type RedisKeys,
  type ReplyFrame,
} from '@chat-fleet/shared';

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
