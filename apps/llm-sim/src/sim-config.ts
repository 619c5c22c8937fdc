// The simulator's configuration: parsed once from the environment at boot, frozen, passed down.
// The variable readers and the one-line errors are the fleet's own (@chat-fleet/shared's config).
import { z } from 'zod';
import { envVar, parseEnv } from '@chat-fleet/shared';

const { int, num, str, logLevel } = envVar;

export const SimConfigSchema = z.object({
  LLM_SIM_PORT: int(8090, 0, 65535),
  HOST: str('127.0.0.1'),
  LOG_LEVEL: logLevel,
  SIM_TTFT_MS: int(150, 0, 600_000),
  SIM_TOKENS_PER_SEC: num(60, 0, 1_000_000),
  SIM_REPLY_TOKENS: int(48, 1, 100_000),
  SIM_FAIL_RATE: num(0, 0, 1),
  SIM_SEED: int(42, 0, 2 ** 31 - 1),
});

export type SimConfig = Readonly<z.infer<typeof SimConfigSchema>>;

export function loadSimConfig(env: Record<string, string | undefined> = process.env): SimConfig {
  return parseEnv(SimConfigSchema, env);
}
