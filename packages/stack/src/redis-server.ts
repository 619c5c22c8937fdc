// A Redis for the stack: the one at a URL if it answers, else a private redis-server from PATH.
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, isPortFree } from './free-port.js';
import { startProcess, type ManagedProcess } from './managed-process.js';
import type { OutputMode } from './process-output.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export class RedisNotFoundError extends Error {
  constructor(readonly url: string = DEFAULT_REDIS_URL) {
    super(
      `redis-server was not found on PATH and no Redis answers at ${url}: ` +
        'install Redis 7 (Debian: apt-get install -y redis-server) or set REDIS_URL',
    );
    this.name = 'RedisNotFoundError';
  }
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Changes on restart. */
  readonly pid: number;
  /** Its working directory; removed by stop() when it was a private one. */
  readonly dir: string;
  /** Shuts it down, waits for the exit and removes its private directory. */
  stop(): Promise<void>;
  /** Signals it without waiting (default SIGKILL), to simulate a crash. */
  kill(signal?: NodeJS.Signals): void;
  /** Stops it and starts an empty one on the same port: a Redis outage, data lost. */
  restart(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** Default: a free port. */
  port?: number;
  /** Working directory; default a private temporary one, removed on stop. */
  dir?: string;
  /** Default `'silent'`. */
  output?: OutputMode;
  /** How long to wait for PING; default 10 s. */
  readyTimeoutMs?: number;
}

/** A client for one quick command: no retries, no queue, gone without a trace when disconnected. */
function oneShotClient(target: string | { host: string; port: number }, timeoutMs: number): Redis {
  const options = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    // ioredis otherwise keeps a 2 s timer after disconnecting from a socket that already closed.
    disconnectTimeout: 50,
  };
  const client = typeof target === 'string' ? new Redis(target, options) : new Redis({ ...options, ...target });
  client.on('error', () => undefined);
  return client;
}

/** One command on the Redis (or Sentinel) at host:port over a short-lived connection; rejects fast if it is down. */
export async function redisCall(host: string, port: number, args: Array<string | number>, timeoutMs = 3000): Promise<unknown> {
  const client = oneShotClient({ host, port }, timeoutMs);
  try {
    await client.connect();
    const [command, ...rest] = args;
    return await client.call(String(command), ...rest.map(String));
  } finally {
    client.disconnect();
  }
}

/** True when PING answers within the timeout; never throws and leaves no connection behind. */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = oneShotClient(url, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ping = (async () => {
    await client.connect();
    return (await client.ping()) === 'PONG';
  })().catch(() => false);
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
    else if (client.status !== 'end') client.disconnect();
  }
}

/** The path of an executable `name` on PATH, if any. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** The path of an executable redis-server on PATH, if any. */
export function findRedisServer(): string | undefined {
  return findOnPath('redis-server');
}

/** The redis-server on PATH; throws RedisNotFoundError when there is none. */
export function requireRedisServer(): string {
  const bin = findRedisServer();
  if (bin === undefined) throw new RedisNotFoundError();
  return bin;
}

export interface LaunchRedisOptions {
  /** Shown in errors, e.g. `redis-7001`. */
  name: string;
  /** redis-server's path (requireRedisServer()). */
  bin: string;
  port: number;
  /** After `--port <port> --bind 127.0.0.1`, or after a config file given as the first of them. */
  args: readonly string[];
  /** A config file to start from (Sentinel needs one it can rewrite). */
  configFile?: string;
  cwd: string;
  output?: OutputMode;
  readyTimeoutMs?: number;
}

/** One redis-server (or Sentinel) on 127.0.0.1:port; resolves once PING answers, kills it if it never does. */
export async function launchRedisProcess(options: LaunchRedisOptions): Promise<ManagedProcess> {
  const url = `redis://127.0.0.1:${options.port}`;
  const proc = await startProcess({
    name: options.name,
    command: options.bin,
    args: [
      ...(options.configFile === undefined ? [] : [options.configFile]),
      '--port',
      String(options.port),
      '--bind',
      '127.0.0.1',
      '--loglevel',
      'warning',
      ...options.args,
    ],
    cwd: options.cwd,
    output: options.output ?? 'silent',
  });
  try {
    await proc.waitUntil(() => pingRedis(url, 500), { timeoutMs: options.readyTimeoutMs ?? 10_000, what: `PING at ${url}` });
  } catch (err) {
    await proc.stop('SIGKILL', 0);
    throw err;
  }
  return proc;
}

/** Starts a throwaway redis-server (no persistence) on 127.0.0.1 and waits until PING answers. */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServer> {
  const bin = requireRedisServer();
  const port = options.port ?? (await freePort());
  if (options.port !== undefined && !(await isPortFree(port))) {
    throw new Error(`cannot start redis-server on port ${port}: the port is in use`);
  }
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'chat-fleet-redis-')));
  const url = `redis://127.0.0.1:${port}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;

  const launch = (): Promise<ManagedProcess> =>
    launchRedisProcess({
      name: 'redis',
      bin,
      port,
      args: ['--save', '', '--appendonly', 'no', '--dir', dir],
      cwd: dir,
      output: options.output,
      readyTimeoutMs,
    });

  let proc: ManagedProcess;
  try {
    proc = await launch();
  } catch (err) {
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }

  // SIGTERM makes redis-server shut down cleanly; with --save '' it writes nothing.
  const halt = async (): Promise<void> => {
    await proc.stop('SIGTERM', 5000);
  };

  return {
    url,
    port,
    dir,
    get pid() {
      return proc.pid;
    },
    async stop() {
      await halt();
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      proc.kill(signal);
    },
    async restart() {
      await halt();
      proc = await launch();
    },
  };
}

export interface EnsuredRedis {
  url: string;
  /** Set when no Redis answered at the URL and a private one was started; stop it when done. */
  server: RedisServer | undefined;
}

/** The Redis at `url` if it answers PING, else a private redis-server; throws RedisNotFoundError if neither. */
export async function ensureRedis(url: string = DEFAULT_REDIS_URL): Promise<EnsuredRedis> {
  if (await pingRedis(url)) return { url, server: undefined };
  if (findRedisServer() === undefined) throw new RedisNotFoundError(url);
  const server = await startRedisServer();
  return { url: server.url, server };
}
