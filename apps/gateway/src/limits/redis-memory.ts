// Watches Redis memory against maxmemory. With `noeviction` a full Redis refuses every write,
// the queue included, so new work stops at a high-water mark and leaves the rest of the room to
// replies already in flight.
import { Cluster } from 'ioredis';
import { ChatError, type RedisClient } from '@chat-fleet/shared';

export interface RedisMemoryReading {
  usedBytes: number;
  /** 0: Redis has no maxmemory, and nothing is ever refused. */
  maxBytes: number;
  /** usedBytes / maxBytes; null without a maxmemory. */
  ratio: number | null;
  refusing: boolean;
}

/** Says whether new work may start; a pure in-process check, no Redis round trip. */
export interface RoomCheck {
  /** Throws `unavailable` (503, retryAfterMs) while Redis is past its high-water mark. */
  assertRoom(what: string): void;
}

const REFUSED_RETRY_MS = 5000;

export function parseMemoryInfo(info: string, highWater: number): RedisMemoryReading {
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  const usedBytes = field('used_memory');
  const maxBytes = field('maxmemory');
  const ratio = maxBytes > 0 ? usedBytes / maxBytes : null;
  return { usedBytes, maxBytes, ratio, refusing: ratio !== null && highWater > 0 && ratio >= highWater };
}

/**
 * `INFO memory` of the Redis that is fullest: the one Redis, or on a cluster each primary's, the
 * one nearest its maxmemory (a full shard stops the keys it holds, so it decides).
 */
export async function fullestMemoryInfo(redis: RedisClient): Promise<string> {
  if (!(redis instanceof Cluster)) return redis.info('memory');
  const infos = await Promise.all(redis.nodes('master').map((node) => node.info('memory')));
  const ratio = (info: string): number => parseMemoryInfo(info, 0).ratio ?? 0;
  return infos.reduce((a, b) => (ratio(b) > ratio(a) ? b : a), infos[0] ?? '');
}

export class RedisMemoryWatch implements RoomCheck {
  private last: RedisMemoryReading | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** `readInfo` answers `INFO memory`; `highWater` is a share of maxmemory, 0 never refuses. */
  constructor(
    private readonly readInfo: () => Promise<string>,
    private readonly highWater: number,
    private readonly onChange: (reading: RedisMemoryReading, was: RedisMemoryReading | undefined) => void = () => undefined,
  ) {}

  /** The latest reading; undefined before the first one (or while Redis never answered). */
  get reading(): RedisMemoryReading | undefined {
    return this.last;
  }

  /** Reads now and then every `intervalMs`; a failed read keeps the previous reading. */
  start(intervalMs = 1000): void {
    if (this.timer !== undefined) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    let info: string;
    try {
      info = await this.readInfo();
    } catch {
      return;
    }
    const was = this.last;
    this.last = parseMemoryInfo(info, this.highWater);
    this.onChange(this.last, was);
  }

  assertRoom(what: string): void {
    const r = this.last;
    if (r === undefined || !r.refusing) return;
    throw new ChatError(
      'unavailable',
      `Redis is ${Math.round((r.ratio ?? 0) * 100)}% full; no new ${what} until replies in flight finish and memory is freed`,
      { retryAfterMs: REFUSED_RETRY_MS },
    );
  }
}
