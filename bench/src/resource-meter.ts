// What a stretch of load cost: Redis commands (per primary on a cluster), CPU per process of the fleet,
// the machine as a whole, and each Node process's event-loop delay, read before and after.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { CpuCost, ProcessRole, RedisCost, ShardCost } from './bench-result.js';
import { diffCommandStats, parseCommandStats, sumDiffs, type CommandStats, type CommandStatsDiff } from './command-stats.js';
import { readMachineTicks, type MachineTicks } from './machine.js';
import { cpuSecondsBetween, readCpuTicks, type CpuTicks } from './proc-stats.js';
import { eventLoopLag, scrape, type EventLoopLag } from './prom-text.js';

export interface MeteredProcess {
  readonly name: string;
  /** `standby`: Redis replicas and Sentinels, metered apart from the fleet's cost. */
  readonly role: ProcessRole | 'standby';
  /** Undefined when the process is not visible here (a Redis on another host or namespace). */
  readonly pid: number | undefined;
  /** `/metrics` of a Node process with prom-client's default metrics. */
  readonly metricsUrl?: string;
}

/** A Redis primary whose commands count; a cluster has several. */
export interface CommandStatsSource {
  /** The name its process is metered under, e.g. `redis` or `redis-7001`. */
  readonly name: string;
  /** The text of `INFO commandstats`. */
  commandStats(): Promise<string>;
}

interface Reading {
  readonly at: number;
  /** Per primary, by name. */
  readonly commands: ReadonlyMap<string, CommandStats>;
  readonly cpu: ReadonlyMap<string, CpuTicks>;
  readonly machine: MachineTicks;
  /** This process and its children that exited (the floor's client processes). */
  readonly bench: CpuTicks;
}

export interface Metered {
  readonly redis: Omit<RedisCost, 'exclusive'>;
  readonly cpu: CpuCost;
  readonly eventLoop: Record<string, EventLoopLag>;
}

function tryCpu(pid: number | undefined): CpuTicks | undefined {
  if (pid === undefined) return undefined;
  try {
    return readCpuTicks(pid);
  } catch {
    return undefined;
  }
}

const ROLES: readonly ProcessRole[] = ['gateways', 'workers', 'simulator', 'redis'];
const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The name under which the bench's own event loop (the load clients) is reported. */
export const LOAD_CLIENTS = 'load clients';

export class ResourceMeter {
  private before: Reading | undefined;
  private ownLoop: IntervalHistogram | undefined;

  constructor(
    private readonly processes: readonly MeteredProcess[],
    private readonly redis: readonly CommandStatsSource[],
    private readonly ticksPerSecond: number,
  ) {}

  private async read(): Promise<Reading> {
    const texts = await Promise.all(this.redis.map((r) => r.commandStats()));
    const commands = new Map(this.redis.map((r, i) => [r.name, parseCommandStats(texts[i] ?? '')]));
    const cpu = new Map<string, CpuTicks>();
    for (const p of this.processes) {
      const ticks = tryCpu(p.pid);
      if (ticks !== undefined) cpu.set(p.name, ticks);
    }
    return { at: performance.now(), commands, cpu, machine: readMachineTicks(), bench: readCpuTicks(process.pid) };
  }

  /** Takes the first reading and resets every event-loop histogram (prom-client resets on scrape). */
  async start(): Promise<void> {
    await Promise.all(this.processes.flatMap((p) => (p.metricsUrl === undefined ? [] : [scrape(p.metricsUrl)])));
    this.ownLoop = monitorEventLoopDelay({ resolution: 10 });
    this.ownLoop.enable();
    this.before = await this.read();
  }

  /** What ran since start(): `messages` and `tokens` divide the costs. */
  async stop(messages: number, tokens: number): Promise<Metered> {
    const before = this.before;
    if (before === undefined) throw new Error('ResourceMeter.stop() before start()');
    const lags = await Promise.all(
      this.processes.map(async (p) => {
        const text = p.metricsUrl === undefined ? undefined : await scrape(p.metricsUrl);
        const lag = text === undefined ? undefined : eventLoopLag(text);
        return [p.name, lag] as const;
      }),
    );
    const after = await this.read();

    const perNode = this.redis.map((r) => diffCommandStats(before.commands.get(r.name) ?? new Map(), after.commands.get(r.name) ?? new Map()));
    const commands = sumDiffs(perNode);
    const perMessage = (n: number): number => (messages === 0 ? 0 : n / messages);
    const seconds: Record<ProcessRole, number> = { gateways: 0, workers: 0, simulator: 0, redis: 0 };
    const byProcess: Record<string, number> = {};
    let standbySeconds = 0;
    for (const p of this.processes) {
      const b = before.cpu.get(p.name);
      const a = after.cpu.get(p.name);
      if (a === undefined || b === undefined) continue;
      const s = cpuSecondsBetween(b, a, this.ticksPerSecond);
      if (p.role === 'standby') {
        standbySeconds += s;
        continue;
      }
      byProcess[p.name] = round(s, 2);
      seconds[p.role] += s;
    }
    const total = ROLES.reduce((sum, r) => sum + seconds[r], 0);
    const hasStandby = this.processes.some((p) => p.role === 'standby');
    const redis = {
      commands: commands.calls,
      commandsPerMessage: round(perMessage(commands.calls), 2),
      usecPerMessage: round(perMessage(commands.usec), 1),
      top: commands.byCommand.slice(0, 15).map((c) => ({ command: c.command, calls: c.calls, perMessage: round(perMessage(c.calls), 2) })),
      byCommand: commands.byCommand.map((c) => ({ command: c.command, calls: c.calls })),
      shards: this.redis.length > 1 ? shardCost(this.redis, perNode, byProcess) : null,
    };
    const perK = (s: number): number => (tokens === 0 ? 0 : round(s / (tokens / 1000), 4));
    const benchSeconds = cpuSecondsBetween(before.bench, after.bench, this.ticksPerSecond, true);
    const machineBusySeconds = (after.machine.busy - before.machine.busy) / this.ticksPerSecond;
    const machineTotal = after.machine.total - before.machine.total;
    const cpu: CpuCost = {
      seconds: {
        gateways: round(seconds.gateways, 2),
        workers: round(seconds.workers, 2),
        simulator: round(seconds.simulator, 2),
        redis: round(seconds.redis, 2),
        total: round(total, 2),
      },
      perThousandTokens: {
        gateways: perK(seconds.gateways),
        workers: perK(seconds.workers),
        simulator: perK(seconds.simulator),
        redis: perK(seconds.redis),
        total: perK(total),
      },
      byProcess,
      benchSeconds: round(benchSeconds, 2),
      ...(hasStandby ? { standbySeconds: round(standbySeconds, 2) } : {}),
      otherSeconds: round(Math.max(0, machineBusySeconds - total - standbySeconds - benchSeconds), 2),
      machineBusy: machineTotal === 0 ? 0 : round((after.machine.busy - before.machine.busy) / machineTotal, 3),
      wallSeconds: round((after.at - before.at) / 1000, 2),
    };

    const eventLoop: Record<string, EventLoopLag> = {};
    for (const [name, lag] of lags) if (lag !== undefined) eventLoop[name] = lag;
    const own = this.ownLoop;
    if (own !== undefined) {
      own.disable();
      // Same reading as prom-client's: nanoseconds of delay including the 10 ms sampling interval.
      eventLoop[LOAD_CLIENTS] = { p99Ms: round(own.percentile(99) / 1e6, 1), maxMs: round(own.max / 1e6, 1) };
      this.ownLoop = undefined;
    }
    return { redis, cpu, eventLoop };
  }
}

/** Each primary's part of the commands; the busiest one's share tells a hot shard from an even spread. */
export function shardCost(
  nodes: readonly Pick<CommandStatsSource, 'name'>[],
  diffs: readonly CommandStatsDiff[],
  cpuByProcess: Readonly<Record<string, number>>,
): ShardCost {
  const all = diffs.reduce((s, d) => s + d.calls, 0);
  const share = (n: number): number => (all === 0 ? 0 : round(n / all, 3));
  const primaries = nodes.map((node, i) => {
    const d = diffs[i] ?? { calls: 0, usec: 0, byCommand: [] };
    return {
      node: node.name,
      commands: d.calls,
      share: share(d.calls),
      usec: d.usec,
      cpuSeconds: cpuByProcess[node.name] ?? null,
      top: d.byCommand.slice(0, 12).map((c) => ({ command: c.command, calls: c.calls })),
    };
  });
  return { primaries, busiestShare: share(Math.max(0, ...primaries.map((p) => p.commands))) };
}
