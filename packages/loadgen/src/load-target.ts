// What the load runs against: a stack started for the run (private key prefix, free ports) or the
// gateways of a running one; either way the simulator is set to the run's reply shape.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureRedis, startStack, type EnsuredRedis, type Stack } from '@chat-fleet/stack';

export interface SimShape {
  replyTokens?: number;
  ttftMs?: number;
  tokensPerSec?: number;
}

export interface LoadTarget {
  gateways: string[];
  /** The simulator's whole config as it answered, when a simulator is known. */
  simConfig: Record<string, unknown> | undefined;
  /** One line for the report. */
  description: string;
  stop(): Promise<void>;
  kill(): void;
}

export interface StartOwnStackOptions {
  gateways: number;
  workers: number;
  sim: SimShape;
  logDir: string;
  signal?: AbortSignal;
}

export async function startOwnStack(options: StartOwnStackOptions): Promise<LoadTarget> {
  const redis: EnsuredRedis = await ensureRedis(process.env.REDIS_URL);
  const prefix = `load-${randomBytes(4).toString('hex')}`;
  const simEnv: Record<string, string> = {};
  if (options.sim.replyTokens !== undefined) simEnv.SIM_REPLY_TOKENS = String(options.sim.replyTokens);
  if (options.sim.ttftMs !== undefined) simEnv.SIM_TTFT_MS = String(options.sim.ttftMs);
  if (options.sim.tokensPerSec !== undefined) simEnv.SIM_TOKENS_PER_SEC = String(options.sim.tokensPerSec);
  mkdirSync(options.logDir, { recursive: true });
  let stack: Stack;
  try {
    stack = await startStack({
      redisUrl: redis.url,
      gateways: options.gateways,
      workers: options.workers,
      ports: 'auto',
      useSimulator: true,
      // The run's own prefix keeps it apart from anything else on that Redis; warn keeps logs small.
      env: { REDIS_PREFIX: prefix, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
      simEnv,
      output: { dir: options.logDir },
      signal: options.signal,
    });
  } catch (err) {
    await redis.server?.stop();
    throw err;
  }
  const simConfig = stack.sim === undefined ? undefined : await configureSim(stack.sim.url, {});
  const redisNote = redis.server !== undefined ? `a private redis-server at ${redis.url}` : `the Redis at ${redis.url}`;
  return {
    gateways: stack.gateways.map((g) => g.url),
    simConfig,
    description:
      `own stack: ${options.gateways} gateways, ${options.workers} workers, simulator, ${redisNote} ` +
      `(prefix ${prefix}); logs in ${options.logDir}`,
    async stop() {
      await stack.stop();
      await redis.server?.stop();
    },
    kill() {
      stack.kill('SIGKILL');
      redis.server?.kill('SIGKILL');
    },
  };
}

export async function useRunningStack(gateways: string[], simUrl: string | undefined, sim: SimShape): Promise<LoadTarget> {
  const simConfig = simUrl === undefined ? undefined : await configureSim(simUrl, sim);
  for (const g of gateways) {
    const res = await fetch(`${g.replace(/\/$/, '')}/health`, { signal: AbortSignal.timeout(5000) }).catch((err: unknown) => {
      throw new Error(`${g}/health: ${String(err)}`);
    });
    await res.body?.cancel();
    if (res.status !== 200) throw new Error(`${g}/health answered ${res.status}`);
  }
  return {
    gateways,
    simConfig,
    description: `running stack at ${gateways.join(', ')}`,
    stop: () => Promise.resolve(),
    kill: () => undefined,
  };
}

/** POST /_sim/config with the shape's fields (the contract's simulator control); answers the whole config. */
export async function configureSim(simUrl: string, sim: SimShape): Promise<Record<string, unknown>> {
  const body: Record<string, number> = {};
  if (sim.replyTokens !== undefined) body.replyTokens = sim.replyTokens;
  if (sim.ttftMs !== undefined) body.ttftMs = sim.ttftMs;
  if (sim.tokensPerSec !== undefined) body.tokensPerSec = sim.tokensPerSec;
  const res = await fetch(`${simUrl.replace(/\/$/, '')}/_sim/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${simUrl}/_sim/config answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export function logDirFor(resultsDir: string, stamp: string): string {
  return join(resultsDir, `logs-${stamp}`);
}
