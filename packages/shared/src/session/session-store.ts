// Sessions live in Redis only, so any gateway or worker can serve any session. The store also
// keeps each user's index of sessions (session-index.ts) in step with them.
import type { RedisClient } from '../redis-client.js';
import type { RedisKeys } from '../redis-keys.js';
import { StoredMessageSchema, type StoredMessage } from '@chat-fleet/protocol';
import { withScripts, type ChatScripts } from '../lua-scripts.js';
import { readHistoryPage, type HistoryPage } from './history-page.js';
import { SessionIndex, type IndexedSession } from './session-index.js';
import { replyInfoOf, type ReplyInfo } from '../relay/reply-state.js';

/** How a session's userId was established: `anonymous` is a label the client chose. */
export type IdentitySource = 'jwt' | 'api_key' | 'anonymous';

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
  /** How the userId was established; undefined for a session created before it was stored. */
  via?: IdentitySource | undefined;
  /** The language the model is asked to answer in (a BCP 47 tag). */
  locale?: string | undefined;
  /** From the first message or a rename; undefined before either. */
  title?: string | undefined;
}

export interface SessionStoreOptions {
  ttlSeconds: number;
  /** Sessions kept in a user's index (default 1000); the least recently active go first. */
  indexMaxPerUser?: number;
}

/** A session as a list of a user's sessions shows it. */
export interface SessionSummary {
  sessionId: string;
  /** Undefined for a session created without one. */
  userId: string | undefined;
  plan?: string;
  clientAddress?: string;
  via?: IdentitySource;
  title?: string;
  createdAt: string;
  /** The last activity (creation or an accepted message), ISO 8601. */
  updatedAt: string;
}

export class SessionStore {
  private readonly redis: RedisClient & ChatScripts;
  private readonly index: SessionIndex;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: SessionStoreOptions,
  ) {
    this.redis = withScripts(redis);
    this.index = new SessionIndex(this.redis, keys, { ttlSeconds: options.ttlSeconds, maxPerUser: options.indexMaxPerUser ?? 1000 });
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
    if (meta.via !== undefined) fields.via = meta.via;
    if (meta.locale !== undefined) fields.locale = meta.locale;
    if (meta.title !== undefined) fields.title = meta.title;
    const key = this.keys.sessionMeta(meta.sessionId);
    await Promise.all([
      this.redis.multi().hset(key, fields).expire(key, this.options.ttlSeconds).exec(),
      meta.userId === undefined ? undefined : this.index.record(meta.userId, meta.sessionId, Date.parse(meta.createdAt)),
    ]);
  }

  /** A message was accepted in the session: it moves to the top of its user's index. */
  async recordActivity(sessionId: string, userId: string, at = Date.now()): Promise<void> {
    await this.index.record(userId, sessionId, at);
  }

  /**
   * The user's sessions that still exist, most recently active first, at most `limit`. Entries
   * whose session has expired are skipped and removed from the index.
   */
  async sessionsOf(userId: string, limit: number): Promise<SessionSummary[]> {
    return (await this.sessionsPage(userId, limit)).sessions;
  }

  /**
   * One page of sessionsOf: at most `limit` of the sessions `keep` accepts, from just after
   * `after` (the index entry of a previous page's last session) or from the newest; `more` when
   * others remain.
   */
  async sessionsPage(
    userId: string,
    limit: number,
    after?: IndexedSession,
    keep: (session: SessionSummary) => boolean = () => true,
  ): Promise<{ sessions: SessionSummary[]; more: boolean }> {
    // One more than asked, to know whether more remain.
    const found: SessionSummary[] = [];
    const gone: string[] = [];
    for (let last = after; found.length <= limit; ) {
      const want = limit + 1 - found.length;
      const page = await this.index.page(userId, last, want);
      last = page.at(-1);
      const summaries = await Promise.all(page.map((entry) => this.summaryWith(entry.sessionId, entry.updatedAt)));
      page.forEach((entry, i) => {
        const summary = summaries[i];
        // A session id is never reused, so one owned by someone else is a corrupt entry: drop it too.
        if (summary === undefined || summary.userId !== userId) gone.push(entry.sessionId);
        else if (keep(summary)) found.push(summary);
      });
      if (page.length < want) break;
    }
    await this.index.remove(userId, ...gone);
    return { sessions: found.slice(0, limit), more: found.length > limit };
  }

  /** One session as a list shows it; undefined when it does not exist. */
  async summaryOf(sessionId: string): Promise<SessionSummary | undefined> {
    const userId = await this.redis.hget(this.keys.sessionMeta(sessionId), 'userId');
    const score = userId === null ? null : await this.redis.zscore(this.keys.userSessions(userId), sessionId);
    return this.summaryWith(sessionId, score === null ? undefined : Number(score));
  }

  private async summaryWith(sessionId: string, updatedAt: number | undefined): Promise<SessionSummary | undefined> {
    const [createdAt, userId, plan, clientAddress, via, title] = await this.redis.hmget(this.keys.sessionMeta(sessionId), 'createdAt', 'userId', 'plan', 'clientAddress', 'via', 'title');
    if (createdAt === null || createdAt === undefined) return undefined;
    return {
      sessionId,
      userId: userId ?? undefined,
      ...(plan == null ? {} : { plan }),
      ...(clientAddress == null ? {} : { clientAddress }),
      ...(via == null ? {} : { via: identitySource(via) }),
      ...(title == null ? {} : { title }),
      createdAt,
      updatedAt: updatedAt === undefined ? createdAt : new Date(updatedAt).toISOString(),
    };
  }

  async getMeta(sessionId: string): Promise<SessionMeta | undefined> {
    return metaOf(sessionId, await this.redis.hgetall(this.keys.sessionMeta(sessionId)));
  }

  /**
   * What a worker needs before it answers `messageId`, in one round trip and one command: the
   * reply's state, the session's meta (undefined when the session is gone) and its history.
   */
  async readForReply(sessionId: string, messageId: string): Promise<{ reply: ReplyInfo | undefined; meta: SessionMeta | undefined; history: StoredMessage[] }> {
    const [reply, flat, rows] = await this.redis.replyContext(this.keys.replyMeta(sessionId, messageId), this.keys.sessionMeta(sessionId), this.keys.sessionHistory(sessionId));
    const h: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
    return { reply: replyInfoOf(reply), meta: metaOf(sessionId, h), history: historyOf(rows) };
  }

  /** Sets the session's title and renews its TTL; false when the session does not exist. */
  async rename(sessionId: string, title: string): Promise<boolean> {
    return (await this.redis.sessionRename(this.keys.sessionMeta(sessionId), this.keys.sessionHistory(sessionId), title, this.options.ttlSeconds)) === 1;
  }

  async exists(sessionId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.sessionMeta(sessionId))) === 1;
  }

  async history(sessionId: string): Promise<StoredMessage[]> {
    return historyOf(await this.redis.lrange(this.keys.sessionHistory(sessionId), 0, -1));
  }

  /** One page of the history, oldest first (see readHistoryPage); undefined when `before` is not in it. */
  historyPage(sessionId: string, limit: number, before?: string): Promise<HistoryPage | undefined> {
    return readHistoryPage(this.redis, this.keys.sessionHistory(sessionId), limit, before);
  }

  /** The session's owner: `{ userId }` (undefined when anonymous), or undefined when the session is gone. Short fields, not the prompt. */
  async ownerOf(sessionId: string): Promise<{ userId: string | undefined; plan: string | undefined; via: IdentitySource | undefined } | undefined> {
    const [createdAt, userId, plan, via] = await this.redis.hmget(this.keys.sessionMeta(sessionId), 'createdAt', 'userId', 'plan', 'via');
    return createdAt === null || createdAt === undefined ? undefined : { userId: userId ?? undefined, plan: plan ?? undefined, via: via === null || via === undefined ? undefined : identitySource(via) };
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
    const metaKey = this.keys.sessionMeta(sessionId);
    const results = await this.redis
      .multi()
      .get(inflightKey)
      .hget(metaKey, 'userId')
      .del(metaKey, this.keys.sessionHistory(sessionId), inflightKey)
      .exec();
    const [getErr, inflight] = results?.[0] ?? [];
    const [userErr, userId] = results?.[1] ?? [];
    const [delErr, n] = results?.[2] ?? [];
    if (results === null || getErr != null || userErr != null || delErr != null) throw getErr ?? userErr ?? delErr ?? new Error('the session delete was aborted');
    if (n === 0) return undefined;
    // The session is gone whatever happens here: an entry left behind is pruned when the index is read.
    if (typeof userId === 'string') await this.index.remove(userId, sessionId).catch(() => undefined);
    return { inflight: typeof inflight === 'string' ? inflight : undefined };
  }
}

// Only the gateway writes the field; anything else reads as the least trusted source.
function identitySource(via: string): IdentitySource {
  return via === 'jwt' || via === 'api_key' ? via : 'anonymous';
}

/** A session's meta from its hash (as HGETALL gives it); undefined when the session is gone. */
function metaOf(sessionId: string, h: Record<string, string | undefined>): SessionMeta | undefined {
  if (h.createdAt === undefined) return undefined;
  return {
    sessionId,
    userId: h.userId,
    plan: h.plan,
    clientAddress: h.clientAddress,
    systemPrompt: h.systemPrompt,
    metadata: h.metadata === undefined ? undefined : (JSON.parse(h.metadata) as Record<string, unknown>),
    createdAt: h.createdAt,
    ...(h.via === undefined ? {} : { via: identitySource(h.via) }),
    ...(h.locale === undefined ? {} : { locale: h.locale }),
    ...(h.title === undefined ? {} : { title: h.title }),
  };
}

function historyOf(rows: readonly string[]): StoredMessage[] {
  return rows.map((row) => StoredMessageSchema.parse(JSON.parse(row)));
}
