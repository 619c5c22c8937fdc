// What a run's measurements say once repeated and paired: per level, each figure's median over the
// repetitions for each build and the ratio new / baseline; per level with two reply lengths, each
// process kind's CPU split into a cost per message and a cost per token. Pure: --render derives it
// again from a stored result.
import type { Percentiles } from '@chat-fleet/loadgen';
import type { Build } from './bench-plan.js';
import type { CensusResult, FloorMeasurement, IdleMeasurement, RunMeasurement } from './bench-result.js';
import { median, medianPoint, perThousandTokensAt, ratio, roundTo, splitCost, type CostPoint, type CostSplit } from './bench-stats.js';
import { clientSentCommands, type CensusCount } from './redis-census.js';

export interface Figure {
  readonly name: string;
  readonly baseline: number | null;
  readonly new: number | null;
  /** new / baseline of the medians; null without a baseline or where a ratio means nothing. */
  readonly ratio: number | null;
  /** Decimals to print. */
  readonly digits: number;
}

export interface LevelSummary {
  readonly users: number;
  readonly paced: boolean;
  readonly replyTokens: number;
  readonly thinkMs: { readonly min: number; readonly max: number };
  /** Runs per build at this level and length. */
  readonly repetitions: Readonly<Partial<Record<Build, number>>>;
  readonly floorTtftMs: Percentiles | null;
  readonly floorDisturbed: string | null;
  /** Every reply of every run whole, per build. */
  readonly whole: Readonly<Partial<Record<Build, { readonly messages: number; readonly failures: number }>>>;
  readonly figures: readonly Figure[];
}

export const SPLIT_ROLES = ['gateways', 'workers', 'redis', 'fleet'] as const;
export type SplitRole = (typeof SPLIT_ROLES)[number];

export interface LevelSplit {
  readonly users: number;
  readonly lengths: readonly [number, number];
  readonly roles: ReadonlyArray<{ readonly role: SplitRole } & Readonly<Partial<Record<Build, CostSplit>>>>;
  /** The fleet's CPU-s per 1000 tokens at `atTokens`, from the split. */
  readonly atTokens: number;
  readonly fleetPerThousand: Figure;
}

export interface BenchSummary {
  readonly primaryTokens: number;
  readonly levels: readonly LevelSummary[];
  readonly splits: readonly LevelSplit[];
  /** Gateway bytes per idle socket, per size (named `N sockets`). */
  readonly idle: readonly Figure[];
}

/** The reply length the per-1000-token figure is quoted at. */
export const SPLIT_AT_TOKENS = 48;

const FLEET_ROLES = ['gateways', 'workers', 'redis'] as const;

export function fleetSeconds(run: Pick<RunMeasurement, 'cpu'>): number {
  return FLEET_ROLES.reduce((s, r) => s + run.cpu.seconds[r], 0);
}

function perThousand(seconds: number, tokens: number): number {
  return tokens === 0 ? Number.NaN : seconds / (tokens / 1000);
}

function censusMap(c: CensusResult | undefined): ReadonlyMap<string, CensusCount> | undefined {
  return c === undefined ? undefined : new Map(c.byCommand.map((x) => [x.command, { client: x.client, script: x.script }]));
}

/** Commands clients sent per message in a run, from the census of its build and level; undefined without one. */
export function clientSentPerMessage(run: RunMeasurement, censuses: readonly CensusResult[]): number | undefined {
  if (run.paced || run.redis.byCommand === undefined || run.system.messages === 0) return undefined;
  const census = censusMap(censuses.find((c) => c.build === run.build && c.users === run.users));
  if (census === undefined) return undefined;
  return clientSentCommands(run.redis.byCommand, census) / run.system.messages;
}

type Pick1 = (run: RunMeasurement) => number | undefined;

function figure(name: string, digits: number, runs: Readonly<Partial<Record<Build, readonly RunMeasurement[]>>>, pick: Pick1, withRatio = true): Figure {
  const m = (b: Build): number | undefined => {
    const xs = (runs[b] ?? []).map(pick).filter((x): x is number => x !== undefined);
    return median(xs);
  };
  const b = m('baseline');
  const n = m('new');
  const r = withRatio ? ratio(n, b) : undefined;
  return { name, baseline: b ?? null, new: n ?? null, ratio: r === undefined ? null : roundTo(r, 3), digits };
}

function byBuild(runs: readonly RunMeasurement[]): Partial<Record<Build, RunMeasurement[]>> {
  const out: Partial<Record<Build, RunMeasurement[]>> = {};
  for (const r of runs) (out[r.build] ??= []).push(r);
  return out;
}

function costPoint(run: RunMeasurement, role: SplitRole): CostPoint {
  const cpuSeconds = role === 'fleet' ? fleetSeconds(run) : run.cpu.seconds[role];
  return { cpuSeconds, messages: run.system.messages, tokens: run.system.tokens };
}

export interface SummaryInput {
  readonly primaryTokens: number;
  readonly replyTokens: readonly number[];
  readonly floors: readonly FloorMeasurement[];
  readonly runs: readonly RunMeasurement[];
  readonly censuses: readonly CensusResult[];
  readonly idle: ReadonlyArray<{ readonly build: Build; readonly measurements: readonly IdleMeasurement[] }>;
}

export function summarize(input: SummaryInput): BenchSummary {
  const levelKeys: Array<{ users: number; paced: boolean }> = [];
  for (const r of input.runs) if (!levelKeys.some((l) => l.users === r.users && l.paced === r.paced)) levelKeys.push({ users: r.users, paced: r.paced });

  const levels: LevelSummary[] = [];
  const splits: LevelSplit[] = [];
  for (const level of levelKeys) {
    const atLevel = input.runs.filter((r) => r.users === level.users && r.paced === level.paced);
    const primary = atLevel.filter((r) => r.replyTokens === input.primaryTokens);
    const first = primary[0];
    if (first === undefined) continue;
    const floor = input.floors.find((f) => f.users === level.users && f.paced === level.paced);
    const runs = byBuild(primary);
    const f = (name: string, digits: number, pick: Pick1, withRatio = true): Figure => figure(name, digits, runs, pick, withRatio);
    const over = (p: keyof Percentiles): Pick1 => (r) => (floor === undefined ? undefined : r.system.ttftMs[p] - floor.result.ttftMs[p]);
    const figures: Figure[] = [
      f('messages/s', 1, (r) => r.system.messagesPerSec),
      f('first token p50 (ms)', 1, (r) => r.system.ttftMs.p50),
      f('first token p95 (ms)', 1, (r) => r.system.ttftMs.p95),
      f('first token p99 (ms)', 1, (r) => r.system.ttftMs.p99),
      f('first-token overhead over the floor p50 (ms)', 1, over('p50'), false),
      f('first-token overhead over the floor p95 (ms)', 1, over('p95'), false),
      f('first-token overhead over the floor p99 (ms)', 1, over('p99'), false),
      f('whole reply p50 (ms)', 1, (r) => r.system.responseMs.p50),
      f('fleet CPU-s per 1000 tokens (gateways + workers + Redis)', 3, (r) => perThousand(fleetSeconds(r), r.system.tokens)),
      f('gateways CPU-s per 1000 tokens', 3, (r) => perThousand(r.cpu.seconds.gateways, r.system.tokens)),
      f('workers CPU-s per 1000 tokens', 3, (r) => perThousand(r.cpu.seconds.workers, r.system.tokens)),
      f('Redis CPU-s per 1000 tokens', 3, (r) => perThousand(r.cpu.seconds.redis, r.system.tokens)),
      f('Redis commands per message, sent by clients (a script call once)', 1, (r) => clientSentPerMessage(r, input.censuses)),
      f('Redis commands per message, executed (script-internal included)', 1, (r) => r.redis.commandsPerMessage),
      f('Redis µs per message', 1, (r) => r.redis.usecPerMessage),
      f('machine busy (%)', 0, (r) => r.cpu.machineBusy * 100, false),
    ];
    const whole: Partial<Record<Build, { messages: number; failures: number }>> = {};
    for (const [b, rs] of Object.entries(runs) as Array<[Build, RunMeasurement[]]>) {
      whole[b] = { messages: rs.reduce((s, r) => s + r.system.messages, 0), failures: rs.reduce((s, r) => s + r.system.failures, 0) };
    }
    const repetitions: Partial<Record<Build, number>> = {};
    for (const [b, rs] of Object.entries(runs) as Array<[Build, RunMeasurement[]]>) repetitions[b] = rs.length;
    levels.push({
      users: level.users,
      paced: level.paced,
      replyTokens: input.primaryTokens,
      thinkMs: first.thinkMs,
      repetitions,
      floorTtftMs: floor === undefined ? null : { p50: floor.result.ttftMs.p50, p95: floor.result.ttftMs.p95, p99: floor.result.ttftMs.p99 },
      floorDisturbed: floor?.disturbed ?? null,
      whole,
      figures,
    });

    const [shortLen, longLen] = [...input.replyTokens].sort((a, b) => a - b);
    if (level.paced || shortLen === undefined || longLen === undefined || shortLen === longLen) continue;
    const roles = SPLIT_ROLES.map((role) => {
      const entry: { role: SplitRole } & Partial<Record<Build, CostSplit>> = { role };
      for (const build of ['baseline', 'new'] as const) {
        const at = (len: number): CostPoint | undefined =>
          medianPoint(atLevel.filter((r) => r.build === build && r.replyTokens === len).map((r) => costPoint(r, role)));
        const s = at(shortLen);
        const l = at(longLen);
        const split = s === undefined || l === undefined ? undefined : splitCost(s, l);
        if (split !== undefined) entry[build] = { msPerMessage: roundTo(split.msPerMessage, 3), usPerToken: roundTo(split.usPerToken, 2) };
      }
      return entry;
    });
    const fleet = roles.find((r) => r.role === 'fleet');
    const at = (b: Build): number | undefined => {
      const s = fleet?.[b];
      return s === undefined ? undefined : roundTo(perThousandTokensAt(s, SPLIT_AT_TOKENS), 4);
    };
    const r = ratio(at('new'), at('baseline'));
    splits.push({
      users: level.users,
      lengths: [shortLen, longLen],
      roles,
      atTokens: SPLIT_AT_TOKENS,
      fleetPerThousand: {
        name: `fleet CPU-s per 1000 tokens at ${SPLIT_AT_TOKENS} tokens, from the split`,
        baseline: at('baseline') ?? null,
        new: at('new') ?? null,
        ratio: r === undefined ? null : roundTo(r, 3),
        digits: 3,
      },
    });
  }

  const sizes = [...new Set(input.idle.flatMap((i) => i.measurements.map((m) => m.sockets)))].sort((a, b) => a - b);
  const idle = sizes.map((sockets): Figure => {
    const bytes = (b: Build): number | undefined => input.idle.find((i) => i.build === b)?.measurements.find((m) => m.sockets === sockets && m.opened > 0)?.bytesPerConnection;
    const r = ratio(bytes('new'), bytes('baseline'));
    return { name: `${sockets.toLocaleString('en-US')} sockets`, baseline: bytes('baseline') ?? null, new: bytes('new') ?? null, ratio: r === undefined ? null : roundTo(r, 3), digits: 0 };
  });
  return { primaryTokens: input.primaryTokens, levels, splits, idle };
}
