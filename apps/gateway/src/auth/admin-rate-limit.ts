// Admin requests per client address per minute, counted in Redis for the whole fleet, whether
// the credential turns out good or bad.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { LimitError, type RedisKeys, type RedisClient } from '@chat-fleet/shared';

export class AdminRateLimit {
  private readonly limiter: RateLimiterRedis | undefined;

  constructor(redis: RedisClient, keys: RedisKeys, private readonly perMinute: number) {
    this.limiter = perMinute > 0 ? new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.rateLimit('admin'), points: perMinute, duration: 60 }) : undefined;
  }

  /** Counts one admin request from `address`; throws `rate_limited` past ADMIN_RATE_LIMIT_PER_MIN. */
  async admit(address: string): Promise<void> {
    if (this.limiter === undefined) return;
    try {
      await this.limiter.consume(address, 1);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const retryAfterMs = Math.max(1, Math.ceil(err.msBeforeNext));
      throw new LimitError('admin', `admin limit of ${this.perMinute} requests per minute from this address reached; retry in ${Math.ceil(retryAfterMs / 1000)} s`, retryAfterMs);
    }
  }
}
