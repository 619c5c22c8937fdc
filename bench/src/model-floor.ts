// The floor: the same users talking straight to the model over HTTP with the openai SDK, no fleet in
// between. What the fleet adds is measured against this, on the same machine in the same run.
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { LatencyRecorder, type LatencySummary } from './latency.js';

export interface FloorOptions {
  /** The model's OpenAI base URL, e.g. `http://127.0.0.1:8090/v1`. */
  baseUrl: string;
  model: string;
  maxTokens: number;
  users: number;
  durationS: number;
  rampS: number;
  thinkMs: { min: number; max: number };
  content: (user: number, turn: number) => string;
  signal?: AbortSignal;
}

export interface FloorResult {
  readonly users: number;
  readonly durationS: number;
  readonly messages: number;
  readonly failures: number;
  /** Content chunks received. */
  readonly tokens: number;
  readonly ttftMs: LatencySummary;
  readonly responseMs: LatencySummary;
  readonly messagesPerSec: number;
  readonly errors: Record<string, number>;
}

function errorName(err: unknown): string {
  if (err instanceof OpenAI.APIError) return `http_${err.status ?? 'none'}`;
  if (err instanceof Error) return err.name;
  return 'unknown';
}

/**
 * Each user sends a message, reads the stream to its end, thinks, and repeats; no message starts
 * after the ramp plus the duration, and those in flight finish. A message succeeds when the stream ends with a
 * finish_reason after at least one content chunk.
 */
export async function runFloor(options: FloorOptions): Promise<FloorResult> {
  const client = new OpenAI({ baseURL: options.baseUrl, apiKey: 'bench-floor', maxRetries: 0, timeout: 120_000 });
  const ttft = new LatencyRecorder();
  const response = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let messages = 0;
  let failures = 0;
  let tokens = 0;
  const started = performance.now();
  // As in the load runner: the ramp comes first, then the duration.
  const deadline = started + (options.rampS + options.durationS) * 1000;
  const aborted = (): boolean => options.signal?.aborted === true;

  const fail = (code: string): void => {
    failures++;
    errors[code] = (errors[code] ?? 0) + 1;
  };

  const user = async (index: number): Promise<void> => {
    // Like the load runner: users start spread over the ramp, then each waits a random share of a
    // think time so the first messages do not all leave at once.
    const offset = options.users <= 1 ? 0 : (index / options.users) * options.rampS * 1000;
    await sleep(offset + Math.random() * options.thinkMs.max);
    for (let turn = 1; performance.now() < deadline && !aborted(); turn++) {
      messages++;
      const t0 = performance.now();
      let first: number | undefined;
      let finished = false;
      try {
        const stream = await client.chat.completions.create(
          {
            model: options.model,
            messages: [{ role: 'user', content: options.content(index, turn) }],
            stream: true,
            max_tokens: options.maxTokens,
          },
          { signal: options.signal },
        );
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          if (choice?.delta.content) {
            first ??= performance.now();
            tokens++;
          }
          if (choice?.finish_reason) finished = true;
        }
        if (first === undefined || !finished) fail(first === undefined ? 'no_content' : 'no_finish');
        else {
          ttft.recordMs(first - t0);
          response.recordMs(performance.now() - t0);
        }
      } catch (err) {
        if (aborted()) return;
        fail(errorName(err));
      }
      const think = options.thinkMs.min + Math.random() * (options.thinkMs.max - options.thinkMs.min);
      if (performance.now() + think >= deadline) return;
      await sleep(think);
    }
  };

  await Promise.all(Array.from({ length: options.users }, (_, i) => user(i)));
  const elapsedS = (performance.now() - started) / 1000;
  return {
    users: options.users,
    durationS: options.durationS,
    messages,
    failures,
    tokens,
    ttftMs: ttft.summary(),
    responseMs: response.summary(),
    messagesPerSec: Math.round((messages / elapsedS) * 10) / 10,
    errors,
  };
}
