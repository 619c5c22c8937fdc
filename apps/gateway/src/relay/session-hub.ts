// Relays reply frames from Redis pub/sub to the sinks (sockets, SSE and REST waiters) this
// gateway holds. One subscription per session with at least one local sink.
import type { Redis } from 'ioredis';
import { decodeEnvelope, type Logger, type RedisKeys, type ReplyFrame } from '@chat-fleet/shared';

/** Something that receives every reply frame of a session, in publish order. */
export interface ReplySink {
  /** `raw` is the frame's JSON exactly as published, so it can be forwarded without re-encoding. */
  deliver(frame: ReplyFrame, raw: string): void;
}

interface Entry {
  sessionId: string;
  sinks: Set<ReplySink>;
  subscribed: boolean;
  /** Serializes SUBSCRIBE/UNSUBSCRIBE for the channel so joins and leaves cannot interleave. */
  op: Promise<void>;
}

export type FrameObserver = (sessionId: string, frame: ReplyFrame) => void;

export class SessionHub {
  private readonly byChannel = new Map<string, Entry>();
  private readonly observers: FrameObserver[] = [];
  private sinkCount = 0;

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    private readonly log: Logger,
  ) {
    subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
  }

  /** Number of sessions with at least one local sink. */
  get sessions(): number {
    return this.byChannel.size;
  }

  get sinks(): number {
    return this.sinkCount;
  }

  /** Sees every frame that reaches this gateway, once, before the sinks. */
  observe(observer: FrameObserver): void {
    this.observers.push(observer);
  }

  /** Adds a sink; resolves once the session's channel is subscribed, so no later frame is missed. */
  async join(sessionId: string, sink: ReplySink): Promise<void> {
    const channel = this.keys.sessionChannel(sessionId);
    let entry = this.byChannel.get(channel);
    if (entry === undefined) {
      entry = { sessionId, sinks: new Set(), subscribed: false, op: Promise.resolve() };
      this.byChannel.set(channel, entry);
    }
    if (!entry.sinks.has(sink)) {
      entry.sinks.add(sink);
      this.sinkCount++;
    }
    const e = entry;
    e.op = e.op.then(async () => {
      if (e.subscribed || e.sinks.size === 0) return;
      await this.subscriber.subscribe(channel);
      e.subscribed = true;
    });
    try {
      await e.op;
    } catch (err) {
      e.op = Promise.resolve();
      this.leave(sessionId, sink);
      throw err;
    }
  }

  leave(sessionId: string, sink: ReplySink): void {
    const channel = this.keys.sessionChannel(sessionId);
    const e = this.byChannel.get(channel);
    if (e === undefined || !e.sinks.delete(sink)) return;
    this.sinkCount--;
    if (e.sinks.size > 0) return;
    e.op = e.op
      .then(async () => {
        if (e.sinks.size > 0 || !e.subscribed) return;
        e.subscribed = false;
        if (this.byChannel.get(channel) === e) this.byChannel.delete(channel);
        await this.subscriber.unsubscribe(channel);
      })
      .catch((err: unknown) => this.log.warn({ err, sessionId }, 'unsubscribe failed'));
  }

  /** Every sink of a session held here (e.g. to close them when the session is deleted). */
  sinksOf(sessionId: string): ReplySink[] {
    const e = this.byChannel.get(this.keys.sessionChannel(sessionId));
    return e === undefined ? [] : [...e.sinks];
  }

  private onMessage(channel: string, message: string): void {
    const e = this.byChannel.get(channel);
    if (e === undefined) return;
    const envelope = decodeEnvelope(message);
    if (envelope === undefined) {
      this.log.error({ channel }, 'dropping a message without a frame envelope from Redis');
      return;
    }
    const raw = envelope.json;
    let frame: ReplyFrame;
    try {
      // Published only by our workers; parsed once here for routing, forwarded as `raw`.
      frame = JSON.parse(raw) as ReplyFrame;
    } catch (err) {
      this.log.error({ err, channel }, 'dropping a malformed frame from Redis');
      return;
    }
    for (const observe of this.observers) observe(e.sessionId, frame);
    for (const sink of e.sinks) {
      try {
        sink.deliver(frame, raw);
      } catch (err) {
        this.log.error({ err, sessionId: e.sessionId }, 'a sink failed to take a frame');
      }
    }
  }
}
