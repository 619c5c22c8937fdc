#!/usr/bin/env node
// `npm start`: composition root of the launcher. Finds or starts Redis (one server, a cluster or a
// Sentinel set-up), starts the stack, prints its URLs, and on Ctrl-C stops gateways and workers,
// then the simulator and the MCP tools server, then a private Redis.
import { rmSync } from 'node:fs';
import { ConfigError } from '@chat-fleet/shared';
import { parseLauncherEnv, type LauncherConfig } from './launcher-env.js';
import { describeExit } from './managed-process.js';
import { openFileLimit, RECOMMENDED_OPEN_FILES } from './open-file-limit.js';
import { ensureLauncherRedis, type LauncherRedis } from './launcher-redis.js';
import { RedisNotFoundError } from './redis-server.js';
import { formatStackBanner } from './stack-banner.js';
import { startStack, type Stack } from './stack.js';

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const complain = (line: string): void => void process.stderr.write(`${line}\n`);

function readConfig(): LauncherConfig {
  try {
    return parseLauncherEnv(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      complain(err.message);
      process.exit(1);
    }
    throw err;
  }
}

function hintOpenFiles(): void {
  const limit = openFileLimit();
  if (limit !== undefined && limit < RECOMMENDED_OPEN_FILES) {
    say(`note: the open-file limit is ${limit}; for many sockets raise it first (ulimit -n ${RECOMMENDED_OPEN_FILES})`);
  }
}

async function main(): Promise<void> {
  const config = readConfig();

  const abort = new AbortController();
  let redis: LauncherRedis | undefined;
  let stack: Stack | undefined;
  let redisPending: Promise<unknown> = Promise.resolve();
  let stackPending: Promise<unknown> = Promise.resolve();
  let shuttingDown = false;

  const shutdown = async (): Promise<void> => {
    say('\nstopping… (Ctrl-C again to kill)');
    abort.abort();
    // Whatever is still starting settles first, so nothing is left half-started.
    await redisPending.catch(() => undefined);
    await stackPending.catch(() => undefined);
    await stack?.stop();
    await redis?.private?.stop();
    say('stopped');
    process.exit(0);
  };
  const onSignal = (): void => {
    if (shuttingDown) {
      complain('forcing: SIGKILL to every process');
      stack?.kill('SIGKILL');
      redis?.private?.killAll('SIGKILL');
      process.exit(130);
    }
    shuttingDown = true;
    void shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // Children run in their own process groups, so a launcher that dies must take them along.
  process.on('exit', () => {
    stack?.kill('SIGKILL');
    if (redis?.private !== undefined) {
      redis.private.killAll('SIGKILL');
      rmSync(redis.private.dir, { recursive: true, force: true });
    }
  });

  try {
    const ensured = ensureLauncherRedis(config);
    redisPending = ensured;
    redis = await ensured;
  } catch (err) {
    if (shuttingDown) return;
    complain(err instanceof RedisNotFoundError ? err.message : `could not reach or start Redis: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  if (redis.note !== undefined) say(redis.note);
  if (shuttingDown) return;

  const childEnv: Record<string, string> = {};
  if (!config.logPrettySet) childEnv.LOG_PRETTY = '1';
  if (config.authSecret !== undefined) childEnv.AUTH_SECRET = config.authSecret;
  if (config.mcpServers !== undefined) childEnv.MCP_SERVERS = config.mcpServers;

  try {
    const started = startStack({
      redis: redis.topology,
      gateways: config.gateways,
      workers: config.workers,
      gatewayPorts: Array.from({ length: config.gateways }, (_, i) => config.port + i),
      metricsPorts: Array.from({ length: config.workers }, (_, i) => config.metricsPort + i),
      simPort: config.simPort,
      mcpToolsPort: config.mcpToolsPort,
      useSimulator: config.openaiApiKey === undefined,
      mcpTools: config.mcpServers === undefined ? {} : false,
      env: childEnv,
      output: 'inherit-prefixed',
      signal: abort.signal,
      onExit: (instance, exit) => complain(`${instance} exited (${describeExit(exit)}); the rest keep running`),
    });
    stackPending = started;
    stack = await started;
  } catch (err) {
    if (shuttingDown) return;
    const message = err instanceof Error ? err.message : String(err);
    complain(`could not start the stack: ${message}`);
    if (message.includes('already in use')) complain('(the ports come from PORT, METRICS_PORT, LLM_SIM_PORT and MCP_TOOLS_PORT)');
    await redis.private?.stop();
    process.exit(1);
  }
  if (shuttingDown) return;
  say(formatStackBanner(stack, { topology: redis.topology, private: redis.private !== undefined }));
  hintOpenFiles();
}

main().catch((err: unknown) => {
  complain(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
