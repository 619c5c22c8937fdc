// The admin routes' request and response bodies (issue 19): what the gateway answers and the
// console reads. docs/protocol.md#admin says what each route does.
import { z } from 'zod';
import { StoredMessageSchema } from './rest.js';
import { PeriodUsageSchema, UsageReportSchema, UsageTotalsSchema } from './usage.js';

/** `GET /admin/whoami`: the console's sign-in. */
export const AdminWhoAmISchema = z.object({
  /** `admin-key`, or `user:<sub>` for an admin's user token. */
  who: z.string(),
});

/**
 * A gateway or worker as its heartbeats describe it (`GET /admin/fleet`). The heartbeat record
 * each instance writes is this without the last three fields (shared's HeartbeatRecordSchema).
 */
export const FleetInstanceSchema = z.object({
  instance: z.string(),
  role: z.enum(['gateway', 'worker']),
  /** The app's package version. */
  version: z.string(),
  /** When the process started (ISO 8601). */
  startedAt: z.string(),
  /** Gateways: open sockets, and sessions with a socket here. */
  sockets: z.number().optional(),
  sessions: z.number().optional(),
  /** Replies a gateway accepted and has not seen end, or a worker is running. */
  inflight: z.number(),
  /** The event loop's delay, 99th percentile over the last interval (as nodejs_eventloop_lag_p99_seconds). */
  eventLoopDelayMs: z.number(),
  rssBytes: z.number(),
  heapUsedBytes: z.number(),
  /** A gateway that started draining (SIGTERM). */
  draining: z.boolean().optional(),
  uptimeSeconds: z.number().int().nonnegative(),
  /** Since its last heartbeat. */
  lastSeenMs: z.number().nonnegative(),
  /** Silent for more than three of its heartbeat intervals. */
  stale: z.boolean(),
});

/** Jobs by state over every chat queue, and the wait of the oldest one waiting. */
export const QueueStatsSchema = z.object({
  waiting: z.number().int().nonnegative(),
  active: z.number().int().nonnegative(),
  delayed: z.number().int().nonnegative(),
  prioritized: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  completed: z.number().int().nonnegative(),
  /** How long the oldest job waiting for a worker has waited; null when none waits. */
  oldestWaitingMs: z.number().nonnegative().nullable(),
});

/** `GET /admin/fleet`: every gateway and worker heard from within a minute (gateways first, then by name), and the queues. */
export const FleetSchema = z.object({
  instances: z.array(FleetInstanceSchema),
  queue: QueueStatsSchema,
  /** The answering gateway's HEARTBEAT_MS. */
  heartbeatMs: z.number().int().positive(),
});

export const FailedJobSchema = z.object({
  id: z.string(),
  messageId: z.string(),
  sessionId: z.string(),
  userId: z.string().optional(),
  failedReason: z.string(),
  attemptsMade: z.number().int().nonnegative(),
  /** ISO 8601. */
  finishedAt: z.string(),
});

/** `GET /admin/queue/failed?limit=20`: newest first, over every queue. */
export const FailedJobListSchema = z.object({
  jobs: z.array(FailedJobSchema),
});

/** One 10 s bucket of the charts. */
export const SeriesPointSchema = z.object({
  /** The bucket's start, ms since the epoch. */
  t: z.number().int(),
  /** Messages accepted. */
  messages: z.number().int().nonnegative(),
  /** Completion tokens of the replies that ended in `done`. */
  tokens: z.number().int().nonnegative(),
  /** Replies that ended in `done` (cancelled ones included). */
  replies: z.number().int().nonnegative(),
  /** Replies that ended in `error`, by code. */
  errors: z.record(z.string(), z.number().int().nonnegative()),
  cacheHits: z.number().int().nonnegative(),
  coalesced: z.number().int().nonnegative(),
  /** Extension: the replies of `replies` that were cancelled. */
  cancelled: z.number().int().nonnegative(),
  firstTokenP50Ms: z.number().nonnegative().nullable(),
  firstTokenP95Ms: z.number().nonnegative().nullable(),
});

/** `GET /admin/series?minutes=60`. */
export const SeriesSchema = z.object({
  stepSeconds: z.number().int().positive(),
  /** The first point's `t`. */
  from: z.number().int(),
  /** One per bucket, oldest first, the bucket in progress last, empty buckets zeros. */
  points: z.array(SeriesPointSchema),
});

/** `GET /admin/usage?top=N&from=&to=`: the heaviest users first, and the fleet's totals. */
export const FleetUsageSchema = z.object({
  /** With a range: the days it spans (YYYY-MM-DD). */
  from: z.string().optional(),
  to: z.string().optional(),
  users: z.array(
    z.object({
      userId: z.string(),
      day: UsageTotalsSchema,
      month: UsageTotalsSchema,
      /** Over `from`..`to`, when given. */
      range: UsageTotalsSchema.optional(),
    }),
  ),
  fleet: z.object({
    day: UsageTotalsSchema,
    month: UsageTotalsSchema,
    range: UsageTotalsSchema.optional(),
    byModel: z.object({ day: z.record(z.string(), UsageTotalsSchema), month: z.record(z.string(), UsageTotalsSchema) }),
  }),
});

/** `GET /admin/usage/users/:id`: one user's usage by model, and the default budget. */
export const UserUsageSchema = z.object({
  userId: z.string(),
  day: PeriodUsageSchema,
  month: PeriodUsageSchema,
  from: z.string().optional(),
  to: z.string().optional(),
  range: UsageTotalsSchema.optional(),
  budget: z.object({ dailyTokens: z.number().nonnegative(), monthlyCostUsd: z.number().nonnegative() }),
});

/** `GET /admin/users/:userId`: a user's usage, budget and block. */
export const UserAccountSchema = z.object({
  userId: z.string(),
  blocked: z.boolean(),
  blockedAt: z.string().optional(),
  /** Extensions: who blocked the user, and why if they said. */
  blockedBy: z.string().optional(),
  blockReason: z.string().optional(),
  day: UsageTotalsSchema,
  month: UsageTotalsSchema,
  budget: z.object({
    /** 0: none. */
    dailyTokens: z.number().nonnegative(),
    monthlyCostUsd: z.number().nonnegative(),
    /** Null without a daily budget. */
    dayTokensLeft: z.number().nonnegative().nullable(),
    monthCostLeftUsd: z.number().nonnegative().nullable(),
    /** Extension: the plan whose budget applies, that of the user's most recently active session. */
    plan: z.string().optional(),
  }),
});

/** `POST /admin/users/:userId/block`: the body is optional. */
export const BlockUserBodySchema = z.object({
  /** Why, for the audit trail and the console. */
  reason: z.string().max(500).optional(),
});

/** `POST /admin/users/:userId/block` (`blocked: true`) and `…/unblock` (`blocked: false`). */
export const UserBlockStatusSchema = z.object({
  userId: z.string(),
  blocked: z.boolean(),
});

/** `POST /admin/users/:userId/budget/reset`: today's and this month's usage, both now zero. */
export const BudgetResetResponseSchema = UsageReportSchema;

/** A session in the admin's list. */
export const AdminSessionSchema = z.object({
  sessionId: z.string(),
  /** The session's userId; `ip:<address>` (its creator's) for a session created without one, as the ledger names such users. */
  userId: z.string(),
  title: z.string().optional(),
  /** Extension. */
  plan: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** `GET /admin/sessions?userId=` (most recently active first) or `?sessionId=` (that one, or none). */
export const AdminSessionListSchema = z.object({
  sessions: z.array(AdminSessionSchema),
});

/** A session's reply in flight. */
export const InflightReplySchema = z.object({
  messageId: z.string(),
  status: z.enum(['queued', 'streaming']),
  /** The current attempt's text so far (a restart starts it over). */
  text: z.string(),
  /** Counts from 1. */
  attempt: z.number().int().positive(),
});

/** `GET /admin/sessions/:sessionId`: the session, its history as stored, and the reply in flight. */
export const AdminSessionDetailSchema = z.object({
  sessionId: z.string(),
  userId: z.string(),
  createdAt: z.string(),
  /** Extensions: `plan`, `clientAddress`, `metadata`. */
  plan: z.string().optional(),
  clientAddress: z.string().optional(),
  systemPrompt: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  messages: z.array(StoredMessageSchema),
  inflight: InflightReplySchema.nullable(),
});

/** `POST /admin/replies/:messageId/cancel`: where the reply was when cancelled. */
export const CancelReplyResponseSchema = z.object({
  messageId: z.string(),
  sessionId: z.string(),
  status: z.enum(['queued', 'running']),
});

export const ADMIN_ACTIONS = ['sign-in', 'block', 'unblock', 'budget-reset', 'cancel', 'delete-session'] as const;

/** One entry of the audit trail, as stored and as `GET /admin/audit` lists it. */
export const AuditEntrySchema = z.object({
  /** ISO 8601. */
  at: z.string(),
  /** `admin-key` or `user:<sub>`. */
  who: z.string(),
  action: z.enum(ADMIN_ACTIONS),
  /** The userId, sessionId or messageId acted on; '' for a sign-in. */
  target: z.string(),
  /** The admin's client address. */
  address: z.string(),
  /** A block's reason. */
  reason: z.string().optional(),
});

/** `GET /admin/audit?limit=100`: newest first. */
export const AuditListSchema = z.object({
  entries: z.array(AuditEntrySchema),
});

export type AdminWhoAmI = z.infer<typeof AdminWhoAmISchema>;
export type FleetInstance = z.infer<typeof FleetInstanceSchema>;
export type QueueStats = z.infer<typeof QueueStatsSchema>;
export type Fleet = z.infer<typeof FleetSchema>;
export type FailedJob = z.infer<typeof FailedJobSchema>;
export type FailedJobList = z.infer<typeof FailedJobListSchema>;
export type SeriesPoint = z.infer<typeof SeriesPointSchema>;
export type Series = z.infer<typeof SeriesSchema>;
export type FleetUsage = z.infer<typeof FleetUsageSchema>;
export type UserUsage = z.infer<typeof UserUsageSchema>;
export type UserAccount = z.infer<typeof UserAccountSchema>;
export type BlockUserBody = z.infer<typeof BlockUserBodySchema>;
export type UserBlockStatus = z.infer<typeof UserBlockStatusSchema>;
export type BudgetResetResponse = z.infer<typeof BudgetResetResponseSchema>;
export type AdminSession = z.infer<typeof AdminSessionSchema>;
export type AdminSessionList = z.infer<typeof AdminSessionListSchema>;
export type InflightReply = z.infer<typeof InflightReplySchema>;
export type AdminSessionDetail = z.infer<typeof AdminSessionDetailSchema>;
export type CancelReplyResponse = z.infer<typeof CancelReplyResponseSchema>;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type AuditList = z.infer<typeof AuditListSchema>;
