// Starts a whole stack for one test file: its own key prefix and free ports on the run's Redis
// (one server, a cluster or a Sentinel set-up: see test-redis.ts), unless the test names another.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll } from '@jest/globals';
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
    // No MCP tools server unless a test asks for one: offered tools make every model request (and
    // its prompt tokens, which token limits and budgets count) bigger than the test expects.
    mcpTools: false,
    ...options,
    // One frame per token unless a test says otherwise: many tests check frames seq by seq.
    env: { LOG_LEVEL: 'debug', FRAME_BATCH_MS: '0', ...options.env, REDIS_PREFIX: prefix },
    simEnv: { ...SIM_DEFAULTS, ...options.simEnv },
  });
  return Object.assign(stack, { logDir: dir, prefix });
}

export interface UseStackHooks {
  /** Runs before the stack stops (e.g. to wake a worker a test stopped with SIGSTOP). */
  beforeStop?: (stack: TestStack) => void | Promise<void>;
  /** The beforeAll's timeout (default 60 s). */
  startTimeoutMs?: number;
}

/**
 * The stack of the enclosing describe block (or file): started in a beforeAll, stopped in an
 * afterAll, both declared where this is called, so hooks declared before it run first and after it
 * stop after it. The returned object stands for the stack once started. `options` may be a
 * function, for options known only once earlier beforeAll hooks ran (a private Redis's URL).
 */
export function useTestStack(name: string, options: Partial<StackOptions> | (() => Partial<StackOptions>) = {}, hooks: UseStackHooks = {}): TestStack {
  let started: TestStack | undefined;
  beforeAll(async () => {
    started = await startTestStack(name, typeof options === 'function' ? options() : options);
  }, hooks.startTimeoutMs ?? 60_000);
  afterAll(async () => {
    if (started === undefined) return;
    await hooks.beforeStop?.(started);
    await started.stop();
  });
  return new Proxy({} as TestStack, {
    get(_target, prop) {
      if (started === undefined) throw new Error(`the ${name} stack is not started (read before its beforeAll ran)`);
      const value: unknown = Reflect.get(started, prop, started);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(started) : value;
    },
  });
}
