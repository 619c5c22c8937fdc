import { describe, expect, it } from '@jest/globals';
import { BudgetPolicy, ConfigError, Prices, dayOf, loadGatewayConfig, loadWorkerConfig, monthOf, msUntilNextDay, msUntilNextMonth } from '../src/index.js';

describe('usage and budget settings', () => {
  it('default to no budget and the built-in price table', () => {
    const w = loadWorkerConfig({});
    expect(w.USER_DAILY_TOKENS).toBe(0);
    expect(w.USER_MONTHLY_COST_USD).toBe(0);
    expect(w.PLAN_BUDGETS).toEqual({});
    expect(w.MODEL_PRICES).toEqual({});
    expect(new BudgetPolicy({ dailyTokens: 0, monthlyCostUsd: 0 }, {}).unlimited).toBe(true);
  });

  it('read plan budgets and prices as JSON', () => {
    const g = loadGatewayConfig({
      USER_DAILY_TOKENS: '1000',
      USER_MONTHLY_COST_USD: '2.5',
      PLAN_BUDGETS: '{"pro": {"dailyTokens": 50000}, "team": {"monthlyCostUsd": 100}}',
    });
    const policy = new BudgetPolicy({ dailyTokens: g.USER_DAILY_TOKENS, monthlyCostUsd: g.USER_MONTHLY_COST_USD }, g.PLAN_BUDGETS);
    expect(policy.budgetFor(undefined)).toEqual({ dailyTokens: 1000, monthlyCostNanos: 2_500_000_000 });
    expect(policy.budgetFor('pro')).toEqual({ dailyTokens: 50000, monthlyCostNanos: 2_500_000_000 });
    expect(policy.budgetFor('team')).toEqual({ dailyTokens: 1000, monthlyCostNanos: 100_000_000_000 });
    expect(policy.budgetFor('unknown-plan')).toEqual(policy.budgetFor(undefined));
    const w = loadWorkerConfig({ MODEL_PRICES: '{"my-model": {"input": 1, "output": 2}}' });
    expect(Prices.of(w.MODEL_PRICES, false).costNanos('my-model', 1000, 1000)).toBe(3_000_000);
  });

  it.each([
    [{ PLAN_BUDGETS: '{nope' }, /^invalid environment variable PLAN_BUDGETS: expected JSON/],
    [{ PLAN_BUDGETS: '{"pro": {"dailyTokens": -1}}' }, /PLAN_BUDGETS: pro\.dailyTokens/],
    [{ PLAN_BUDGETS: '{"pro": {"tokens": 5}}' }, /PLAN_BUDGETS/],
    [{ MODEL_PRICES: '{"m": {"input": "cheap"}}' }, /MODEL_PRICES: m\.input/],
    [{ USER_MONTHLY_COST_USD: '-1' }, /USER_MONTHLY_COST_USD/],
    [{ HISTORY_MAX_BYTES: '10' }, /HISTORY_MAX_BYTES/],
  ])('names the bad variable: %p', (env, message) => {
    expect(() => loadWorkerConfig(env)).toThrow(ConfigError);
    expect(() => loadWorkerConfig(env)).toThrow(message);
  });

  it('prices the models it knows, and the simulator costs nothing', () => {
    expect(Prices.of({}, false).costNanos('gpt-4o-mini', 1_000_000, 0)).toBe(150_000_000);
    expect(Prices.of({}, false).costNanos('gpt-4o-mini', 0, 1_000_000)).toBe(600_000_000);
    expect(Prices.of({}, true).costNanos('gpt-4o-mini', 1_000_000, 1_000_000)).toBe(0);
    expect(Prices.of({}, false).costNanos('some-local-model', 1000, 1000)).toBe(0);
  });

  it('counts days and months in UTC', () => {
    const at = new Date('2026-12-31T23:59:30Z');
    expect(dayOf(at)).toBe('20261231');
    expect(monthOf(at)).toBe('202612');
    expect(msUntilNextDay(at)).toBe(30_000);
    expect(msUntilNextMonth(at)).toBe(30_000);
    expect(msUntilNextMonth(new Date('2026-02-01T00:00:00Z'))).toBe(28 * 86_400_000);
  });
});
