// The machine a result was measured on, and how busy it was with work that is not ours.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly ramGiB: number;
  readonly os: string;
  readonly kernel: string;
  readonly node: string;
  readonly redis: string;
  /** 1, 5 and 15 minute load averages when the bench started. */
  readonly loadAverage: readonly number[];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function parseCpuModel(cpuinfo: string): string | undefined {
  const m = /^model name\s*:\s*(.+)$/m.exec(cpuinfo);
  return m?.[1]?.trim();
}

export function parseOsName(osRelease: string): string | undefined {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease);
  return m?.[1];
}

/** `redis_version` of an `INFO server` text. */
export function parseRedisVersion(info: string): string | undefined {
  return /^redis_version:(\S+)/m.exec(info)?.[1];
}

/** `process_id` of an `INFO server` text. */
export function parseRedisPid(info: string): number | undefined {
  const m = /^process_id:(\d+)/m.exec(info);
  return m === null ? undefined : Number(m[1]);
}

export function describeMachine(redisInfoServer: string): MachineInfo {
  return {
    cpuModel: parseCpuModel(readText('/proc/cpuinfo')) ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: parseOsName(readText('/etc/os-release')) ?? process.platform,
    kernel: release(),
    node: process.version,
    redis: parseRedisVersion(redisInfoServer) ?? 'unknown',
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export interface MachineTicks {
  /** Ticks the CPUs spent on anything but idle and iowait, summed over every CPU. */
  readonly busy: number;
  readonly total: number;
}

/** The aggregate `cpu` line of /proc/stat. */
export function parseMachineTicks(procStat: string): MachineTicks {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('no aggregate cpu line in /proc/stat');
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

export function readMachineTicks(): MachineTicks {
  return parseMachineTicks(readFileSync('/proc/stat', 'utf8'));
}

export interface SourceInfo {
  readonly commit: string | null;
  /** Files of the apps and packages that differ from the commit (what was measured is not exactly it). */
  readonly uncommitted: readonly string[];
}

/** The git commit the measured code came from, and any uncommitted changes to the measured code. */
export function describeSource(repoRoot: string): SourceInfo {
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return null;
    }
  };
  const commit = git('rev-parse', 'HEAD')?.trim() ?? null;
  const status = git('status', '--porcelain', '--', 'apps', 'packages') ?? '';
  const uncommitted = status
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.slice(3));
  return { commit, uncommitted };
}
