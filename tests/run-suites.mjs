#!/usr/bin/env node
// `npm test` in tests/: the main suite (every file, on TEST_REDIS_MODE's Redis, one redis-server by
// default) and the cluster suite (jest.cluster.config.js, on a private Redis Cluster) as two jest
// processes at once, each with its own Redis. Each writes its whole output to
// test-artifacts/jest-<suite>.log, printed in one piece when it ends so the two never interleave;
// meanwhile each file's PASS/FAIL line is echoed as it comes. Fails if either suite fails, and
// names each one that did. Arguments go to both jest runs (e.g. a file pattern).
// TEST_SUITES=main or TEST_SUITES=cluster runs one of them.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, '..', 'test-artifacts');
const jestBin = createRequire(import.meta.url).resolve('jest/bin/jest');
const extra = process.argv.slice(2);

const all = [
  { name: 'main', label: `main (${process.env.TEST_REDIS_MODE?.trim() || 'single'} Redis)`, args: [] },
  { name: 'cluster', label: 'cluster (Redis Cluster)', args: ['--config', 'jest.cluster.config.js'] },
];
const wanted = (process.env.TEST_SUITES ?? 'main,cluster').split(',').map((s) => s.trim()).filter(Boolean);
const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
if (unknown.length > 0 || wanted.length === 0) {
  process.stderr.write(`TEST_SUITES: expected main, cluster or both, got "${process.env.TEST_SUITES}"\n`);
  process.exit(2);
}
const suites = all.filter((s) => wanted.includes(s.name));

mkdirSync(artifacts, { recursive: true });
const say = (line) => process.stdout.write(`${line}\n`);
const nodeOptions = [process.env.NODE_OPTIONS, '--experimental-vm-modules', '--disable-warning=ExperimentalWarning'].filter(Boolean).join(' ');

const children = [];

function run(suite) {
  const log = join(artifacts, `jest-${suite.name}.log`);
  const out = createWriteStream(log);
  const started = Date.now();
  // A file pattern may match nothing in one of the suites: that is not a failure.
  const args = [jestBin, ...suite.args, '--runInBand', ...(extra.length > 0 ? ['--passWithNoTests'] : []), ...extra];
  const child = spawn(process.execPath, args, {
    cwd: here,
    env: { ...process.env, NODE_OPTIONS: nodeOptions, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let partial = '';
  const scan = (chunk) => {
    out.write(chunk);
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    // A file's result line; jest's closing summary repeats failures without the display name.
    for (const line of lines) if (/^(PASS|FAIL) @chat-fleet\//.test(line)) say(`[${suite.name}] ${line}`);
  };
  child.stdout.on('data', scan);
  child.stderr.on('data', scan);
  return new Promise((resolve) => {
    child.once('error', (err) => {
      out.end(`\ncould not start jest: ${err.message}\n`);
      resolve({ suite, log, code: 1, signal: null, ms: Date.now() - started });
    });
    child.once('close', (code, signal) => {
      out.end(() => resolve({ suite, log, code, signal, ms: Date.now() - started }));
    });
  });
}

const forward = (signal) => () => {
  for (const c of children) c.kill(signal);
};
process.on('SIGTERM', forward('SIGTERM'));
// A terminal's Ctrl-C reaches the jest processes too (same process group); just wait for them.
process.on('SIGINT', () => undefined);

say(`[tests] running ${suites.map((s) => s.label).join(' and ')} at once; logs in ${relative(process.cwd(), artifacts) || '.'}/jest-<suite>.log`);
const results = await Promise.all(
  suites.map((suite) =>
    run(suite).then((r) => {
      const outcome = r.code === 0 ? 'passed' : `FAILED (${r.signal === null ? `exit ${r.code}` : r.signal})`;
      say(`\n======== ${suite.label}: ${outcome} in ${Math.round(r.ms / 1000)} s; its whole output ========\n`);
      process.stdout.write(readFileSync(r.log, 'utf8'));
      say(`======== end of ${suite.label} ========`);
      return r;
    }),
  ),
);

say('');
for (const r of results) {
  const outcome = r.code === 0 ? 'passed' : `FAILED (${r.signal === null ? `exit ${r.code}` : r.signal})`;
  say(`[tests] ${r.suite.label}: ${outcome} in ${Math.round(r.ms / 1000)} s (${relative(process.cwd(), r.log)})`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
