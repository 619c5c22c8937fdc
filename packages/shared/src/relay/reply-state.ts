// The one owner of a reply's state in Redis: accepting it (with the session's one-reply-in-flight
// slot), each attempt a worker opens, every frame it writes, its finish, a cancel, an end from
// outside (deadline, cancel while queued, session deleted) and its deadline. Every change is one
// Lua script (../../lua/reply-*.lua), so a reply's stream, its channel, its history entry and its
// slot never disagree.
import type { PubSubMode, RedisClient } from '../redis-client.js';
import type { ErrorCode } from '@chat-fleet/protocol';
import type { RedisKeys } from '../redis-keys.js';
import type { StoredMessage } from '@chat-fleet/protocol';
import type { FinishReason, Usage } from '@chat-fleet/protocol';
import type { ReplyFrame, SourcesFrame, ToolCallFrame, ToolResultFrame } from '@chat-fleet/protocol';
import { withScripts, type ChatScripts } from '../lua-scripts.js';
import { FENCE_POSITION, formatPosition } from './frame-envelope.js';
import { FrameWriter } from './frame-writer.js';
import type { UsageEntry } from '../usage/usage-ledger.js';
import { titleFromMessage } from '../session/session-title.js';

export type ReplyStatus = 'queued' | 'streaming' | 'done' | 'cancelled' | 'error';

export interface ReplyRef {
  sessionId: string;
  messageId: string;
}

export interface ReplyInfo {
  status: ReplyStatus;
  /** Attempts started so far (0 while queued). */
  attempt: number;
  cancelRequested: boolean;
}


/** A reply's state from its meta's `status`, `attempt` and `cancel` fields (null when absent); undefined for an unknown reply. */
export function replyInfoOf([status, attempt, cancel]: ReadonlyArray<string | null | undefined>): ReplyInfo | undefined {
  if (status === null || status === undefined) return undefined;
  return { status: status as ReplyStatus, attempt: Number(attempt ?? 0), cancelRequested: cancel === '1' };
}

export function isFinished(status: ReplyStatus): boolean {
  return status === 'done' || status === 'cancelled' || status === 'error';
}

export interface ReplyStateOptions {
  /** Seconds a finished reply's meta and frames stay readable (resume). */
  retentionSeconds: number;
  /** Bound on a reply's meta and frames while it is queued or running, if nobody ends it. */
  runningTtlSeconds: number;
  /** Frames kept per reply stream (approximately). */
  maxFrames: number;
  sessionTtlSeconds: number;
  historyMaxMessages: number;
  historyMaxBytes: number;
  /** `sharded` on a Redis Cluster: frames are published with SPUBLISH. Default `classic`. */
  pubSub?: PubSubMode;
}

/** `userMessageId`: the message the reply answers. `nothing` (a regenerate): the history holds no user message. */
export type AcceptResult =
  | { accepted: true; userMessageId: string }
  | { accepted: false; reason: 'busy'; holder: string }
  | { accepted: false; reason: 'gone' }
  | { accepted: false; reason: 'nothing' };

/** How an attempt stopped before its end: `fenced` (the reply ended, or a newer attempt took it over) or `broken` (a write failed: RedisClient refused it or the connection dropped). */
export class AttemptStopped extends Error {
  constructor(
    readonly reason: 'fenced' | 'broken',
    options?: { cause?: unknown },
  ) {
    super(reason === 'fenced' ? 'the reply ended or a newer attempt writes it' : 'a frame could not be written to Redis', options);
    this.name = 'AttemptStopped';
  }
}

/** A reply the worker must not run: it has ended, or it is unknown (expired, session deleted). */
export interface ReplyGone {
  kind: 'gone';
  status: ReplyStatus | 'unknown';
}

/** KEYS[1..6] of the scripts that end a reply: its meta, frames and channel, its session's meta, history and slot. */
function endingKeys(k: RedisKeys, { sessionId, messageId }: ReplyRef): [string, string, string, string, string, string] {
  return [k.replyMeta(sessionId, messageId), k.replyFrames(sessionId, messageId), k.sessionChannel(sessionId), k.sessionMeta(sessionId), k.sessionHistory(sessionId), k.sessionInflight(sessionId)];
}

export type ReplyEnding = { kind: 'error'; code: ErrorCode; message: string } | { kind: 'cancelled' };

export class ReplyState {
  private readonly redis: RedisClient & ChatScripts;
  /** PUBLISH, or SPUBLISH on a Redis Cluster (sharded pub/sub). */
  private readonly publish: 'PUBLISH' | 'SPUBLISH';
  /** Every attempt's frames, batched per synchronous run. */
  private readonly frames: FrameWriter;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: ReplyStateOptions,
  ) {
    this.redis = withScripts(redis);
    this.publish = options.pubSub === 'sharded' ? 'SPUBLISH' : 'PUBLISH';
    this.frames = new FrameWriter(this.redis, { maxFrames: options.maxFrames, runningTtlSeconds: options.runningTtlSeconds, publish: this.publish });
  }

  /**
   * Accepts a user message: takes the session's in-flight slot for the reply, appends the message
   * to the history and registers the reply as queued, all or nothing. A session without a title
   * takes one from the message.
   */
  async accept(ref: ReplyRef, userMessage: StoredMessage, inflightTtlMs: number): Promise<AcceptResult> {
    const { sessionId, messageId } = ref;
    const k = this.keys;
    const [code, holder] = await this.redis.replyAccept(
      k.sessionMeta(sessionId),
      k.sessionHistory(sessionId),
      k.sessionInflight(sessionId),
      k.replyMeta(sessionId, messageId),
      messageId,
      JSON.stringify(userMessage),
      inflightTtlMs,
      this.options.sessionTtlSeconds,
      this.options.historyMaxMessages,
      this.options.historyMaxBytes,
      this.options.runningTtlSeconds,
      titleFromMessage(userMessage.content),
    );
    if (code === 1) return { accepted: true, userMessageId: userMessage.id };
    if (code === 0) return { accepted: false, reason: 'busy', holder: holder ?? '' };
    return { accepted: false, reason: 'gone' };
  }

  /**
   * Accepts a regenerate: with the session's in-flight slot free, drops the last history entry if
   * it is an assistant reply, takes the slot for the new reply and registers it as queued, all or
   * nothing. Resolves with the user message the new reply answers: the last one in the history.
   */
  async regenerate(ref: ReplyRef, inflightTtlMs: number): Promise<AcceptResult> {
    const { sessionId, messageId } = ref;
    const k = this.keys;
    const [code, extra] = await this.redis.replyRegenerate(
      k.sessionMeta(sessionId),
      k.sessionHistory(sessionId),
      k.sessionInflight(sessionId),
      k.replyMeta(sessionId, messageId),
      messageId,
      inflightTtlMs,
      this.options.sessionTtlSeconds,
      this.options.runningTtlSeconds,
    );
    if (code === 1) return { accepted: true, userMessageId: extra ?? '' };
    if (code === 0) return { accepted: false, reason: 'busy', holder: extra ?? '' };
    return code === -2 ? { accepted: false, reason: 'nothing' } : { accepted: false, reason: 'gone' };
  }

  async info(ref: ReplyRef): Promise<ReplyInfo | undefined> {
    return replyInfoOf(await this.redis.hmget(this.keys.replyMeta(ref.sessionId, ref.messageId), 'status', 'attempt', 'cancel'));
  }

  /** Marks the reply for cancelling; a worker that opens an attempt later sees the mark. */
  async requestCancel(ref: ReplyRef): Promise<void> {
    await this.redis.hset(this.keys.replyMeta(ref.sessionId, ref.messageId), 'cancel', '1');
  }

  /**
   * Opens the next attempt, or says the reply must not run. `onStop` is called once if a later
   * write is refused or fails; the attempt then writes nothing more.
   */
  async begin(ref: ReplyRef, onStop: (stop: AttemptStopped) => void = () => undefined): Promise<ReplyAttempt | ReplyGone> {
    const { sessionId, messageId } = ref;
    const [code, extra] = await this.redis.replyBegin(
      this.keys.replyMeta(sessionId, messageId),
      this.keys.replyFrames(sessionId, messageId),
      this.keys.sessionChannel(sessionId),
      messageId,
      this.options.runningTtlSeconds,
      this.options.maxFrames,
      this.publish,
    );
    if (code === -1) return { kind: 'gone', status: 'unknown' };
    if (code === -2) return { kind: 'gone', status: extra as ReplyStatus };
    return new ReplyAttempt(this.redis, this.frames, this.keys, this.publish, this.options, ref, code, extra === 1, onStop, () => this.clearDeadline(ref));
  }

  /**
   * Ends a reply from outside its worker, unless it has ended already: `error` or, for a cancel,
   * `done` with `finishReason: "cancelled"`. Frees the session's slot in any case.
   */
  async end(ref: ReplyRef, ending: ReplyEnding, extra: { history?: StoredMessage; publish?: boolean } = {}): Promise<'ended' | 'already' | 'unknown'> {
    const { messageId } = ref;
    const frame: ReplyFrame =
      ending.kind === 'error'
        ? { type: 'error', code: ending.code, message: ending.message, messageId }
        : { type: 'done', messageId, seq: 0, cached: false, usage: { promptTokens: 0, completionTokens: 0 }, finishReason: 'cancelled' };
    const result = await this.redis.replyEnd(
      ...endingKeys(this.keys, ref),
      JSON.stringify(frame),
      ending.kind === 'error' ? 'error' : 'cancelled',
      this.options.retentionSeconds,
      messageId,
      extra.history === undefined ? '' : JSON.stringify(extra.history),
      this.options.sessionTtlSeconds,
      this.options.historyMaxMessages,
      this.options.historyMaxBytes,
      extra.publish === false ? '0' : '1',
      formatPosition(FENCE_POSITION),
      this.publish,
    );
    await this.clearDeadline(ref);
    return result === 1 ? 'ended' : result === 0 ? 'already' : 'unknown';
  }

  /** Records when the reply must have ended; any gateway ends it then (see dueDeadlines). */
  async setDeadline(ref: ReplyRef, at: number): Promise<void> {
    await this.redis.zadd(this.keys.replyDeadlines, at, `${ref.sessionId} ${ref.messageId}`);
  }

  async clearDeadline(ref: ReplyRef): Promise<void> {
    await this.redis.zrem(this.keys.replyDeadlines, `${ref.sessionId} ${ref.messageId}`);
  }

  /** Replies whose deadline has passed, oldest first. */
  async dueDeadlines(now: number, limit: number): Promise<ReplyRef[]> {
    const members = await this.redis.zrangebyscore(this.keys.replyDeadlines, '-inf', now, 'LIMIT', 0, limit);
    return members.flatMap((m) => {
      const [sessionId, messageId] = m.split(' ');
      return sessionId === undefined || messageId === undefined ? [] : [{ sessionId, messageId }];
    });
  }
}

/**
 * One attempt at one reply, as its worker writes it. Frames reach the session's subscribers at
 * most once each and in order (pub/sub), and the stream holds them all for resume. A frame is
 * written only if it is the next one of the attempt that owns the reply: after a refused or
 * failed write the attempt stops (`onStop`), so the reply never ends in `done` after a gap.
 */
export class ReplyAttempt {
  /** Tokens written: the `seq` of the last token frame. */
  private seqNo = 0;
  /**
   * Frames written: the stream position of the last one. Equal to `seqNo` until the attempt
   * writes an event frame (a tool call, a tool result, sources), which takes a position but no seq.
   */
  private positionNo = 0;
  private stop: AttemptStopped | undefined;
  private last: Promise<unknown> = Promise.resolve();
  private readonly metaKey: string;
  private readonly streamKey: string;
  private readonly channel: string;
  private readonly attemptArg: string;

  constructor(
    private readonly redis: RedisClient & ChatScripts,
    private readonly frames: FrameWriter,
    private readonly keys: RedisKeys,
    private readonly publish: 'PUBLISH' | 'SPUBLISH',
    private readonly options: ReplyStateOptions,
    readonly ref: ReplyRef,
    readonly attempt: number,
    /** A cancel was asked for before this attempt opened. */
    readonly cancelRequested: boolean,
    private readonly onStop: (stop: AttemptStopped) => void,
    private readonly cleared: () => Promise<void>,
  ) {
    this.metaKey = keys.replyMeta(ref.sessionId, ref.messageId);
    this.streamKey = keys.replyFrames(ref.sessionId, ref.messageId);
    this.channel = keys.sessionChannel(ref.sessionId);
    this.attemptArg = String(attempt);
  }

  /** The last token's seq (0 before the first token). */
  get seq(): number {
    return this.seqNo;
  }

  /** Frames written so far, events included: 0 means the client has seen nothing of this attempt. */
  get written(): number {
    return this.positionNo;
  }

  /** Why the attempt stopped early, if it did. */
  get stopped(): AttemptStopped | undefined {
    return this.stop;
  }

  /** Writes the next token frame; does not wait (frames go out in order on one connection). */
  token(text: string): void {
    if (this.stop !== undefined) return;
    const seq = ++this.seqNo;
    this.write(JSON.stringify({ type: 'token', messageId: this.ref.messageId, seq, text }));
  }

  /**
   * Writes an event frame (`tool_call`, `tool_result`, `sources`) in order with the tokens: it
   * takes the next stream position, so a resumed reply sends it again in its place, but no seq.
   */
  event(frame: ToolCallFrame | ToolResultFrame | SourcesFrame): void {
    if (this.stop !== undefined) return;
    this.write(JSON.stringify(frame));
  }

  private write(json: string): void {
    const position = ++this.positionNo;
    const written = this.frames.write(this.metaKey, this.streamKey, this.channel, this.attemptArg, position, json);
    this.last = written.then(
      (code) => {
        if (code === 0) this.halt(new AttemptStopped('fenced'));
        else if (code === -1) this.halt(new AttemptStopped('broken'));
      },
      (err: unknown) => this.halt(new AttemptStopped('broken', { cause: err })),
    );
  }

  /**
   * Ends the attempt with `done` (finishReason `cancelled` keeps the partial text with that
   * status), stores `history` (the assistant message) and adds `usage` to the ledger with it;
   * resolves once written. Throws AttemptStopped when the attempt was fenced out or a frame was
   * lost: nothing was written then.
   */
  async done(
    usage: Usage,
    finishReason: FinishReason,
    source: { cached: boolean; coalesced?: boolean },
    history: StoredMessage | undefined,
    ledger?: UsageEntry,
  ): Promise<void> {
    const frame: ReplyFrame = {
      type: 'done',
      messageId: this.ref.messageId,
      seq: this.seqNo,
      cached: source.cached,
      usage,
      finishReason,
      ...(source.coalesced === true ? { coalesced: true } : {}),
    };
    await this.finish(frame, finishReason === 'cancelled' ? 'cancelled' : 'done', history, ledger);
  }

  async error(code: ErrorCode, message: string, retryAfterMs?: number): Promise<void> {
    const frame: ReplyFrame = { type: 'error', messageId: this.ref.messageId, code, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    await this.finish(frame, 'error', undefined, undefined);
  }

  /** Resolves when every frame so far is written; rejects with AttemptStopped if one was not. */
  async settled(): Promise<void> {
    await this.last;
    if (this.stop !== undefined) throw this.stop;
  }

  private async finish(frame: ReplyFrame, status: 'done' | 'cancelled' | 'error', history: StoredMessage | undefined, usage: UsageEntry | undefined): Promise<void> {
    await this.settled();
    // The reply's own record of its usage, kept with it; the ledger adds it up from there.
    const record = usage === undefined ? '' : [usage.userId, usage.model, usage.promptTokens, usage.completionTokens, usage.cachedTokens, usage.costNanos].join(' ');
    let code: number;
    try {
      code = await this.redis.replyFinish(
        ...endingKeys(this.keys, this.ref),
        this.attemptArg,
        this.positionNo + 1,
        JSON.stringify(frame),
        status,
        history === undefined ? '' : JSON.stringify(history),
        this.options.retentionSeconds,
        this.options.sessionTtlSeconds,
        this.options.historyMaxMessages,
        this.options.historyMaxBytes,
        this.ref.messageId,
        this.options.maxFrames,
        record,
        this.publish,
      );
    } catch (err) {
      throw this.halt(new AttemptStopped('broken', { cause: err }));
    }
    if (code === 0) throw this.halt(new AttemptStopped('fenced'));
    if (code === -1) throw this.halt(new AttemptStopped('broken'));
    await this.cleared().catch(() => undefined);
  }

  private halt(stop: AttemptStopped): AttemptStopped {
    if (this.stop !== undefined) return this.stop;
    this.stop = stop;
    this.onStop(stop);
    return stop;
  }
}
