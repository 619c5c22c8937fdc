// Starts the Redis for the whole run, of the kind TEST_REDIS_MODE names (`single` by default,
// `cluster`, `sentinel`; a jest config may pin it in `globals.TEST_REDIS_MODE`), unless the
// environment already names one of that kind (REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS +
// REDIS_SENTINEL_MASTER). It leaves exactly that topology's variables in the environment every
// test file inherits (testTopology() reads them).
import { rmSync } from 'node:fs';
import type { RedisTopology } from '@chat-fleet/shared';
import { REDIS_TOPOLOGY_VARIABLES, redisEnv, startRedisCluster, startRedisSentinel, startRedisServer, topologyFromEnv } from '@chat-fleet/stack';

// Loaded by jest outside its module map: no relative imports here.
type TestRedisMode = RedisTopology['mode'];
const MODES: readonly TestRedisMode[] = ['single', 'cluster', 'sentinel'];

function parseTestRedisMode(value: string | undefined): TestRedisMode {
  const mode = value === undefined || value.trim() === '' ? 'single' : value.trim();
  if (!(MODES as readonly string[]).includes(mode)) throw new Error(`TEST_REDIS_MODE: expected ${MODES.join(', ')}, got "${mode}"`);
  return mode as TestRedisMode;
}

interface RunRedis {
  readonly dir: string;
  stop(): Promise<void>;
  killAll(): void;
}

declare global {
  var __chatFleetRedis: RunRedis | undefined;
}

async function startPrivate(mode: TestRedisMode): Promise<{ topology: RedisTopology; redis: RunRedis }> {
  switch (mode) {
    case 'single': {
      const server = await startRedisServer();
      return { topology: { mode: 'single', url: server.url }, redis: { dir: server.dir, stop: () => server.stop(), killAll: () => server.kill('SIGKILL') } };
    }
    case 'cluster': {
      const cluster = await startRedisCluster();
      return { topology: cluster.topology, redis: cluster };
    }
    case 'sentinel': {
      const set = await startRedisSentinel();
      return { topology: set.topology, redis: set };
    }
  }
}

export default async function globalSetup(_globalConfig: unknown, projectConfig?: { globals?: Record<string, unknown> }): Promise<void> {
  const pinned = projectConfig?.globals?.TEST_REDIS_MODE;
  const mode = parseTestRedisMode(typeof pinned === 'string' ? pinned : process.env.TEST_REDIS_MODE);
  const url = process.env.REDIS_URL?.trim();
  const given = mode === 'single' ? (url ? { mode, url } : undefined) : topologyFromEnv(process.env);
  let topology: RedisTopology;
  if (given?.mode === mode) {
    topology = given;
  } else {
    const started = Date.now();
    const run = await startPrivate(mode);
    topology = run.topology;
    globalThis.__chatFleetRedis = run.redis;
    // Its processes run in their own process groups: a jest that exits or is interrupted without
    // its global teardown must not leave them behind.
    const discard = (): void => {
      run.redis.killAll();
      rmSync(run.redis.dir, { recursive: true, force: true });
    };
    process.once('exit', discard);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        discard();
        // Then the signal's usual end: our listener is gone, so it kills jest as before.
        process.kill(process.pid, signal);
      });
    }
    if (mode !== 'single') process.stderr.write(`\n[tests] private Redis ${mode} ready in ${Date.now() - started} ms\n`);
  }
  for (const name of REDIS_TOPOLOGY_VARIABLES) delete process.env[name];
  Object.assign(process.env, redisEnv(topology), { TEST_REDIS_MODE: mode });
}
