// Which budget applies to a user: the defaults (USER_DAILY_TOKENS, USER_MONTHLY_COST_USD), or
// their plan's (PLAN_BUDGETS) where it sets one. The plan comes from the user's login (a claim
// of the user token) or the backend that created the session.
import { z } from 'zod';
import { usdToNanos } from './prices.js';
import type { Budget } from './usage-ledger.js';

export const PlanBudgetsSchema = z.record(
  z.string().min(1),
  z.object({ dailyTokens: z.number().int().nonnegative().optional(), monthlyCostUsd: z.number().nonnegative().optional() }).strict(),
);
export type PlanBudgets = z.infer<typeof PlanBudgetsSchema>;

export class BudgetPolicy {
  constructor(
    private readonly defaults: { dailyTokens: number; monthlyCostUsd: number },
    private readonly plans: PlanBudgets,
  ) {}

  budgetFor(plan: string | undefined): Budget {
    const p = plan === undefined ? undefined : this.plans[plan];
    return {
      dailyTokens: p?.dailyTokens ?? this.defaults.dailyTokens,
      monthlyCostNanos: usdToNanos(p?.monthlyCostUsd ?? this.defaults.monthlyCostUsd),
    };
  }

  /** True when no plan and no default sets a budget: nothing to check or reserve. */
  get unlimited(): boolean {
    return this.defaults.dailyTokens <= 0 && this.defaults.monthlyCostUsd <= 0 && Object.keys(this.plans).length === 0;
  }
}
