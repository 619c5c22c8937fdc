// The admin REST routes the console calls (the shapes agreed for issue 19), over the SDK's ChatApi
// so a refusal is the same ChatApiError the chat page handles. The key goes in the Authorization
// header of every call and nowhere else.
import { ChatApi, ChatApiError, type SessionView } from '@chat-fleet/client';

export interface WhoAmI {
  /** `admin-key`, or `user:<sub>` for an admin's user token. */
  who: string;
}

export interface Instance {
  instance: string;
  role: 'gateway' | 'worker';
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  /** Milliseconds since its last heartbeat. */
  lastSeenMs: number;
  stale: boolean;
  sockets?: number;
  sessions?: number;
  /** Replies this instance is relaying (gateway) or generating (worker). */
  inflight: number;
  /** p99 of the last interval. */
  eventLoopDelayMs: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
  failed: number;
  completed: number;
  oldestWaitingMs: number | null;
}

export interface Fleet {
  instances: Instance[];
  queue: QueueDepth;
  heartbeatMs: number;
}

export interface FailedJob {
  id: string;
  messageId: string;
  sessionId: string;
  userId?: string;
  failedReason: string;
  attemptsMade: number;
  finishedAt: string;
}

export interface SeriesPoint {
  /** Epoch ms of the bucket's start. */
  t: number;
  messages: number;
  tokens: number;
  replies: number;
  errors: Record<string, number>;
  cacheHits: number;
  coalesced: number;
  firstTokenP50Ms: number | null;
  firstTokenP95Ms: number | null;
}

export interface Series {
  stepSeconds: number;
  from: number;
  /** One per bucket, oldest first, zero-filled. */
  points: SeriesPoint[];
}

export interface UsageTotals {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  replies: number;
  costUsd: number;
}

export interface UsageTop {
  users: Array<{ userId: string; day: UsageTotals; month: UsageTotals }>;
  fleet: { day: UsageTotals; month: UsageTotals; byModel: { day: Record<string, UsageTotals>; month: Record<string, UsageTotals> } };
}

export type PeriodUsage = UsageTotals & { byModel: Record<string, UsageTotals> };

export interface UserUsage {
  userId: string;
  day: PeriodUsage;
  month: PeriodUsage;
}

export interface UserAccount {
  userId: string;
  blocked: boolean;
  blockedAt?: string;
  /** Extensions: who blocked the user, and why if they said. */
  blockedBy?: string;
  blockReason?: string;
  day: UsageTotals;
  month: UsageTotals;
  budget: { dailyTokens: number; monthlyCostUsd: number; dayTokensLeft: number | null; monthCostLeftUsd: number | null };
}

export interface SessionSummary {
  sessionId: string;
  userId: string;
  title?: string;
  createdAt: string;
  updatedAt: string;
}

export type StoredMessage = SessionView['messages'][number];

export interface SessionDetail {
  sessionId: string;
  userId: string;
  createdAt: string;
  systemPrompt?: string;
  messages: StoredMessage[];
  /** `attempt` (an extension) counts from 1; a restarted reply's text starts over. */
  inflight: { messageId: string; status: 'queued' | 'streaming'; text: string; attempt?: number } | null;
}

export interface AuditEntry {
  at: string;
  who: string;
  action: string;
  target: string;
  address: string;
}

export type SessionQuery = { userId: string } | { sessionId: string };

const path = (value: string): string => encodeURIComponent(value);

export class AdminApi {
  private readonly api = new ChatApi();

  /**
   * `onRefused` hears every 401 and 403: the key stopped being accepted (rotated, or the admin
   * role was taken away), so the console signs out instead of showing stale data.
   */
  constructor(
    private readonly key: string,
    private readonly onRefused: (err: ChatApiError) => void = () => undefined,
  ) {}

  /** Checks the key; the gateway audits it as a sign-in. */
  whoami(): Promise<WhoAmI> {
    return this.call('GET', '/admin/whoami');
  }

  fleet(): Promise<Fleet> {
    return this.call('GET', '/admin/fleet');
  }

  async failedJobs(limit = 20): Promise<FailedJob[]> {
    return (await this.call<{ jobs: FailedJob[] }>('GET', `/admin/queue/failed?limit=${limit}`)).jobs;
  }

  series(minutes = 60): Promise<Series> {
    return this.call('GET', `/admin/series?minutes=${minutes}`);
  }

  usage(top = 20): Promise<UsageTop> {
    return this.call('GET', `/admin/usage?top=${top}`);
  }

  userUsage(userId: string): Promise<UserUsage> {
    return this.call('GET', `/admin/usage/users/${path(userId)}`);
  }

  user(userId: string): Promise<UserAccount> {
    return this.call('GET', `/admin/users/${path(userId)}`);
  }

  async block(userId: string): Promise<void> {
    await this.call('POST', `/admin/users/${path(userId)}/block`, {});
  }

  async unblock(userId: string): Promise<void> {
    await this.call('POST', `/admin/users/${path(userId)}/unblock`, {});
  }

  async resetBudget(userId: string): Promise<void> {
    await this.call('POST', `/admin/users/${path(userId)}/budget/reset`, {});
  }

  async sessions(query: SessionQuery): Promise<SessionSummary[]> {
    const q = 'userId' in query ? `userId=${path(query.userId)}` : `sessionId=${path(query.sessionId)}`;
    return (await this.call<{ sessions: SessionSummary[] }>('GET', `/admin/sessions?${q}`)).sessions;
  }

  session(sessionId: string): Promise<SessionDetail> {
    return this.call('GET', `/admin/sessions/${path(sessionId)}`);
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.call('DELETE', `/admin/sessions/${path(sessionId)}`);
  }

  async cancelReply(messageId: string): Promise<void> {
    await this.call('POST', `/admin/replies/${path(messageId)}/cancel`, {});
  }

  async audit(limit = 100): Promise<AuditEntry[]> {
    return (await this.call<{ entries: AuditEntry[] }>('GET', `/admin/audit?limit=${limit}`)).entries;
  }

  private async call<T>(method: string, url: string, body?: unknown): Promise<T> {
    try {
      return await this.api.call<T>(method, url, { token: this.key, ...(body === undefined ? {} : { body }) });
    } catch (err) {
      if (err instanceof ChatApiError && (err.status === 401 || err.status === 403)) this.onRefused(err);
      throw err;
    }
  }
}

/** What the console says of a failed call, in one sentence. */
export function problem(err: unknown): string {
  if (!(err instanceof ChatApiError)) return err instanceof Error ? err.message : String(err);
  if (err.code === 'network') return 'Cannot reach the gateway.';
  if (err.code === 'rate_limited') {
    const wait = err.retryAfterMs === undefined ? '' : ` Try again in ${Math.ceil(err.retryAfterMs / 1000)} s.`;
    return `Too many admin requests from this address.${wait}`;
  }
  return `${err.message} (${err.code})`;
}
