// The fleet-wide model budget: requests and tokens per minute across every worker, counted
// atomically in Redis by rate-limiter-flexible. A job over budget is not failed: the caller puts
// it back in the queue (BullMQ's manual rate limit) until the window has room.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ChatError, type RedisClient, type RedisKeys } from '@chat-fleet/shared';

export interface ModelBudgetOptions {
  requestsPerMinute: number;
  tokensPerMinute: number;
  /** Seconds per counting window; the per-minute limits are scaled to it. Default 60. */
  windowSeconds?: number;
}

export type Admission = { admitted: true } | { admitted: false; retryAfterMs: number; reason: 'rpm' | 'tpm' };

const FLEET = 'fleet';

export class ModelBudget {
  private readonly requests: RateLimiterRedis | undefined;
  private readonly tokens: RateLimiterRedis | undefined;

  private readonly tokensPerWindow: number;

  constructor(redis: RedisClient, keys: RedisKeys, options: ModelBudgetOptions) {
    const window = options.windowSeconds ?? 60;
    const scale = (perMinute: number): number => Math.max(1, Math.floor((perMinute * window) / 60));
    this.tokensPerWindow = scale(options.tokensPerMinute);
    this.requests =
      options.requestsPerMinute > 0
        ? new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.rateLimit('llm-rpm'), points: scale(options.requestsPerMinute), duration: window })
        : undefined;
    this.tokens =
      options.tokensPerMinute > 0
        ? new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.rateLimit('llm-tpm'), points: this.tokensPerWindow, duration: window })
        : undefined;
  }

  /** Whether there is a budget at all (LLM_MAX_RPM or LLM_MAX_TPM set): without one, admit() always admits. */
  get enabled(): boolean {
    return this.requests !== undefined || this.tokens !== undefined;
  }

  /**
   * Takes one request and the prompt's tokens from the budget, or says how long to wait. The
   * reply's tokens are charged afterwards (`chargeCompletion`), so a window can overrun by at
   * most the replies in flight; the next requests then wait longer.
   */
  async admit(promptTokens: number): Promise<Admission> {
    if (this.tokens !== undefined && promptTokens > this.tokensPerWindow) {
      throw new ChatError('too_large', `the prompt needs ${promptTokens} tokens; the fleet's model budget is ${this.tokensPerWindow} per window (LLM_MAX_TPM)`);
    }
    if (this.requests !== undefined) {
      try {
        await this.requests.consume(FLEET, 1);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        // A refused consume still counted its points; give them back so waiting costs nothing.
        await this.requests.reward(FLEET, 1);
        return { admitted: false, retryAfterMs: wait(err), reason: 'rpm' };
      }
    }
    if (this.tokens !== undefined && promptTokens > 0) {
      try {
        await this.tokens.consume(FLEET, promptTokens);
      } catch (err) {
        await this.requests?.reward(FLEET, 1);
        if (!(err instanceof RateLimiterRes)) throw err;
        await this.tokens.reward(FLEET, promptTokens);
        return { admitted: false, retryAfterMs: wait(err), reason: 'tpm' };
      }
    }
    return { admitted: true };
  }

  /** Adds the reply's tokens to the window (never refuses). */
  async chargeCompletion(tokens: number): Promise<void> {
    if (this.tokens === undefined || tokens <= 0) return;
    await this.tokens.penalty(FLEET, tokens);
  }
}

function wait(res: RateLimiterRes): number {
  return Math.max(50, Math.ceil(res.msBeforeNext));
}
