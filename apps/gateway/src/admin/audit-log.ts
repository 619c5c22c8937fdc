// The admin audit trail: who did what to whom, from where, for every action that changes
// something and every sign-in to the console. An append-only list in Redis, newest first,
// capped at the newest `max` entries.
import { AuditEntrySchema, type AuditEntry, type RedisClient, type RedisKeys } from '@chat-fleet/shared';

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
