// runLoad: drives one load level in this process or in `procs` child processes and folds the
// shards into one row of the load table.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LatencyHistogram, round1 } from './latency-histogram.js';
import type { LevelResult, LoadOptions, LoadProgress } from './load-options.js';
import { runShard, type ShardCounts, type ShardResult, type ShardSpec } from './load-shard.js';

/** Messages between the parent and a load child (over IPC). */
export type ChildMessage = { type: 'tick'; counts: ShardCounts } | { type: 'result'; result: ShardResult } | { type: 'failed'; message: string };
export type ParentMessage = { type: 'start'; spec: ShardSpec } | { type: 'stop' };

export async function runLoad(options: LoadOptions): Promise<LevelResult> {
  validate(options);
  const procs = Math.max(1, Math.min(options.procs ?? 1, options.users));
  if (procs > 1 && options.content !== undefined) throw new Error('runLoad: content cannot cross processes; use procs: 1');
  const startAtEpochMs = Date.now() + (procs > 1 ? 1000 : 0);
  const base: Omit<ShardSpec, 'procIndex'> = {
    gateways: options.gateways.map((g) => g.replace(/\/$/, '')),
    users: options.users,
    procs,
    durationS: options.durationS,
    thinkMs: options.thinkMs,
    rampS: options.rampS ?? 0,
    replyTimeoutMs: options.replyTimeoutMs ?? 60_000,
    turnsPerSession: options.turnsPerSession ?? 0,
    connectConcurrency: options.connectConcurrency ?? 100,
    staggerFirstMessage: options.staggerFirstMessage ?? true,
    userPrefix: options.userPrefix ?? `load-${randomBytes(4).toString('hex')}`,
    startAtEpochMs,
  };

  const counts: ShardCounts[] = Array.from({ length: procs }, () => ({ connected: 0, inFlight: 0, messages: 0, failures: 0 }));
  const progress = setInterval(() => {
    if (options.onProgress === undefined) return;
    const sum = (k: keyof ShardCounts): number => counts.reduce((n, c) => n + c[k], 0);
    const p: LoadProgress = {
      elapsedS: Math.max(0, (Date.now() - startAtEpochMs) / 1000),
      connected: sum('connected'),
      inFlight: sum('inFlight'),
      messages: sum('messages'),
      failures: sum('failures'),
    };
    options.onProgress(p);
  }, 500);

  let shards: ShardResult[];
  try {
    if (procs === 1) {
      shards = [
        await runShard(
          { ...base, procIndex: 0 },
          {
            content: options.content,
            signal: options.signal,
            onTick: (c) => {
              counts[0] = c;
            },
          },
        ),
      ];
    } else {
      shards = await Promise.all(
        Array.from({ length: procs }, (_, i) =>
          runChild({ ...base, procIndex: i }, options.signal, (c) => {
            counts[i] = c;
          }),
        ),
      );
    }
  } finally {
    clearInterval(progress);
  }
  return summarize(options, procs, startAtEpochMs, shards);
}

function validate(o: LoadOptions): void {
  const bad = (what: string): never => {
    throw new Error(`runLoad: ${what}`);
  };
  if (o.gateways.length === 0) bad('at least one gateway is needed');
  if (!Number.isInteger(o.users) || o.users < 1) bad('users must be a positive integer');
  if (!(o.durationS > 0)) bad('durationS must be positive');
  if (!(o.thinkMs.min >= 0) || !(o.thinkMs.max >= o.thinkMs.min)) bad('thinkMs must be 0 ≤ min ≤ max');
  if (o.rampS !== undefined && !(o.rampS >= 0)) bad('rampS must be ≥ 0');
}

/** Where the compiled child entry lives, also when this module runs from src/ (tests). */
function childScript(): string {
  const here = fileURLToPath(new URL('./load-child.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = here.replace(/([\\/])src([\\/])load-child\.js$/, '$1dist$2load-child.js');
  if (existsSync(built)) return built;
  throw new Error(`runLoad: ${here} is missing; build @chat-fleet/loadgen first`);
}

function runChild(spec: ShardSpec, signal: AbortSignal | undefined, onTick: (c: ShardCounts) => void): Promise<ShardResult> {
  return new Promise<ShardResult>((resolve, reject) => {
    const child = fork(childScript(), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    let settled = false;
    const onAbort = (): void => {
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'tick') onTick(m.counts);
      else if (m.type === 'result') settle(() => resolve(m.result));
      else settle(() => reject(new Error(`load child ${spec.procIndex}: ${m.message}`)));
    });
    child.on('error', (err) => settle(() => reject(err)));
    child.on('exit', (code, sig) =>
      settle(() => reject(new Error(`load child ${spec.procIndex} exited (${sig ?? code}) before its result`))),
    );
    child.send({ type: 'start', spec } satisfies ParentMessage);
    if (signal?.aborted) onAbort();
  });
}

function summarize(options: LoadOptions, procs: number, startAtEpochMs: number, shards: ShardResult[]): LevelResult {
  const ttft = new LatencyHistogram();
  const response = new LatencyHistogram();
  const connect = new LatencyHistogram();
  let peakConnected = 0;
  const errors: Record<string, number> = {};
  let messages = 0;
  let failures = 0;
  let successes = 0;
  let tokens = 0;
  let frames = 0;
  let reconnects = 0;
  let cached = 0;
  let cpuS = 0;
  let lastEnd = startAtEpochMs;
  for (const s of shards) {
    ttft.merge(new LatencyHistogram(s.ttft));
    response.merge(new LatencyHistogram(s.response));
    connect.merge(new LatencyHistogram(s.connect));
    peakConnected += s.peakConnected;
    for (const [code, n] of Object.entries(s.errors)) errors[code] = (errors[code] ?? 0) + n;
    messages += s.messages;
    failures += s.failures;
    successes += s.successes;
    tokens += s.tokens;
    frames += s.frames;
    reconnects += s.reconnects;
    cached += s.cached;
    cpuS += s.cpuS;
    lastEnd = Math.max(lastEnd, s.lastEndEpochMs);
  }
  const elapsedS = Math.max(0.001, (lastEnd - startAtEpochMs) / 1000);
  return {
    level: options.level ?? `${options.users} users`,
    users: options.users,
    durationS: options.durationS,
    messages,
    failures,
    successRate: messages === 0 ? 0 : Math.round((successes / messages) * 1e6) / 1e4,
    avgResponseMs: round1(response.meanMs()),
    ttftMs: ttft.percentiles(),
    responseMs: response.percentiles(),
    tokensPerSec: round1(tokens / elapsedS),
    errors,
    tokens,
    frames,
    reconnects,
    cached,
    elapsedS: Math.round(elapsedS * 100) / 100,
    procs,
    loadCpuS: Math.round(cpuS * 100) / 100,
    peakConnected,
    connectMs: connect.percentiles(),
  };
}
