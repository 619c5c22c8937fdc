// The open-file limit decides how many sockets a process may hold. Node raises its own soft limit to
// the hard one at start-up, and the stack's children are Node (Redis raises its own for maxclients),
// so the hard limit is what bounds a gateway; only root can raise that.
import { readFileSync } from 'node:fs';

export interface OpenFileLimits {
  /** Infinity when unlimited. */
  readonly soft: number;
  readonly hard: number;
}

function limitValue(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'unlimited') return Infinity;
  const n = Number.parseInt(raw, 10);
  return Number.isFinite(n) ? n : undefined;
}

/** The `Max open files` line of a /proc/<pid>/limits text. */
export function parseOpenFileLimits(text: string): OpenFileLimits | undefined {
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  if (line === undefined) return undefined;
  const [soft, hard] = line.slice('Max open files'.length).trim().split(/\s+/);
  const s = limitValue(soft);
  const h = limitValue(hard);
  return s === undefined || h === undefined ? undefined : { soft: s, hard: h };
}

export function readOpenFileLimits(pid: number | 'self' = 'self'): OpenFileLimits | undefined {
  try {
    return parseOpenFileLimits(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Descriptors a process needs beside its sockets: Redis connections, logs, pipes, libuv. */
export const SPARE_DESCRIPTORS = 512;

/** The socket counts that fit under `limit` with spare descriptors left, and those that do not. */
export function splitBySocketLimit(counts: readonly number[], limit: number): { fit: number[]; tooMany: number[] } {
  const fit = counts.filter((n) => n + SPARE_DESCRIPTORS <= limit);
  const tooMany = counts.filter((n) => n + SPARE_DESCRIPTORS > limit);
  return { fit, tooMany };
}
