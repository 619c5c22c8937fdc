// Finds the sessions this gateway holds sockets for that expired in Redis, and ends them here.
// Polled rather than told: managed Redis often has keyspace notifications turned off.
import type { Logger, RedisKeys, RedisClient } from '@chat-fleet/shared';
import type { SessionHub } from './session-hub.js';

export class SessionExpiry {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  /** Sessions found missing once: ended when the next check finds them missing too. */
  private missing = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly hub: SessionHub,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One EXISTS per held session, sent together (one write; on a cluster, to each key's shard);
   * each one found missing is ended (`expired`) on this
   * gateway only, since every gateway checks its own. A failed check changes nothing; the next
   * one tries again. Resolves with the sessions ended.
   */
  async check(): Promise<string[]> {
    if (this.checking) return [];
    const ids = this.hub.sessionIds();
    if (ids.length === 0) return [];
    this.checking = true;
    try {
      const found = await Promise.all(ids.map((id) => this.redis.exists(this.keys.sessionMeta(id)).catch(() => -1)));
      // Missing twice in a row: one miss can be a failover's moment (a promoted replica, a
      // client still reading the demoted primary), and ending a live session is not undone.
      const missed = new Set(ids.filter((_, i) => found[i] === 0));
      const gone = [...missed].filter((id) => this.missing.has(id));
      this.missing = missed;
      for (const id of gone) this.hub.end(id, 'expired');
      if (gone.length > 0) this.log.debug({ sessions: gone.length }, 'ended expired sessions');
      return gone;
    } catch (err) {
      this.log.debug({ err }, 'could not check for expired sessions');
      return [];
    } finally {
      this.checking = false;
    }
  }
}
