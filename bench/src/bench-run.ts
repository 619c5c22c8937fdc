// The measurements of one bench, in order: idle sockets on fresh gateways, the model floor, the system
// at full load (metered), then many users at a realistic pace (its Redis commands metered too).
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type LevelResult, type LoadProgress } from '@chat-fleet/loadgen';
import type { Stack } from '@chat-fleet/stack';
import type { BenchOptions } from './bench-options.js';
import type { BenchResult, IdleMeasurement, SystemResult } from './bench-result.js';
import { checkGoals, judgeFloor, overhead } from './goals.js';
import { measureIdleMemory } from './idle-memory.js';
import type { MachineInfo, SourceInfo } from './machine.js';
import { benchMessage } from './message-content.js';
import { runFloor, type FloorResult } from './model-floor.js';
import { describeShards } from './report.js';
import { ResourceMeter, type CommandStatsSource, type MeteredProcess } from './resource-meter.js';

/** Floor clients share the users among this many processes (the openai SDK is CPU-hungry). */
const FLOOR_PROCS = 2;
/** What the workers ask the model for: MAX_REPLY_TOKENS and CHAT_MODEL defaults. */
const MODEL = 'gpt-4o-mini';
const MAX_TOKENS = 1024;

export interface BenchRunDeps {
  readonly options: BenchOptions;
  readonly stack: Stack;
  readonly redis: {
    /** False when found running: other clients' commands count too. */
    readonly private: boolean;
    /** Every primary (one unless a cluster): its commands and its process's CPU count. */
    readonly primaries: ReadonlyArray<CommandStatsSource & { readonly pid: number | undefined }>;
    /** Replicas and Sentinels: CPU only, apart from the fleet's. */
    readonly standby: ReadonlyArray<{ readonly name: string; readonly pid: number | undefined }>;
    /** What the result says about it (prefix, topology, QUEUE_SHARDS, placement). */
    readonly setup: BenchResult['setup']['redis'];
  };
  readonly prefix: string;
  readonly runId: string;
  readonly machine: MachineInfo;
  readonly source: SourceInfo;
  readonly idleSkipped: BenchResult['idleSkipped'];
  readonly openFiles: BenchResult['setup']['openFiles'];
  readonly ticksPerSecond: number;
  readonly args: readonly string[];
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
  /** Transient progress (one line, overwritten on a terminal). */
  readonly progress: (line: string) => void;
}

function withRates(r: LevelResult): SystemResult {
  const s = r.elapsedS > 0 ? r.elapsedS : r.durationS;
  return { ...r, messagesPerSec: Math.round((r.messages / s) * 10) / 10, framesPerSec: Math.round(r.frames / s) };
}

function progressLine(phase: string, p: LoadProgress): string {
  return `${phase}  ${p.elapsedS.toFixed(0)} s  connected ${p.connected}  in flight ${p.inFlight}  ended ${p.messages}  failed ${p.failures}`;
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('bench interrupted');
}

export async function runBench(deps: BenchRunDeps): Promise<BenchResult> {
  const { options: o, stack, say, signal } = deps;
  const startedAt = new Date().toISOString();
  const gatewayUrls = stack.gateways.map((g) => g.url);
  const sim = stack.sim;
  if (sim === undefined) throw new Error('the bench needs the simulator');
  const content = (phase: string) => (user: number, turn: number) => benchMessage(phase, deps.runId, user, turn);

  // 1. Idle sockets first, while the gateways are fresh: a heap grown by load would hide allocations.
  const idle: IdleMeasurement[] = [];
  const [measured] = stack.gateways;
  const rest = stack.gateways[1] ?? measured;
  if (measured !== undefined && rest !== undefined && o.idle.length > 0) {
    idle.push(
      ...(await measureIdleMemory({
        sizes: o.idle,
        gateway: measured,
        restUrl: rest.url,
        userPrefix: `${deps.prefix}-idle`,
        settleMs: o.quick ? 1000 : 5000,
        warmup: 20,
        say,
      })),
    );
    checkAborted(signal);
  }

  // 2. The floor: the model alone, same users, same pace.
  const processes: MeteredProcess[] = [
    ...stack.gateways.map((g) => ({ name: g.instance, role: 'gateways' as const, pid: g.process.pid, metricsUrl: `${g.url}/metrics` })),
    ...stack.workers.map((w) => ({ name: w.instance, role: 'workers' as const, pid: w.process.pid, metricsUrl: `${w.metricsUrl}/metrics` })),
    { name: 'llm-sim', role: 'simulator' as const, pid: sim.process.pid },
    ...deps.redis.primaries.map((r) => ({ name: r.name, role: 'redis' as const, pid: r.pid })),
    ...deps.redis.standby.map((r) => ({ name: r.name, role: 'standby' as const, pid: r.pid })),
  ];
  const meter = new ResourceMeter(processes, deps.redis.primaries, deps.ticksPerSecond);
  const floorRun = (users: number, durationS: number, rampS: number): Promise<FloorResult> =>
    runFloor({
      baseUrl: `${sim.url}/v1`,
      model: MODEL,
      maxTokens: MAX_TOKENS,
      users,
      durationS,
      rampS,
      thinkMs: o.thinkMs,
      phase: 'floor',
      runId: deps.runId,
      procs: FLOOR_PROCS,
      signal,
    });
  if (o.warmupS > 0) {
    say(`floor: ${o.warmupS} s warm-up`);
    await floorRun(Math.min(50, o.users), o.warmupS, 0);
  }
  checkAborted(signal);
  say(`floor: ${o.users} clients straight to the simulator for ${o.durationS} s`);
  await meter.start();
  const floor = await floorRun(o.users, o.durationS, o.rampS);
  const floorMetered = await meter.stop(floor.messages, floor.tokens);
  checkAborted(signal);
  say(`floor: ${floor.messages} messages, ${floor.failures} failed, first token p50 ${floor.ttftMs.p50} ms p99 ${floor.ttftMs.p99} ms`);

  // 3. The system, metered.
  if (o.warmupS > 0) {
    say(`system: ${o.warmupS} s warm-up`);
    await runLoad({ gateways: gatewayUrls, users: Math.min(50, o.users), durationS: o.warmupS, thinkMs: o.thinkMs, content: content('warmup'), signal });
  }
  checkAborted(signal);
  say(`system: ${o.users} users through ${stack.gateways.length} gateways for ${o.durationS} s`);
  await meter.start();
  const systemRaw = await runLoad({
    gateways: gatewayUrls,
    users: o.users,
    durationS: o.durationS,
    rampS: o.rampS,
    thinkMs: o.thinkMs,
    level: `${o.users} users`,
    content: content('system'),
    signal,
    onProgress: (p) => deps.progress(progressLine('system', p)),
  });
  const metered = await meter.stop(systemRaw.messages, systemRaw.tokens);
  const system = withRates(systemRaw);
  checkAborted(signal);
  say(`system: ${system.messages} messages, ${system.failures} failed, first token p50 ${system.ttftMs.p50} ms p99 ${system.ttftMs.p99} ms`);
  if (metered.redis.shards) say(`system: Redis commands per primary ${describeShards(metered.redis.shards)}`);

  // 4. Many users at a realistic pace.
  let paced: SystemResult | null = null;
  let pacedRedis: BenchResult['pacedRedis'] = null;
  const pacedRampS = Math.min(o.pacedRampS, Math.max(1, o.pacedDurationS - 1));
  if (o.paced > 0) {
    say(`paced: ${o.paced} users, one message every ${o.pacedThinkMs.min / 1000}–${o.pacedThinkMs.max / 1000} s, for ${o.pacedDurationS} s`);
    await sleep(1000);
    await meter.start();
    paced = withRates(
      await runLoad({
        gateways: gatewayUrls,
        users: o.paced,
        durationS: o.pacedDurationS,
        rampS: pacedRampS,
        thinkMs: o.pacedThinkMs,
        level: `${o.paced} users, paced`,
        content: content('paced'),
        signal,
        onProgress: (p) => deps.progress(progressLine('paced', p)),
      }),
    );
    pacedRedis = { ...(await meter.stop(paced.messages, paced.tokens)).redis, exclusive: deps.redis.private };
    checkAborted(signal);
    say(`paced: ${paced.messages} messages, ${paced.failures} failed`);
    if (pacedRedis.shards) say(`paced: Redis commands per primary ${describeShards(pacedRedis.shards)}`);
  }

  const ttftOverhead = overhead(system.ttftMs, floor.ttftMs);
  const judged = judge({ floor, system, paced, idle, simTtftMs: o.sim.ttftMs });
  if (judged.floorDisturbed !== null) say(`warning: ${judged.floorDisturbed}`);
  return {
    kind: 'chat-fleet-bench',
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    args: deps.args,
    quick: o.quick,
    machine: deps.machine,
    source: deps.source,
    setup: {
      gateways: stack.gateways.length,
      workers: stack.workers.length,
      sim: o.sim,
      users: o.users,
      durationS: o.durationS,
      rampS: o.rampS,
      thinkMs: o.thinkMs,
      warmupS: o.warmupS,
      paced: o.paced > 0 ? { users: o.paced, durationS: o.pacedDurationS, rampS: pacedRampS, thinkMs: o.pacedThinkMs } : null,
      cache: 'response cache on (CACHE_TTL_SECONDS default) with every message distinct, so every reply is a miss that pays the lookup and the store',
      env: o.env,
      redis: deps.redis.setup,
      openFiles: deps.openFiles,
    },
    floor,
    floorRun: { cpu: floorMetered.cpu, eventLoop: floorMetered.eventLoop, disturbed: judged.floorDisturbed },
    system,
    paced,
    pacedRedis,
    overhead: { ttftMs: ttftOverhead, responseMs: overhead(system.responseMs, floor.responseMs) },
    redis: { ...metered.redis, exclusive: deps.redis.private },
    cpu: metered.cpu,
    eventLoop: metered.eventLoop,
    idle,
    idleSkipped: deps.idleSkipped,
    goals: judged.goals,
  };
}

/** The verdicts of a run: computed from its measurements only, so a stored result can be judged again. */
export function judge(r: {
  floor: Pick<FloorResult, 'ttftMs'>;
  system: SystemResult;
  paced: SystemResult | null;
  idle: readonly IdleMeasurement[];
  simTtftMs: number;
}): { floorDisturbed: string | null; goals: BenchResult['goals'] } {
  const floorDisturbed = judgeFloor(r.floor, r.simTtftMs);
  const goals = checkGoals({
    system: r.system,
    systemTtft: r.system.ttftMs,
    floorTtft: r.floor.ttftMs,
    modelTtftMs: r.simTtftMs,
    floorDisturbed,
    idle: r.idle,
    paced: r.paced ?? undefined,
  });
  return { floorDisturbed, goals };
}
