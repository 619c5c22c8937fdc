// Composition root of a gateway: config, Redis clients, parts, listen, drain on SIGTERM.
// Started by main.ts, after tracing.
import { hostname } from 'node:os';
import { shutdownTracing } from '@chat-fleet/shared/tracing';
import { fileURLToPath } from 'node:url';
import {
  ChannelSubscriber,
  ReplyMeta,
  SessionStore,
  storedFrameReader,
  UserRateLimits,
  createLogger,
  createRedis,
  endReplyWithError,
  loadGatewayConfig,
  loadOrExit,
  redisKeys,
  waitReady,
} from '@chat-fleet/shared';
import { resolveAuthSecret } from './auth/auth-secret.js';
import { TokenService } from './auth/token-service.js';
import { ChatService } from './chat/chat-service.js';
import { BullReplyQueue } from './chat/reply-queue.js';
import { ReplyTracker } from './chat/reply-tracker.js';
import { GatewayMetrics } from './metrics.js';
import { SessionHub } from './relay/session-hub.js';
import { RedisSessionControl } from './relay/session-control.js';
import { RedisSessionEndings } from './relay/session-ending.js';
import { SessionExpiry } from './relay/session-expiry.js';
import { GatewayServer } from './gateway-server.js';

const config = loadOrExit(() => loadGatewayConfig(process.env));
const instance = config.INSTANCE_ID ?? `gateway-${hostname()}-${process.pid}`;
const log = createLogger({ name: 'gateway', instance, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const keys = redisKeys(config.REDIS_PREFIX);

// Request paths fail fast while Redis is down (the client gets `unavailable`); the
// subscriber queues its SUBSCRIBEs and ioredis re-subscribes after a reconnect.
const redis = createRedis(config.REDIS_URL, { name: `${instance}:commands`, failFast: true });
const subscriber = createRedis(config.REDIS_URL, { name: `${instance}:subscriber` });
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
  process.stderr.write(`cannot reach Redis at ${config.REDIS_URL} (REDIS_URL)\n`);
  process.exit(1);
}

const sessions = new SessionStore(redis, keys, { ttlSeconds: config.SESSION_TTL_SECONDS });
const tokens = new TokenService(await resolveAuthSecret(config.AUTH_SECRET, redis, keys.authSecret), config.TOKEN_TTL_SECONDS);
const queue = new BullReplyQueue(redis, keys);
// A reply's meta lives as long as its frames may be resumed, counted from acceptance.
const replies = new ReplyMeta(redis, keys, config.REPLY_TIMEOUT_MS / 1000 + config.REPLY_RETENTION_SECONDS + 3600);
const hub = new SessionHub(new ChannelSubscriber(subscriber), keys, log, config.RELAY_SUBSCRIPTION);
const tracker = new ReplyTracker(metrics, config.REPLY_TIMEOUT_MS, (sessionId, messageId) => {
  log.warn({ sessionId, messageId }, 'no reply in time; ending it with an error');
  const error = { code: 'unavailable', message: `no reply within ${config.REPLY_TIMEOUT_MS} ms; try again` } as const;
  Promise.all([
    endReplyWithError(redis, keys, { sessionId, messageId }, error, config.REPLY_RETENTION_SECONDS),
    sessions.releaseInflight(sessionId, messageId),
  ]).catch(
    (err: unknown) => log.error({ err, sessionId, messageId }, 'could not end a timed-out reply'),
  );
});
hub.observe((_sessionId, frame) => tracker.observe(frame));
const control = new RedisSessionControl(redis, keys, replies, sessions, (id) => queue.removeQueued(id), config.REPLY_RETENTION_SECONDS, log);
const expiry = new SessionExpiry(redis, keys, hub, config.SESSION_CHECK_INTERVAL_MS, log);
const service = new ChatService(
  sessions,
  queue,
  tokens,
  tracker,
  new UserRateLimits(redis, keys, { messagesPerMinute: config.RATE_LIMIT_USER_PER_MIN, tokensPerMinute: config.RATE_LIMIT_USER_TOKENS_PER_MIN }),
  replies,
  new RedisSessionEndings(redis, keys, control, log),
  { model: config.CHAT_MODEL, maxMessageChars: config.MAX_MESSAGE_CHARS, inflightTtlMs: config.REPLY_TIMEOUT_MS + 30_000 },
  log,
);
const server = new GatewayServer({
  config,
  instance,
  redis,
  service,
  tokens,
  hub,
  control,
  storedFrames: storedFrameReader(redis, keys),
  metrics,
  log,
  queueDepth: () => queue.depth(),
  inflightReplies: () => tracker.inFlight,
  webRoot: config.WEB_ROOT ?? fileURLToPath(new URL('../../web/dist/', import.meta.url)),
});

const port = await server.listen(config.HOST, config.PORT).catch((err: Error) => {
  process.stderr.write(`${err.message} (PORT=${config.PORT})\n`);
  process.exit(1);
});
log.info({ port }, `gateway listening on http://${config.HOST}:${port}`);
expiry.start();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal, connections: server.connections }, 'draining');
  expiry.stop();
  await server.drain(config.DRAIN_TIMEOUT_MS);
  tracker.close();
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
