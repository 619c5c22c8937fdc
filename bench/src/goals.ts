// The goals, checked against what a run measured; a goal the run did not reach is left open.
import { round1, type LevelResult, type Percentiles } from '@chat-fleet/loadgen';
import { GOALS as LOAD_GOALS, LEVELS } from '@chat-fleet/loadtest';
import type { GoalCheck, IdleMeasurement } from './bench-result.js';

export const GOALS = {
  users: LEVELS.l1000.users,
  ttftOverheadP95Ms: LOAD_GOALS.firstTokenOverheadP95Ms,
  ttftOverheadP99Ms: LOAD_GOALS.firstTokenOverheadP99Ms,
  /** "≤ 8 KB", read as 8 × 1024 bytes. */
  idleBytesPerConnection: 8 * 1024,
  pacedUsers: LEVELS.l10k.users,
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
  readonly system: Pick<LevelResult, 'users' | 'messages' | 'failures' | 'successRate'>;
  /** First token through the fleet and straight from the model. */
  readonly systemTtft: Percentiles;
  readonly floorTtft: Percentiles;
  /** The simulator's fixed first-token latency: the model's own can be no less. */
  readonly modelTtftMs: number;
  /** judgeFloor's verdict. */
  readonly floorDisturbed: string | null;
  readonly idle: readonly IdleMeasurement[];
  /** The realistic-pace run, when there was one. */
  readonly paced: Pick<LevelResult, 'users' | 'messages' | 'failures' | 'successRate'> | undefined;
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

function whole(r: GoalInputs['system']): string {
  return `${r.users} users: ${r.successRate.toFixed(2)} % whole (${r.failures} of ${r.messages} failed)`;
}

export function checkGoals(input: GoalInputs): GoalCheck[] {
  const atScale = input.system.users >= GOALS.users;
  const { p95, p99 } = overhead(input.systemTtft, input.floorTtft);
  const sound = input.floorDisturbed === null;
  const note = (system: number): string =>
    sound ? '' : ` (floor disturbed; ${round1(system - input.modelTtftMs)} ms over the simulator's fixed ${input.modelTtftMs} ms)`;
  const checks: GoalCheck[] = [
    {
      goal: `${GOALS.users} concurrent users, every reply whole`,
      target: '100.00 %',
      measured: whole(input.system),
      met: atScale ? input.system.failures === 0 && input.system.messages > 0 : undefined,
    },
    {
      goal: 'first-token overhead over the model, p95',
      target: `≤ ${GOALS.ttftOverheadP95Ms} ms`,
      measured: `${p95} ms at ${input.system.users} users${note(input.systemTtft.p95)}`,
      met: atScale ? judgeOverhead(input.systemTtft.p95, input.floorTtft.p95, input.modelTtftMs, GOALS.ttftOverheadP95Ms, sound) : undefined,
    },
    {
      goal: 'first-token overhead over the model, p99',
      target: `≤ ${GOALS.ttftOverheadP99Ms} ms`,
      measured: `${p99} ms at ${input.system.users} users${note(input.systemTtft.p99)}`,
      met: atScale ? judgeOverhead(input.systemTtft.p99, input.floorTtft.p99, input.modelTtftMs, GOALS.ttftOverheadP99Ms, sound) : undefined,
    },
  ];
  const idle = input.idle.filter((m) => m.opened > 0);
  checks.push({
    goal: 'gateway memory per idle connection',
    target: `≤ ${kb(GOALS.idleBytesPerConnection)}`,
    measured: idle.length === 0 ? 'not measured' : idle.map((m) => `${kb(m.bytesPerConnection)} at ${m.sockets}`).join(', '),
    met:
      idle.length === 0
        ? undefined
        : idle.every((m) => m.failures === 0 && m.bytesPerConnection <= GOALS.idleBytesPerConnection),
  });
  const connected = input.idle.find((m) => m.sockets >= GOALS.pacedUsers);
  checks.push({
    goal: `${GOALS.pacedUsers.toLocaleString('en-US')} sessions connected at once`,
    target: 'all open',
    measured: connected === undefined ? 'not measured' : `${connected.opened} of ${connected.sockets} opened`,
    met: connected === undefined ? undefined : connected.failures === 0,
  });
  const paced = input.paced;
  checks.push({
    goal: `${GOALS.pacedUsers.toLocaleString('en-US')} sessions chatting, one message every 20–30 s`,
    target: '100.00 % whole',
    measured: paced === undefined ? 'not measured' : whole(paced),
    met:
      paced === undefined || paced.users < GOALS.pacedUsers ? undefined : paced.failures === 0 && paced.messages > 0,
  });
  return checks;
}
