// Per-user limits shared by every gateway and worker: counters live in Redis and are updated
// atomically (rate-limiter-flexible's Lua), never in one process's memory.
import type { RedisClient } from './redis-client.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { LimitError, type LimitName } from './limits/limit-error.js';
import type { RedisKeys } from './redis-keys.js';

export interface UserLimitOptions {
  messagesPerMinute: number;
  tokensPerMinute: number;
}

/** Tokens taken from a user's per-minute budget before a model call. */
export interface TokenReservation {
  subject: string;
  tokens: number;
}

export class UserRateLimits {
  private readonly messages: RateLimiterRedis | undefined;
  private readonly tokens: RateLimiterRedis | undefined;

  constructor(redis: RedisClient, keys: RedisKeys, private readonly options: UserLimitOptions) {
    this.messages =
      options.messagesPerMinute > 0
        ? new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.rateLimit('msg'), points: options.messagesPerMinute, duration: 60 })
        : undefined;
    this.tokens =
      options.tokensPerMinute > 0
        ? new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.rateLimit('tok'), points: options.tokensPerMinute, duration: 60 })
        : undefined;
  }

  /** Counts one message against `subject`; throws `rate_limited` past either limit. */
  async admitMessage(subject: string): Promise<void> {
    // Both limits in one round trip; a message refused for tokens gives its message point back.
    // The tokens used are read by consuming 0 points: one script call (the library's `get` is a
    // MULTI of GET and PTTL, four commands). It opens the user's window if none is open, which
    // the worker's reservation for this message would do a moment later anyway.
    const [used, counted] = await Promise.allSettled([
      this.tokens === undefined ? null : this.tokens.consume(subject, 0).catch(overLimit),
      this.messages === undefined ? undefined : this.messages.consume(subject, 1),
    ]);
    if (used.status === 'rejected') throw used.reason;
    if (used.value !== null && used.value.consumedPoints >= this.options.tokensPerMinute) {
      if (counted.status === 'fulfilled' && counted.value !== undefined) this.messages?.reward(subject, 1).catch(() => undefined);
      throw limited('tokens', `token limit of ${this.options.tokensPerMinute} per minute reached`, used.value.msBeforeNext);
    }
    if (counted.status === 'rejected') {
      const err: unknown = counted.reason;
      if (err instanceof RateLimiterRes) throw limited('messages', `message limit of ${this.options.messagesPerMinute} per minute reached`, err.msBeforeNext);
      throw err;
    }
  }

  /**
   * Reserves `tokens` (the prompt plus the most the reply may use) before a model call, so
   * parallel replies of one user cannot each pass the limit; throws `rate_limited` when they do
   * not fit. settleTokens() then charges what was really used.
   */
  async reserveTokens(subject: string, wanted: number): Promise<TokenReservation> {
    if (this.tokens === undefined || wanted <= 0) return { subject, tokens: 0 };
    // A reply that could use more than a whole minute's budget reserves the whole budget: it runs
    // alone in its window (and may overshoot by what it uses past it) rather than never.
    const tokens = Math.min(wanted, this.options.tokensPerMinute);
    try {
      await this.tokens.consume(subject, tokens);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      // A refused consume still counted its points: give them back.
      await this.tokens.reward(subject, tokens);
      throw limited('tokens', `token limit of ${this.options.tokensPerMinute} per minute reached (this reply may need ${tokens})`, err.msBeforeNext);
    }
    return { subject, tokens };
  }

  /** Charges what a reserved call used: the unused part of the reservation is given back. */
  async settleTokens(reservation: TokenReservation, used: number): Promise<void> {
    if (this.tokens === undefined || reservation.tokens === 0) return;
    const diff = reservation.tokens - Math.max(0, used);
    if (diff > 0) await this.tokens.reward(reservation.subject, diff);
    else if (diff < 0) await this.tokens.penalty(reservation.subject, -diff);
  }
}

/** A consume refused for being over the limit still says how much was used: its RateLimiterRes. */
function overLimit(err: unknown): RateLimiterRes {
  if (err instanceof RateLimiterRes) return err;
  throw err;
}

/**
 * One counter per subject per minute, counted in Redis for the whole fleet: sessions created per
 * client address, admin requests per address. `limit` names it in metrics; `what` in the refusal.
 */
export class PerMinuteLimit {
  private readonly limiter: RateLimiterRedis | undefined;

  constructor(
    redis: RedisClient,
    keys: RedisKeys,
    private readonly limit: LimitName,
    private readonly perMinute: number,
    /** e.g. "session limit of 30 per minute from this address". */
    private readonly what: string,
  ) {
    this.limiter = perMinute > 0 ? new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.rateLimit(limit === 'sessions' ? 'session' : limit), points: perMinute, duration: 60 }) : undefined;
  }

  /** Counts one against `subject`; throws `rate_limited` past the limit. */
  async admit(subject: string): Promise<void> {
    if (this.limiter === undefined) return;
    try {
      await this.limiter.consume(subject, 1);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw limited(this.limit, `${this.what} reached`, err.msBeforeNext);
      throw err;
    }
  }
}

function limited(limit: LimitName, what: string, msBeforeNext: number): LimitError {
  const retryAfterMs = Math.max(1, Math.ceil(msBeforeNext));
  return new LimitError(limit, `${what}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, retryAfterMs);
}
