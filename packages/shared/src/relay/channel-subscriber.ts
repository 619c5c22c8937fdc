// Many listeners over one subscriber connection: a channel is subscribed while it has at least
// one listener. Subscribe and unsubscribe of a channel are serialized so they cannot interleave.
import type { Redis } from 'ioredis';

export type ChannelListener = (message: string) => void;
export type PatternListener = (channel: string, message: string) => void;

interface Channel {
  listeners: Set<ChannelListener>;
  subscribed: boolean;
  op: Promise<void>;
}

export class ChannelSubscriber {
  private readonly channels = new Map<string, Channel>();

  private readonly patterns = new Map<string, PatternListener>();

  private readonly resubscribed = new Set<() => void>();

  constructor(private readonly subscriber: Redis) {
    // After a reconnect ioredis re-subscribes every channel; messages published while the
    // connection was down are lost. Once the re-subscriptions are acknowledged (a PING queued
    // behind them answers), listeners re-read what they may have missed.
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (!connectedBefore) {
        connectedBefore = true;
        return;
      }
      setImmediate(() => {
        subscriber.ping().then(
          () => {
            for (const listener of this.resubscribed) listener();
          },
          () => undefined,
        );
      });
    });
    subscriber.on('message', (channel: string, message: string) => {
      const c = this.channels.get(channel);
      if (c === undefined) return;
      for (const listener of c.listeners) listener(message);
    });
    subscriber.on('pmessage', (pattern: string, channel: string, message: string) => {
      this.patterns.get(pattern)?.(channel, message);
    });
  }

  /**
   * One listener for every channel matching `pattern` (PSUBSCRIBE), for as long as the process
   * lives; resolves once subscribed. ioredis re-subscribes after a reconnect.
   */
  async psubscribe(pattern: string, listener: PatternListener): Promise<void> {
    if (this.patterns.has(pattern)) throw new Error(`pattern ${pattern} already has a listener`);
    this.patterns.set(pattern, listener);
    try {
      await this.ready();
      await this.subscriber.psubscribe(pattern);
    } catch (err) {
      this.patterns.delete(pattern);
      throw err;
    }
  }

  /** Resolves once the channel is subscribed (no later message is missed) with an unsubscribe. */
  async subscribe(channel: string, listener: ChannelListener): Promise<() => void> {
    let c = this.channels.get(channel);
    if (c === undefined) {
      c = { listeners: new Set(), subscribed: false, op: Promise.resolve() };
      this.channels.set(channel, c);
    }
    const entry = c;
    entry.listeners.add(listener);
    entry.op = entry.op.then(async () => {
      if (entry.subscribed || entry.listeners.size === 0) return;
      await this.ready();
      await this.subscriber.subscribe(channel);
      entry.subscribed = true;
    });
    try {
      await entry.op;
    } catch (err) {
      entry.op = Promise.resolve();
      this.remove(channel, entry, listener);
      throw err;
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.remove(channel, entry, listener);
    };
  }

  /**
   * A SUBSCRIBE sent before ioredis's ready check (INFO) puts the connection in subscriber mode
   * and fails that check, so the first one waits for `ready`. Later reconnects re-subscribe by
   * themselves.
   */
  private async ready(): Promise<void> {
    const s = this.subscriber;
    if (s.status === 'ready') return;
    if (s.status === 'wait') await s.connect().catch(() => undefined);
    if ((s.status as string) === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        s.off('end', onEnd);
        resolve();
      };
      const onEnd = (): void => {
        s.off('ready', onReady);
        reject(new Error('the Redis subscriber connection closed'));
      };
      s.once('ready', onReady);
      s.once('end', onEnd);
    });
  }

  /** Calls `listener` each time the connection came back and every channel is subscribed again. */
  onResubscribed(listener: () => void): () => void {
    this.resubscribed.add(listener);
    return () => this.resubscribed.delete(listener);
  }

  /** Channels with at least one listener. */
  get size(): number {
    return this.channels.size;
  }

  private remove(channel: string, entry: Channel, listener: ChannelListener): void {
    entry.listeners.delete(listener);
    if (entry.listeners.size > 0) return;
    entry.op = entry.op
      .then(async () => {
        if (entry.listeners.size > 0) return;
        if (this.channels.get(channel) === entry) this.channels.delete(channel);
        if (!entry.subscribed) return;
        entry.subscribed = false;
        await this.subscriber.unsubscribe(channel);
      })
      .catch(() => undefined);
  }
}
