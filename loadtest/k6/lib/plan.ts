// k6 scenarios from the levels of ../../scenarios.ts: VUs ramp up over rampS, hold for durationS,
// and each VU is one user chatting until the level's end.
import { sleep } from 'k6';
import exec from 'k6/execution';
import type { Scenario } from 'k6/options';
import type { LevelScenario } from '../../scenarios.ts';
import { chatUntil, newRunId, REPLY_TIMEOUT_MS } from './chat.ts';

/** Time a level's replies in flight get after its end before k6 stops its VUs. */
export const GRACE_S = Math.ceil(REPLY_TIMEOUT_MS / 1000) + 10;

export function levelScenario(level: LevelScenario, fn: string, startTimeS = 0, env: Record<string, string> = {}): Scenario {
  return {
    executor: 'ramping-vus',
    startTime: `${startTimeS}s`,
    startVUs: 0,
    stages: [
      { duration: `${level.rampS}s`, target: level.users },
      { duration: `${level.durationS}s`, target: level.users },
    ],
    gracefulRampDown: `${GRACE_S}s`,
    gracefulStop: `${GRACE_S}s`,
    exec: fn,
    env,
  };
}

/** Seconds a level takes with its grace, for scheduling the next one after it. */
export function levelSpanS(level: LevelScenario): number {
  return level.rampS + level.durationS + GRACE_S;
}

export interface SetupData {
  runId: string;
}

export function setupRun(): SetupData {
  return { runId: newRunId() };
}

/** One VU iteration of `level`: chat until the level's end (measured from the scenario's start). */
export function chatInLevel(level: LevelScenario, data: SetupData, stage?: () => string): void {
  const endAt = exec.scenario.startTime + (level.rampS + level.durationS) * 1000;
  chatUntil({ endAt, think: level.think, runId: data.runId, stage, turnsPerSession: level.turnsPerSession });
  // A user that could not connect waits a little before the next iteration tries again.
  if (Date.now() < endAt) sleep(1);
}
