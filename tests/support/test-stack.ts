// Starts a whole stack for one test file: its own key prefix and free ports on the shared Redis.
import { mkdirSync } from 'node:fs';
import { startStack, type Stack, type StackOptions } from '@chat-fleet/stack';

export const SIM_DEFAULTS = { SIM_TTFT_MS: '30', SIM_TOKENS_PER_SEC: '400', SIM_REPLY_TOKENS: '24' };

export type TestStack = Stack & {
  /** Where each process writes `<instance>.log`. */
  readonly logDir: string;
  /** The REDIS_PREFIX every process of this stack uses. */
  readonly prefix: string;
};

export async function startTestStack(name: string, options: Partial<StackOptions> = {}): Promise<TestStack> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error('REDIS_URL is not set; the jest global setup starts a redis-server');
  const dir = new URL(`../../test-artifacts/logs/${name}-${Date.now()}/`, import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const prefix = options.env?.REDIS_PREFIX ?? `t-${name}-${Math.random().toString(36).slice(2, 8)}`;
  const stack = await startStack({
    redisUrl,
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
