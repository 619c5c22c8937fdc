import { expect, test } from '@jest/globals';
import { parseCliArgs, UsageError } from '../src/cli-args.js';
import { planLevels } from '../src/level-plan.js';

test('think times take ms or seconds', () => {
  expect(parseCliArgs(['--think', '3s-6s']).thinkMs).toEqual({ min: 3000, max: 6000 });
  expect(parseCliArgs(['--think', '25s']).thinkMs).toEqual({ min: 25_000, max: 25_000 });
  expect(() => parseCliArgs(['--think', '6s-3s'])).toThrow(UsageError);
});

test('--users and --duration make one level; scenarios come from loadtest/scenarios.ts with overrides', () => {
  const custom = planLevels(parseCliArgs(['--users', '1000', '--duration', '60']));
  expect(custom).toEqual([
    { kind: 'level', level: { label: '1,000 users', users: 1000, durationS: 60, rampS: 5, thinkMs: { min: 3000, max: 6000 } } },
  ]);
  const table = planLevels(parseCliArgs(['--levels', 'l10,l100', '--duration', '5']));
  expect(table.map((s) => (s.kind === 'level' ? [s.level.label, s.level.users, s.level.durationS] : s.kind))).toEqual([
    ['10 users', 10, 5],
    ['100 users', 100, 5],
  ]);
  const stress = planLevels(parseCliArgs(['--level', 'stress']));
  expect(stress[0]?.kind).toBe('stress');
  expect(planLevels(parseCliArgs([]))).toMatchObject([{ kind: 'level', level: { label: 'smoke' } }]);
});

test('bad options are usage errors', () => {
  expect(() => parseCliArgs(['--users', '0'])).toThrow(UsageError);
  expect(() => parseCliArgs(['--users', 'ten'])).toThrow(UsageError);
  expect(() => parseCliArgs(['--bogus'])).toThrow(UsageError);
  expect(() => parseCliArgs(['--target', 'localhost:8088'])).toThrow(UsageError);
  expect(() => parseCliArgs(['--target', 'http://a:1', '--sim-ttft', '100'])).toThrow(/--sim-url/);
  expect(() => planLevels(parseCliArgs(['--level', 'nope']))).toThrow(/unknown level/);
});
