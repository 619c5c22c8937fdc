// Stress: users step up (STRESS.steps of ../scenarios.ts) until replies stop arriving whole; the
// run aborts once well past that point and reports the knee: the last step where every reply was
// whole and first tokens met the goal. Samples carry a `stage` tag with the step's user count.
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { GOALS, STRESS } from '../scenarios.ts';
import { MODEL_TTFT_MS, reportThresholds, rowFrom, formatTable, TREND_STATS, type SummaryData } from './lib/goals.ts';
import { GRACE_S, setupRun, type SetupData, chatInLevel } from './lib/plan.ts';

const stages = STRESS.steps.flatMap((users) => [
  { duration: `${STRESS.rampS}s`, target: users },
  { duration: `${STRESS.holdS}s`, target: users },
]);
const totalS = STRESS.steps.length * (STRESS.rampS + STRESS.holdS);

/** The step (its user count) the ramp is in at this moment. */
function currentStep(): string {
  const elapsedS = (Date.now() - exec.scenario.startTime) / 1000;
  const i = Math.min(STRESS.steps.length - 1, Math.floor(elapsedS / (STRESS.rampS + STRESS.holdS)));
  return String(STRESS.steps[i]);
}

let thresholds: NonNullable<Options['thresholds']> = {};
for (const users of STRESS.steps) thresholds = { ...thresholds, ...reportThresholds(`{stage:${users}}`) };

export const options: Options = {
  scenarios: {
    stress: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages,
      gracefulRampDown: `${GRACE_S}s`,
      gracefulStop: `${GRACE_S}s`,
      exec: 'stress',
    },
  },
  thresholds: {
    ...thresholds,
    // Far past the knee there is nothing left to learn: stop.
    whole_replies: [{ threshold: 'rate>=0.95', abortOnFail: true, delayAbortEval: '30s' }],
  },
  summaryTrendStats: TREND_STATS,
};

export function setup(): SetupData {
  return setupRun();
}

export function stress(data: SetupData): void {
  chatInLevel({ label: 'stress', description: STRESS.description, users: 0, durationS: totalS, rampS: 0, think: STRESS.think }, data, currentStep);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const rows = STRESS.steps
    .map((users) => rowFrom(data, `{stage:${users}}`, `stress ${users}`, users, STRESS.holdS, STRESS.rampS + STRESS.holdS))
    .filter((r) => r.messages > 0);
  let knee: number | undefined;
  for (const r of rows) {
    const clean =
      r.successRate >= GOALS.wholeReplyRate * 100 &&
      r.ttftMs.p95 <= MODEL_TTFT_MS + GOALS.firstTokenOverheadP95Ms &&
      r.ttftMs.p99 <= MODEL_TTFT_MS + GOALS.firstTokenOverheadP99Ms;
    if (!clean) break;
    knee = r.users;
  }
  const verdict =
    knee === undefined ? 'knee: no step met the goals' : `knee: ${knee} users (the last step with every reply whole and first tokens within the goal)`;
  return {
    stdout: `\n${formatTable(rows)}\n\n${verdict}\n`,
    [__ENV.SUMMARY_JSON ?? 'loadtest-k6-stress.json']: `${JSON.stringify({ knee: knee ?? null, levels: rows }, null, 2)}\n`,
  };
}
