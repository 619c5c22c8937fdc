// Many listeners over one subscriber client: a channel is subscribed while it has at least one
// listener. Subscribe and unsubscribe of a channel are serialized so they cannot interleave.
// Session channels are sharded on a Redis Cluster (SSUBSCRIBE: one connection per shard, a
// message travels only on its shard) and classic elsewhere; broadcast channels (cancels) are
// always classic.
import { Cluster } from 'ioredis';
import type { PubSubMode, RedisClient } from '../redis-client.js';
import { withTimeout } from '../with-timeout.js';

export type ChannelListener = (message: string) => void;
export type PatternListener = (channel: string, message: string) => void;

interface Channel {
  listeners: Set<ChannelListener>;
  subscribed: boolean;
  op: Promise<void>;
  sharded: boolean;
}

export class ChannelSubscriber {
  private readonly channels = new Map<string, Channel>();

  private readonly patterns = new Map<string, PatternListener>();

  private readonly resubscribed = new Set<() => void>();

  constructor(
    private readonly subscriber: RedisClient,
    /** How session channels are subscribed: `sharded` on a Redis Cluster. */
    private readonly mode: PubSubMode = 'classic',
  ) {
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
          () => this.notifyResubscribed(),
          () => undefined,
        );
      });
    });
    // A cluster's sharded subscribers re-subscribe on their own connections (after a failover
    // or a slot moved): give them a moment, then re-read.
    const later = (): void => {
      setTimeout(() => this.notifyResubscribed(), 250).unref();
    };
    subscriber.on('subscribersReady', later);
    subscriber.on('+subscriber', later);
    const deliver = (channel: string, message: string): void => {
      const c = this.channels.get(channel);
      if (c === undefined) return;
      for (const listener of c.listeners) listener(message);
    };
    subscriber.on('message', deliver);
    subscriber.on('smessage', deliver);
    subscriber.on('pmessage', (pattern: string, channel: string, message: string) => {
      this.patterns.get(pattern)?.(channel, message);
    });
  }

  private notifyResubscribed(): void {
    for (const listener of this.resubscribed) listener();
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

  /**
   * Subscribes a session channel (sharded on a cluster); resolves once subscribed (no later
   * message is missed) with an unsubscribe.
   */
  subscribe(channel: string, listener: ChannelListener): Promise<() => void> {
    return this.listen(channel, listener, this.mode === 'sharded');
  }

  /** Subscribes a channel every process hears whatever the topology (classic pub/sub: cancels). */
  subscribeBroadcast(channel: string, listener: ChannelListener): Promise<() => void> {
    return this.listen(channel, listener, false);
  }

  private async listen(channel: string, listener: ChannelListener, sharded: boolean): Promise<() => void> {
    let c = this.channels.get(channel);
    if (c === undefined) {
      c = { listeners: new Set(), subscribed: false, op: Promise.resolve(), sharded };
      this.channels.set(channel, c);
    }
    const entry = c;
    entry.listeners.add(listener);
    entry.op = entry.op.then(async () => {
      if (entry.subscribed || entry.listeners.size === 0) return;
      await this.ready();
      if (entry.sharded) await this.shardedSubscribe(channel);
      else await this.subscriber.subscribe(channel);
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
   * SSUBSCRIBE goes to the shard the client believes serves the channel's slot. Right after a
   * slot moved, that belief can be stale and the subscribe never answers: after a second the slot
   * map is refreshed and it is tried again, a few times.
   */
  private async shardedSubscribe(channel: string): Promise<void> {
    const cluster = this.subscriber instanceof Cluster ? this.subscriber : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await withTimeout(this.subscriber.ssubscribe(channel), 1000 * attempt);
        return;
      } catch (err) {
        if (cluster === undefined || attempt >= 4) throw err;
        await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
      }
    }
  }

  /**
   * Subscribes a channel that has listeners again (unsubscribe, then subscribe): for a
   * subscription that stopped delivering without a reconnect, e.g. a cluster slot that moved to
   * another shard, so the sharded subscription lands on the shard that serves it now.
   */
  async resubscribe(channel: string): Promise<void> {
    const entry = this.channels.get(channel);
    if (entry === undefined) return;
    entry.op = entry.op.then(async () => {
      if (!entry.subscribed || entry.listeners.size === 0) return;
      if (entry.sharded) {
        await withTimeout(this.subscriber.sunsubscribe(channel), 1000).catch(() => undefined);
        if (this.subscriber instanceof Cluster) await new Promise<void>((resolve) => (this.subscriber as Cluster).refreshSlotsCache(() => resolve()));
        await this.shardedSubscribe(channel);
      } else {
        await this.subscriber.unsubscribe(channel).catch(() => undefined);
        await this.subscriber.subscribe(channel);
      }
    });
    await entry.op.catch(() => undefined);
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
        if (entry.sharded) await this.subscriber.sunsubscribe(channel);
        else await this.subscriber.unsubscribe(channel);
      })
      .catch(() => undefined);
  }
}
