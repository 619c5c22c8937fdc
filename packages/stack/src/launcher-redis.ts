// The Redis `npm start` runs the fleet on: the cluster or Sentinel set-up the environment names,
// else the Redis at REDIS_URL if it answers, else a private one of REDIS_MODE's kind.
import { describeTopology, type RedisTopology } from '@chat-fleet/shared';
import type { LauncherConfig } from './launcher-env.js';
import { startRedisCluster } from './redis-cluster.js';
import { startRedisSentinel } from './redis-sentinel.js';
import { ensureRedis } from './redis-server.js';
import { probeRedis } from './redis-topology.js';

/** Redis processes the launcher started; discarded on exit. */
export interface PrivateRedis {
  /** Their private directory, removed by stop() (and by the launcher's last-ditch exit handler). */
  readonly dir: string;
  stop(): Promise<void>;
  /** Signals every process at once without waiting (default SIGKILL). */
  killAll(signal?: NodeJS.Signals): void;
}

export interface LauncherRedis {
  readonly topology: RedisTopology;
  /** Set when the launcher started it. */
  readonly private: PrivateRedis | undefined;
  /** What happened, for the console, e.g. that a private cluster was started. */
  readonly note: string | undefined;
}

/** Throws with one line when a given set-up does not answer or no private one can be started. */
export async function ensureLauncherRedis(config: Pick<LauncherConfig, 'redisUrl' | 'redisMode' | 'redisGiven' | 'sentinelMaster'>): Promise<LauncherRedis> {
  if (config.redisGiven !== undefined) {
    if (!(await probeRedis(config.redisGiven, 3000))) throw new Error(`no Redis answers: ${describeTopology(config.redisGiven)}`);
    return { topology: config.redisGiven, private: undefined, note: undefined };
  }
  switch (config.redisMode) {
    case 'single': {
      const { url, server } = await ensureRedis(config.redisUrl);
      return {
        topology: { mode: 'single', url },
        private: server === undefined ? undefined : { dir: server.dir, stop: () => server.stop(), killAll: (signal) => server.kill(signal) },
        note: server === undefined ? undefined : `no Redis answers at ${config.redisUrl}; started a private redis-server at ${url}`,
      };
    }
    case 'cluster': {
      const cluster = await startRedisCluster();
      const primaries = await cluster.primaries();
      return {
        topology: cluster.topology,
        private: cluster,
        note: `REDIS_MODE=cluster: started a private Redis Cluster (${primaries.length} primaries, ${cluster.ports.length - primaries.length} replicas)`,
      };
    }
    case 'sentinel': {
      const set = await startRedisSentinel({ masterName: config.sentinelMaster });
      const primary = await set.primary();
      return {
        topology: set.topology,
        private: set,
        note: `REDIS_MODE=sentinel: started a private primary (${primary.host}:${primary.port}), a replica and 3 Sentinels`,
      };
    }
  }
}
