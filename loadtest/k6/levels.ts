// The four levels of the old table, one after another (10, 100, 500, 1000 users), or the ones in
// LEVELS=l100,l1000 (any names of ../scenarios.ts). Prints the contract's load table and writes it
// as JSON to SUMMARY_JSON (default loadtest-k6-levels.json).
import type { Options, Scenario } from 'k6/options';
import { isLevelName, LEVELS, TABLE_LEVELS, type LevelName } from '../scenarios.ts';
import { formatTable, goalThresholds, reportThresholds, rowFrom, TREND_STATS, type SummaryData } from './lib/goals.ts';
import { chatInLevel, levelScenario, levelSpanS, setupRun, type SetupData } from './lib/plan.ts';

const names: LevelName[] = (__ENV.LEVELS ?? TABLE_LEVELS.join(','))
  .split(',')
  .map((n) => n.trim())
  .filter((n): n is LevelName => {
    if (!isLevelName(n)) throw new Error(`LEVELS: unknown level "${n}"; known: ${Object.keys(LEVELS).join(', ')}`);
    return true;
  });

const scenarios: Record<string, Scenario> = {};
let thresholds: NonNullable<Options['thresholds']> = {};
let start = 0;
for (const name of names) {
  scenarios[name] = levelScenario(LEVELS[name], 'level', start, { LEVEL: name });
  thresholds = { ...thresholds, ...reportThresholds(`{scenario:${name}}`), ...goalThresholds(`{scenario:${name}}`) };
  start += levelSpanS(LEVELS[name]);
}

export const options: Options = {
  scenarios,
  thresholds: { ...thresholds, ...goalThresholds() },
  summaryTrendStats: TREND_STATS,
};

export function setup(): SetupData {
  return setupRun();
}

export function level(data: SetupData): void {
  const name = __ENV.LEVEL;
  if (name === undefined || !isLevelName(name)) throw new Error(`no level "${name}"`);
  chatInLevel(LEVELS[name], data);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const rows = names.map((n) => {
    const l = LEVELS[n];
    return rowFrom(data, `{scenario:${n}}`, l.label, l.users, l.durationS, l.rampS + l.durationS);
  });
  return {
    stdout: `\n${formatTable(rows)}\n\n(per-code failures: failed_replies{code:…} in k6's metrics output)\n`,
    [__ENV.SUMMARY_JSON ?? 'loadtest-k6-levels.json']: `${JSON.stringify({ levels: rows }, null, 2)}\n`,
  };
}
