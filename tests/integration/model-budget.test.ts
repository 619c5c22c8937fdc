// The fleet's model budget is counted atomically in Redis: many workers admitting at once
// never get more than the window holds, and a refusal says how long to wait.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ModelBudget } from '@chat-fleet/llm-worker';
import { ChatError, redisKeys, type RedisClient } from '@chat-fleet/shared';
import { testRedis } from '../support/test-redis.js';

let redis: RedisClient;
const fresh = () => redisKeys(`t-budget-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`);

beforeAll(() => {
  redis = testRedis();
});

afterAll(() => {
  redis.disconnect();
});

describe('ModelBudget', () => {
  it('admits exactly LLM_MAX_RPM requests per window across concurrent callers on separate connections', async () => {
    const keys = fresh();
    const connections = Array.from({ length: 4 }, () => testRedis());
    try {
      // Four "workers", each with its own connection and budget object, 100 admissions at once.
      const budgets = connections.map((c) => new ModelBudget(c, keys, { requestsPerMinute: 30, tokensPerMinute: 0 }));
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => budgets[i % 4]!.admit(10)));
      expect(results.filter((r) => r.admitted)).toHaveLength(30);
      for (const r of results) {
        if (!r.admitted) {
          expect(r.reason).toBe('rpm');
          expect(r.retryAfterMs).toBeGreaterThan(0);
          expect(r.retryAfterMs).toBeLessThanOrEqual(60_000);
        }
      }
    } finally {
      for (const c of connections) c.disconnect();
    }
  });

  it('counts prompt tokens up front and completion tokens after, and refuses while the window is spent', async () => {
    const budget = new ModelBudget(redis, fresh(), { requestsPerMinute: 0, tokensPerMinute: 1000 });
    expect(await budget.admit(400)).toEqual({ admitted: true });
    expect(await budget.admit(400)).toEqual({ admitted: true });
    // 800 used: a 300-token prompt does not fit, and asking does not use anything up.
    const refused = await budget.admit(300);
    expect(refused).toMatchObject({ admitted: false, reason: 'tpm' });
    expect(await budget.admit(200)).toEqual({ admitted: true });
    // The replies' tokens overrun the window; everything waits now.
    await budget.chargeCompletion(500);
    expect(await budget.admit(1)).toMatchObject({ admitted: false, reason: 'tpm' });
  });

  it('refuses a request it could never admit with too_large instead of holding it forever', async () => {
    const budget = new ModelBudget(redis, fresh(), { requestsPerMinute: 0, tokensPerMinute: 1000 });
    await expect(budget.admit(1001)).rejects.toMatchObject({ code: 'too_large' });
    await expect(budget.admit(1001)).rejects.toBeInstanceOf(ChatError);
  });

  it('gives a refused request back to the request budget when the token budget refuses it', async () => {
    const budget = new ModelBudget(redis, fresh(), { requestsPerMinute: 2, tokensPerMinute: 100 });
    expect(await budget.admit(90)).toEqual({ admitted: true });
    expect(await budget.admit(50)).toMatchObject({ admitted: false, reason: 'tpm' });
    // The refused call did not spend the second request of the window.
    expect(await budget.admit(10)).toEqual({ admitted: true });
    expect(await budget.admit(0)).toMatchObject({ admitted: false, reason: 'rpm' });
  });

  it('scales the per-minute limits to a shorter window and opens again when it ends', async () => {
    const budget = new ModelBudget(redis, fresh(), { requestsPerMinute: 60, tokensPerMinute: 0, windowSeconds: 1 });
    expect(await budget.admit(0)).toEqual({ admitted: true });
    const refused = await budget.admit(0);
    expect(refused).toMatchObject({ admitted: false, reason: 'rpm' });
    if (refused.admitted) throw new Error('unreachable');
    expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);
    await new Promise((r) => setTimeout(r, refused.retryAfterMs + 50));
    expect(await budget.admit(0)).toEqual({ admitted: true });
  });
});
