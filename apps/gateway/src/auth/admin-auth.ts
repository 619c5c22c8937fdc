// The credential of /admin and the admin REST routes: ADMIN_API_KEY, or in jwt mode a user token
// whose roles include the admin role. Only ever an Authorization header, never a cookie, so a
// page on another site cannot make a browser use it.
import { ChatError } from '@chat-fleet/shared';
import type { PerMinuteLimit } from '@chat-fleet/shared';
import type { ApiKeys } from './api-keys.js';
import { bearerCredential, type UserAuth } from './user-auth.js';

export interface AdminIdentity {
  /** `admin-key`, or `user:<sub>` for an admin's user token; for audit logs. */
  who: string;
}

export interface AdminAuthParts {
  /** ADMIN_API_KEY (empty when unset). */
  adminKeys: ApiKeys;
  users: UserAuth;
  /** Admin requests per client address; none: no limit. */
  limit?: PerMinuteLimit;
}

export class AdminAuth {
  constructor(private readonly parts: AdminAuthParts) {}

  /** Resolves with who the admin is; throws `unauthorized` (no or bad credential) or `forbidden` (a user who is not an admin). */
  async requireAdmin(authorization: string | undefined): Promise<AdminIdentity> {
    const credential = bearerCredential(authorization);
    if (credential === undefined) throw new ChatError('unauthorized', 'an admin credential is required (Authorization: Bearer <ADMIN_API_KEY or admin user token>)');
    if (this.parts.adminKeys.has(credential)) return { who: 'admin-key' };
    const caller = await this.parts.users.identify(authorization).catch((err: unknown) => {
      // Not a user either: to the caller it is just a bad admin credential.
      if (err instanceof ChatError && err.code === 'unauthorized') throw new ChatError('unauthorized', 'the admin credential is not valid');
      throw err;
    });
    if (caller.via === 'jwt' && caller.admin) return { who: `user:${caller.userId}` };
    throw new ChatError('forbidden', 'this credential is not an admin\'s');
  }

  /**
   * The gate of every admin route: the client address's admin rate limit first (so guessing
   * keys is slow), then requireAdmin. Throws `rate_limited` (429), `unauthorized` or `forbidden`.
   */
  async admit(authorization: string | undefined, clientAddress: string): Promise<AdminIdentity> {
    await this.parts.limit?.admit(clientAddress);
    return this.requireAdmin(authorization);
  }
}
