// The soft open-file limit, which caps how many sockets one gateway can hold.
import { readFileSync } from 'node:fs';

export const RECOMMENDED_OPEN_FILES = 65_536;

type GetRlimit = (resource: string) => { soft: number | null };

/** The soft RLIMIT_NOFILE, or undefined where neither process.getrlimit nor /proc tells. */
export function openFileLimit(): number | undefined {
  const getrlimit = (process as unknown as { getrlimit?: GetRlimit }).getrlimit;
  if (typeof getrlimit === 'function') {
    try {
      const soft = getrlimit('nofile').soft;
      return soft === null ? undefined : soft;
    } catch {
      return undefined;
    }
  }
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined) return undefined;
    return soft === 'unlimited' ? Infinity : Number.parseInt(soft, 10) || undefined;
  } catch {
    return undefined;
  }
}
