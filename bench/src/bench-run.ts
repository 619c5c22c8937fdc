// The measurements of one bench, run by run (bench-plan.ts): each run starts a fresh stack of its
// build (baseline or new) at its reply length on its own key prefix, and stops it after. A build's
// first run measures idle sockets on its fresh gateways; a level's first run measures the floor (the
// model alone at that level) first; each build's first run at a level is followed by the Redis
// command census. Then the medians, ratios, cost split and goals (bench-summary.ts, goals.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type LevelResult, type LoadProgress } from '@chat-fleet/loadgen';
import type { Stack } from '@chat-fleet/stack';
import type { BenchOptions } from './bench-options.js';
import { describePlan, planRuns, type Build, type PlannedRun } from './bench-plan.js';
import type { BenchRedisNode } from './bench-redis.js';
import type { BenchResult, BuildInfo, CensusResult, FloorMeasurement, IdleMeasurement, RunMeasurement, SystemResult } from './bench-result.js';
import { summarize, type BenchSummary } from './bench-summary.js';
import { checkGoals, judgeFloor } from './goals.js';
import { measureIdleMemory } from './idle-memory.js';
import type { MachineInfo, SourceInfo } from './machine.js';
import { benchMessage } from './message-content.js';
import { runFloor } from './model-floor.js';
import { CommandCensus } from './redis-census.js';
import { describeShards } from './report.js';
import { ResourceMeter, type MeteredProcess } from './resource-meter.js';

/** Floor clients share the users among this many processes (the openai SDK is CPU-hungry). */
const FLOOR_PROCS = 2;
/** What the workers ask the model for: MAX_REPLY_TOKENS and CHAT_MODEL defaults. */
const MODEL = 'gpt-4o-mini';
const MAX_TOKENS = 1024;

export interface LaunchRequest {
  readonly build: Build;
  readonly replyTokens: number;
  /** REDIS_PREFIX of this run. */
  readonly prefix: string;
  /** A name for its log directory, e.g. `03-new-100u-48t`. */
  readonly label: string;
}

export interface BenchRunDeps {
  readonly options: BenchOptions;
  /** Starts a stack of that build (gateways and workers of its worktree, the current simulator). */
  readonly launch: (request: LaunchRequest) => Promise<Stack>;
  readonly builds: readonly BuildInfo[];
  readonly redis: {
    /** False when found running: other clients' commands count too. */
    readonly private: boolean;
    /** Every primary (one unless a cluster): its commands and its process's CPU count. */
    readonly primaries: readonly BenchRedisNode[];
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

const pad2 = (n: number): string => String(n).padStart(2, '0');

function runLabel(r: PlannedRun): string {
  return `${pad2(r.index)}-${r.build}-${r.level.users}u${r.level.paced ? '-paced' : ''}-${r.replyTokens}t-r${r.repetition}`;
}

function processesOf(stack: Stack, deps: BenchRunDeps): MeteredProcess[] {
  const sim = stack.sim;
  return [
    ...stack.gateways.map((g) => ({ name: g.instance, role: 'gateways' as const, pid: g.process.pid, metricsUrl: `${g.url}/metrics` })),
    ...stack.workers.map((w) => ({ name: w.instance, role: 'workers' as const, pid: w.process.pid, metricsUrl: `${w.metricsUrl}/metrics` })),
    ...(sim === undefined ? [] : [{ name: 'llm-sim', role: 'simulator' as const, pid: sim.process.pid }]),
    ...deps.redis.primaries.map((r) => ({ name: r.name, role: 'redis' as const, pid: r.pid })),
    ...deps.redis.standby.map((r) => ({ name: r.name, role: 'standby' as const, pid: r.pid })),
  ];
}

export async function runBench(deps: BenchRunDeps): Promise<BenchResult> {
  const { options: o, say, signal } = deps;
  const startedAt = new Date().toISOString();
  const builds = deps.builds.map((b) => b.build);
  const plan = planRuns({ users: o.users, paced: o.paced, replyTokens: o.replyTokens, builds, repeat: o.repeat });
  say(`plan: ${plan.length} metered runs${builds.length > 1 ? ', baseline and new interleaved' : ''}\n${describePlan(plan)}`);
  const pacedRampS = Math.min(o.pacedRampS, Math.max(1, o.pacedDurationS - 1));
  const shape = (r: PlannedRun) =>
    r.level.paced
      ? { thinkMs: o.pacedThinkMs, durationS: o.pacedDurationS, rampS: pacedRampS }
      : { thinkMs: o.thinkMs, durationS: o.durationS, rampS: o.rampS };
  const commandSources = deps.redis.primaries.map((p) => ({ name: p.name, commandStats: () => p.info('commandstats') }));

  const idle: Array<{ build: Build; measurements: IdleMeasurement[] }> = [];
  const floors: FloorMeasurement[] = [];
  const runs: RunMeasurement[] = [];
  const censuses: CensusResult[] = [];

  for (const r of plan) {
    checkAborted(signal);
    const label = runLabel(r);
    const prefix = `${deps.prefix}-${pad2(r.index)}`;
    const where = `[${r.index}/${plan.length} ${r.build}, ${r.level.users} users${r.level.paced ? ' paced' : ''}, ${r.replyTokens} tokens, repetition ${r.repetition}]`;
    say(`${where} starting the ${r.build} build's stack`);
    const stack = await deps.launch({ build: r.build, replyTokens: r.replyTokens, prefix, label });
    try {
      const sim = stack.sim;
      if (sim === undefined) throw new Error('the bench needs the simulator');
      const gatewayUrls = stack.gateways.map((g) => g.url);
      const content = (phase: string) => (user: number, turn: number) => benchMessage(`${phase}-${r.index}`, deps.runId, user, turn);
      const s = shape(r);

      // Idle sockets first, while this build's gateways are fresh: a heap grown by load would hide allocations.
      const [measured] = stack.gateways;
      const rest = stack.gateways[1] ?? measured;
      if (r.firstOfBuild && measured !== undefined && rest !== undefined && o.idle.length > 0) {
        idle.push({
          build: r.build,
          measurements: await measureIdleMemory({
            sizes: o.idle,
            gateway: measured,
            restUrl: rest.url,
            userPrefix: `${prefix}-idle`,
            settleMs: o.quick ? 1000 : 5000,
            warmup: 20,
            say: (line) => say(`${where} ${line}`),
          }),
        });
        checkAborted(signal);
      }

      const meter = new ResourceMeter(processesOf(stack, deps), commandSources, deps.ticksPerSecond);
      if (r.firstOfLevel) {
        const floorRun = (users: number, durationS: number, rampS: number) =>
          runFloor({ baseUrl: `${sim.url}/v1`, model: MODEL, maxTokens: MAX_TOKENS, users, durationS, rampS, thinkMs: s.thinkMs, phase: 'floor', runId: deps.runId, procs: FLOOR_PROCS, signal });
        if (o.warmupS > 0) await floorRun(Math.min(50, r.level.users), o.warmupS, 0);
        checkAborted(signal);
        say(`${where} floor: ${r.level.users} clients straight to the simulator for ${s.durationS} s`);
        await meter.start();
        const floor = await floorRun(r.level.users, s.durationS, s.rampS);
        const metered = await meter.stop(floor.messages, floor.tokens);
        checkAborted(signal);
        const disturbed = judgeFloor(floor, o.sim.ttftMs);
        floors.push({ users: r.level.users, paced: r.level.paced, thinkMs: s.thinkMs, durationS: s.durationS, rampS: s.rampS, result: floor, cpu: metered.cpu, disturbed });
        say(`${where} floor: ${floor.messages} messages, ${floor.failures} failed, first token p50 ${floor.ttftMs.p50} ms p99 ${floor.ttftMs.p99} ms`);
        if (disturbed !== null) say(`warning: ${disturbed}`);
      }

      if (o.warmupS > 0) {
        await runLoad({ gateways: gatewayUrls, users: Math.min(50, r.level.users), durationS: o.warmupS, thinkMs: o.thinkMs, content: content('warmup'), signal });
      }
      checkAborted(signal);
      if (r.level.paced) await sleep(1000);
      say(`${where} system: ${r.level.users} users through ${stack.gateways.length} gateways for ${s.durationS} s`);
      await meter.start();
      const raw = await runLoad({
        gateways: gatewayUrls,
        users: r.level.users,
        durationS: s.durationS,
        rampS: s.rampS,
        thinkMs: s.thinkMs,
        level: `${r.level.users} users${r.level.paced ? ', paced' : ''}`,
        content: content('system'),
        signal,
        onProgress: (p) => deps.progress(progressLine(`${r.build} ${r.level.users}u`, p)),
      });
      const metered = await meter.stop(raw.messages, raw.tokens);
      const system = withRates(raw);
      checkAborted(signal);
      runs.push({
        index: r.index,
        build: r.build,
        users: r.level.users,
        paced: r.level.paced,
        replyTokens: r.replyTokens,
        repetition: r.repetition,
        ...s,
        system,
        redis: { ...metered.redis, exclusive: deps.redis.private },
        cpu: metered.cpu,
        eventLoop: metered.eventLoop,
      });
      const fleet = metered.cpu.seconds.gateways + metered.cpu.seconds.workers + metered.cpu.seconds.redis;
      say(
        `${where} system: ${system.messages} messages (${system.messagesPerSec}/s), ${system.failures} failed, first token p50 ${system.ttftMs.p50} ms p99 ${system.ttftMs.p99} ms, ` +
          `fleet ${(system.tokens === 0 ? 0 : fleet / (system.tokens / 1000)).toFixed(3)} CPU-s per 1000 tokens, ${metered.redis.commandsPerMessage} Redis commands per message executed`,
      );
      if (metered.redis.shards) say(`${where} Redis commands per primary ${describeShards(metered.redis.shards)}`);

      if (r.census && o.censusS > 0) {
        censuses.push(await censusRun(r, deps, gatewayUrls, content('census'), where));
      }
    } finally {
      await stack.stop();
      await Promise.all(deps.redis.primaries.map((p) => p.dropKeys(prefix))).catch((err: unknown) => say(`note: could not drop the keys under ${prefix}: ${String(err)}`));
    }
  }

  const measured: Omit<BenchResult, 'summary' | 'goals'> = {
    kind: 'chat-fleet-bench',
    version: 2,
    startedAt,
    finishedAt: new Date().toISOString(),
    args: deps.args,
    quick: o.quick,
    machine: deps.machine,
    source: deps.source,
    builds: deps.builds,
    setup: {
      gateways: 2,
      workers: 2,
      sim: o.sim,
      replyTokens: o.replyTokens,
      users: o.users,
      durationS: o.durationS,
      rampS: o.rampS,
      thinkMs: o.thinkMs,
      warmupS: o.warmupS,
      repeat: o.repeat,
      censusS: o.censusS,
      paced: o.paced > 0 ? { users: o.paced, durationS: o.pacedDurationS, rampS: pacedRampS, thinkMs: o.pacedThinkMs } : null,
      cache: 'response cache on (CACHE_TTL_SECONDS default) with every message distinct, so every reply is a miss that pays the lookup and the store',
      env: o.env,
      redis: deps.redis.setup,
      openFiles: deps.openFiles,
    },
    floors,
    runs,
    censuses,
    idle,
    idleSkipped: deps.idleSkipped,
  };
  return { ...measured, ...judge(measured) };
}

/**
 * MONITOR on every primary over a short load of the same shape (outside the metered run: feeding a
 * monitor costs Redis CPU): which share of each command's executions a script ran.
 */
async function censusRun(
  r: PlannedRun,
  deps: BenchRunDeps,
  gateways: string[],
  content: (user: number, turn: number) => string,
  where: string,
): Promise<CensusResult> {
  const o = deps.options;
  const census = new CommandCensus();
  const stops = await Promise.all(deps.redis.primaries.map((p) => p.monitor((args, source) => census.addMonitorLine(args, source))));
  let load: LevelResult;
  try {
    load = await runLoad({
      gateways,
      users: r.level.users,
      durationS: o.censusS,
      rampS: Math.min(o.rampS, 2),
      thinkMs: o.thinkMs,
      content,
      signal: deps.signal,
      onProgress: (p) => deps.progress(progressLine(`census ${r.build} ${r.level.users}u`, p)),
    });
  } finally {
    for (const stop of stops) stop();
  }
  const totals = census.totals();
  const byCommand = [...census.byCommand()].map(([command, c]) => ({ command, ...c })).sort((a, b) => b.client + b.script - (a.client + a.script));
  const per = (n: number): string => (load.messages === 0 ? '–' : (n / load.messages).toFixed(1));
  deps.say(`${where} census: ${load.messages} messages under MONITOR: ${per(totals.client)} commands per message sent by clients, ${per(totals.script)} more run inside scripts`);
  return { build: r.build, users: r.level.users, durationS: o.censusS, messages: load.messages, clientSent: totals.client, scriptInternal: totals.script, byCommand };
}

/** The verdicts and summary of a stored result, computed from its measurements only. */
export function judge(r: Pick<BenchResult, 'floors' | 'runs' | 'censuses' | 'idle' | 'setup'>): { summary: BenchSummary; goals: BenchResult['goals'] } {
  const summary = summarize({ primaryTokens: r.setup.sim.replyTokens, replyTokens: r.setup.replyTokens, floors: r.floors, runs: r.runs, censuses: r.censuses, idle: r.idle });
  const goals = checkGoals({
    summary,
    modelTtftMs: r.setup.sim.ttftMs,
    idle: r.idle.find((i) => i.build === 'new')?.measurements ?? [],
  });
  return { summary, goals };
}
