// Each user's sessions by last activity: a sorted set per user (sessionId → ms), written when a
// session is created and when a message is accepted in it, the entry removed when the session is
// deleted. An expired session's entry stays until a read finds its session gone and prunes it,
// so a read checks every entry against the session itself (SessionStore.sessionsOf).
import type { RedisClient } from '../redis-client.js';
import type { RedisKeys } from '../redis-keys.js';
import type { ChatScripts } from '../lua-scripts.js';

export interface SessionIndexOptions {
  /** The sessions' idle TTL: the index lives at least that long after its newest activity. */
  ttlSeconds: number;
  /** Entries kept per user; the least recently active go first. */
  maxPerUser: number;
}

export interface IndexedSession {
  sessionId: string;
  /** Last activity, ms since the epoch. */
  updatedAt: number;
}

export class SessionIndex {
  constructor(
    private readonly redis: RedisClient & ChatScripts,
    private readonly keys: RedisKeys,
    private readonly options: SessionIndexOptions,
  ) {}

  /** The session was created or had a message accepted at `at`. */
  async record(userId: string, sessionId: string, at = Date.now()): Promise<void> {
    await this.redis.sessionIndexAdd(this.keys.userSessions(userId), sessionId, at, this.options.maxPerUser, this.options.ttlSeconds);
  }

  async remove(userId: string, ...sessionIds: string[]): Promise<void> {
    if (sessionIds.length > 0) await this.redis.zrem(this.keys.userSessions(userId), ...sessionIds);
  }

  /**
   * At most `count` entries, most recently active first, from just after `after` (the last entry
   * of a previous page) or from the newest. Paging by position in the order rather than by offset,
   * an entry that moves up meanwhile (a new message) makes none of the others repeat or be skipped.
   */
  async page(userId: string, after: IndexedSession | undefined, count: number): Promise<IndexedSession[]> {
    const key = this.keys.userSessions(userId);
    const max = after === undefined ? '+inf' : String(after.updatedAt);
    const out: IndexedSession[] = [];
    for (let offset = 0; out.length < count; ) {
      const flat = await this.redis.zrevrangebyscore(key, max, '-inf', 'WITHSCORES', 'LIMIT', offset, count);
      for (let i = 0; i + 1 < flat.length && out.length < count; i += 2) {
        const entry = { sessionId: flat[i]!, updatedAt: Number(flat[i + 1]) };
        // Entries of one ms come in descending id order: down to `after` itself, the previous page had them.
        if (after !== undefined && entry.updatedAt === after.updatedAt && entry.sessionId >= after.sessionId) continue;
        out.push(entry);
      }
      offset += flat.length / 2;
      if (flat.length < count * 2) break;
    }
    return out;
  }
}
