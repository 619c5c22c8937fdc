// Identical requests in flight at once share one model call, across every worker. The first
// takes a lock in Redis naming its reply; the others follow that reply's frames (stored stream
// plus live channel) and mirror them into their own replies.
import type {
  ChannelSubscriber, RedisClient } from '@chat-fleet/shared';
import {
  withScripts,
  type ChatScripts,
  type FramePosition,
  type RedisKeys,
  type ReplyFrame,
} from '@chat-fleet/shared';
import { followReply, type TerminalReplyFrame } from './follow-reply.js';

export interface LeaderRef {
  messageId: string;
  sessionId: string;
}

export type Claim = { role: 'leader'; release: () => Promise<void> } | { role: 'follower'; leader: LeaderRef };

export interface CoalescerOptions {
  /** Upper bound on one generation; the lock expires after it even if its holder died. */
  leaseMs: number;
  /** How often a follower that hears nothing checks that the leader still holds the lock. */
  idleCheckMs: number;
}

export class Coalescer {
  private readonly redis: RedisClient & ChatScripts;

  constructor(
    redis: RedisClient,
    private readonly subscriber: ChannelSubscriber,
    private readonly keys: RedisKeys,
    private readonly options: CoalescerOptions,
  ) {
    this.redis = withScripts(redis);
  }

  /**
   * Leader when nobody runs this request (or when the lock is already this reply's, after a crash).
   * With `readCache` the cached reply's raw entry comes back from the same script, read after the
   * lock is taken (a leader that finished before it was ours is found there); on a hit the lock
   * this call took is let go at once. One round trip, one command.
   */
  async claim(hash: string, self: LeaderRef, readCache = false): Promise<{ claim: Claim; cached: string | undefined }> {
    const key = this.keys.coalesceLock(hash);
    const value = `${self.messageId} ${self.sessionId}`;
    const [holder, cached] = await this.redis.cacheClaim(key, this.keys.replyCache(hash), value, this.options.leaseMs, readCache ? '1' : '0');
    const release = async (): Promise<void> => {
      await this.redis.releaseIfOwner(key, value);
    };
    const hit = cached ?? undefined;
    if (holder === null || holder === value) return { claim: { role: 'leader', release }, cached: hit };
    const [messageId, sessionId] = holder.split(' ');
    if (messageId === undefined || sessionId === undefined) return { claim: { role: 'leader', release }, cached: hit };
    return { claim: { role: 'follower', leader: { messageId, sessionId } }, cached: hit };
  }

  /**
   * Follows the leader's reply from its start; `onFrame` gets each of its frames once, in order.
   * Rejects (FollowStalledError) if the leader stops without a terminal frame and lets go of
   * the lock, and when `signal` aborts.
   */
  follow(
    hash: string,
    leader: LeaderRef,
    onFrame: (frame: ReplyFrame, position: FramePosition) => void,
    signal: AbortSignal,
  ): Promise<TerminalReplyFrame> {
    const key = this.keys.coalesceLock(hash);
    const value = `${leader.messageId} ${leader.sessionId}`;
    return followReply({
      redis: this.redis,
      subscribe: (channel, listener) => this.subscriber.subscribe(channel, listener),
      keys: this.keys,
      sessionId: leader.sessionId,
      messageId: leader.messageId,
      onFrame,
      signal,
      idleCheckMs: this.options.idleCheckMs,
      isAlive: async () => (await this.redis.get(key)) === value,
    });
  }
}
