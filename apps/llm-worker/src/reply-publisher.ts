// Writes a reply's frames to Redis: each frame is appended to the reply's stream (for resume)
// and published on the session's channel (for live delivery), in order, on one connection.
import type { Redis } from 'ioredis';
import { encodeEnvelope, untraced, type ErrorCode, type FinishReason, type RedisKeys, type ReplyFrame, type Usage } from '@chat-fleet/shared';

export interface ReplyPublisherOptions {
  /** Seconds a finished reply's frames stay readable for resume. */
  retentionSeconds: number;
  /** Cap on the frames kept per reply. */
  maxFrames: number;
}

export class ReplyPublisher {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: ReplyPublisherOptions,
  ) {}

  /**
   * Starts the next attempt at a reply. The attempt number comes from Redis, so a generation
   * taken over after a crash never reuses its predecessor's frame ids.
   */
  async begin(sessionId: string, messageId: string, onFenced: () => void = () => undefined): Promise<ReplyWriter> {
    const meta = this.keys.messageMeta(messageId);
    const [[err, attempt] = [null, 1]] =
      (await this.redis
        .multi()
        .hincrby(meta, 'attempt', 1)
        .hset(meta, { sessionId, status: 'streaming' })
        .expire(meta, this.options.retentionSeconds + 3600)
        .exec()) ?? [];
    if (err) throw err;
    return new ReplyWriter(this.redis, this.keys, this.options, sessionId, messageId, Number(attempt), onFenced);
  }
}

/**
 * One attempt at one reply. Frames are delivered to the session's subscribers at most once
 * each and in order (pub/sub); the stream holds them all for resume. Token `seq` starts at 1.
 */
export class ReplyWriter {
  private seqNo = 0;
  private failure: Error | undefined;
  private last: Promise<unknown> = Promise.resolve();
  private readonly streamKey: string;
  private readonly channel: string;
  private readonly metaKey: string;

  constructor(
    private readonly redis: Redis,
    keys: RedisKeys,
    private readonly options: ReplyPublisherOptions,
    readonly sessionId: string,
    readonly messageId: string,
    readonly attempt: number,
    /** Called once when the stream refuses a frame: a newer attempt (or an outside end) took over. */
    private readonly onFenced: () => void = () => undefined,
  ) {
    this.streamKey = keys.messageFrames(messageId);
    this.channel = keys.sessionChannel(sessionId);
    this.metaKey = keys.messageMeta(messageId);
  }

  get seq(): number {
    return this.seqNo;
  }

  token(text: string): void {
    this.seqNo++;
    // Two Redis commands per token frame would bury a trace's other spans.
    untraced(() => this.write(this.seqNo, { type: 'token', messageId: this.messageId, seq: this.seqNo, text }));
  }

  reset(): void {
    this.write(0, { type: 'reset', messageId: this.messageId, attempt: this.attempt });
  }

  /** The terminal frame of a reply; resolves once every frame is in Redis. */
  async done(usage: Usage, finishReason: FinishReason, source: { cached: boolean; coalesced?: boolean }): Promise<void> {
    this.finalize(finishReason === 'cancelled' ? 'cancelled' : 'done');
    this.write(this.seqNo + 1, {
      type: 'done',
      messageId: this.messageId,
      seq: this.seqNo,
      cached: source.cached,
      usage,
      finishReason,
      ...(source.coalesced === true ? { coalesced: true } : {}),
    });
    await this.settled();
  }

  async error(code: ErrorCode, message: string): Promise<void> {
    this.finalize('error');
    this.write(this.seqNo + 1, { type: 'error', messageId: this.messageId, code, message });
    await this.settled();
  }

  /** Resolves when every write so far has been acknowledged; rejects with the first failure. */
  async settled(): Promise<void> {
    await this.last;
    if (this.failure !== undefined) throw this.failure;
  }

  private finalize(status: string): void {
    this.track(
      this.redis
        .multi()
        .hset(this.metaKey, 'status', status)
        .expire(this.metaKey, this.options.retentionSeconds)
        .expire(this.streamKey, this.options.retentionSeconds)
        .exec(),
    );
  }

  private write(entrySeq: number, frame: ReplyFrame): void {
    const json = JSON.stringify(frame);
    // Entry id `attempt-seq`: resume reads "everything after (attempt, seq)" with one XRANGE.
    this.track(this.redis.xadd(this.streamKey, 'MAXLEN', '~', this.options.maxFrames, `${this.attempt}-${entrySeq}`, 'f', json));
    // A bound on the stream's life from its first entry, in case the worker dies before done.
    if (entrySeq <= 1) this.track(this.redis.expire(this.streamKey, this.options.retentionSeconds + 3600));
    this.track(this.redis.publish(this.channel, encodeEnvelope({ attempt: this.attempt, seq: entrySeq }, json)));
  }

  private track(p: Promise<unknown>): void {
    const guarded = p.catch((err: unknown) => {
      const first = this.failure === undefined;
      this.failure ??= err instanceof Error ? err : new Error(`redis write failed: ${JSON.stringify(err)}`);
      // XADD ids must grow: a refused id means this attempt is no longer the reply's writer.
      if (first && err instanceof Error && /equal or smaller/i.test(err.message)) this.onFenced();
    });
    this.last = guarded;
  }
}
