// The floor: the same users talking straight to the model over HTTP with the openai SDK, no fleet in
// between. What the fleet adds is measured against this, on the same machine in the same run.
// The SDK costs far more CPU per token than a WebSocket client, so the users are shared among a few
// child processes; otherwise the client's own event loop would inflate the floor.
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { LatencyHistogram, type LatencySummary } from '@chat-fleet/loadgen';
import { benchMessage } from './message-content.js';

export interface FloorOptions {
  /** The model's OpenAI base URL, e.g. `http://127.0.0.1:8090/v1`. */
  baseUrl: string;
  model: string;
  maxTokens: number;
  users: number;
  durationS: number;
  rampS: number;
  thinkMs: { min: number; max: number };
  /** Message texts are benchMessage(phase, runId, user, turn). */
  phase: string;
  runId: string;
  /** Processes sharing the users; 1 runs them in this one. */
  procs: number;
  signal?: AbortSignal;
}

export interface FloorResult {
  readonly users: number;
  readonly durationS: number;
  readonly procs: number;
  readonly messages: number;
  readonly failures: number;
  /** Content chunks received. */
  readonly tokens: number;
  readonly ttftMs: LatencySummary;
  readonly responseMs: LatencySummary;
  readonly messagesPerSec: number;
  readonly errors: Record<string, number>;
  /** Event-loop delay of the client processes (the worst shard), 10 ms sampling as prom-client's. */
  readonly clientEventLoop: { readonly p99Ms: number; readonly maxMs: number };
}

/** One process's share: users `shard`, `shard + shards`, … of `users`. */
export interface FloorShardSpec extends Omit<FloorOptions, 'signal' | 'procs'> {
  shard: number;
  shards: number;
  /** Wall-clock start shared by every shard, so their ramps line up. */
  startAtEpochMs: number;
}

export interface FloorShardResult {
  messages: number;
  failures: number;
  tokens: number;
  errors: Record<string, number>;
  /** Encoded LatencyHistograms. */
  ttft: string;
  response: string;
  loopP99Ms: number;
  loopMaxMs: number;
}

export type FloorChildMessage = { type: 'result'; result: FloorShardResult } | { type: 'failed'; message: string };
export type FloorParentMessage = { type: 'start'; spec: FloorShardSpec } | { type: 'stop' };

function errorName(err: unknown): string {
  if (err instanceof OpenAI.APIError) return `http_${err.status ?? 'none'}`;
  if (err instanceof Error) return err.name;
  return 'unknown';
}

/**
 * Each user sends a message, reads the stream to its end, thinks, and repeats; as in the load
 * runner, users start spread over the ramp, the first message waits a random share of the longest
 * think time, and no message starts after the ramp plus the duration (those in flight finish).
 * A message succeeds when the stream ends with a finish_reason after at least one content chunk.
 */
export async function runFloorShard(spec: FloorShardSpec, signal?: AbortSignal): Promise<FloorShardResult> {
  const client = new OpenAI({ baseURL: spec.baseUrl, apiKey: 'bench-floor', maxRetries: 0, timeout: 120_000 });
  const ttft = new LatencyHistogram();
  const response = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let messages = 0;
  let failures = 0;
  let tokens = 0;
  await sleep(Math.max(0, spec.startAtEpochMs - Date.now()));
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();
  const deadline = started + (spec.rampS + spec.durationS) * 1000;
  const aborted = (): boolean => signal?.aborted === true;

  const fail = (code: string): void => {
    failures++;
    errors[code] = (errors[code] ?? 0) + 1;
  };

  const user = async (index: number): Promise<void> => {
    const offset = spec.users <= 1 ? 0 : (index / spec.users) * spec.rampS * 1000;
    await sleep(offset + Math.random() * spec.thinkMs.max);
    for (let turn = 1; performance.now() < deadline && !aborted(); turn++) {
      messages++;
      const t0 = performance.now();
      let first: number | undefined;
      let finished = false;
      try {
        const stream = await client.chat.completions.create(
          {
            model: spec.model,
            messages: [{ role: 'user', content: benchMessage(spec.phase, spec.runId, index, turn) }],
            stream: true,
            max_tokens: spec.maxTokens,
          },
          { signal },
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
      const think = spec.thinkMs.min + Math.random() * (spec.thinkMs.max - spec.thinkMs.min);
      if (performance.now() + think >= deadline) return;
      await sleep(think);
    }
  };

  const mine: number[] = [];
  for (let i = spec.shard; i < spec.users; i += spec.shards) mine.push(i);
  await Promise.all(mine.map((i) => user(i)));
  loop.disable();
  const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
  return { messages, failures, tokens, errors, ttft: ttft.encode(), response: response.encode(), loopP99Ms: ms(loop.percentile(99)), loopMaxMs: ms(loop.max) };
}

const CHILD_SCRIPT = fileURLToPath(new URL('./floor-child.js', import.meta.url));

/** Resolves once the child has sent its result and exited, so its CPU time is in ours (cutime). */
function runChild(spec: FloorShardSpec, signal: AbortSignal | undefined): Promise<FloorShardResult> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: FloorShardResult | undefined;
    let failure: Error | undefined;
    const onAbort = (): void => void child.send({ type: 'stop' } satisfies FloorParentMessage);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('message', (m: FloorChildMessage) => {
      if (m.type === 'result') result = m.result;
      else failure = new Error(`floor shard ${spec.shard}: ${m.message}`);
      child.disconnect();
    });
    child.once('error', (err) => {
      failure ??= err;
    });
    child.once('exit', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (result !== undefined) resolve(result);
      else reject(failure ?? new Error(`floor shard ${spec.shard} exited (${sig ?? `code ${code}`}) without a result`));
    });
    child.send({ type: 'start', spec } satisfies FloorParentMessage);
  });
}

export async function runFloor(options: FloorOptions): Promise<FloorResult> {
  const procs = Math.max(1, Math.min(options.procs, options.users));
  const { signal, procs: _procs, ...rest } = options;
  const startAtEpochMs = Date.now() + (procs > 1 ? 1000 : 0);
  const specs = Array.from({ length: procs }, (_, shard): FloorShardSpec => ({ ...rest, shard, shards: procs, startAtEpochMs }));
  const started = performance.now();
  const shards = procs === 1 ? [await runFloorShard(specs[0]!, signal)] : await Promise.all(specs.map((s) => runChild(s, signal)));
  const elapsedS = (performance.now() - started) / 1000 - (startAtEpochMs > 0 && procs > 1 ? 1 : 0);

  const ttft = new LatencyHistogram();
  const response = new LatencyHistogram();
  const errors: Record<string, number> = {};
  for (const s of shards) {
    ttft.merge(new LatencyHistogram(s.ttft));
    response.merge(new LatencyHistogram(s.response));
    for (const [code, n] of Object.entries(s.errors)) errors[code] = (errors[code] ?? 0) + n;
  }
  const sum = (k: 'messages' | 'failures' | 'tokens'): number => shards.reduce((n, s) => n + s[k], 0);
  return {
    users: options.users,
    durationS: options.durationS,
    procs,
    messages: sum('messages'),
    failures: sum('failures'),
    tokens: sum('tokens'),
    ttftMs: ttft.summary(),
    responseMs: response.summary(),
    messagesPerSec: Math.round((sum('messages') / Math.max(elapsedS, 0.001)) * 10) / 10,
    errors,
    clientEventLoop: {
      p99Ms: Math.max(...shards.map((s) => s.loopP99Ms)),
      maxMs: Math.max(...shards.map((s) => s.loopMaxMs)),
    },
  };
}
