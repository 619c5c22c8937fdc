// ioredis construction in one place, for every topology (one Redis, a Redis Cluster, Sentinel),
// so every process connects and reconnects the same way.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A command client of any topology: ioredis `Redis` (one Redis, or Sentinel's primary) or `Cluster`. */
export type RedisClient = Redis | Cluster;

export interface HostPort {
  host: string;
  port: number;
}

interface RedisAuth {
  username?: string;
  password?: string;
  tls?: boolean;
}

/** Where Redis is: REDIS_URL, REDIS_CLUSTER_NODES, or REDIS_SENTINELS + REDIS_SENTINEL_MASTER. */
export type RedisTopology =
  | { mode: 'single'; url: string }
  | ({ mode: 'cluster'; nodes: HostPort[] } & RedisAuth)
  | ({ mode: 'sentinel'; sentinels: HostPort[]; name: string } & RedisAuth);

/** How reply frames are published: sharded (SPUBLISH/SSUBSCRIBE, each frame only on its shard) on a cluster, classic elsewhere. */
export type PubSubMode = 'classic' | 'sharded';

export function pubSubModeOf(topology: RedisTopology): PubSubMode {
  return topology.mode === 'cluster' ? 'sharded' : 'classic';
}

/** One line for logs and errors; never the password. */
export function describeTopology(t: RedisTopology): string {
  const list = (hs: HostPort[]): string => hs.map((h) => `${h.host}:${h.port}`).join(',');
  if (t.mode === 'cluster') return `Redis Cluster ${list(t.nodes)} (REDIS_CLUSTER_NODES)`;
  if (t.mode === 'sentinel') return `Sentinel ${list(t.sentinels)}, master ${t.name} (REDIS_SENTINELS)`;
  const u = new URL(t.url);
  u.password = u.password === '' ? '' : '***';
  return `Redis ${u.toString()} (REDIS_URL)`;
}

export interface RedisClientOptions {
  /** Name shown in CLIENT LIST, e.g. `gateway-1:commands`. */
  name: string;
  /** Fail commands at once while disconnected instead of queueing them (request paths). */
  failFast?: boolean;
  /** BullMQ needs maxRetriesPerRequest: null on its blocking connections. */
  forBullmq?: boolean;
  autoPipelining?: boolean;
  /** A subscriber: on a cluster, its session channels are sharded (one connection per shard). */
  subscriber?: boolean;
}

// Reconnect for ever, backing off to 2 s: Redis restarts and failovers must heal by themselves.
const retryStrategy = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

function perConnection(options: RedisClientOptions): RedisOptions {
  const base: RedisOptions = { connectionName: options.name, retryStrategy, lazyConnect: false };
  if (options.forBullmq) return { ...base, maxRetriesPerRequest: null, enableReadyCheck: false };
  if (options.failFast) return { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
  return { ...base, maxRetriesPerRequest: 2 };
}

/** The credentials and TLS of a cluster or Sentinel topology, as ioredis options for each connection. */
export function authOptions(t: Exclude<RedisTopology, { mode: 'single' }>): RedisOptions {
  return {
    ...(t.username === undefined ? {} : { username: t.username }),
    ...(t.password === undefined ? {} : { password: t.password }),
    ...(t.tls === true ? { tls: {} } : {}),
  };
}

/** How to reach the primary a Sentinel set-up names: its Sentinels, its name, its credentials. */
export function sentinelOptions(t: Extract<RedisTopology, { mode: 'sentinel' }>): RedisOptions {
  return {
    ...authOptions(t),
    sentinels: t.sentinels,
    name: t.name,
    ...(t.password === undefined ? {} : { sentinelPassword: t.password }),
  };
}

export function createRedis(topology: RedisTopology | string, options: RedisClientOptions): RedisClient {
  const t: RedisTopology = typeof topology === 'string' ? { mode: 'single', url: topology } : topology;
  const conn = perConnection(options);
  const autoPipelining = options.autoPipelining ?? false;
  if (t.mode === 'single') return new Redis(t.url, { ...conn, enableAutoPipelining: autoPipelining });
  if (t.mode === 'sentinel') {
    return new Redis({
      ...conn,
      ...sentinelOptions(t),
      // Listen to the Sentinels' +switch-master: reconnect to the new primary at once, rather than
      // reading a demoted one (now a replica, perhaps empty while it resyncs) until a write fails.
      failoverDetector: true,
      enableAutoPipelining: autoPipelining,
      // After a failover, commands refused by a demoted primary (READONLY) reconnect to the new one.
      reconnectOnError: (err) => (/READONLY/.test(err.message) ? 2 : false),
    });
  }
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...conn, ...authOptions(t), connectionName: options.name },
    clusterRetryStrategy: retryStrategy,
    enableAutoPipelining: autoPipelining,
    enableOfflineQueue: options.failFast !== true,
    enableReadyCheck: options.forBullmq !== true,
    maxRedirections: 16,
    // A failover or a slot migration answers MOVED/ASK and TRYAGAIN for a moment: retry shortly.
    retryDelayOnFailover: 100,
    retryDelayOnTryAgain: 100,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 2000,
    shardedSubscribers: options.subscriber === true,
  };
  return new Cluster(t.nodes, clusterOptions);
}

/** Resolves once the client is ready, or rejects after `timeoutMs`. */
export async function waitReady(redis: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
