// Composition root of an LLM worker: config, Redis, the model client, the BullMQ worker.
// Started by main.ts, after tracing.
import { hostname } from 'node:os';
import { shutdownTracing } from '@chat-fleet/shared/tracing';
import { Queue, RateLimitError, UnrecoverableError, Worker } from 'bullmq';
import OpenAI from 'openai';
import {
  ChannelSubscriber,
  BudgetPolicy,
  Heartbeat,
  Prices,
  ReplyState,
  UsageLedger,
  SessionStore,
  UserRateLimits,
  createLogger,
  createRedis,
  describeTopology,
  pubSubModeOf,
  loadOrExit,
  loadWorkerConfig,
  packageVersion,
  redisKeys,
  waitReady,
  withTimeout,
  type ChatJob,
} from '@chat-fleet/shared';
import { ContextBuilder } from './context-builder.js';
import { ModelBudget } from './model-budget.js';
import { CancelWatch } from './cancel-watch.js';
import { Coalescer } from './coalescer.js';
import { BudgetExceededError, Generation } from './generation.js';
import { ReplyCache } from './reply-cache.js';
import { RetryingModelClient } from './retrying-model-client.js';
import { WorkerMetrics } from './metrics.js';
import { startMetricsServer } from './metrics-server.js';
import { httpFetch } from './http-fetch.js';
import { OpenAIModelClient } from './model-client.js';
import { McpToolbox } from './tools/mcp-toolbox.js';
import { Retrieval, httpPassages, toolPassages } from './tools/retrieval.js';

const config = loadOrExit(() => loadWorkerConfig(process.env));
const instance = config.INSTANCE_ID ?? `worker-${hostname()}-${process.pid}`;
const log = createLogger({ name: 'llm-worker', instance, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
const keys = redisKeys(config.REDIS_PREFIX);

// Frames from hundreds of concurrent streams share one connection; auto-pipelining batches
// the commands issued in the same tick into one write.
const pubSub = pubSubModeOf(config.redis);
const redis = createRedis(config.redis, { name: `${instance}:commands`, autoPipelining: true });
const bullConnection = createRedis(config.redis, { name: `${instance}:bullmq`, forBullmq: true });
// Coalesced replies follow their leader's frames live; ioredis re-subscribes after a reconnect.
const subscriber = createRedis(config.redis, { name: `${instance}:subscriber`, subscriber: true });
// The queues' depth for metrics, on a connection of its own: BullMQ puts its ~50 scripts on the
// client a Queue uses, and every auto-pipeline of the frames' client would copy them.
const queueStats = createRedis(config.redis, { name: `${instance}:queue-stats` });
for (const [name, client] of [['commands', redis], ['bullmq', bullConnection], ['subscriber', subscriber], ['queue-stats', queueStats]] as const) {
  client.on('error', (err: Error) => log.warn({ err: err.message, client: name }, 'redis error'));
}
try {
  await waitReady(redis, 30_000);
} catch {
  process.stderr.write(`cannot reach ${describeTopology(config.redis)}\n`);
  process.exit(1);
}

// Every worker takes from all QUEUE_SHARDS queues (one per cluster slot).
const queueNames = keys.chatQueues(config.QUEUE_SHARDS);
const queues = queueNames.map((name) => new Queue<ChatJob>(name, { connection: queueStats, prefix: keys.bullPrefix }));
/** Job counts by state, summed over the queues. */
async function jobCounts(...states: Parameters<Queue['getJobCounts']>): Promise<Record<string, number>> {
  const all = await Promise.all(queues.map((q) => q.getJobCounts(...states)));
  const sum: Record<string, number> = {};
  for (const counts of all) for (const [state, n] of Object.entries(counts)) sum[state] = (sum[state] ?? 0) + n;
  return sum;
}
const metrics = new WorkerMetrics({ instance }, () => jobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'));
metrics.redis.watch(redis, 'commands');
// BullMQ's connection blocks on purpose (waiting for jobs): its latency would mislead.
metrics.redis.watch(bullConnection, 'bullmq', 0);
metrics.redis.watch(subscriber, 'subscriber', 0);
const sessions = new SessionStore(redis, keys, { ttlSeconds: config.SESSION_TTL_SECONDS });
// httpFetch: node:http under the SDK, a third less CPU per streamed reply than the global fetch.
const openai = new OpenAI({ baseURL: config.openaiBaseUrl, apiKey: config.openaiApiKey, maxRetries: 0, timeout: config.UPSTREAM_TIMEOUT_MS, fetch: httpFetch });
const channels = new ChannelSubscriber(subscriber, pubSub);
const cancels = new CancelWatch(channels, keys);
const replies = new ReplyState(redis, keys, {
  retentionSeconds: config.REPLY_RETENTION_SECONDS,
  runningTtlSeconds: config.REPLY_RETENTION_SECONDS + 3600,
  maxFrames: config.REPLY_MAX_FRAMES,
  sessionTtlSeconds: config.SESSION_TTL_SECONDS,
  historyMaxMessages: config.HISTORY_MAX_MESSAGES,
  historyMaxBytes: config.HISTORY_MAX_BYTES,
  pubSub,
});
/** Resolves once Redis answers a PING, trying every 200 ms for up to `ms`. */
async function redisAnswers(ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await withTimeout(redis.ping(), 1000).then(() => true, () => false)) return;
    if (Date.now() >= deadline) throw new Error(`Redis did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
await cancels.start();
// The MCP servers' tools, listed before the first job (a server that does not answer within a
// few seconds is listed once it does; replies go on without its tools meanwhile).
const toolbox = config.MCP_SERVERS.length === 0 ? undefined : new McpToolbox(config.MCP_SERVERS, { timeoutMs: config.TOOL_TIMEOUT_MS, maxResultBytes: config.TOOL_RESULT_MAX_BYTES, log });
if (toolbox !== undefined) {
  await Promise.race([toolbox.start(), new Promise((r) => setTimeout(r, 5000).unref())]);
  log.info({ servers: config.MCP_SERVERS.map((s) => s.name), tools: toolbox.tools.map((t) => t.function.name) }, 'MCP tools listed');
}
const retrieval = retrievalOf(toolbox);
const generation = new Generation(
  {
    replies,
    redisAnswers,
    context: new ContextBuilder(sessions, config.CONTEXT_MAX_TOKENS),
    model: new RetryingModelClient(new OpenAIModelClient(openai), {
      maxAttempts: config.UPSTREAM_MAX_ATTEMPTS,
      deadlineMs: config.UPSTREAM_TIMEOUT_MS,
      onRetry: (info) => {
        metrics.upstreamRetries.inc({ kind: info.kind });
        log.info({ attempt: info.attempt, delayMs: info.delayMs, kind: info.kind }, 'retrying the model call');
      },
    }),
    metrics,
    limits: new UserRateLimits(redis, keys, { messagesPerMinute: config.RATE_LIMIT_USER_PER_MIN, tokensPerMinute: config.RATE_LIMIT_USER_TOKENS_PER_MIN }),
    cache: new ReplyCache(redis, keys, config.CACHE_TTL_SECONDS),
    coalescer: new Coalescer(redis, channels, keys, { leaseMs: config.UPSTREAM_TIMEOUT_MS + 30_000, idleCheckMs: 1000 }),
    cancels,
    budgets: new BudgetPolicy({ dailyTokens: config.USER_DAILY_TOKENS, monthlyCostUsd: config.USER_MONTHLY_COST_USD }, config.PLAN_BUDGETS),
    ledger: new UsageLedger(redis, keys),
    // Without OPENAI_API_KEY the model is the embedded simulator (or a self-hosted one): no list
    // price applies, only what MODEL_PRICES says.
    prices: Prices.of(config.MODEL_PRICES, config.OPENAI_API_KEY === undefined),
    budget: new ModelBudget(redis, keys, { requestsPerMinute: config.LLM_MAX_RPM, tokensPerMinute: config.LLM_MAX_TPM, windowSeconds: config.LLM_BUDGET_WINDOW_SECONDS }),
    ...(toolbox === undefined ? {} : { tools: toolbox }),
    ...(retrieval === undefined ? {} : { retrieval }),
  },
  {
    model: config.CHAT_MODEL,
    maxReplyTokens: config.MAX_REPLY_TOKENS,
    frameBatchMs: config.FRAME_BATCH_MS,
    frameBatchMaxMs: config.FRAME_BATCH_MAX_MS,
    upstreamTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
    coalesce: config.COALESCE,
    maxRestarts: Math.max(0, config.UPSTREAM_MAX_ATTEMPTS - 1),
    toolMaxSteps: config.TOOL_MAX_STEPS,
  },
  log,
);

/** The retrieval context provider: CONTEXT_TOOL (an MCP tool) or CONTEXT_URL (HTTP), if either is set. */
function retrievalOf(tools: McpToolbox | undefined): Retrieval | undefined {
  const options = { timeoutMs: config.TOOL_TIMEOUT_MS, maxTokens: config.CONTEXT_PASSAGE_TOKENS, log };
  if (config.CONTEXT_TOOL !== undefined) {
    if (tools === undefined) {
      process.stderr.write(`CONTEXT_TOOL: "${config.CONTEXT_TOOL}" names an MCP tool, but MCP_SERVERS is not set\n`);
      process.exit(1);
    }
    return new Retrieval(toolPassages(tools, config.CONTEXT_TOOL), options);
  }
  return config.CONTEXT_URL === undefined ? undefined : new Retrieval(httpPassages(config.CONTEXT_URL), options);
}

// One BullMQ Worker per queue, sharing the process's concurrency.
const perQueue = Math.max(1, Math.ceil(config.WORKER_CONCURRENCY / queueNames.length));
/** Jobs running here now (cache replays and coalesced replies too), for the heartbeat. */
let running = 0;
const workers: Array<Worker<ChatJob>> = queueNames.map((name) => {
  const worker: Worker<ChatJob> = new Worker<ChatJob>(
    name,
    async (job) => {
      running++;
      try {
        await generation.run(job);
      } catch (err) {
        if (err instanceof BudgetExceededError) {
          // Over the fleet's model budget: the job goes back to the queue and this queue's
          // workers pause taking jobs until the window has room (BullMQ's manual rate limit).
          await worker.rateLimit(err.retryAfterMs);
          throw new RateLimitError();
        }
        // The client already has its error frame; BullMQ must not run the job again.
        throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
      } finally {
        running--;
      }
    },
    {
      connection: bullConnection,
      prefix: keys.bullPrefix,
      concurrency: perQueue,
      autorun: true,
      // Stalled-job recovery: a dead worker's jobs go back to the queue once their lock expires,
      // checked every half lock; a job that stalls twice more fails (the gateway then ends it).
      lockDuration: config.WORKER_LOCK_MS,
      stalledInterval: Math.max(500, Math.floor(config.WORKER_LOCK_MS / 2)),
      maxStalledCount: 2,
    },
  );
  worker.on('error', (err) => log.warn({ err: err.message, queue: name }, 'worker error'));
  return worker;
});

const startedAt = Date.now();
const server = await startMetricsServer(config.METRICS_PORT, metrics.registry, async () => {
  const t0 = performance.now();
  const up = await withTimeout(redis.ping(), 1000).then(() => true, () => false);
  const redisRttMs = up ? Math.round((performance.now() - t0) * 100) / 100 : null;
  const queueDepth = up
    ? await withTimeout(jobCounts('waiting', 'prioritized', 'delayed'), 1000).then(
        (c) => Object.values(c).reduce((a, b) => a + b, 0),
        () => null,
      )
    : null;
  return {
    status: up ? 200 : 503,
    body: {
      status: up ? 'ok' : 'degraded',
      redis: up ? 'up' : 'down',
      instance,
      redisRttMs,
      queueDepth,
      activeGenerations: generation.active,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      model: config.CHAT_MODEL,
      baseUrl: config.openaiBaseUrl,
      concurrency: config.WORKER_CONCURRENCY,
      running: workers.every((w) => w.isRunning()),
      queues: queueNames.length,
    },
  };
}).catch((err: Error) => {
  process.stderr.write(`${err.message} (METRICS_PORT=${config.METRICS_PORT})\n`);
  process.exit(1);
});
const heartbeat = new Heartbeat(
  redis,
  keys,
  { instance, role: 'worker', version: packageVersion(new URL('../package.json', import.meta.url)), intervalMs: config.HEARTBEAT_MS },
  () => ({ inflight: running }),
  log,
);
heartbeat.start();
log.info({ metricsPort: config.METRICS_PORT, model: config.CHAT_MODEL, baseUrl: config.openaiBaseUrl, concurrency: config.WORKER_CONCURRENCY }, 'worker ready');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: finishing the replies in progress');
  const forced = setTimeout(() => {
    log.warn('replies still running at the deadline; closing anyway');
    for (const w of workers) void w.close(true);
  }, 25_000);
  await Promise.all(workers.map((w) => w.close()));
  clearTimeout(forced);
  await heartbeat.stop();
  await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
  await toolbox?.close();
  server.close();
  redis.disconnect();
  bullConnection.disconnect();
  subscriber.disconnect();
  queueStats.disconnect();
  await shutdownTracing();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
