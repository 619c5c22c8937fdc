// Relays reply frames from Redis pub/sub to the sinks (sockets, SSE and REST waiters) this
// gateway holds, over one subscriber connection. Two ways to subscribe (RELAY_SUBSCRIPTION):
// `session`, one SUBSCRIBE per session with at least one local sink, so a gateway receives
// only its sessions' frames; `gateway`, one PSUBSCRIBE to every session channel, so joining a
// session costs no Redis round trip but every gateway receives every frame and drops the ones
// of sessions it does not hold. The same channel carries session signals (`!ended deleted`),
// which reach every gateway holding the session.
import {
  decodeEnvelope,
  type ChannelSubscriber,
  type FramePosition,
  type Logger,
  type RedisKeys,
  type ReplyFrame,
} from '@chat-fleet/shared';
import { decodeSessionSignal, isSessionSignal, type SessionEndReason } from './session-signal.js';

/** Something that receives every reply frame of a session, in publish order. */
export interface ReplySink {
  /**
   * `raw` is the frame's JSON exactly as published, so it can be forwarded without re-encoding;
   * `position` is its place in the reply's stream (attempt, seq).
   */
  deliver(frame: ReplyFrame, raw: string, position: FramePosition): void;
  /** The subscriber reconnected: frames published meanwhile were lost; re-read them from the streams. */
  resync?(): void;
  /**
   * Re-reads replies silent for `idleMs` from their streams; true when that found frames pub/sub had
   * not delivered. Undefined, at no cost, when the sink has no such reply (most sinks, most seconds).
   */
  poll?(idleMs: number): Promise<boolean> | undefined;
  /**
   * The session was deleted or expired. Called once per ending this gateway learns of, after
   * every frame published before the deletion; the sink should end itself (and leave).
   */
  sessionEnded?(reason: SessionEndReason): void;
}

interface Entry {
  sessionId: string;
  sinks: Set<ReplySink>;
  /** The channel subscription; resolves once SUBSCRIBE is acknowledged. */
  subscription: Promise<() => void>;
}

export type FrameObserver = (sessionId: string, frame: ReplyFrame) => void;

export type RelaySubscription = 'session' | 'gateway';

const NO_UNSUBSCRIBE = (): void => undefined;

export class SessionHub {
  private readonly bySession = new Map<string, Entry>();
  private readonly observers: FrameObserver[] = [];
  private sinkCount = 0;
  /** In `gateway` mode: the one pattern subscription, made on first use. */
  private pattern: Promise<() => void> | undefined;

  constructor(
    private readonly channels: ChannelSubscriber,
    private readonly keys: RedisKeys,
    private readonly log: Logger,
    private readonly mode: RelaySubscription = 'session',
  ) {
    channels.onResubscribed(() => {
      if (this.bySession.size > 0) this.log.info({ sessions: this.bySession.size }, 'subscriber reconnected; re-reading the replies in flight');
      for (const e of this.bySession.values()) for (const sink of e.sinks) sink.resync?.();
    });
  }

  private pollTimer: NodeJS.Timeout | undefined;

  /**
   * Every `everyMs`, replies silent for `idleMs` are re-read from their streams; a session whose
   * re-read found frames the live path missed is subscribed again (its cluster slot may have
   * moved to another shard, which ends a sharded subscription without a reconnect).
   */
  startPolling(everyMs: number, idleMs: number): void {
    this.pollTimer ??= setInterval(() => {
      for (const e of this.bySession.values()) {
        // Most sessions have no reply in flight: their sinks answer undefined, and nothing is allocated.
        let polls: Array<Promise<boolean>> | undefined;
        for (const sink of e.sinks) {
          const p = sink.poll?.(idleMs);
          if (p !== undefined) (polls ??= []).push(p);
        }
        if (polls === undefined) continue;
        void Promise.all(polls).then(
          (found) => {
            if (!found.some(Boolean) || this.mode !== 'session' || this.bySession.get(e.sessionId) !== e) return;
            this.log.info({ sessionId: e.sessionId }, 'frames came only from the stream; subscribing the session again');
            void this.channels.resubscribe(this.keys.sessionChannel(e.sessionId));
          },
          (err: unknown) => this.log.debug({ err, sessionId: e.sessionId }, 'could not poll a session'),
        );
      }
    }, everyMs);
    this.pollTimer.unref();
  }

  stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Number of sessions with at least one local sink. */
  get sessions(): number {
    return this.bySession.size;
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
    let entry = this.bySession.get(sessionId);
    if (entry === undefined) {
      const created: Entry = { sessionId, sinks: new Set(), subscription: Promise.resolve(NO_UNSUBSCRIBE) };
      created.subscription =
        this.mode === 'gateway'
          ? this.subscribeAll()
          : this.channels.subscribe(this.keys.sessionChannel(sessionId), (message) => this.onMessage(created, message));
      created.subscription.catch(() => undefined);
      this.bySession.set(sessionId, created);
      entry = created;
    }
    if (!entry.sinks.has(sink)) {
      entry.sinks.add(sink);
      this.sinkCount++;
    }
    try {
      await entry.subscription;
    } catch (err) {
      this.leave(sessionId, sink);
      throw err;
    }
  }

  leave(sessionId: string, sink: ReplySink): void {
    const e = this.bySession.get(sessionId);
    if (e === undefined || !e.sinks.delete(sink)) return;
    this.sinkCount--;
    if (e.sinks.size > 0) return;
    this.bySession.delete(sessionId);
    e.subscription.then(
      (unsubscribe) => unsubscribe(),
      (err: unknown) => this.log.debug({ err, sessionId }, 'the subscription had failed'),
    );
  }

  /** Every sink of a session held here (e.g. to close them when the session is deleted). */
  sinksOf(sessionId: string): ReplySink[] {
    const e = this.bySession.get(sessionId);
    return e === undefined ? [] : [...e.sinks];
  }

  /** The sessions with at least one local sink. */
  sessionIds(): string[] {
    return [...this.bySession.keys()];
  }

  /** Tells every local sink of the session that it ended (signalled by another gateway, or found expired). */
  end(sessionId: string, reason: SessionEndReason): void {
    for (const sink of this.sinksOf(sessionId)) {
      try {
        sink.sessionEnded?.(reason);
      } catch (err) {
        this.log.error({ err, sessionId }, 'a sink failed to end');
      }
    }
  }

  private subscribeAll(): Promise<() => void> {
    this.pattern ??= this.channels
      .psubscribe(this.keys.sessionChannelPattern, (channel, message) => {
        const sessionId = this.keys.sessionOfChannel(channel);
        const entry = sessionId === undefined ? undefined : this.bySession.get(sessionId);
        if (entry !== undefined) this.onMessage(entry, message);
      })
      .then(
        () => NO_UNSUBSCRIBE,
        (err: unknown) => {
          this.pattern = undefined;
          throw err;
        },
      );
    return this.pattern;
  }

  private onMessage(e: Entry, message: string): void {
    if (isSessionSignal(message)) {
      const signal = decodeSessionSignal(message);
      if (signal === undefined) this.log.warn({ sessionId: e.sessionId, signal: message.slice(0, 64) }, 'ignoring an unknown session signal');
      else this.end(e.sessionId, signal.reason);
      return;
    }
    const envelope = decodeEnvelope(message);
    if (envelope === undefined) {
      this.log.error({ sessionId: e.sessionId }, 'dropping a message without a frame envelope from Redis');
      return;
    }
    const raw = envelope.json;
    let frame: ReplyFrame;
    try {
      // Published only by our workers; parsed once here for routing, forwarded as `raw`.
      frame = JSON.parse(raw) as ReplyFrame;
    } catch (err) {
      this.log.error({ err, sessionId: e.sessionId }, 'dropping a malformed frame from Redis');
      return;
    }
    for (const observe of this.observers) observe(e.sessionId, frame);
    for (const sink of e.sinks) {
      try {
        sink.deliver(frame, raw, envelope.position);
      } catch (err) {
        this.log.error({ err, sessionId: e.sessionId }, 'a sink failed to take a frame');
      }
    }
  }
}
