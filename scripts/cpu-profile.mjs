// A CPU profile of any Node process of the fleet, with no change to it: load this file with
// `--import` (NODE_OPTIONS="--import ./scripts/cpu-profile.mjs") and the process profiles itself
// through node:inspector from start to exit (or to SIGUSR2), writing
// `$CPU_PROFILE_DIR/<name>-<pid>.cpuprofile` (open it in Chrome DevTools, or summarise it with
// scripts/profile-summary.mjs). CPU_PROFILE_INTERVAL_US sets the sampling period (default 1000).
// CPU_PROFILE_ON_SIGNAL=1: start at the first SIGUSR2 and write at the second, so start-up and
// warm-up stay out of the profile.
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const dir = process.env.CPU_PROFILE_DIR ?? 'test-artifacts/profiles';
const name = basename(process.argv[1] ?? 'node').replace(/\.[cm]?js$/, '');
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: Number(process.env.CPU_PROFILE_INTERVAL_US ?? 1000) });
let started = process.env.CPU_PROFILE_ON_SIGNAL !== '1';
if (started) await session.post('Profiler.start');

let written = false;
async function write() {
  if (written || !started) return;
  written = true;
  const { profile } = await session.post('Profiler.stop');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.env.INSTANCE_ID ?? name}-${process.pid}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  process.stderr.write(`cpu profile written to ${file}\n`);
}

process.on('SIGUSR2', () => {
  if (started) void write();
  else {
    started = true;
    void session.post('Profiler.start');
  }
});
// The apps exit from their SIGTERM handlers; write the profile just before.
const exit = process.exit.bind(process);
process.exit = (code) => {
  void write().finally(() => exit(code));
};
