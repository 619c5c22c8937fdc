// --baseline <git ref>: that ref's gateway and worker, built in a git worktree of their own, so one
// bench runs the same load against both builds. A worktree is kept per commit and reused while its
// build marker says it is whole. Its node_modules reuses ours through symlinks when the lockfiles
// match (the apps are ES modules, which NODE_PATH does not reach; links take milliseconds where
// `npm ci` takes minutes); the workspace links (@chat-fleet/*) are relative, so they point at the
// worktree's own packages. Only a different lockfile costs an `npm ci` there.
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The apps of a build the stack launcher starts; the simulator is always the current one (it is the model). */
export interface BuildScripts {
  readonly gateway: string;
  readonly worker: string;
}

export interface BaselineBuild {
  /** The ref as given, e.g. HEAD~5 or main. */
  readonly ref: string;
  readonly commit: string;
  readonly subject: string;
  readonly dir: string;
  readonly scripts: BuildScripts;
  /** True when a whole build for this commit was found and used as it was. */
  readonly reused: boolean;
  /** How its dependencies were installed. */
  readonly install: 'linked' | 'npm ci';
  /** Seconds spent preparing it in this run (0 when reused). */
  readonly seconds: number;
}

/** Where baselines are kept unless --baseline-dir says otherwise: out of the repo, so no lint or test run sees them. */
export const DEFAULT_BASELINE_ROOT = join(tmpdir(), 'chat-fleet-bench-baselines');

/** What the bench builds in a baseline: the two apps it measures (turbo adds their workspace dependencies). */
export const BASELINE_FILTERS = ['@chat-fleet/gateway', '@chat-fleet/llm-worker'] as const;

const MARKER = '.bench-baseline.json';

interface Marker {
  readonly commit: string;
  readonly install: BaselineBuild['install'];
}

export function buildScripts(root: string): BuildScripts {
  return { gateway: join(root, 'apps', 'gateway', 'dist', 'main.js'), worker: join(root, 'apps', 'llm-worker', 'dist', 'main.js') };
}

async function git(repo: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  return stdout.trim();
}

/** The commit a ref names; a ref that names none is a usage error worth a clear sentence. */
export async function resolveCommit(repo: string, ref: string): Promise<{ commit: string; subject: string }> {
  let commit: string;
  try {
    commit = await git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new Error(`--baseline: "${ref}" names no commit in ${repo}`);
  }
  const subject = await git(repo, ['log', '-1', '--format=%s', commit]);
  return { commit, subject };
}

function readMarker(dir: string): Marker | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

/**
 * `to/node_modules` made of links into `from/node_modules`: every entry links to ours except the
 * workspace scope, whose relative links are copied so they resolve inside `to`; workspaces with
 * their own node_modules (nested versions) get theirs linked the same way.
 */
export function linkNodeModules(from: string, to: string, scope = '@chat-fleet'): number {
  let links = 0;
  const fromModules = join(from, 'node_modules');
  const toModules = join(to, 'node_modules');
  rmSync(toModules, { recursive: true, force: true });
  mkdirSync(toModules, { recursive: true });
  for (const entry of readdirSync(fromModules)) {
    const source = join(fromModules, entry);
    if (entry === scope) {
      mkdirSync(join(toModules, entry));
      for (const pkg of readdirSync(source)) {
        const link = join(source, pkg);
        const target = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : link;
        symlinkSync(target, join(toModules, entry, pkg));
        links++;
      }
      continue;
    }
    symlinkSync(source, join(toModules, entry));
    links++;
  }
  // Workspaces one or two levels down (apps/x, packages/x, infra, tests …) with a node_modules of their own.
  const dirs = (base: string): string[] =>
    readdirSync(base, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules').map((d) => d.name);
  for (const top of dirs(from)) {
    for (const rel of [top, ...dirs(join(from, top)).map((d) => join(top, d))]) {
      const nested = join(from, rel, 'node_modules');
      if (!existsSync(nested) || !existsSync(join(to, rel, 'package.json'))) continue;
      rmSync(join(to, rel, 'node_modules'), { recursive: true, force: true });
      symlinkSync(nested, join(to, rel, 'node_modules'));
      links++;
    }
  }
  return links;
}

export interface PrepareOptions {
  readonly repo: string;
  /** Directory holding one worktree per commit. */
  readonly root: string;
  readonly say: (line: string) => void;
}

/** The baseline's worktree, installed and built; reused as it is when already built for that commit. */
export async function prepareBaseline(ref: string, o: PrepareOptions): Promise<BaselineBuild> {
  const { commit, subject } = await resolveCommit(o.repo, ref);
  const dir = join(o.root, commit);
  const scripts = buildScripts(dir);
  const marker = readMarker(dir);
  if (marker?.commit === commit && existsSync(scripts.gateway) && existsSync(scripts.worker)) {
    o.say(`baseline: ${ref} = ${commit.slice(0, 7)} "${subject}", built before in ${dir}`);
    return { ref, commit, subject, dir, scripts, reused: true, install: marker.install, seconds: 0 };
  }
  const started = performance.now();
  o.say(`baseline: ${ref} = ${commit.slice(0, 7)} "${subject}": git worktree in ${dir}`);
  mkdirSync(o.root, { recursive: true });
  if (existsSync(dir)) {
    await git(o.repo, ['worktree', 'remove', '--force', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  await git(o.repo, ['worktree', 'prune']);
  await git(o.repo, ['worktree', 'add', '--detach', '--force', dir, commit]);
  let install: BaselineBuild['install'];
  if (sameFile(join(o.repo, 'package-lock.json'), join(dir, 'package-lock.json'))) {
    const links = linkNodeModules(o.repo, dir);
    install = 'linked';
    o.say(`baseline: same package-lock.json, node_modules linked to ours (${links} links)`);
  } else {
    o.say('baseline: its package-lock.json differs from ours: npm ci there');
    await run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts=false'], { cwd: dir, maxBuffer: 64 * 2 ** 20 });
    install = 'npm ci';
  }
  o.say(`baseline: npx turbo run build ${BASELINE_FILTERS.map((f) => `--filter=${f}`).join(' ')}`);
  try {
    await run('npx', ['--no-install', 'turbo', 'run', 'build', ...BASELINE_FILTERS.map((f) => `--filter=${f}`), '--output-logs=errors-only'], {
      cwd: dir,
      maxBuffer: 64 * 2 ** 20,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`baseline build failed in ${dir}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  if (!existsSync(scripts.gateway) || !existsSync(scripts.worker)) throw new Error(`baseline build in ${dir} left no ${scripts.gateway} or ${scripts.worker}`);
  writeFileSync(join(dir, MARKER), `${JSON.stringify({ commit, install } satisfies Marker)}\n`);
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  o.say(`baseline: built in ${seconds} s`);
  return { ref, commit, subject, dir, scripts, reused: false, install, seconds };
}
