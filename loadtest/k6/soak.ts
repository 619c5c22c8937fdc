// Soak: steady users for hours (LEVELS.soak: 300 users, 4 h; SOAK_USERS, SOAK_HOURS override):
// leaks, session expiry, reconnects and Redis growth show up here, not in short levels.
import type { Options } from 'k6/options';
import { LEVELS, type LevelScenario } from '../scenarios.ts';
import { goalThresholds, TREND_STATS } from './lib/goals.ts';
import { chatInLevel, levelScenario, setupRun, type SetupData } from './lib/plan.ts';

const soak: LevelScenario = {
  ...LEVELS.soak,
  users: Number(__ENV.SOAK_USERS ?? LEVELS.soak.users),
  durationS: __ENV.SOAK_HOURS === undefined ? LEVELS.soak.durationS : Math.round(Number(__ENV.SOAK_HOURS) * 3600),
};

export const options: Options = {
  scenarios: { soak: levelScenario(soak, 'soakUser') },
  thresholds: goalThresholds(),
  summaryTrendStats: TREND_STATS,
};

export function setup(): SetupData {
  return setupRun();
}

export function soakUser(data: SetupData): void {
  chatInLevel(soak, data);
}
