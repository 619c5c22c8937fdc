// Every Redis key and channel name. A session's keys and its replies' keys share the
// `{sessionId}` hash tag, so a reply's writes, its history entry and its channel land on one
// Redis Cluster slot and one Lua script can touch them all.
import keySlot from 'cluster-key-slot';

export const DEFAULT_REDIS_PREFIX = 'chat';

export interface RedisKeys {
  readonly prefix: string;
  /** BullMQ prefix; the queue's own keys live under it. */
  readonly bullPrefix: string;
  /**
   * The BullMQ queues replies are spread over: `chat-replies-{q<k>}`, the braces a hash tag, so
   * each queue's keys sit on one cluster slot; the tags are picked so the i-th queue's slot lies
   * in the i-th of `count` equal parts of the slot space, spreading the queues evenly over
   * primaries that split the slots evenly (as `redis-cli --cluster create` does).
   */
  chatQueues(count: number): string[];
  /** The queue of a session's replies among `count`: a stable hash of the session. */
  chatQueueOf(sessionId: string, count: number): string;
  /** Hash: userId, plan, clientAddress, systemPrompt, metadata, createdAt. */
  sessionMeta(sessionId: string): string;
  /** List of StoredMessage JSON, oldest first. */
  sessionHistory(sessionId: string): string;
  /** String: the messageId of the reply in flight; guards one reply per session. */
  sessionInflight(sessionId: string): string;
  /** Pub/sub channel carrying every reply frame of the session. */
  sessionChannel(sessionId: string): string;
  /** Sorted set of the session's open sockets, fleet-wide: member `instance:socket`, score its lease expiry (ms). */
  sessionSockets(sessionId: string): string;
  /** Sorted set of one client address's open sockets, fleet-wide, as sessionSockets. */
  addressSockets(address: string): string;
  /** PSUBSCRIBE pattern matching every session channel (a gateway's one subscription). */
  readonly sessionChannelPattern: string;
  /** The session of a session channel; undefined for any other channel. */
  sessionOfChannel(channel: string): string | undefined;
  /** Stream of a reply's frames (entry id `attempt-seq`), for resume. */
  replyFrames(sessionId: string, messageId: string): string;
  /** Hash: status, attempt, seq (last written), cancel of one reply (see reply-state.ts). */
  replyMeta(sessionId: string, messageId: string): string;
  /** Sorted set of replies in flight (`<sessionId> <messageId>`) scored by their deadline (ms). */
  readonly replyDeadlines: string;
  /** Pub/sub channel on which cancels reach whichever worker runs the generation. */
  readonly cancelChannel: string;
  /** Shared signing secret when AUTH_SECRET is not set. */
  readonly authSecret: string;
  /** Key prefix of one rate limiter's counters (rate-limiter-flexible appends the subject). */
  rateLimit(name: string): string;
  /** Hash: a user's usage on one UTC day (`YYYYMMDD`) or month (`YYYYMM`); see lua/lib/ledger.lua. */
  userUsage(userId: string, period: string): string;
  /** Hash: a user's live budget reservations (messageId → "tokens costNanos expiresAtMs"). */
  userReservations(userId: string): string;
  /** String: set once a reply's usage is in its user's ledger (ledger-user.lua). */
  userUsageCounted(userId: string, messageId: string): string;
  /** Hash: the whole fleet's usage on one UTC day or month (the fleet ledger keys share one tag). */
  fleetUsage(period: string): string;
  /** Sorted set: users by tokens used on one UTC day or month. */
  usageRanking(period: string): string;
  /** String: set once a reply's usage is in the fleet's ledger (ledger-fleet.lua). */
  fleetUsageCounted(messageId: string): string;
  /** String: a finished reply stored under the hash of what the model was asked (the hash is the slot tag). */
  replyCache(hash: string): string;
  /** String: the messageId and sessionId of the reply now generating for this request hash (the cache's slot). */
  coalesceLock(hash: string): string;
  /** Sorted set: a user's sessions (sessionId) by last activity (ms); see session/session-index.ts. */
  userSessions(userId: string): string;
  /** Hash: every gateway's and worker's last heartbeat (instance → record JSON); see fleet/heartbeat.ts. */
  readonly fleetHeartbeats: string;
  /** Sorted set: instance → when it last wrote its heartbeat (ms), so silent ones are forgotten. */
  readonly fleetSeen: string;
  /** Hash: the admin console's reply counters and first-token histogram of one 10 s bucket (its start, ms). */
  replySeries(bucketStartMs: number): string;
  /** Hash: users an admin blocked (userId → JSON `{ at, who, reason? }`). */
  readonly blockedUsers: string;
  /** String: bumped on every change of blockedUsers, so gateways reload their copy only then. */
  readonly blockedUsersVersion: string;
  /** List: the admin audit trail, newest first, capped. */
  readonly adminAudit: string;
}

const CLUSTER_SLOTS = 16384;
const queueNames = new Map<number, string[]>();

/** `count` queue names whose hash tags fall in evenly spaced slot ranges (memoized; the same in every process). */
function spreadQueueNames(count: number): string[] {
  let names = queueNames.get(count);
  if (names !== undefined) return names;
  names = [];
  let k = 0;
  for (let i = 0; i < count; i++) {
    const low = Math.floor((i * CLUSTER_SLOTS) / count);
    const high = Math.floor(((i + 1) * CLUSTER_SLOTS) / count);
    for (;; k++) {
      const slot = keySlot(`q${k}`);
      if (slot >= low && slot < high) break;
    }
    names.push(`chat-replies-{q${k}}`);
    k++;
  }
  queueNames.set(count, names);
  return names;
}

/** FNV-1a, 32 bits: a cheap, stable spread of session ids over queues. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  return {
    prefix,
    bullPrefix: `${prefix}:bull`,
    chatQueues: (count) => spreadQueueNames(count),
    chatQueueOf: (sessionId, count) => spreadQueueNames(count)[fnv1a(sessionId) % count]!,
    sessionMeta: (id) => `${prefix}:s:{${id}}:meta`,
    sessionHistory: (id) => `${prefix}:s:{${id}}:history`,
    sessionInflight: (id) => `${prefix}:s:{${id}}:inflight`,
    sessionChannel: (id) => `${prefix}:s:{${id}}:events`,
    sessionSockets: (id) => `${prefix}:s:{${id}}:sockets`,
    addressSockets: (address) => `${prefix}:ip:{${address}}:sockets`,
    // Glob-escaped, so a prefix with * ? [ or \ matches only itself.
    sessionChannelPattern: `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:s:{*}:events`,
    sessionOfChannel: (channel) => {
      const head = `${prefix}:s:{`;
      const tail = '}:events';
      return channel.startsWith(head) && channel.endsWith(tail) && channel.length > head.length + tail.length
        ? channel.slice(head.length, -tail.length)
        : undefined;
    },
    replyFrames: (sessionId, messageId) => `${prefix}:s:{${sessionId}}:r:${messageId}:frames`,
    replyMeta: (sessionId, messageId) => `${prefix}:s:{${sessionId}}:r:${messageId}:meta`,
    replyDeadlines: `${prefix}:reply-deadlines`,
    cancelChannel: `${prefix}:cancel`,
    authSecret: `${prefix}:auth:secret`,
    rateLimit: (name) => `${prefix}:rl:${name}`,
    userUsage: (userId, period) => `${prefix}:u:{${userId}}:usage:${period}`,
    userReservations: (userId) => `${prefix}:u:{${userId}}:reservations`,
    userUsageCounted: (userId, messageId) => `${prefix}:u:{${userId}}:counted:${messageId}`,
    fleetUsage: (period) => `${prefix}:{usage}:fleet:${period}`,
    usageRanking: (period) => `${prefix}:{usage}:top:${period}`,
    fleetUsageCounted: (messageId) => `${prefix}:{usage}:counted:${messageId}`,
    replyCache: (hash) => `${prefix}:cache:{${hash}}`,
    coalesceLock: (hash) => `${prefix}:co:{${hash}}`,
    userSessions: (userId) => `${prefix}:u:{${userId}}:sessions`,
    // The keys below are read together (a pipeline, one script), so each group shares a hash tag.
    fleetHeartbeats: `${prefix}:{fleet}:heartbeats`,
    fleetSeen: `${prefix}:{fleet}:seen`,
    replySeries: (bucketStartMs) => `${prefix}:{series}:${bucketStartMs}`,
    blockedUsers: `${prefix}:{admin}:blocked`,
    blockedUsersVersion: `${prefix}:{admin}:blocked-version`,
    adminAudit: `${prefix}:{admin}:audit`,
  };
}
