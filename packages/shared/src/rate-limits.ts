// Per-user limits shared by every gateway and worker: counters live in Redis and are updated
// atomically (rate-limiter-flexible's Lua), never in one process's memory.
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ChatError } from './errors.js';
import type { RedisKeys } from './redis-keys.js';

export interface UserLimitOptions {
  messagesPerMinute: number;
  tokensPerMinute: number;
}

export class UserRateLimits {
  private readonly messages: RateLimiterRedis | undefined;
  private readonly tokens: RateLimiterRedis | undefined;

  constructor(redis: Redis, keys: RedisKeys, private readonly options: UserLimitOptions) {
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
    if (this.tokens !== undefined) {
      const used = await this.tokens.get(subject);
      if (used !== null && used.consumedPoints >= this.options.tokensPerMinute) {
        throw limited(`token limit of ${this.options.tokensPerMinute} per minute reached`, used.msBeforeNext);
      }
    }
    if (this.messages === undefined) return;
    try {
      await this.messages.consume(subject, 1);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw limited(`message limit of ${this.options.messagesPerMinute} per minute reached`, err.msBeforeNext);
      throw err;
    }
  }

  /** Records model tokens spent for `subject` (after a reply); never refuses. */
  async chargeTokens(subject: string, tokens: number): Promise<void> {
    if (this.tokens === undefined || tokens <= 0) return;
    await this.tokens.penalty(subject, tokens);
  }
}

function limited(what: string, msBeforeNext: number): ChatError {
  const retryAfterMs = Math.max(1, Math.ceil(msBeforeNext));
  return new ChatError('rate_limited', `${what}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
}
