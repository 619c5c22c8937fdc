// What the kernel says a process used: CPU time from /proc/<pid>/stat, resident memory from /proc/<pid>/status.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CpuTicks {
  /** User-mode time in clock ticks. */
  readonly utime: number;
  /** Kernel-mode time in clock ticks. */
  readonly stime: number;
  /** User and kernel time of children that have exited and been waited for. */
  readonly cutime: number;
  readonly cstime: number;
}

/**
 * utime, stime, cutime and cstime (fields 14 to 17) of a /proc/<pid>/stat line. The command name in field 2 may
 * hold spaces and parentheses, so fields are counted from its closing parenthesis.
 */
export function parseProcStat(text: string): CpuTicks {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line: no command name');
  const fields = text.slice(close + 1).trim().split(/\s+/);
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  if (utime === undefined || stime === undefined || cutime === undefined || cstime === undefined || [utime, stime, cutime, cstime].some((n) => !Number.isFinite(n))) {
    throw new Error('not a /proc/<pid>/stat line: no utime/stime/cutime/cstime');
  }
  return { utime, stime, cutime, cstime };
}

/** VmRSS of a /proc/<pid>/status text, in bytes. */
export function parseVmRss(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB\s*$/m.exec(text);
  if (m === null) throw new Error('no VmRSS line in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

/** Seconds of CPU (user + system) between two readings; with `children`, also of children that exited. */
export function cpuSecondsBetween(before: CpuTicks, after: CpuTicks, ticksPerSecond: number, children = false): number {
  const total = (t: CpuTicks): number => t.utime + t.stime + (children ? t.cutime + t.cstime : 0);
  return (total(after) - total(before)) / ticksPerSecond;
}

export function readCpuTicks(pid: number): CpuTicks {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export function readRssBytes(pid: number): number {
  return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** The kernel's USER_HZ (`getconf CLK_TCK`); 100 on every common Linux when getconf is missing. */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}
