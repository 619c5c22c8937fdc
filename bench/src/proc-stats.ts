// What the kernel says a process used: CPU time from /proc/<pid>/stat, resident memory from /proc/<pid>/status.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CpuTicks {
  /** User-mode time in clock ticks. */
  readonly utime: number;
  /** Kernel-mode time in clock ticks. */
  readonly stime: number;
}

/**
 * utime and stime (fields 14 and 15) of a /proc/<pid>/stat line. The command name in field 2 may
 * hold spaces and parentheses, so fields are counted from its closing parenthesis.
 */
export function parseProcStat(text: string): CpuTicks {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line: no command name');
  const fields = text.slice(close + 1).trim().split(/\s+/);
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('not a /proc/<pid>/stat line: no utime/stime');
  return { utime, stime };
}

/** VmRSS of a /proc/<pid>/status text, in bytes. */
export function parseVmRss(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB\s*$/m.exec(text);
  if (m === null) throw new Error('no VmRSS line in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

/** Seconds of CPU (user + system) between two readings. */
export function cpuSecondsBetween(before: CpuTicks, after: CpuTicks, ticksPerSecond: number): number {
  return (after.utime + after.stime - before.utime - before.stime) / ticksPerSecond;
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
