// The admin console's API (issue 19): the fleet and the queue, the charts, a user's usage,
// budget and block, a user's sessions and what a session holds, cancelling a reply and deleting
// a session, and the audit trail of all of it. Transport-free: the REST adapter admits the admin
// (AdminAuth), passes the parameters as it got them, and sends back what this returns.
import {
  ChatError,
  ReplyFrameSchema,
  START_POSITION,
  isFinished,
  ledgerUserId,
  nanosToUsd,
  readFleet,
  type AdminAction,
  type AdminSession,
  type AdminSessionDetail,
  type AdminSessionList,
  type AdminWhoAmI,
  type AuditEntry,
  type AuditList,
  type BudgetPolicy,
  type BudgetResetResponse,
  type CancelReplyResponse,
  type FailedJobList,
  type Fleet,
  type InflightReply,
  type Logger,
  type RedisClient,
  type RedisKeys,
  type ReplyState,
  type Series,
  type SessionFrameReader,
  type SessionStore,
  type SessionSummary,
  type UsageLedger,
  type UserAccount,
  type UserBlockStatus,
} from '@chat-fleet/shared';
import type { Counter } from 'prom-client';
import type { QueueInspector } from '../chat/reply-queue.js';
import type { SessionControl } from '../relay/session-control.js';
import type { AuditLog } from './audit-log.js';
import { SERIES_MAX_MINUTES, type ReplySeries } from './reply-series.js';
import type { UserBlocks } from './user-blocks.js';

/** Who acts, for the audit trail. */
export interface AdminActor {
  /** AdminIdentity.who. */
  who: string;
  /** The client address the request came from. */
  address: string;
}

export interface AdminApiParts {
  redis: RedisClient;
  keys: RedisKeys;
  /** This gateway's HEARTBEAT_MS, reported with the fleet. */
  heartbeatMs: number;
  queue: QueueInspector;
  series: Pick<ReplySeries, 'read'>;
  blocks: Pick<UserBlocks, 'read' | 'block' | 'unblock'>;
  ledger: UsageLedger;
  budgets: BudgetPolicy;
  sessions: SessionStore;
  replies: Pick<ReplyState, 'info'>;
  storedFrames: SessionFrameReader;
  /** A client's cancel, the same path the WebSocket `cancel` takes. */
  control: Pick<SessionControl, 'cancel'>;
  /** DELETE /chat/session/:id's deletion: every gateway closes the session's sockets (4100). */
  deleteSession(sessionId: string): Promise<void>;
  audit: AuditLog;
  /** chat_admin_actions_total, and chat_cancels_total as a client's cancel counts. */
  metrics: { adminActions: Counter<'action'>; cancels: Counter<'result'> };
  log: Logger;
}

/** An integer query parameter within bounds; `fallback` when absent. */
function intParam(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ChatError('bad_request', `${name} must be an integer from ${min} to ${max}`);
  return n;
}

export class AdminApi {
  constructor(private readonly p: AdminApiParts) {}

  /** GET /admin/whoami: the console's sign-in, audited. */
  async signIn(actor: AdminActor): Promise<AdminWhoAmI> {
    await this.audited(actor, 'sign-in', '');
    return { who: actor.who };
  }

  /** GET /admin/fleet: every gateway and worker heard from within a minute, and the queues. */
  async fleet(now = Date.now()): Promise<Fleet> {
    const [instances, queue] = await Promise.all([readFleet(this.p.redis, this.p.keys, now), this.p.queue.stats(now)]);
    return { instances, queue, heartbeatMs: this.p.heartbeatMs };
  }

  /** GET /admin/queue/failed?limit=20 */
  async failedJobs(limit: string | undefined): Promise<FailedJobList> {
    return { jobs: await this.p.queue.failed(intParam(limit, 'limit', 20, 1, 1000)) };
  }

  /** GET /admin/series?minutes=60 */
  async series(minutes: string | undefined): Promise<Series> {
    return this.p.series.read(intParam(minutes, 'minutes', 60, 1, SERIES_MAX_MINUTES));
  }

  /** GET /admin/users/:userId */
  async user(userId: string): Promise<UserAccount> {
    const [usage, block, latest] = await Promise.all([this.p.ledger.read(userId), this.p.blocks.read(userId), this.p.sessions.sessionsOf(userId, 1)]);
    const plan = latest[0]?.plan;
    const budget = this.p.budgets.budgetFor(plan);
    const monthlyCostUsd = nanosToUsd(budget.monthlyCostNanos);
    return {
      userId,
      blocked: block !== undefined,
      ...(block === undefined ? {} : { blockedAt: block.at, blockedBy: block.who, ...(block.reason === undefined ? {} : { blockReason: block.reason }) }),
      day: usage.day,
      month: usage.month,
      budget: {
        dailyTokens: budget.dailyTokens,
        monthlyCostUsd,
        dayTokensLeft: budget.dailyTokens > 0 ? Math.max(0, budget.dailyTokens - usage.day.promptTokens - usage.day.completionTokens) : null,
        monthCostLeftUsd: budget.monthlyCostNanos > 0 ? Math.max(0, Math.round((monthlyCostUsd - usage.month.costUsd) * 1e9) / 1e9) : null,
        ...(plan === undefined ? {} : { plan }),
      },
    };
  }

  /** POST /admin/users/:userId/block: new sessions and messages of the user get `forbidden`, on every gateway. */
  async block(userId: string, reason: string | undefined, actor: AdminActor): Promise<UserBlockStatus> {
    await this.p.blocks.block(userId, { at: new Date().toISOString(), who: actor.who, ...(reason === undefined ? {} : { reason }) });
    await this.audited(actor, 'block', userId, reason);
    return { userId, blocked: true };
  }

  /** POST /admin/users/:userId/unblock (a user who was not blocked stays so). */
  async unblock(userId: string, actor: AdminActor): Promise<UserBlockStatus> {
    await this.p.blocks.unblock(userId);
    await this.audited(actor, 'unblock', userId);
    return { userId, blocked: false };
  }

  /** POST /admin/users/:userId/budget/reset: today's and this month's usage start over from zero. */
  async resetBudget(userId: string, actor: AdminActor): Promise<BudgetResetResponse> {
    await this.p.ledger.reset(userId);
    await this.audited(actor, 'budget-reset', userId);
    return { userId, ...(await this.p.ledger.read(userId)) };
  }

  /** GET /admin/sessions?userId= (newest first) or ?sessionId= (that one, or none). */
  async sessions(query: { userId?: string; sessionId?: string; limit?: string }): Promise<AdminSessionList> {
    if (query.sessionId !== undefined) {
      const one = await this.p.sessions.summaryOf(query.sessionId);
      return { sessions: one === undefined ? [] : [listed(one)] };
    }
    if (query.userId === undefined) throw new ChatError('bad_request', 'give ?userId= or ?sessionId=');
    const found = await this.p.sessions.sessionsOf(query.userId, intParam(query.limit, 'limit', 100, 1, 1000));
    return { sessions: found.map(listed) };
  }

  /** GET /admin/sessions/:sessionId: the session, its history as stored, and the reply in flight with its text so far. */
  async session(sessionId: string): Promise<AdminSessionDetail> {
    const meta = await this.p.sessions.getMeta(sessionId);
    if (meta === undefined) throw new ChatError('not_found', `session ${sessionId} does not exist or has expired`);
    const [messages, inflight] = await Promise.all([this.p.sessions.history(sessionId), this.inflight(sessionId)]);
    return {
      sessionId,
      userId: ledgerUserId(meta.userId, meta.clientAddress ?? 'unknown'),
      createdAt: meta.createdAt,
      ...(meta.plan === undefined ? {} : { plan: meta.plan }),
      ...(meta.clientAddress === undefined ? {} : { clientAddress: meta.clientAddress }),
      ...(meta.systemPrompt === undefined ? {} : { systemPrompt: meta.systemPrompt }),
      ...(meta.metadata === undefined ? {} : { metadata: meta.metadata }),
      messages,
      inflight,
    };
  }

  /**
   * POST /admin/replies/:messageId/cancel: ends the reply as its user's `cancel` would (`done`
   * with `finishReason: "cancelled"` on every socket of the session). The session comes from the
   * reply's job; `not_found` when there is none or the reply has already ended.
   */
  async cancel(messageId: string, actor: AdminActor): Promise<CancelReplyResponse> {
    const sessionId = await this.p.queue.sessionOf(messageId);
    if (sessionId === undefined) throw new ChatError('not_found', `reply ${messageId} is unknown or has ended`);
    const status = await this.p.control.cancel(sessionId, messageId).catch((err: unknown) => {
      if (err instanceof ChatError && err.code === 'not_found') this.p.metrics.cancels.inc({ result: 'not_found' });
      throw err;
    });
    this.p.metrics.cancels.inc({ result: status });
    if (status === 'finished') throw new ChatError('not_found', `reply ${messageId} has already ended`);
    await this.audited(actor, 'cancel', messageId);
    return { messageId, sessionId, status };
  }

  /** DELETE /admin/sessions/:sessionId: as DELETE /chat/session/:id, its sockets on every gateway closed with 4100. */
  async deleteSession(sessionId: string, actor: AdminActor): Promise<void> {
    await this.p.deleteSession(sessionId);
    await this.audited(actor, 'delete-session', sessionId);
  }

  /** GET /admin/audit?limit=100, newest first. */
  async audit(limit: string | undefined): Promise<AuditList> {
    return { entries: await this.p.audit.newest(intParam(limit, 'limit', 100, 1, 10_000)) };
  }

  private async inflight(sessionId: string): Promise<InflightReply | null> {
    const messageId = await this.p.redis.get(this.p.keys.sessionInflight(sessionId));
    if (messageId === null) return null;
    const info = await this.p.replies.info({ sessionId, messageId });
    if (info === undefined || isFinished(info.status)) return null;
    let text = '';
    await this.p.storedFrames(sessionId)(messageId, START_POSITION, (_position, json) => {
      const frame = ReplyFrameSchema.safeParse(safeJson(json));
      if (frame.success && frame.data.type === 'token') text += frame.data.text;
      else if (frame.success && frame.data.type === 'reset') text = '';
      return true;
    });
    return { messageId, status: info.status === 'queued' ? 'queued' : 'streaming', text, attempt: info.attempt };
  }

  /**
   * Records an action that happened. The action stands whatever the trail says: a trail that
   * could not be written is logged, and the admin still gets the action's answer.
   */
  private async audited(actor: AdminActor, action: AdminAction, target: string, reason?: string): Promise<void> {
    this.p.metrics.adminActions.inc({ action });
    const entry: AuditEntry = { at: new Date().toISOString(), who: actor.who, action, target, address: actor.address, ...(reason === undefined ? {} : { reason }) };
    await this.p.audit.append(entry).catch((err: unknown) => this.p.log.error({ err, ...entry }, 'could not write the admin audit trail'));
  }
}

function listed(s: SessionSummary): AdminSession {
  return {
    sessionId: s.sessionId,
    userId: ledgerUserId(s.userId, s.clientAddress ?? 'unknown'),
    ...(s.title === undefined ? {} : { title: s.title }),
    ...(s.plan === undefined ? {} : { plan: s.plan }),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

function safeJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}
