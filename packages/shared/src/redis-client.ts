// ioredis construction in one place, so every process reconnects the same way.
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisClientOptions {
  /** Name shown in CLIENT LIST, e.g. `gateway-1:commands`. */
  name: string;
  /** Fail commands at once while disconnected instead of queueing them (request paths). */
  failFast?: boolean;
  /** BullMQ needs maxRetriesPerRequest: null on its blocking connections. */
  forBullmq?: boolean;
  autoPipelining?: boolean;
}

export function createRedis(url: string, options: RedisClientOptions): Redis {
  const base: RedisOptions = {
    connectionName: options.name,
    // Reconnect for ever, backing off to 2 s: Redis restarts must heal by themselves.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    enableAutoPipelining: options.autoPipelining ?? false,
    lazyConnect: false,
  };
  if (options.forBullmq) {
    return new Redis(url, { ...base, maxRetriesPerRequest: null, enableReadyCheck: false });
  }
  if (options.failFast) {
    return new Redis(url, { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  }
  return new Redis(url, { ...base, maxRetriesPerRequest: 2 });
}

/** Resolves once the client is ready, or rejects after `timeoutMs`. */
export async function waitReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
