import { z } from 'zod';

export const UsageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const FINISH_REASONS = ['stop', 'length', 'cancelled'] as const;
export const FinishReasonSchema = z.enum(FINISH_REASONS);
export type FinishReason = z.infer<typeof FinishReasonSchema>;

/** One period's usage in the ledger (a UTC day, a UTC month, or a range of days). */
export const UsageTotalsSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  /** Tokens served from the cache or from an identical reply generated at the same time. */
  cachedTokens: z.number().int().nonnegative(),
  /** Replies that ended in `done`. */
  replies: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type UsageTotals = z.infer<typeof UsageTotalsSchema>;

/** One period's usage, and the same by model. */
export const PeriodUsageSchema = UsageTotalsSchema.extend({
  byModel: z.record(z.string(), UsageTotalsSchema),
});
export type PeriodUsage = z.infer<typeof PeriodUsageSchema>;

/** `GET /v1/usage`: a user's usage today and this month (UTC). */
export const UsageReportSchema = z.object({
  userId: z.string(),
  day: UsageTotalsSchema,
  month: UsageTotalsSchema,
});
export type UsageReport = z.infer<typeof UsageReportSchema>;
