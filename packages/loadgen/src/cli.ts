#!/usr/bin/env node
// `npm run loadtest`: composition root of the load runner. Reads options, starts or finds the
// stack, drives each level, prints the load table and writes the JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { openFileLimit, readCliArgs, REPO_ROOT } from '@chat-fleet/stack';
import { parseCliArgs, USAGE, UsageError, type CliArgs } from './cli-args.js';
import { planLevels, type PlannedLevel, type PlannedStep } from './level-plan.js';
import type { LevelResult } from './load-options.js';
import { formatLoadTable } from './load-table.js';
import { logDirFor, startOwnStack, useRunningStack, type LoadTarget } from './load-target.js';
import { progressView } from './progress-view.js';
import { runLoad } from './run-load.js';

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const complain = (line: string): void => void process.stderr.write(`${line}\n`);

function readArgs(): CliArgs {
  return readCliArgs(parseCliArgs, USAGE, (args) => args.help);
}

function plan(args: CliArgs): PlannedStep[] {
  try {
    return planLevels(args);
  } catch (err) {
    if (err instanceof UsageError) {
      complain(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** Every client socket is a file descriptor of the process that holds it. */
function checkOpenFiles(steps: PlannedStep[], procs: number): void {
  const limit = openFileLimit();
  if (limit === undefined) return;
  const most = Math.max(...steps.flatMap((s) => (s.kind === 'level' ? [s.level.users] : s.steps.map((l) => l.users))));
  const perProc = Math.ceil(most / procs) + 200;
  if (perProc > limit) {
    complain(
      `${most} users in ${procs} process(es) need about ${perProc} open files each, over this shell's limit of ${limit}: ` +
        `use --procs ${Math.ceil(most / (limit - 200))} or raise it (ulimit -n 65536)`,
    );
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const args = readArgs();
  const steps = plan(args);
  checkOpenFiles(steps, args.procs);
  const resultsDir = join(REPO_ROOT, 'loadtest', 'results');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  const jsonPath = resolve(args.json ?? join(resultsDir, `loadtest-${stamp}.json`));
  const sim = { replyTokens: args.replyTokens, ttftMs: args.simTtftMs, tokensPerSec: args.simTokensPerSec };

  const abort = new AbortController();
  let target: LoadTarget | undefined;
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) {
      complain('forcing: SIGKILL to the stack');
      target?.kill();
      process.exit(130);
    }
    interrupted = true;
    complain('\nstopping: no new messages, waiting briefly for replies in flight (Ctrl-C again to kill)');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => target?.kill());

  try {
    target =
      args.target !== undefined
        ? await useRunningStack(args.target, args.simUrl, sim)
        : await startOwnStack({
            gateways: args.stackGateways,
            workers: args.stackWorkers,
            sim,
            logDir: logDirFor(resultsDir, stamp),
            signal: abort.signal,
          });
  } catch (err) {
    complain(`could not ${args.target !== undefined ? 'reach the stack' : 'start a stack'}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  say(`target: ${target.description}`);
  const simConfig = target.simConfig;
  if (simConfig !== undefined) say(`simulator: ${JSON.stringify(simConfig)}`);

  const rows: LevelResult[] = [];
  const runLevel = async (level: PlannedLevel): Promise<LevelResult> => {
    say(
      `${level.label}: ${level.users} users, ramp ${level.rampS} s, ${level.durationS} s, ` +
        `think ${level.thinkMs.min}-${level.thinkMs.max} ms, ${args.procs} process(es)`,
    );
    const view = progressView(level.label, level.rampS + level.durationS);
    try {
      const row = await runLoad({
        gateways: target!.gateways,
        users: level.users,
        durationS: level.durationS,
        rampS: level.rampS,
        thinkMs: level.thinkMs,
        turnsPerSession: level.turnsPerSession,
        level: level.label,
        procs: args.procs,
        replyTimeoutMs: args.replyTimeoutS * 1000,
        signal: abort.signal,
        onProgress: (p) => view.update(p),
      });
      rows.push(row);
      return row;
    } finally {
      view.stop();
    }
  };

  let failed: unknown;
  try {
    for (const step of steps) {
      if (abort.signal.aborted) break;
      if (step.kind === 'level') {
        await runLevel(step.level);
        continue;
      }
      let knee: PlannedLevel | undefined;
      for (const level of step.steps) {
        if (abort.signal.aborted) break;
        const row = await runLevel(level);
        if (row.failures > 0 || row.messages === 0) {
          say(`stress: replies stopped being whole at ${level.users} users (${row.failures} failed)`);
          break;
        }
        knee = level;
      }
      say(knee === undefined ? 'stress: no step was clean' : `stress: knee at ${knee.users} users (the last step with every reply whole)`);
    }
  } catch (err) {
    failed = err;
  }
  await target.stop().catch((err: unknown) => complain(`stopping the stack: ${String(err)}`));
  target = undefined;

  if (rows.length > 0) {
    say('');
    say(formatLoadTable(rows));
    say('');
    for (const r of rows) {
      say(
        `${r.level}: ${r.messages} messages, ${r.frames} token frames, ${r.cached} cached, ${r.reconnects} reconnects; ` +
          `${r.peakConnected} sockets open at most, connect p50/p99 ${r.connectMs.p50}/${r.connectMs.p99} ms; ` +
          `load clients used ${r.loadCpuS} CPU s in ${r.elapsedS} s`,
      );
      const codes = Object.entries(r.errors);
      if (codes.length > 0) say(`${r.level}: failures by code: ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}`);
    }
    mkdirSync(dirname(jsonPath), { recursive: true });
    const report = {
      levels: rows,
      run: {
        startedAt: stamp,
        target: args.target ?? 'own stack',
        sim: simConfig ?? sim,
        procs: args.procs,
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMiB: Math.round(totalmem() / 2 ** 20), node: process.version },
      },
    };
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    say(`\nJSON: ${relative(process.cwd(), jsonPath) || jsonPath}`);
  }
  if (failed !== undefined) {
    complain(`load run failed: ${describe(failed)}`);
    process.exit(1);
  }
  const bad = rows.length === 0 || rows.some((r) => r.failures > 0 || r.messages === 0);
  process.exit(bad || interrupted ? 1 : 0);
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : JSON.stringify(err);
}

main().catch((err: unknown) => {
  complain(describe(err));
  process.exit(1);
});
