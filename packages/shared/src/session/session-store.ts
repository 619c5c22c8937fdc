// Sessions live in Redis only, so any gateway or worker can serve any session.
import type { RedisClient } from '../redis-client.js';
import type { RedisKeys } from '../redis-keys.js';
import { StoredMessageSchema, type StoredMessage } from '@chat-fleet/protocol';
import { withScripts, type ChatScripts } from '../lua-scripts.js';
import { readHistoryPage, type HistoryPage } from './history-page.js';

export interface SessionMeta {
  sessionId: string;
  userId: string | undefined;
  /** The user's plan (from the user token or the API key's backend), for per-plan budgets. */
  plan?: string | undefined;
  /** Address of the client that created the session; the rate-limit subject when there is no userId. */
  clientAddress: string | undefined;
  systemPrompt: string | undefined;
  metadata: Record<string, unknown> | undefined;
  createdAt: string;
}

export interface SessionStoreOptions {
  ttlSeconds: number;
}

export class SessionStore {
  private readonly redis: RedisClient & ChatScripts;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: SessionStoreOptions,
  ) {
    this.redis = withScripts(redis);
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  async create(meta: SessionMeta): Promise<void> {
    const fields: Record<string, string> = { createdAt: meta.createdAt };
    if (meta.userId !== undefined) fields.userId = meta.userId;
    if (meta.plan !== undefined) fields.plan = meta.plan;
    if (meta.clientAddress !== undefined) fields.clientAddress = meta.clientAddress;
    if (meta.systemPrompt !== undefined) fields.systemPrompt = meta.systemPrompt;
    if (meta.metadata !== undefined) fields.metadata = JSON.stringify(meta.metadata);
    const key = this.keys.sessionMeta(meta.sessionId);
    await this.redis.multi().hset(key, fields).expire(key, this.options.ttlSeconds).exec();
  }

  async getMeta(sessionId: string): Promise<SessionMeta | undefined> {
    const h = await this.redis.hgetall(this.keys.sessionMeta(sessionId));
    if (h.createdAt === undefined) return undefined;
    return {
      sessionId,
      userId: h.userId,
      plan: h.plan,
      clientAddress: h.clientAddress,
      systemPrompt: h.systemPrompt,
      metadata: h.metadata === undefined ? undefined : (JSON.parse(h.metadata) as Record<string, unknown>),
      createdAt: h.createdAt,
    };
  }

  async exists(sessionId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.sessionMeta(sessionId))) === 1;
  }

  async history(sessionId: string): Promise<StoredMessage[]> {
    const rows = await this.redis.lrange(this.keys.sessionHistory(sessionId), 0, -1);
    return rows.map((row) => StoredMessageSchema.parse(JSON.parse(row)));
  }

  /** One page of the history, oldest first (see readHistoryPage); undefined when `before` is not in it. */
  historyPage(sessionId: string, limit: number, before?: string): Promise<HistoryPage | undefined> {
    return readHistoryPage(this.redis, this.keys.sessionHistory(sessionId), limit, before);
  }

  /** The session's owner: `{ userId }` (undefined when anonymous), or undefined when the session is gone. Two short fields, not the prompt. */
  async ownerOf(sessionId: string): Promise<{ userId: string | undefined; plan: string | undefined } | undefined> {
    const [createdAt, userId, plan] = await this.redis.hmget(this.keys.sessionMeta(sessionId), 'createdAt', 'userId', 'plan');
    return createdAt === null || createdAt === undefined ? undefined : { userId: userId ?? undefined, plan: plan ?? undefined };
  }

  /** Renews the idle TTL of every key of the session. */
  async touch(sessionId: string): Promise<void> {
    const ttl = this.options.ttlSeconds;
    await this.redis
      .multi()
      .expire(this.keys.sessionMeta(sessionId), ttl)
      .expire(this.keys.sessionHistory(sessionId), ttl)
      .exec();
  }

  /**
   * Deletes the session; undefined when it did not exist, else the messageId of the reply that
   * held its in-flight slot at that moment (read in the same transaction), which must be stopped.
   */
  async delete(sessionId: string): Promise<{ inflight: string | undefined } | undefined> {
    const inflightKey = this.keys.sessionInflight(sessionId);
    const results = await this.redis
      .multi()
      .get(inflightKey)
      .del(this.keys.sessionMeta(sessionId), this.keys.sessionHistory(sessionId), inflightKey)
      .exec();
    const [getErr, inflight] = results?.[0] ?? [];
    const [delErr, n] = results?.[1] ?? [];
    if (results === null || getErr != null || delErr != null) throw getErr ?? delErr ?? new Error('the session delete was aborted');
    if (n === 0) return undefined;
    return { inflight: typeof inflight === 'string' ? inflight : undefined };
  }
}
