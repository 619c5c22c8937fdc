// The usage ledger and the budgets that read it. Just before a reply's `done`, its usage is
// added to its user's UTC day and month and to the fleet's (lua/ledger-user.lua,
// lua/ledger-fleet.lua: each in its own cluster slot, each once per reply, however often the
// job ran); the script that finishes the reply keeps its own usage record in its meta. Before a model call a worker reserves the reply's
// worst case from the user's budgets (lua/budget-reserve.lua); the ledger replaces the
// reservation with what was used, and a reply that fails gives it back.
import type { PeriodUsage, UsageReport, UsageTotals } from '@chat-fleet/protocol';
import type { RedisClient } from '../redis-client.js';
import { ChatError } from '../errors.js';
import type { RedisKeys } from '../redis-keys.js';
import { withScripts, type ChatScripts } from '../lua-scripts.js';
import { nanosToUsd } from './prices.js';

/** What one finished reply adds to the ledger. */
export interface UsageEntry {
  userId: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costNanos: number;
}

/** A user's budgets; 0 means none. */
export interface Budget {
  dailyTokens: number;
  monthlyCostNanos: number;
}

export type Refusal = { reason: 'tokens' | 'cost'; retryAfterMs: number };

/** The ledger's user of a session: its userId, or `ip:<address>` (the client's) for a session without one. */
export function ledgerUserId(sessionUserId: string | undefined, clientAddress: string): string {
  return sessionUserId ?? `ip:${clientAddress}`;
}

/** `YYYYMMDD` of a UTC day. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10).replaceAll('-', '');
}

/** `YYYYMM` of a UTC month. */
export function monthOf(at: Date): string {
  return at.toISOString().slice(0, 7).replace('-', '');
}

export function msUntilNextDay(at: Date): number {
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1) - at.getTime();
}

export function msUntilNextMonth(at: Date): number {
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1) - at.getTime();
}

const DAY_TTL_SECONDS = 40 * 24 * 3600;
const MONTH_TTL_SECONDS = 400 * 24 * 3600;

function totalsOf(h: Record<string, string>, prefix = ''): UsageTotals {
  const n = (f: string): number => Number(h[prefix + f] ?? 0);
  return { promptTokens: n('p'), completionTokens: n('c'), cachedTokens: n('k'), replies: n('n'), costUsd: nanosToUsd(n('$')) };
}

function byModelOf(h: Record<string, string>): Record<string, UsageTotals> {
  const models = new Set<string>();
  for (const f of Object.keys(h)) {
    if (!f.startsWith('m:')) continue;
    const cut = f.lastIndexOf(':');
    if (cut > 2) models.add(f.slice(2, cut));
  }
  return Object.fromEntries([...models].map((m) => [m, totalsOf(h, `m:${m}:`)]));
}

export class UsageLedger {
  private readonly redis: RedisClient & ChatScripts;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withScripts(redis);
  }

  /**
   * Adds a finished reply's usage to its user's ledger and the fleet's, once each however often
   * it is called (a marker per reply in each), and drops the user's reservation for the reply.
   */
  async record(entry: UsageEntry, messageId: string, at = new Date()): Promise<void> {
    const k = this.keys;
    const day = dayOf(at);
    const month = monthOf(at);
    const numbers = [entry.model, entry.promptTokens, entry.completionTokens, entry.cachedTokens, entry.costNanos] as const;
    await Promise.all([
      this.redis.ledgerUser(
        k.userUsage(entry.userId, day),
        k.userUsage(entry.userId, month),
        k.userReservations(entry.userId),
        k.userUsageCounted(entry.userId, messageId),
        messageId,
        ...numbers,
        DAY_TTL_SECONDS,
        MONTH_TTL_SECONDS,
      ),
      this.redis.ledgerFleet(
        k.fleetUsage(day),
        k.fleetUsage(month),
        k.usageRanking(day),
        k.usageRanking(month),
        k.fleetUsageCounted(messageId),
        entry.userId,
        ...numbers,
        DAY_TTL_SECONDS,
        MONTH_TTL_SECONDS,
        2 * 24 * 3600,
      ),
    ]);
  }

  /** A user's usage today and this month. */
  async read(userId: string, at = new Date()): Promise<Omit<UsageReport, 'userId'>> {
    const [day, month] = await Promise.all([this.period(userId, dayOf(at)), this.period(userId, monthOf(at))]);
    return { day: strip(day), month: strip(month) };
  }

  /** A user's usage in one period (`YYYYMMDD` or `YYYYMM`), by model too. */
  async period(userId: string, period: string): Promise<PeriodUsage> {
    const h = await this.redis.hgetall(this.keys.userUsage(userId, period));
    return { ...totalsOf(h), byModel: byModelOf(h) };
  }

  async fleet(period: string): Promise<PeriodUsage> {
    const h = await this.redis.hgetall(this.keys.fleetUsage(period));
    return { ...totalsOf(h), byModel: byModelOf(h) };
  }

  /** The heaviest users (by tokens) over the given periods, heaviest first. */
  async top(periods: readonly string[], n: number): Promise<Array<{ userId: string; tokens: number }>> {
    if (periods.length === 0 || n <= 0) return [];
    const keys = periods.map((p) => this.keys.usageRanking(p));
    const flat = await this.redis.zunion(keys.length, ...keys, 'WITHSCORES');
    const rows: Array<{ userId: string; tokens: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) rows.push({ userId: flat[i]!, tokens: Number(flat[i + 1]) });
    return rows.sort((a, b) => b.tokens - a.tokens || a.userId.localeCompare(b.userId)).slice(0, n);
  }

  /**
   * Reserves a reply's worst case from the user's budgets when its prompt still fits next to
   * what is used and held; a refusal says which budget and how long until it resets.
   * `expiresAt` bounds a reservation nobody settles (a dead worker).
   */
  async reserve(
    userId: string,
    messageId: string,
    worst: { tokens: number; costNanos: number },
    prompt: { tokens: number; costNanos: number },
    budget: Budget,
    expiresAt: number,
    at = new Date(),
  ): Promise<Refusal | undefined> {
    if (budget.dailyTokens <= 0 && budget.monthlyCostNanos <= 0) return undefined;
    const [ok, reason] = await this.redis.budgetReserve(
      this.keys.userUsage(userId, dayOf(at)),
      this.keys.userUsage(userId, monthOf(at)),
      this.keys.userReservations(userId),
      messageId,
      Math.max(0, Math.round(worst.tokens)),
      Math.max(0, Math.round(worst.costNanos)),
      budget.dailyTokens,
      budget.monthlyCostNanos,
      at.getTime(),
      expiresAt,
      Math.max(0, Math.round(prompt.tokens)),
      Math.max(0, Math.round(prompt.costNanos)),
    );
    if (ok === 1) return undefined;
    return reason === 'cost' ? { reason: 'cost', retryAfterMs: msUntilNextMonth(at) } : { reason: 'tokens', retryAfterMs: msUntilNextDay(at) };
  }

  /**
   * Zeroes a user's usage today and this month, so both budgets start over: both periods go in
   * one DEL (one slot, atomic), the spent marks with them. Replies in flight keep their
   * reservations and add their usage to the new count. The fleet's totals keep what was spent;
   * the user leaves the rankings of both periods until they use something again.
   */
  async reset(userId: string, at = new Date()): Promise<void> {
    const day = dayOf(at);
    const month = monthOf(at);
    await this.redis.del(this.keys.userUsage(userId, day), this.keys.userUsage(userId, month));
    await Promise.all([this.redis.zrem(this.keys.usageRanking(day), userId), this.redis.zrem(this.keys.usageRanking(month), userId)]);
  }

  /** Gives a reservation back (the reply failed or was dropped). */
  async release(userId: string, messageId: string): Promise<void> {
    await this.redis.hdel(this.keys.userReservations(userId), messageId);
  }

  /** Whether the user has already spent a budget (reservations aside): checked before queueing. */
  async spent(userId: string, budget: Budget, at = new Date()): Promise<Refusal | undefined> {
    if (budget.dailyTokens <= 0 && budget.monthlyCostNanos <= 0) return undefined;
    const [day, month] = await Promise.all([
      this.redis.hmget(this.keys.userUsage(userId, dayOf(at)), 'p', 'c', 'x'),
      this.redis.hmget(this.keys.userUsage(userId, monthOf(at)), '$', 'x'),
    ]);
    // `x`: a reply's prompt no longer fit next to what was used (set by budget-reserve.lua).
    const tokens = Number(day[0] ?? 0) + Number(day[1] ?? 0);
    if (budget.dailyTokens > 0 && (tokens >= budget.dailyTokens || day[2] === '1')) return { reason: 'tokens', retryAfterMs: msUntilNextDay(at) };
    if (budget.monthlyCostNanos > 0 && (Number(month[0] ?? 0) >= budget.monthlyCostNanos || month[1] === '1')) return { reason: 'cost', retryAfterMs: msUntilNextMonth(at) };
    return undefined;
  }
}

function strip(p: PeriodUsage): UsageTotals {
  const { byModel: _byModel, ...totals } = p;
  return totals;
}

/** The error a client sees for a spent budget. */
export function quotaExceeded(refusal: Refusal, budget: Budget): ChatError {
  const what =
    refusal.reason === 'tokens'
      ? `the daily token budget of ${budget.dailyTokens} is spent; it resets at 00:00 UTC`
      : `the monthly cost budget of $${nanosToUsd(budget.monthlyCostNanos)} is spent; it resets on the 1st (UTC)`;
  return new ChatError('quota_exceeded', what, { retryAfterMs: refusal.retryAfterMs });
}
