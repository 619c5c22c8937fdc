// The simulator's runtime-tunable behaviour: env defaults at boot, patched over HTTP by tests and benchmarks.
import { z } from 'zod';
import type { SimConfig } from './sim-config.js';

export const SimSettingsSchema = z.object({
  /** Delay from request to the first content token. */
  ttftMs: z.number().int().min(0).max(600_000),
  /** Token pace after the first; 0 sends every token at once. */
  tokensPerSec: z.number().min(0).max(1_000_000),
  /** Tokens in a full reply (max_tokens may cut it shorter). */
  replyTokens: z.number().int().min(1).max(100_000),
  /** Probability that a request fails. */
  failRate: z.number().min(0).max(1),
  /** Seeds both the reply text and the failure sequence. */
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  /** HTTP status of an injected failure. */
  failStatus: z.number().int().min(400).max(599),
  /** When > 0, a failing stream sends this many tokens and then drops the connection. */
  failAfterTokens: z.number().int().min(0).max(100_000),
});

export type SimSettings = Readonly<z.infer<typeof SimSettingsSchema>>;

/** Body of POST /_sim/config: any subset; unknown keys are rejected so a typo does not pass silently. */
export const SimSettingsPatchSchema = SimSettingsSchema.partial().strict();

export type SimSettingsPatch = z.infer<typeof SimSettingsPatchSchema>;

export function settingsFromConfig(config: SimConfig): SimSettings {
  return Object.freeze({
    ttftMs: config.SIM_TTFT_MS,
    tokensPerSec: config.SIM_TOKENS_PER_SEC,
    replyTokens: config.SIM_REPLY_TOKENS,
    failRate: config.SIM_FAIL_RATE,
    seed: config.SIM_SEED,
    failStatus: 500,
    failAfterTokens: 0,
  });
}

/** Holds the current settings; each change swaps in a new frozen object, so a request keeps the snapshot it started with. */
export class SimSettingsStore {
  private value: SimSettings;

  constructor(private readonly defaults: SimSettings) {
    this.value = defaults;
  }

  get current(): SimSettings {
    return this.value;
  }

  update(patch: SimSettingsPatch): SimSettings {
    this.value = Object.freeze({ ...this.value, ...patch });
    return this.value;
  }

  reset(): SimSettings {
    this.value = this.defaults;
    return this.value;
  }
}
