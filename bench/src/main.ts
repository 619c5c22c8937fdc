#!/usr/bin/env node
// `npm run bench`: composition root. Reads the flags, builds the --baseline ref in a worktree if
// given, finds or starts Redis (one server, a cluster or a Sentinel set: --redis), then runs the
// plan: each run starts a stack of its build (its gateways and workers, the current simulator at a
// fixed pace) and stops it after. Writes the JSON, prints the tables and updates docs/performance.md.
// Ctrl-C stops what it started; a second one kills it.
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { DEFAULT_REDIS_URL, describeExit, readCliArgs, REPO_ROOT, RedisNotFoundError, startStack, type Stack } from '@chat-fleet/stack';
import { prepareBaseline, type BaselineBuild } from './baseline-build.js';
import type { BuildInfo } from './bench-result.js';
import { CLUSTER_QUEUE_SHARDS, parseBenchArgs, USAGE, type BenchOptions } from './bench-options.js';
import { startBenchRedis, type BenchRedis } from './bench-redis.js';
import { judge, runBench, type LaunchRequest } from './bench-run.js';
import type { BenchResult } from './bench-result.js';
import { describeMachine, describeSource } from './machine.js';
import { readOpenFileLimits, splitBySocketLimit, SPARE_DESCRIPTORS } from './open-files.js';
import { clockTicksPerSecond } from './proc-stats.js';
import { formatReport, replaceDocsSection } from './report.js';

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const complain = (line: string): void => void process.stderr.write(`${line}\n`);
let progressShown = false;
const progress = (line: string): void => {
  if (!process.stderr.isTTY) return;
  process.stderr.write(`\r${line.padEnd(100).slice(0, 100)}`);
  progressShown = true;
};
const sayAbove = (line: string): void => {
  if (progressShown) process.stderr.write(`\r${' '.repeat(100)}\r`);
  progressShown = false;
  say(line);
};


/** Sockets beyond the open-file limit cannot be opened: such sizes are skipped, and said so. */
function planSockets(options: BenchOptions): { idle: number[]; skipped: BenchResult['idleSkipped']; soft: number | null; hard: number | null } {
  const limits = readOpenFileLimits();
  if (limits === undefined) return { idle: [...options.idle], skipped: [], soft: null, hard: null };
  const { fit, tooMany } = splitBySocketLimit(options.idle, limits.soft);
  const reason = `the open-file limit is ${limits.soft} (hard ${limits.hard}); ${SPARE_DESCRIPTORS} are kept spare. Raise it as root (ulimit -Hn 65536) and run again`;
  for (const n of tooMany) complain(`note: skipping ${n} idle sockets: ${reason}`);
  if (Math.max(options.paced, ...options.users) + SPARE_DESCRIPTORS > limits.soft) {
    complain(`warning: ${Math.max(options.paced, ...options.users)} users need more sockets than the open-file limit ${limits.soft} allows; expect connect failures`);
  }
  const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
  return { idle: fit, skipped: tooMany.map((sockets) => ({ sockets, reason })), soft: finite(limits.soft), hard: finite(limits.hard) };
}

function resultPath(options: BenchOptions, startedAt: Date): string {
  if (options.out !== undefined) return resolve(process.cwd(), options.out);
  const stamp = startedAt.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  return join(REPO_ROOT, 'bench', 'results', `${stamp}.json`);
}

async function main(): Promise<void> {
  const options = readCliArgs(parseBenchArgs, USAGE, (o) => o.help);
  if (options.render !== undefined) {
    render(options.render, options.docs);
    return;
  }
  const startedAt = new Date();
  const runId = randomBytes(4).toString('hex');
  const prefix = `bench-${runId}`;
  const sockets = planSockets(options);
  // Node raises its own soft limit to the hard one at start-up; the stack's children inherit ours.
  say(`open files: soft limit ${sockets.soft ?? 'unknown'}, hard ${sockets.hard ?? 'unknown'}`);
  const abort = new AbortController();
  // Every request and socket in flight listens on this one signal: thousands at once are expected.
  setMaxListeners(0, abort.signal);
  const logDir = mkdtempSync(join(tmpdir(), 'chat-fleet-bench-'));
  let redis: BenchRedis | undefined;
  /** The stack of the run under way: each run starts its own and stops it. */
  let stack: Stack | undefined;
  let failed = false;

  // The baseline is built before anything starts: a ref that does not build ends the bench here.
  let baseline: BaselineBuild | undefined;
  if (options.baseline !== undefined) {
    try {
      baseline = await prepareBaseline(options.baseline, { repo: REPO_ROOT, root: options.baselineDir, say });
    } catch (err) {
      complain(err instanceof Error ? err.message : String(err));
      process.exit(1);
    }
  }

  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) {
      complain('forcing: SIGKILL to every process');
      stack?.kill('SIGKILL');
      redis?.kill();
      process.exit(130);
    }
    complain('\ninterrupted: stopping… (Ctrl-C again to kill)');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Children run in their own process groups, so a bench that dies must take them along.
  process.on('exit', () => {
    stack?.kill('SIGKILL');
    redis?.kill();
  });

  // On a cluster the queues are what spreads BullMQ's work over the primaries.
  const queueShards = options.env.QUEUE_SHARDS ?? (options.redis === 'cluster' ? String(CLUSTER_QUEUE_SHARDS) : '1');
  try {
    if (options.redis !== 'single') say(`starting ${options.redis === 'cluster' ? 'a private Redis Cluster' : 'a private Sentinel set'}`);
    redis = await startBenchRedis(options.redis, { url: process.env.REDIS_URL ?? DEFAULT_REDIS_URL, prefix, queueShards: Number(queueShards) });
  } catch (err) {
    complain(err instanceof RedisNotFoundError ? err.message : `could not start or reach Redis: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  say(`Redis: ${redis.description}`);
  const [primary] = redis.primaries;
  try {
    if (primary === undefined) throw new Error('no Redis primary to measure');
    const infoServer = await primary.info('server');
    const machine = describeMachine(infoServer);
    say(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGiB} GiB, Node ${machine.node}, Redis ${machine.redis}, load ${machine.loadAverage.join(' ')}`);

    const source = describeSource(REPO_ROOT);
    const builds: BuildInfo[] = [
      ...(baseline === undefined
        ? []
        : [{ build: 'baseline' as const, commit: baseline.commit, subject: baseline.subject, ref: baseline.ref, dir: baseline.dir, install: baseline.install, reused: baseline.reused, buildSeconds: baseline.seconds }]),
      { build: 'new', commit: source.commit, dir: REPO_ROOT },
    ];
    say(`each run starts 2 gateways, 2 workers and the simulator of its build, QUEUE_SHARDS ${queueShards} (logs in ${logDir})`);
    const topology = redis.topology;
    const launch = async (run: LaunchRequest): Promise<Stack> => {
      const dir = join(logDir, run.label);
      mkdirSync(dir, { recursive: true });
      stack = await startStack({
        redis: topology,
        gateways: 2,
        workers: 2,
        ports: 'auto',
        // Chat without tools, as both builds can do it: offering tools makes every model request
        // carry their schemas. What a tool step costs is `npm run bench:tools`.
        mcpTools: false,
        // The simulator is the model, the same for both builds: always the current one.
        ...(run.build === 'baseline' && baseline !== undefined ? { scripts: baseline.scripts } : {}),
        env: {
          REDIS_PREFIX: run.prefix,
          LOG_PRETTY: 'false',
          // Every bench user is its own userId; the limits must not be what the bench measures.
          RATE_LIMIT_USER_PER_MIN: '1000000',
          RATE_LIMIT_USER_TOKENS_PER_MIN: '1000000000',
          ...options.env,
          QUEUE_SHARDS: queueShards,
        },
        simEnv: {
          SIM_TTFT_MS: String(options.sim.ttftMs),
          SIM_TOKENS_PER_SEC: String(options.sim.tokensPerSec),
          SIM_REPLY_TOKENS: String(run.replyTokens),
          SIM_FAIL_RATE: '0',
        },
        output: { dir },
        signal: abort.signal,
        onExit: (instance, exit) =>
          complain(`${instance} exited during the bench (${describeExit(exit)}); see ${join(dir, `${instance}.log`)}`),
      });
      return stack;
    };

    const result = await runBench({
      options: { ...options, idle: sockets.idle },
      launch,
      builds,
      redis: {
        private: redis.private,
        primaries: redis.primaries,
        standby: redis.standby,
        setup: {
          private: redis.private,
          prefix,
          mode: redis.mode,
          queueShards: Number(queueShards),
          primaries: redis.primaries.length,
          replicas: redis.standby.filter((s) => s.name.startsWith('replica-')).length,
          placement: redis.placement,
        },
      },
      prefix,
      runId,
      machine,
      source,
      idleSkipped: sockets.skipped,
      openFiles: { soft: sockets.soft, hard: sockets.hard },
      ticksPerSecond: clockTicksPerSecond(),
      args: process.argv.slice(2),
      signal: abort.signal,
      say: sayAbove,
      progress,
    });

    const out = resultPath(options, startedAt);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    const report = formatReport(result);
    sayAbove(`\n${report}\n`);
    say(`results: ${relative(process.cwd(), out) || out}`);
    if (options.docs) updateDocs(report);
  } catch (err) {
    failed = true;
    complain(abort.signal.aborted ? 'bench interrupted' : `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    complain(`process logs are kept in ${logDir}`);
  } finally {
    await stack?.stop();
    await redis.stop();
    if (!failed) rmSync(logDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

function updateDocs(report: string): void {
  const docs = join(REPO_ROOT, 'docs', 'performance.md');
  writeFileSync(docs, replaceDocsSection(readFileSync(docs, 'utf8'), report));
  say(`updated the "Benchmark (npm run bench)" section of ${relative(process.cwd(), docs)}`);
}

/** Judges a stored result again (the measurements stay as they are) and prints and files its table. */
function render(file: string, docs: boolean): void {
  const path = resolve(process.cwd(), file);
  const stored = JSON.parse(readFileSync(path, 'utf8')) as BenchResult;
  if (stored.kind !== 'chat-fleet-bench') throw new Error(`${file} is not a bench result`);
  if (stored.version !== 2) throw new Error(`${file} is a version ${String(stored.version)} result; --render reads version 2 (from --baseline on)`);
  const judged = judge(stored);
  const result: BenchResult = { ...stored, summary: judged.summary, goals: judged.goals };
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  const report = formatReport(result);
  say(report);
  if (docs) updateDocs(report);
}

main().catch((err: unknown) => {
  complain(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
