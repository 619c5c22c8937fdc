// The launcher's side of a Redis topology (shared's RedisTopology: one server, a Cluster, or a
// Sentinel-watched primary): reading it from the environment, the variables a child gets for it,
// an admin client for it, and a reachability probe.
import { ConfigError, authOptions, sentinelOptions, type HostPort, type RedisClient, type RedisTopology } from '@chat-fleet/shared';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { pingRedis } from './redis-server.js';

export type RedisMode = RedisTopology['mode'];

export const REDIS_MODES: readonly RedisMode[] = ['single', 'cluster', 'sentinel'];

/** Every variable that says where Redis is or how to log in to it; a child gets exactly its topology's. */
export const REDIS_TOPOLOGY_VARIABLES = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_MASTER',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
  'REDIS_TLS',
] as const;

/** `host:port,host:port` (IPv6 hosts in brackets), the form REDIS_CLUSTER_NODES and REDIS_SENTINELS take. */
export function formatHostPorts(list: readonly HostPort[]): string {
  return list.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',');
}

/** The variables a gateway or worker reads for this topology (and none of the others). */
export function redisEnv(topology: RedisTopology): Record<string, string> {
  if (topology.mode === 'single') return { REDIS_URL: topology.url };
  const env: Record<string, string> =
    topology.mode === 'cluster'
      ? { REDIS_CLUSTER_NODES: formatHostPorts(topology.nodes) }
      : { REDIS_SENTINELS: formatHostPorts(topology.sentinels), REDIS_SENTINEL_MASTER: topology.name };
  if (topology.username !== undefined) env.REDIS_USERNAME = topology.username;
  if (topology.password !== undefined) env.REDIS_PASSWORD = topology.password;
  if (topology.tls === true) env.REDIS_TLS = 'true';
  return env;
}

/** `host:port,host:port` as a list; throws ConfigError naming `variable` on a bad entry. */
export function parseHostPorts(list: string, variable: string): HostPort[] {
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) throw new ConfigError(variable, 'expected host:port,host:port,…, got nothing');
  return entries.map((entry) => {
    const m = /^(\[[^\]\s]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(entry);
    const port = Number(m?.[2]);
    if (m === null || port < 1 || port > 65535) throw new ConfigError(variable, `expected host:port, got "${entry}"`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

/**
 * The topology the environment names, with the apps' precedence: REDIS_CLUSTER_NODES, then
 * REDIS_SENTINELS (with REDIS_SENTINEL_MASTER), then REDIS_URL; undefined when none is set.
 * REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS go with a cluster or Sentinel set-up.
 */
export function topologyFromEnv(env: Record<string, string | undefined>): RedisTopology | undefined {
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const nodes = get('REDIS_CLUSTER_NODES');
  const sentinels = get('REDIS_SENTINELS');
  if (nodes !== undefined && sentinels !== undefined) {
    throw new ConfigError('REDIS_SENTINELS', 'set either REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both');
  }
  const tlsRaw = get('REDIS_TLS');
  if (tlsRaw !== undefined && !/^(1|true|yes|on|0|false|no|off)$/i.test(tlsRaw)) {
    throw new ConfigError('REDIS_TLS', `expected true or false, got "${tlsRaw}"`);
  }
  const username = get('REDIS_USERNAME');
  const password = get('REDIS_PASSWORD');
  const auth = {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(tlsRaw !== undefined && /^(1|true|yes|on)$/i.test(tlsRaw) ? { tls: true } : {}),
  };
  if (nodes !== undefined) return { mode: 'cluster', nodes: parseHostPorts(nodes, 'REDIS_CLUSTER_NODES'), ...auth };
  if (sentinels !== undefined) {
    const list = parseHostPorts(sentinels, 'REDIS_SENTINELS');
    const name = get('REDIS_SENTINEL_MASTER');
    if (name === undefined) throw new ConfigError('REDIS_SENTINEL_MASTER', 'required with REDIS_SENTINELS: the name the Sentinels monitor');
    return { mode: 'sentinel', sentinels: list, name, ...auth };
  }
  const url = get('REDIS_URL');
  return url === undefined ? undefined : { mode: 'single', url };
}

/**
 * An ioredis client for the topology, for tooling and tests (the apps build theirs with shared's
 * createRedis): `Redis` for one server or a Sentinel-watched primary, `Cluster` for a cluster.
 * `options` apply to every underlying connection, `clusterOptions` to a Cluster client itself.
 */
export function connectRedis(topology: RedisTopology, options: RedisOptions = {}, clusterOptions: ClusterOptions = {}): RedisClient {
  if (topology.mode === 'single') return new Redis(topology.url, options);
  if (topology.mode === 'sentinel') return new Redis({ ...options, ...sentinelOptions(topology) });
  const own: ClusterOptions = {};
  if (options.lazyConnect !== undefined) own.lazyConnect = options.lazyConnect;
  if (options.enableOfflineQueue !== undefined) own.enableOfflineQueue = options.enableOfflineQueue;
  return new Cluster(topology.nodes, { ...own, ...clusterOptions, redisOptions: { ...options, ...authOptions(topology) } });
}

/**
 * True when the topology answers PING within the timeout (a cluster: with cluster_state:ok; a
 * Sentinel set-up: through the primary it names). Never throws and leaves no connection behind.
 */
export async function probeRedis(topology: RedisTopology, timeoutMs = 2000): Promise<boolean> {
  if (topology.mode === 'sentinel' && topology.password === undefined) {
    // ioredis keeps a 2 s timer for each Sentinel it failed to reach: ask them ourselves first.
    const answers = await Promise.all(
      topology.sentinels.map((s) => pingRedis(`redis${topology.tls === true ? 's' : ''}://${formatHostPorts([s])}`, timeoutMs)),
    );
    if (!answers.includes(true)) return false;
  }
  const client = connectRedis(
    topology,
    {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      sentinelRetryStrategy: () => null,
      // A Cluster client queues the first command until it has the slot map.
      enableOfflineQueue: topology.mode === 'cluster',
      disconnectTimeout: 50,
    },
    { clusterRetryStrategy: () => null },
  );
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const check = (async () => {
    await client.connect();
    if (client instanceof Cluster) {
      const info = String(await client.cluster('INFO'));
      if (!/^cluster_state:ok\r?$/m.test(info)) return false;
    }
    return (await client.ping()) === 'PONG';
  })().catch(() => false);
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
