// Sessions live in Redis only, so any gateway or worker can serve any session.
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis-keys.js';
import { StoredMessageSchema, type StoredMessage } from '../protocol/rest.js';
import { withScripts, type ChatScripts } from '../lua-scripts.js';

export interface SessionMeta {
  sessionId: string;
  userId: string | undefined;
  /** Address of the client that created the session; the rate-limit subject when there is no userId. */
  clientAddress: string | undefined;
  systemPrompt: string | undefined;
  metadata: Record<string, unknown> | undefined;
  createdAt: string;
}

export interface SessionStoreOptions {
  ttlSeconds: number;
  /** Oldest messages beyond this are dropped from the stored history. */
  maxHistory?: number;
}

export class SessionStore {
  private readonly redis: Redis & ChatScripts;
  private readonly maxHistory: number;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: SessionStoreOptions,
  ) {
    this.redis = withScripts(redis);
    this.maxHistory = options.maxHistory ?? 1000;
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  async create(meta: SessionMeta): Promise<void> {
    const fields: Record<string, string> = { createdAt: meta.createdAt };
    if (meta.userId !== undefined) fields.userId = meta.userId;
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

  /** Appends a message and renews the TTL; false when the session no longer exists. */
  async append(sessionId: string, message: StoredMessage): Promise<boolean> {
    const n = await this.redis.appendMessage(
      this.keys.sessionMeta(sessionId),
      this.keys.sessionHistory(sessionId),
      JSON.stringify(message),
      this.options.ttlSeconds,
      this.maxHistory,
    );
    return n >= 0;
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

  /**
   * Takes the session's one-reply-in-flight slot for `messageId`. Returns undefined on
   * success, else the messageId of the reply already in flight.
   */
  async acquireInflight(sessionId: string, messageId: string, ttlMs: number): Promise<string | undefined> {
    const key = this.keys.sessionInflight(sessionId);
    const ok = await this.redis.set(key, messageId, 'PX', ttlMs, 'NX');
    if (ok === 'OK') return undefined;
    return (await this.redis.get(key)) ?? undefined;
  }

  async inflight(sessionId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.sessionInflight(sessionId))) ?? undefined;
  }

  /** Frees the slot only if `messageId` still holds it. */
  async releaseInflight(sessionId: string, messageId: string): Promise<boolean> {
    return (await this.redis.releaseIfOwner(this.keys.sessionInflight(sessionId), messageId)) === 1;
  }
}
