// The admin REST routes the console calls, over the SDK's ChatApi so a refusal is the same
// ChatApiError the chat page handles; their answers are @chat-fleet/protocol's types (admin.ts),
// imported as types only, so no schema reaches the bundle. The key goes in the Authorization
// header of every call and nowhere else.
import { ChatApi, ChatApiError } from '@chat-fleet/client';
import type {
  AdminSession,
  AdminSessionDetail,
  AdminSessionList,
  AdminWhoAmI,
  AuditEntry,
  AuditList,
  FailedJob,
  FailedJobList,
  Fleet,
  FleetUsage,
  Series,
  UserAccount,
  UserUsage,
} from '@chat-fleet/protocol';

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
  whoami(): Promise<AdminWhoAmI> {
    return this.call('GET', '/admin/whoami');
  }

  fleet(): Promise<Fleet> {
    return this.call('GET', '/admin/fleet');
  }

  async failedJobs(limit = 20): Promise<FailedJob[]> {
    return (await this.call<FailedJobList>('GET', `/admin/queue/failed?limit=${limit}`)).jobs;
  }

  series(minutes = 60): Promise<Series> {
    return this.call('GET', `/admin/series?minutes=${minutes}`);
  }

  usage(top = 20): Promise<FleetUsage> {
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

  async sessions(query: SessionQuery): Promise<AdminSession[]> {
    const q = 'userId' in query ? `userId=${path(query.userId)}` : `sessionId=${path(query.sessionId)}`;
    return (await this.call<AdminSessionList>('GET', `/admin/sessions?${q}`)).sessions;
  }

  session(sessionId: string): Promise<AdminSessionDetail> {
    return this.call('GET', `/admin/sessions/${path(sessionId)}`);
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.call('DELETE', `/admin/sessions/${path(sessionId)}`);
  }

  async cancelReply(messageId: string): Promise<void> {
    await this.call('POST', `/admin/replies/${path(messageId)}/cancel`, {});
  }

  async audit(limit = 100): Promise<AuditEntry[]> {
    return (await this.call<AuditList>('GET', `/admin/audit?limit=${limit}`)).entries;
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
