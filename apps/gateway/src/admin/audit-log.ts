// The admin audit trail: who did what to whom, from where, for every action that changes
// something and every sign-in to the console. An append-only list in Redis, newest first,
// capped at the newest `max` entries.
import { z } from 'zod';
import type { RedisClient, RedisKeys } from '@chat-fleet/shared';

export const ADMIN_ACTIONS = ['sign-in', 'block', 'unblock', 'budget-reset', 'cancel', 'delete-session'] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

const AuditEntrySchema = z.object({
  /** ISO 8601. */
  at: z.string(),
  /** AdminIdentity.who: `admin-key` or `user:<sub>`. */
  who: z.string(),
  action: z.enum(ADMIN_ACTIONS),
  /** The userId, sessionId or messageId acted on; '' for a sign-in. */
  target: z.string(),
  /** The admin's client address. */
  address: z.string(),
  /** A block's reason. */
  reason: z.string().optional(),
});

export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export class AuditLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly max = 10_000,
  ) {}

  async append(entry: AuditEntry): Promise<void> {
    // Not a transaction: a trim that failed leaves the list a little long until the next append.
    const results = await this.redis.pipeline().lpush(this.keys.adminAudit, JSON.stringify(entry)).ltrim(this.keys.adminAudit, 0, this.max - 1).exec();
    const [err] = results?.[0] ?? [new Error('the audit entry was not written')];
    if (err) throw err;
  }

  /** The newest `limit` entries, newest first. */
  async newest(limit: number): Promise<AuditEntry[]> {
    const rows = await this.redis.lrange(this.keys.adminAudit, 0, limit - 1);
    return rows.flatMap((row) => {
      try {
        const r = AuditEntrySchema.safeParse(JSON.parse(row));
        return r.success ? [r.data] : [];
      } catch {
        return [];
      }
    });
  }
}
