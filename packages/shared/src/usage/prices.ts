// What a model costs, per million tokens, in US dollars. The defaults are OpenAI's list prices
// for common chat models (standard tier, as of 2026); MODEL_PRICES overrides or adds entries.
// A model that is not in the table costs nothing: the embedded simulator is free.
import { z } from 'zod';

export const ModelPriceSchema = z.object({
  /** USD per 1M prompt tokens. */
  input: z.number().nonnegative(),
  /** USD per 1M completion tokens. */
  output: z.number().nonnegative(),
});
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

export const PriceTableSchema = z.record(z.string().min(1), ModelPriceSchema);
export type PriceTable = Readonly<Record<string, ModelPrice>>;

export const DEFAULT_PRICES: PriceTable = Object.freeze({
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
});

/** Nano-dollars (1e-9 USD): costs are counted in whole numbers in Redis. */
export const NANOS_PER_USD = 1_000_000_000;

export class Prices {
  constructor(private readonly table: PriceTable) {}

  /** The table a worker uses: the defaults plus overrides, or only the overrides for the free simulator. */
  static of(overrides: PriceTable | undefined, simulator: boolean): Prices {
    return new Prices({ ...(simulator ? {} : DEFAULT_PRICES), ...overrides });
  }

  /** Cost in nano-dollars of a call; 0 for a model not in the table. */
  costNanos(model: string, promptTokens: number, completionTokens: number): number {
    const price = this.table[model];
    if (price === undefined) return 0;
    // USD per 1M tokens is nano-USD per 1e-3 token: ×1000 per token.
    return Math.round(promptTokens * price.input * 1000 + completionTokens * price.output * 1000);
  }
}

export function nanosToUsd(nanos: number): number {
  return Math.round(nanos) / NANOS_PER_USD;
}

export function usdToNanos(usd: number): number {
  return Math.round(usd * NANOS_PER_USD);
}
