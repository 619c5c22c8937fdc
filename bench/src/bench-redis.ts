// The Redis a bench runs on: the one at REDIS_URL (or a private redis-server), a private Redis Cluster
// or a private Sentinel set. What the meter needs of it: each primary's INFO and process, the
// standby processes (replicas, Sentinels), and where the fleet's single-slot keys landed.
import { createRedis, redisKeys, type RedisClient, type RedisTopology } from '@chat-fleet/shared';
import {
  ensureRedis,
  keySlot,
  startRedisCluster,
  startRedisSentinel,
  type ClusterPrimary,
  type RedisMode,
} from '@chat-fleet/stack';
import type { ShardPlacement } from './bench-result.js';
import { parseRedisPid } from './machine.js';

/** A primary: it executes the commands, so it is read for `INFO commandstats` and metered for CPU. */
export interface BenchRedisNode {
  /** `redis` for the one primary of a single Redis or Sentinel set, `redis-<port>` on a cluster. */
  readonly name: string;
  readonly pid: number | undefined;
  info(section: string): Promise<string>;
  /** Opens MONITOR on this node; every command it executes is passed on until the returned stop is called. */
  monitor(onCommand: (args: readonly string[], source: string) => void): Promise<() => void>;
  /** Deletes the keys under `prefix:` on this node. */
  dropKeys(prefix: string): Promise<void>;
}

export interface BenchRedis {
  readonly mode: RedisMode;
  readonly topology: RedisTopology;
  /** False only for a Redis found running at REDIS_URL (other clients' commands then count too). */
  readonly private: boolean;
  /** One line for the console. */
  readonly description: string;
  readonly primaries: readonly BenchRedisNode[];
  /**
   * Replicas and Sentinels: metered for CPU only (a replica's commandstats repeat its primary's), so
   * the machine time they take is not mistaken for other people's work.
   */
  readonly standby: ReadonlyArray<{ readonly name: string; readonly pid: number | undefined }>;
  /** A cluster's primaries with the queues and fleet-wide keys each serves; null for one primary. */
  readonly placement: readonly ShardPlacement[] | null;
  /** Closes the bench's own connections and stops what the bench started. */
  stop(): Promise<void>;
  /** SIGKILL to every Redis process the bench started, without waiting; for a forced exit. */
  kill(): void;
}

const HOST = '127.0.0.1';

function node(name: string, client: RedisClient, pid: number | undefined): BenchRedisNode {
  return {
    name,
    pid,
    info: (section) => client.info(section),
    async monitor(onCommand) {
      if (!('monitor' in client)) throw new Error(`${name}: MONITOR needs a connection to one node`);
      const monitor = await client.monitor();
      let stopped = false;
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (!stopped) onCommand(args, source);
      });
      // Lines still on the wire when the census stops reach a closing connection, which ioredis
      // reports as an 'error' ("Command queue state error"); unheard, it ended the bench.
      monitor.on('error', (err: Error) => {
        if (!stopped) process.stderr.write(`${name}: MONITOR connection: ${err.message}\n`);
      });
      return () => {
        stopped = true;
        monitor.disconnect();
      };
    },
    dropKeys: (prefix) => dropKeys(client, prefix, true),
  };
}

/**
 * The keys every reply, or every message of the fleet, goes through that hash to one slot each: the
 * queues and the fleet-wide keys. Which primary serves each decides how hot the hottest one gets.
 */
export function placeKeys(primaries: readonly ClusterPrimary[], prefix: string, queueShards: number): ShardPlacement[] {
  const keys = redisKeys(prefix);
  const labelled: Array<[label: string, key: string]> = [
    ...keys.chatQueues(queueShards).map((q): [string, string] => [`queue ${q}`, `${keys.bullPrefix}:${q}:wait`]),
    ['reply deadlines', keys.replyDeadlines],
    ['fleet usage ledger {usage}', keys.fleetUsage('day')],
    ['model budget (LLM_MAX_RPM)', `${keys.rateLimit('llm-rpm')}:fleet`],
    ['model budget (LLM_MAX_TPM)', `${keys.rateLimit('llm-tpm')}:fleet`],
    ['auth secret', keys.authSecret],
  ];
  return primaries.map((p) => ({
    node: `redis-${p.port}`,
    slots: p.slots.reduce((n, [a, b]) => n + b - a + 1, 0),
    holds: labelled
      .filter(([, key]) => {
        const slot = keySlot(key);
        return p.slots.some(([a, b]) => slot >= a && slot <= b);
      })
      .map(([label]) => label),
  }));
}

/** Finds or starts the Redis of `mode`; throws RedisNotFoundError when single mode has neither. */
export async function startBenchRedis(mode: RedisMode, options: { url: string; prefix: string; queueShards: number }): Promise<BenchRedis> {
  switch (mode) {
    case 'single': {
      const { url, server } = await ensureRedis(options.url);
      const client = createRedis(url, { name: 'bench' });
      const pid = parseRedisPid(await client.info('server'));
      return {
        mode,
        topology: { mode: 'single', url },
        private: server !== undefined,
        description: server === undefined ? `${url} (found running; keys under ${options.prefix}:)` : `a private redis-server at ${url}`,
        primaries: [node('redis', client, pid)],
        standby: [],
        placement: null,
        async stop() {
          if (server === undefined) await dropKeys(client, options.prefix);
          client.disconnect();
          await server?.stop();
        },
        kill: () => server?.kill('SIGKILL'),
      };
    }
    case 'cluster': {
      const cluster = await startRedisCluster();
      try {
        const primaries = await cluster.primaries();
        const primaryPorts = new Set(primaries.map((p) => p.port));
        const clients = primaries.map((p) => createRedis(`redis://${HOST}:${p.port}`, { name: 'bench' }));
        return {
          mode,
          topology: cluster.topology,
          private: true,
          description: `a private Redis Cluster, ${primaries.length} primaries (${primaries.map((p) => p.port).join(', ')}) with ${cluster.ports.length - primaries.length} replicas`,
          primaries: primaries.map((p, i) => node(`redis-${p.port}`, clients[i]!, cluster.pid(p.port))),
          standby: cluster.ports.filter((port) => !primaryPorts.has(port)).map((port) => ({ name: `replica-${port}`, pid: cluster.pid(port) })),
          placement: placeKeys(primaries, options.prefix, options.queueShards),
          async stop() {
            for (const c of clients) c.disconnect();
            await cluster.stop();
          },
          kill: () => cluster.killAll('SIGKILL'),
        };
      } catch (err) {
        await cluster.stop();
        throw err;
      }
    }
    case 'sentinel': {
      const set = await startRedisSentinel();
      try {
        const primary = await set.primary();
        const client = createRedis(`redis://${HOST}:${primary.port}`, { name: 'bench' });
        return {
          mode,
          topology: set.topology,
          private: true,
          description: `a private Sentinel set: primary ${primary.port}, a replica, Sentinels ${set.sentinelPorts.join(', ')}`,
          primaries: [node('redis', client, set.pid(primary.port))],
          standby: [
            ...set.redisPorts.filter((p) => p !== primary.port).map((port) => ({ name: `replica-${port}`, pid: set.pid(port) })),
            ...set.sentinelPorts.map((port) => ({ name: `sentinel-${port}`, pid: set.pid(port) })),
          ],
          placement: null,
          async stop() {
            client.disconnect();
            await set.stop();
          },
          kill: () => set.killAll('SIGKILL'),
        };
      } catch (err) {
        await set.stop();
        throw err;
      }
    }
  }
}

/** On a Redis that was already running, the bench leaves nothing of its own behind. */
async function dropKeys(client: RedisClient, prefix: string, oneByOne = false): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) {
      // A cluster node's keys span slots: one UNLINK each (pipelined) avoids CROSSSLOT.
      if (oneByOne && 'pipeline' in client) {
        const p = client.pipeline();
        for (const key of keys) p.unlink(key);
        await p.exec();
      } else {
        await client.unlink(...keys);
      }
    }
    cursor = next;
  } while (cursor !== '0');
}
