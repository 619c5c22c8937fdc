// The issue's goals, checked against what a run measured; a goal the run did not reach is left open.
import { round1, type Percentiles } from '@chat-fleet/loadgen';
import { CHAT_THINK, SLOW_THINK } from '@chat-fleet/loadtest';
import type { GoalCheck, IdleMeasurement } from './bench-result.js';
import type { BenchSummary, Figure, LevelSummary } from './bench-summary.js';

/** Issue 17's goals, each judged from one run (against the baseline of the same run where it is a ratio). */
export const GOALS = {
  /** Fleet CPU per 1000 tokens at these levels: at most this share of the baseline's. */
  cpuLevels: [100, 1000],
  cpuRatio: 1 / 3,
  commandsUsers: 100,
  /** Redis commands clients sent per message (a script call counts once). */
  commandsPerMessage: 60,
  ttftUsers: 100,
  ttftOverheadP50Ms: 5,
  ttftOverheadP99Ms: 15,
  pacedUsers: 1000,
  pacedOverheadP95Ms: 10,
  pacedOverheadP99Ms: 30,
  saturationUsers: 1000,
  saturationRatio: 2,
  /** "≤ 8 KB", read as 8 × 1024 bytes, at this many idle sockets. */
  idleBytesPerConnection: 8 * 1024,
  idleSockets: 10_000,
} as const;

/** How far above the simulator's fixed first-token latency a sound floor may read at p99. */
export const FLOOR_TOLERANCE_MS = 100;

/**
 * The floor is the model seen from this machine; when its p99 is far above the simulator's fixed
 * latency, the machine (or the load clients) stalled during it and differences against it mean nothing.
 */
/** What the fleet adds over the model alone, percentile by percentile. */
export function overhead(system: Percentiles, floor: Percentiles): Percentiles {
  return {
    p50: round1(system.p50 - floor.p50),
    p95: round1(system.p95 - floor.p95),
    p99: round1(system.p99 - floor.p99),
  };
}

export function judgeFloor(floor: { ttftMs: Percentiles }, simTtftMs: number): string | null {
  const p99 = floor.ttftMs.p99;
  if (p99 <= simTtftMs + FLOOR_TOLERANCE_MS) return null;
  return (
    `the floor's first-token p99 is ${p99} ms against the simulator's fixed ${simTtftMs} ms, so the floor run was disturbed ` +
    `(by other load or the clients' own event loop); system minus floor then only bounds the overhead from below, and ` +
    `system minus ${simTtftMs} ms bounds it from above`
  );
}

export interface GoalInputs {
  readonly summary: BenchSummary;
  /** The simulator's fixed first-token latency: the model's own can be no less. */
  readonly modelTtftMs: number;
  /** Idle sockets on the new build's gateways. */
  readonly idle: readonly IdleMeasurement[];
}

/**
 * The fleet's first-token overhead against a target. The floor is the model plus the client's own
 * costs, so system − floor can only understate the overhead, and system − the fixed latency can only
 * overstate it. A sound floor decides alone; a disturbed one decides only where both bounds agree.
 */
export function judgeOverhead(system: number, floor: number, modelMs: number, target: number, floorSound: boolean): boolean | undefined {
  const atLeast = system - floor;
  const atMost = system - modelMs;
  if (floorSound) return atLeast <= target;
  if (atLeast > target) return false;
  if (atMost <= target) return true;
  return undefined;
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const sameThink = (a: { min: number; max: number }, b: { minMs: number; maxMs: number }): boolean => a.min === b.minMs && a.max === b.maxMs;

function level(s: BenchSummary, users: number, paced: boolean): LevelSummary | undefined {
  return s.levels.find((l) => l.users === users && l.paced === paced && sameThink(l.thinkMs, paced ? SLOW_THINK : CHAT_THINK));
}

function fig(l: LevelSummary | undefined, prefix: string): Figure | undefined {
  return l?.figures.find((f) => f.name.startsWith(prefix));
}

const num = (n: number | null | undefined, digits: number): string => (n === null || n === undefined ? '–' : n.toFixed(digits));

function overheadGoal(l: LevelSummary | undefined, p: keyof Percentiles, target: number, what: string, modelMs: number): GoalCheck {
  const goal = `first-token overhead over the floor ${p}, ${what}`;
  const system = fig(l, `first token ${p}`)?.new;
  const floor = l?.floorTtftMs?.[p];
  if (l === undefined || system === null || system === undefined || floor === undefined) return { goal, target: `≤ ${target} ms`, measured: 'not measured', met: undefined };
  const sound = l.floorDisturbed === null;
  const note = sound ? '' : ` (floor disturbed; ${round1(system - modelMs)} ms over the simulator's fixed ${modelMs} ms)`;
  return { goal, target: `≤ ${target} ms`, measured: `${round1(system - floor)} ms${note}`, met: judgeOverhead(system, floor, modelMs, target, sound) };
}

function wholeText(l: LevelSummary): string {
  const w = l.whole.new;
  return w === undefined ? '' : `, ${w.failures === 0 ? 'every reply whole' : `${w.failures} of ${w.messages} replies not whole`}`;
}

export function checkGoals(input: GoalInputs): GoalCheck[] {
  const s = input.summary;
  const checks: GoalCheck[] = [];
  for (const users of GOALS.cpuLevels) {
    const l = level(s, users, false);
    const f = fig(l, 'fleet CPU-s per 1000 tokens');
    const goal = `fleet CPU per 1000 tokens (gateways + workers + Redis), ${users} users, ${s.primaryTokens}-token replies`;
    checks.push({
      goal,
      target: '≤ 1/3 of the baseline',
      measured: f === undefined ? 'not measured' : `${num(f.new, 3)} against ${num(f.baseline, 3)} CPU-s: ratio ${num(f.ratio, 3)}`,
      met: f?.ratio === null || f?.ratio === undefined ? undefined : f.ratio <= GOALS.cpuRatio,
    });
  }
  const cmdLevel = level(s, GOALS.commandsUsers, false);
  const cmd = fig(cmdLevel, 'Redis commands per message, sent');
  const executed = fig(cmdLevel, 'Redis commands per message, executed');
  checks.push({
    goal: `Redis commands per ${s.primaryTokens}-token message, ${GOALS.commandsUsers} users: sent by clients (a script call counts once; executed, script-internal included, in brackets)`,
    target: `≤ ${GOALS.commandsPerMessage}`,
    measured: cmd?.new === null || cmd?.new === undefined ? 'not measured' : `${num(cmd.new, 1)} (${num(executed?.new, 1)}); baseline ${num(cmd.baseline, 1)} (${num(executed?.baseline, 1)})`,
    met: cmd?.new === null || cmd?.new === undefined ? undefined : cmd.new <= GOALS.commandsPerMessage,
  });
  const ttft = level(s, GOALS.ttftUsers, false);
  checks.push(overheadGoal(ttft, 'p50', GOALS.ttftOverheadP50Ms, `${GOALS.ttftUsers} users`, input.modelTtftMs));
  checks.push(overheadGoal(ttft, 'p99', GOALS.ttftOverheadP99Ms, `${GOALS.ttftUsers} users`, input.modelTtftMs));
  const paced = level(s, GOALS.pacedUsers, true);
  const pacedWhat = `${GOALS.pacedUsers} users, ${SLOW_THINK.minMs / 1000}–${SLOW_THINK.maxMs / 1000} s think`;
  checks.push(overheadGoal(paced, 'p95', GOALS.pacedOverheadP95Ms, pacedWhat, input.modelTtftMs));
  checks.push(overheadGoal(paced, 'p99', GOALS.pacedOverheadP99Ms, pacedWhat, input.modelTtftMs));
  const sat = level(s, GOALS.saturationUsers, false);
  const rate = fig(sat, 'messages/s');
  const whole = sat?.whole.new;
  checks.push({
    goal: `saturation: messages/s at ${GOALS.saturationUsers} users, ${CHAT_THINK.minMs / 1000}–${CHAT_THINK.maxMs / 1000} s think, every reply whole`,
    target: `≥ ${GOALS.saturationRatio} × the baseline`,
    measured: sat === undefined || rate === undefined ? 'not measured' : `${num(rate.new, 1)} against ${num(rate.baseline, 1)}: ratio ${num(rate.ratio, 2)}${wholeText(sat)}`,
    met: rate?.ratio === null || rate?.ratio === undefined || whole === undefined ? undefined : rate.ratio >= GOALS.saturationRatio && whole.failures === 0 && whole.messages > 0,
  });
  const idle = input.idle.find((m) => m.sockets === GOALS.idleSockets);
  checks.push({
    goal: `gateway memory per idle socket at ${GOALS.idleSockets.toLocaleString('en-US')} sockets (no forced GC)`,
    target: `≤ ${kb(GOALS.idleBytesPerConnection)}`,
    measured: idle === undefined ? 'not measured' : `${kb(idle.bytesPerConnection)} (${idle.opened} of ${idle.sockets} opened)`,
    met: idle === undefined ? undefined : idle.failures === 0 && idle.bytesPerConnection <= GOALS.idleBytesPerConnection,
  });
  const all = s.levels.flatMap((l) => (l.whole.new === undefined ? [] : [l.whole.new]));
  const failures = all.reduce((n, w) => n + w.failures, 0);
  const messages = all.reduce((n, w) => n + w.messages, 0);
  checks.push({
    goal: 'every reply whole, every level of the new build',
    target: '100.00 %',
    measured: messages === 0 ? 'not measured' : `${failures} of ${messages} not whole`,
    met: messages === 0 ? undefined : failures === 0,
  });
  return checks;
}
