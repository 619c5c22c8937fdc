// Starts a whole stack for one test file: its own key prefix and free ports on the run's Redis
// (one server, a cluster or a Sentinel set-up: see test-redis.ts), unless the test names another.
import { mkdirSync } from 'node:fs';
import { startStack, type Stack, type StackOptions } from '@chat-fleet/stack';
import { testTopology } from './test-redis.js';

export const SIM_DEFAULTS = { SIM_TTFT_MS: '30', SIM_TOKENS_PER_SEC: '400', SIM_REPLY_TOKENS: '24' };

export type TestStack = Stack & {
  /** Where each process writes `<instance>.log`. */
  readonly logDir: string;
  /** The REDIS_PREFIX every process of this stack uses. */
  readonly prefix: string;
};

export async function startTestStack(name: string, options: Partial<StackOptions> = {}): Promise<TestStack> {
  // Read now, not at import: a test may point REDIS_URL at a Redis of its own for one stack.
  const redis = options.redis === undefined && options.redisUrl === undefined ? { redis: testTopology() } : {};
  const dir = new URL(`../../test-artifacts/logs/${name}-${Date.now()}/`, import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const prefix = options.env?.REDIS_PREFIX ?? `t-${name}-${Math.random().toString(36).slice(2, 8)}`;
  const stack = await startStack({
    ...redis,
    gateways: 2,
    workers: 1,
    ports: 'auto',
    output: { dir },
    ...options,
    // One frame per token unless a test says otherwise: many tests check frames seq by seq.
    env: { LOG_LEVEL: 'debug', FRAME_BATCH_MS: '0', ...options.env, REDIS_PREFIX: prefix },
    simEnv: { ...SIM_DEFAULTS, ...options.simEnv },
  });
  return Object.assign(stack, { logDir: dir, prefix });
}
