// The usage ledger over REST: a caller's own usage (GET /v1/usage) and the fleet's for admins
// (GET /admin/usage, GET /admin/usage/users/:id). Transport-free: the REST adapter passes the
// request's Authorization header, address and query, and sends back what this returns.
import {
  ChatError,
  dayOf,
  monthOf,
  type BudgetPolicy,
  type FleetUsage,
  type PeriodUsage,
  type UsageLedger,
  type UsageReport,
  type UsageTotals,
  type UserUsage,
} from '@chat-fleet/shared';

/** Resolves the ledger user a credential speaks for (a session token, or a user token in jwt mode). */
export type CallerResolver = (authorization: string | undefined, remoteAddress: string) => Promise<string>;

export interface UsageQuery {
  from?: string;
  to?: string;
  top?: string;
}

const MAX_RANGE_DAYS = 366;

/** The UTC days from `from` to `to` (YYYY-MM-DD, inclusive) as ledger periods. */
export function daysBetween(from: string, to: string): string[] {
  const parse = (v: string, name: string): number => {
    const t = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
    if (Number.isNaN(t)) throw new ChatError('bad_request', `${name} must be a date like 2026-12-01, got "${v}"`);
    return t;
  };
  const start = parse(from, 'from');
  const end = parse(to, 'to');
  if (end < start) throw new ChatError('bad_request', '`to` is before `from`');
  const days = Math.round((end - start) / 86_400_000) + 1;
  if (days > MAX_RANGE_DAYS) throw new ChatError('bad_request', `the range spans ${days} days; at most ${MAX_RANGE_DAYS}`);
  return Array.from({ length: days }, (_, i) => dayOf(new Date(start + i * 86_400_000)));
}

function sum(parts: readonly UsageTotals[]): UsageTotals {
  const total = { promptTokens: 0, completionTokens: 0, cachedTokens: 0, replies: 0, costUsd: 0 };
  for (const p of parts) {
    total.promptTokens += p.promptTokens;
    total.completionTokens += p.completionTokens;
    total.cachedTokens += p.cachedTokens;
    total.replies += p.replies;
    total.costUsd += p.costUsd;
  }
  total.costUsd = Math.round(total.costUsd * 1e9) / 1e9;
  return total;
}

function totals(p: PeriodUsage): UsageTotals {
  const { byModel: _byModel, ...t } = p;
  return t;
}

export class UsageApi {
  constructor(
    private readonly ledger: UsageLedger,
    private readonly budgets: BudgetPolicy,
    private readonly caller: CallerResolver,
  ) {}

  /** GET /v1/usage: the caller's own usage today and this month. */
  async mine(authorization: string | undefined, remoteAddress: string): Promise<UsageReport> {
    const userId = await this.caller(authorization, remoteAddress);
    return { userId, ...(await this.ledger.read(userId)) };
  }

  /** GET /admin/usage: the heaviest users and the fleet's totals, today, this month and over a range. */
  async fleet(query: UsageQuery, now = new Date()): Promise<FleetUsage> {
    const top = query.top === undefined ? 10 : Number(query.top);
    if (!Number.isInteger(top) || top < 1 || top > 1000) throw new ChatError('bad_request', '`top` must be an integer from 1 to 1000');
    const range = this.range(query, now);
    const day = dayOf(now);
    const month = monthOf(now);
    const heaviest = await this.ledger.top(range ?? [month], top);
    const users = await Promise.all(
      heaviest.map(async ({ userId }) => {
        const [d, m, r] = await Promise.all([
          this.ledger.period(userId, day),
          this.ledger.period(userId, month),
          range === undefined ? undefined : Promise.all(range.map((p) => this.ledger.period(userId, p))),
        ]);
        return { userId, day: totals(d), month: totals(m), ...(r === undefined ? {} : { range: sum(r) }) };
      }),
    );
    const [fd, fm, fr] = await Promise.all([
      this.ledger.fleet(day),
      this.ledger.fleet(month),
      range === undefined ? undefined : Promise.all(range.map((p) => this.ledger.fleet(p))),
    ]);
    return {
      ...(range === undefined ? {} : { from: query.from, to: query.to }),
      users,
      fleet: { day: totals(fd), month: totals(fm), ...(fr === undefined ? {} : { range: sum(fr) }), byModel: { day: fd.byModel, month: fm.byModel } },
    };
  }

  /** GET /admin/usage/users/:id: one user's usage by model, and the default budget. */
  async user(userId: string, query: UsageQuery, now = new Date()): Promise<UserUsage> {
    const range = this.range(query, now);
    const [d, m, r] = await Promise.all([
      this.ledger.period(userId, dayOf(now)),
      this.ledger.period(userId, monthOf(now)),
      range === undefined ? undefined : Promise.all(range.map((p) => this.ledger.period(userId, p))),
    ]);
    const budget = this.budgets.budgetFor(undefined);
    return {
      userId,
      day: d,
      month: m,
      ...(r === undefined ? {} : { from: query.from, to: query.to, range: sum(r) }),
      budget: { dailyTokens: budget.dailyTokens, monthlyCostUsd: budget.monthlyCostNanos / 1e9 },
    };
  }

  private range(query: UsageQuery, now: Date): string[] | undefined {
    if (query.from === undefined && query.to === undefined) return undefined;
    const today = now.toISOString().slice(0, 10);
    return daysBetween(query.from ?? today, query.to ?? today);
  }
}
