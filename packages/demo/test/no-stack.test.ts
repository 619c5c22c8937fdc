// With nothing listening, the demo says how to start the stack and fails.
import { expect, test } from '@jest/globals';
import { freePort } from '@chat-fleet/stack';
import { runCli } from './cli-process.js';

test('chat, --auto and --load with no gateway: "start the stack with npm start", exit 1', async () => {
  const nobody = `http://127.0.0.1:${await freePort()}`;
  for (const mode of [[], ['--auto'], ['--load', '2']]) {
    const run = await runCli([...mode, '--gateways', nobody]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no chat-fleet gateway answers at ${nobody}: start the stack with npm start`);
  }
}, 30_000);

test('--health with nothing answering: every row down, the hint, exit 1', async () => {
  const [g, w] = [await freePort(), await freePort()];
  const run = await runCli(['--health', '--gateways', `http://127.0.0.1:${g}`, '--workers', `http://127.0.0.1:${w}`]);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(new RegExp(`^gateway \\? +:${g} +down +connection refused$`, 'm'));
  expect(run.stdout).toMatch(new RegExp(`^worker \\? +:${w} +down +connection refused$`, 'm'));
  expect(run.stdout).toContain('nothing answers: start the stack with npm start');
}, 15_000);

test('bad options: the usage and exit 2', async () => {
  const run = await runCli(['--load', 'many']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--load: expected a whole number ≥ 1, got "many"');
  expect(run.stderr).toContain('npm run demo -- [options]');
}, 15_000);
