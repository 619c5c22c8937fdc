// Which levels a run drives: scenarios from loadtest/scenarios.ts with the command line's overrides.
import { CHAT_THINK, isLevelName, LEVELS, STRESS, type LevelScenario } from '@chat-fleet/loadtest';
import { UsageError, type CliArgs } from './cli-args.js';

export interface PlannedLevel {
  label: string;
  users: number;
  durationS: number;
  rampS: number;
  thinkMs: { min: number; max: number };
  turnsPerSession?: number;
}

export type PlannedStep = { kind: 'level'; level: PlannedLevel } | { kind: 'stress'; steps: PlannedLevel[] };

export function defaultRampS(users: number): number {
  return Math.min(30, Math.ceil(users / 200));
}

export function planLevels(args: CliArgs): PlannedStep[] {
  const override = (l: PlannedLevel): PlannedLevel => ({
    label: args.users !== undefined && args.users !== l.users ? `${l.label} (${args.users} users)` : l.label,
    users: args.users ?? l.users,
    durationS: args.durationS ?? l.durationS,
    rampS: args.rampS ?? l.rampS,
    thinkMs: args.thinkMs ?? l.thinkMs,
    turnsPerSession: l.turnsPerSession,
  });
  if (args.levels.length === 0) {
    if (args.users === undefined) {
      if (args.durationS !== undefined || args.thinkMs !== undefined) throw new UsageError('--users is needed (or a --level)');
      return planLevels({ ...args, levels: ['smoke'] });
    }
    return [
      {
        kind: 'level',
        level: {
          label: `${args.users.toLocaleString('en-US')} users`,
          users: args.users,
          durationS: args.durationS ?? 60,
          rampS: args.rampS ?? defaultRampS(args.users),
          thinkMs: args.thinkMs ?? { min: CHAT_THINK.minMs, max: CHAT_THINK.maxMs },
        },
      },
    ];
  }
  return args.levels.map((name): PlannedStep => {
    if (name === 'stress') {
      if (args.users !== undefined) throw new UsageError('stress picks its own user counts; drop --users');
      return {
        kind: 'stress',
        steps: STRESS.steps.map((users) =>
          override({
            label: `stress ${users.toLocaleString('en-US')}`,
            users,
            durationS: STRESS.holdS,
            rampS: STRESS.rampS,
            thinkMs: { min: STRESS.think.minMs, max: STRESS.think.maxMs },
          }),
        ),
      };
    }
    if (!isLevelName(name)) {
      throw new UsageError(`unknown level "${name}"; known: ${Object.keys(LEVELS).join(', ')}, stress`);
    }
    const s: LevelScenario = LEVELS[name];
    return {
      kind: 'level',
      level: override({
        label: s.label,
        users: s.users,
        durationS: s.durationS,
        rampS: s.rampS,
        thinkMs: { min: s.think.minMs, max: s.think.maxMs },
        turnsPerSession: s.turnsPerSession,
      }),
    };
  });
}
