// Smoke: a few users for a few turns; every reply whole. `k6 run loadtest/k6/smoke.ts`
import type { Options } from 'k6/options';
import { LEVELS } from '../scenarios.ts';
import { goalThresholds, TREND_STATS } from './lib/goals.ts';
import { chatInLevel, levelScenario, setupRun, type SetupData } from './lib/plan.ts';

export const options: Options = {
  scenarios: { smoke: levelScenario(LEVELS.smoke, 'smoke') },
  thresholds: { ...goalThresholds(), checks: ['rate==1'] },
  summaryTrendStats: TREND_STATS,
};

export function setup(): SetupData {
  return setupRun();
}

export function smoke(data: SetupData): void {
  chatInLevel(LEVELS.smoke, data);
}
