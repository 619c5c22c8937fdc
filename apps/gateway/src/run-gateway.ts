// Composition root of a gateway: config, Redis clients, parts, listen, drain on SIGTERM.
// Started by main.ts, after tracing.
import { hostname } from 'node:os';
import { shutdownTracing } from '@chat-fleet/shared/tracing';
import { fileURLToPath } from 'node:url';
import {
  BudgetPolicy,
  ChannelSubscriber,
  Heartbeat,
  UsageLedger,
  ReplyState,
  PerMinuteLimit,
  SessionStore,
  storedFrameReader,
  UserRateLimits,
  createLogger,
  createRedis,
  describeTopology,
  pubSubModeOf,
  loadGatewayConfig,
  loadOrExit,
  packageVersion,
  redisKeys,
  waitReady,
  withoutDefinedScripts,
} from '@chat-fleet/shared';
import { resolveAuthSecret } from './auth/auth-secret.js';
import { TokenService } from './auth/token-service.js';
import { AdminAuth } from './auth/admin-auth.js';
import { ApiKeys } from './auth/api-keys.js';
import { UserAuth } from './auth/user-auth.js';
import { SessionAccess } from './auth/session-access.js';
import { UserTokenVerifier } from './auth/user-tokens.js';
import { ChatService } from './chat/chat-service.js';
import { BullReplyQueue } from './chat/reply-queue.js';
import { ReplyDeadlines } from './chat/reply-deadlines.js';
import { ReplyTracker } from './chat/reply-tracker.js';
import { ChatAdmission } from './limits/chat-admission.js';
import { SocketLeases } from './limits/socket-leases.js';
import { RedisMemoryWatch, fullestMemoryInfo } from './limits/redis-memory.js';
import { GatewayMetrics } from './metrics.js';
import { SessionHub } from './relay/session-hub.js';
import { RedisSessionControl } from './relay/session-control.js';
import { RedisSessionEndings } from './relay/session-ending.js';
import { SessionExpiry } from './relay/session-expiry.js';
import { GatewayServer } from './gateway-server.js';
import { usageCaller } from './usage/caller.js';
import { UsageApi } from './usage/usage-api.js';
import { AdminApi } from './admin/admin-api.js';
import { AuditLog } from './admin/audit-log.js';
import { ReplySeries } from './admin/reply-series.js';
import { UserBlocks } from './admin/user-blocks.js';

const config = loadOrExit(() => loadGatewayConfig(process.env));
const instance = config.INSTANCE_ID ?? `gateway-${hostname()}-${process.pid}`;
const log = createLogger({ name: 'gateway', instance, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const keys = redisKeys(config.REDIS_PREFIX);

// Request paths fail fast while Redis is down (the client gets `unavailable`); the
// subscriber queues its SUBSCRIBEs and ioredis re-subscribes after a reconnect.
const pubSub = pubSubModeOf(config.redis);
const redis = createRedis(config.redis, { name: `${instance}:commands`, failFast: true });
const subscriber = createRedis(config.redis, { name: `${instance}:subscriber`, subscriber: true });
const metrics = new GatewayMetrics({ instance });
metrics.redis.watch(redis, 'commands');
// The subscriber only SUBSCRIBEs: its up/down and reconnects matter, not its latency.
metrics.redis.watch(subscriber, 'subscriber', 0);
for (const [name, client] of [['commands', redis], ['subscriber', subscriber]] as const) {
  client.on('error', (err: Error) => log.warn({ err: err.message, client: name }, 'redis error'));
  client.on('ready', () => log.info({ client: name }, 'redis ready'));
}

try {
  await waitReady(redis, 30_000);
} catch {
  process.stderr.write(`cannot reach ${describeTopology(config.redis)}\n`);
  process.exit(1);
}

const sessions = new SessionStore(withoutDefinedScripts(redis), keys, { ttlSeconds: config.SESSION_TTL_SECONDS });
const tokens = new TokenService(await resolveAuthSecret(config.AUTH_SECRET, redis, keys.authSecret), config.TOKEN_TTL_SECONDS);
const users = new UserAuth({
  mode: config.AUTH_MODE,
  tokens:
    config.AUTH_MODE === 'jwt'
      ? new UserTokenVerifier(
          {
            secret: config.USER_JWT_SECRET,
            jwksUrl: config.USER_JWKS_URL,
            issuer: config.USER_JWT_ISSUER,
            audience: config.USER_JWT_AUDIENCE,
            clockToleranceSeconds: config.USER_JWT_CLOCK_TOLERANCE_SECONDS,
            planClaim: config.USER_JWT_PLAN_CLAIM,
            rolesClaim: config.USER_JWT_ROLES_CLAIM,
            jwksCooldownMs: config.USER_JWKS_COOLDOWN_SECONDS * 1000,
            jwksCacheMaxAgeMs: config.USER_JWKS_CACHE_SECONDS * 1000,
          },
          log,
        )
      : undefined,
  apiKeys: new ApiKeys(config.CHAT_API_KEYS),
  adminRole: config.USER_JWT_ADMIN_ROLE,
});
const admin = new AdminAuth({
  adminKeys: new ApiKeys(config.ADMIN_API_KEY === undefined ? [] : [config.ADMIN_API_KEY]),
  users,
  limit: new PerMinuteLimit(redis, keys, 'admin', config.ADMIN_RATE_LIMIT_PER_MIN, `admin limit of ${config.ADMIN_RATE_LIMIT_PER_MIN} requests per minute from this address`),
});
// How callers are known, never the keys themselves.
log.info(
  {
    authMode: config.AUTH_MODE,
    userTokens: config.AUTH_MODE !== 'jwt' ? 'off' : config.USER_JWKS_URL !== undefined ? `jwks ${config.USER_JWKS_URL}` : 'hs256 secret',
    apiKeys: config.CHAT_API_KEYS.length,
    adminKey: config.ADMIN_API_KEY !== undefined,
  },
  'identity',
);
if (config.AUTH_MODE !== 'jwt' && (config.USER_JWT_SECRET !== undefined || config.USER_JWKS_URL !== undefined)) {
  log.warn('USER_JWT_SECRET / USER_JWKS_URL are set but AUTH_MODE is anonymous: user tokens are not accepted');
}
const queue = new BullReplyQueue(redis, keys, config.QUEUE_SHARDS);
const replies = new ReplyState(redis, keys, {
  retentionSeconds: config.REPLY_RETENTION_SECONDS,
  // A queued or running reply's meta outlives its deadline, so the deadline can still end it.
  runningTtlSeconds: Math.ceil(config.REPLY_TIMEOUT_MS / 1000) + config.REPLY_RETENTION_SECONDS + 3600,
  maxFrames: config.REPLY_MAX_FRAMES,
  sessionTtlSeconds: config.SESSION_TTL_SECONDS,
  historyMaxMessages: config.HISTORY_MAX_MESSAGES,
  historyMaxBytes: config.HISTORY_MAX_BYTES,
  pubSub,
});
const hub = new SessionHub(new ChannelSubscriber(subscriber, pubSub), keys, log, config.RELAY_SUBSCRIPTION);
const deadlines = new ReplyDeadlines(replies, (ref) => queue.removeQueued(ref), { intervalMs: 1000, message: `no reply within ${config.REPLY_TIMEOUT_MS} ms; try again` }, log);
const series = new ReplySeries(redis, keys, log);
// This gateway's own replies end on time without waiting for the next sweep.
const tracker = new ReplyTracker(
  metrics,
  config.REPLY_TIMEOUT_MS,
  (sessionId, messageId) => {
    deadlines.end({ sessionId, messageId }).catch((err: unknown) => log.error({ err, sessionId, messageId }, 'could not end a timed-out reply'));
  },
  series,
);
hub.observe((_sessionId, frame) => tracker.observe(frame));
const control = new RedisSessionControl(redis, keys, replies, (ref) => queue.removeQueued(ref), log);
const expiry = new SessionExpiry(redis, keys, hub, config.SESSION_CHECK_INTERVAL_MS, log);
const memory = new RedisMemoryWatch(() => fullestMemoryInfo(redis), config.REDIS_MEMORY_HIGH_WATER, (now, was) => {
  metrics.redisMemoryUsed.set(now.usedBytes);
  metrics.redisMemoryMax.set(now.maxBytes);
  metrics.redisMemoryRefusing.set(now.refusing ? 1 : 0);
  if (now.refusing !== (was?.refusing ?? false)) {
    log.warn({ usedBytes: now.usedBytes, maxBytes: now.maxBytes }, now.refusing ? 'Redis past its high-water mark: refusing new sessions and messages' : 'Redis below its high-water mark again');
  }
});
const socketLeases = new SocketLeases(
  redis,
  keys,
  { instance, maxPerSession: config.MAX_SOCKETS_PER_SESSION, maxPerAddress: config.MAX_SOCKETS_PER_ADDRESS, leaseMs: config.WS_SOCKET_LEASE_MS },
  (err) => log.warn({ err }, 'could not renew socket leases'),
);
const ledger = new UsageLedger(redis, keys);
const budgets = new BudgetPolicy({ dailyTokens: config.USER_DAILY_TOKENS, monthlyCostUsd: config.USER_MONTHLY_COST_USD }, config.PLAN_BUDGETS);
// A block reaches every gateway within a second (the contract allows two).
const blocks = new UserBlocks(redis, keys, 1000, log);
await blocks.start();
const admission = new ChatAdmission({
  budgets: { policy: budgets, ledger },
  blocks,
  room: memory,
  sessionsPerAddress: new PerMinuteLimit(redis, keys, 'sessions', config.RATE_LIMIT_SESSIONS_PER_MIN, `session limit of ${config.RATE_LIMIT_SESSIONS_PER_MIN} per minute from this address`),
  userLimits: new UserRateLimits(redis, keys, { messagesPerMinute: config.RATE_LIMIT_USER_PER_MIN, tokensPerMinute: config.RATE_LIMIT_USER_TOKENS_PER_MIN }),
  sessions,
  maxSystemPromptChars: config.MAX_SYSTEM_PROMPT_CHARS,
  maxMetadataBytes: config.MAX_METADATA_BYTES,
});
const service = new ChatService(
  sessions,
  queue,
  tokens,
  tracker,
  admission,
  replies,
  new RedisSessionEndings(redis, keys, control, log, pubSub),
  { model: config.CHAT_MODEL, maxMessageChars: config.MAX_MESSAGE_CHARS, inflightTtlMs: config.REPLY_TIMEOUT_MS + 30_000, replyTimeoutMs: config.REPLY_TIMEOUT_MS },
  log,
);
const storedFrames = storedFrameReader(redis, keys);
const adminApi = new AdminApi({
  redis,
  keys,
  heartbeatMs: config.HEARTBEAT_MS,
  queue,
  series,
  blocks,
  ledger,
  budgets,
  sessions,
  replies,
  storedFrames,
  control,
  deleteSession: (sessionId) => service.deleteSession(sessionId),
  audit: new AuditLog(redis, keys),
  metrics,
  log,
});
const server = new GatewayServer({
  config,
  instance,
  redis,
  service,
  tokens,
  users,
  access: new SessionAccess(tokens, users, sessions),
  admin,
  hub,
  control,
  storedFrames,
  metrics,
  log,
  queueDepth: () => queue.depth(),
  inflightReplies: () => tracker.inFlight,
  webRoot: config.WEB_ROOT ?? fileURLToPath(new URL('../../web/dist/', import.meta.url)),
  sockets: socketLeases,
  usage: new UsageApi(ledger, budgets, usageCaller(tokens, sessions, config.AUTH_MODE === 'jwt' ? (h) => users.authenticate(h) : undefined)),
  adminApi,
  redisMemory: () => memory.reading,
});
const heartbeat = new Heartbeat(
  redis,
  keys,
  { instance, role: 'gateway', version: packageVersion(new URL('../package.json', import.meta.url)), intervalMs: config.HEARTBEAT_MS },
  () => ({ sockets: server.connections, sessions: hub.sessions, inflight: tracker.inFlight, draining: server.isDraining }),
  log,
);
memory.start();
socketLeases.start();
series.start();

const port = await server.listen(config.HOST, config.PORT).catch((err: Error) => {
  process.stderr.write(`${err.message} (PORT=${config.PORT})\n`);
  process.exit(1);
});
log.info({ port }, `gateway listening on http://${config.HOST}:${port}`);
expiry.start();
deadlines.start();
heartbeat.start();
// Replies silent for 3 s are re-read from their streams (a lost subscription heals itself).
hub.startPolling(1000, 3000);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal, connections: server.connections }, 'draining');
  expiry.stop();
  deadlines.stop();
  hub.stopPolling();
  await server.drain(config.DRAIN_TIMEOUT_MS);
  memory.stop();
  socketLeases.stop();
  tracker.close();
  blocks.stop();
  // Its last counts, then it leaves the fleet's list.
  await series.stop();
  await heartbeat.stop();
  await queue.close().catch(() => undefined);
  server.close();
  redis.disconnect();
  subscriber.disconnect();
  log.info('drained; exiting');
  await shutdownTracing();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
