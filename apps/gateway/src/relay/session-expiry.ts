// Finds the sessions this gateway holds sockets for that expired in Redis, and ends them here.
// Polled rather than told: managed Redis often has keyspace notifications turned off.
import { Cluster } from 'ioredis';
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
   * Which held sessions still exist. On one Redis (or Sentinel's primary) one multi-key EXISTS per
   * BATCH sessions answers how many of them exist; only a batch that is short is asked again key by
   * key, so a check costs one command per BATCH sessions, not one per session. On a cluster the keys
   * live on many slots: one EXISTS per session, sent together (one write to each shard). Each one
   * found missing is ended (`expired`) on this gateway only, since every gateway checks its own. A
   * failed check changes nothing; the next one tries again. Resolves with the sessions ended.
   */
  async check(): Promise<string[]> {
    if (this.checking) return [];
    const ids = this.hub.sessionIds();
    if (ids.length === 0) return [];
    this.checking = true;
    try {
      const found = await this.existing(ids);
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

  /** Per id: 1 its session exists, 0 it does not, -1 unknown (the check failed). */
  private async existing(ids: string[]): Promise<number[]> {
    const one = (id: string): Promise<number> => this.redis.exists(this.keys.sessionMeta(id)).catch(() => -1);
    if (this.redis instanceof Cluster) return Promise.all(ids.map(one));
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += SESSION_CHECK_BATCH) batches.push(ids.slice(i, i + SESSION_CHECK_BATCH));
    const found = await Promise.all(
      batches.map(async (batch) => {
        const n = await this.redis.exists(...batch.map((id) => this.keys.sessionMeta(id))).catch(() => -1);
        return n === batch.length ? batch.map(() => 1) : Promise.all(batch.map(one));
      }),
    );
    return found.flat();
  }
}

/** Sessions asked about in one EXISTS on a single Redis. */
export const SESSION_CHECK_BATCH = 500;
