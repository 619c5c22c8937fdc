// A private Sentinel set-up on one machine: a primary and a replica redis-server watched by three
// Sentinels (quorum 2), each with its own config file, and the levers a fault test pulls.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisTopology } from '@chat-fleet/shared';
import { freePort } from './free-port.js';
import type { ManagedProcess } from './managed-process.js';
import type { OutputMode } from './process-output.js';
import { launchRedisProcess, redisCall, requireRedisServer } from './redis-server.js';

export interface RedisAddress {
  host: string;
  port: number;
}

export interface StartRedisSentinelOptions {
  /** The name the Sentinels monitor (REDIS_SENTINEL_MASTER); default `chat-fleet`. */
  masterName?: string;
  /** How long the primary may be silent before it is down; default 2000 ms (1000 fails over spuriously on a busy machine). */
  downAfterMs?: number;
  /** Default 5000 ms. */
  failoverTimeoutMs?: number;
  /** Default `'silent'`; processes are named `redis-<port>` and `sentinel-<port>`. */
  output?: OutputMode;
  /** For start-up, restart and every wait; default 30 s. */
  readyTimeoutMs?: number;
}

export interface RedisSentinelSet {
  /** `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`: the value for REDIS_SENTINELS. */
  readonly sentinels: string;
  /** The value for REDIS_SENTINEL_MASTER. */
  readonly masterName: string;
  /** The same as a topology, for startStack's `redis` and connectRedis. */
  readonly topology: Extract<RedisTopology, { mode: 'sentinel' }>;
  /** The two redis-server ports, the first primary first. */
  readonly redisPorts: readonly number[];
  readonly sentinelPorts: readonly number[];
  /** The private directory with the Sentinels' config files; removed by stop(). */
  readonly dir: string;
  /** The primary as the Sentinels report it now. */
  primary(): Promise<RedisAddress>;
  /**
   * SENTINEL FAILOVER; resolves with the new primary once every running Sentinel reports it and it
   * says so itself (the Sentinels make the old primary its replica a few seconds later).
   */
  failover(): Promise<RedisAddress>;
  /** Waits until the Sentinels report a primary other than `formerPort` (e.g. after killing it). */
  waitForNewPrimary(formerPort: number, timeoutMs?: number): Promise<RedisAddress>;
  /** Waits until every running Sentinel agrees on the primary, knows the others and sees a replica in sync. */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /** The process on `port` (redis-server or Sentinel), undefined once it has exited. */
  pid(port: number): number | undefined;
  /** Signals a redis-server or Sentinel without waiting (default SIGKILL; SIGSTOP: counted as down until SIGCONT). */
  kill(port: number, signal?: NodeJS.Signals): void;
  /**
   * Starts a killed process again on its port: a redis-server comes back empty as a replica of the
   * current primary, a Sentinel from its (rewritten) config file.
   */
  restart(port: number): Promise<void>;
  /** Signals every process at once without waiting (default SIGKILL); for a forced exit. */
  killAll(signal?: NodeJS.Signals): void;
  /** Stops every process and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

interface Member {
  kind: 'redis' | 'sentinel';
  port: number;
  proc: ManagedProcess | undefined;
  /** Sent SIGSTOP and not SIGCONT since: alive, but counted as down. */
  paused: boolean;
}

/** One command over a short-lived connection; rejects fast if the process is down. */
function call(port: number, args: Array<string | number>, timeoutMs = 3000): Promise<unknown> {
  return redisCall(HOST, port, args, timeoutMs);
}

/** A flat `[key, value, key, value…]` reply as a map. */
function pairs(reply: unknown): Map<string, string> {
  const list = Array.isArray(reply) ? (reply as unknown[]).map(String) : [];
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < list.length; i += 2) map.set(list[i]!, list[i + 1]!);
  return map;
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*?)\\r?$`, 'm').exec(info)?.[1];
}

/** Starts a primary, its replica and three Sentinels; resolves once waitUntilReady holds. */
export async function startRedisSentinel(options: StartRedisSentinelOptions = {}): Promise<RedisSentinelSet> {
  const bin = requireRedisServer();
  const masterName = options.masterName ?? 'chat-fleet';
  if (!/^[A-Za-z0-9._-]+$/.test(masterName)) throw new Error(`masterName: letters, digits, . _ - only, got "${masterName}"`);
  const downAfterMs = options.downAfterMs ?? 2000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 5000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'chat-fleet-sentinel-'));
  const members: Member[] = [];

  const taken = new Set<number>();
  const newPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };

  const launchRedis = async (member: Member, replicaOf: RedisAddress | undefined): Promise<void> => {
    const memberDir = join(dir, `redis-${member.port}`);
    await mkdir(memberDir, { recursive: true });
    member.proc = await launchRedisProcess({
      name: `redis-${member.port}`,
      bin,
      port: member.port,
      args: [
        '--save', '',
        '--appendonly', 'no',
        '--dir', memberDir,
        '--repl-diskless-sync-delay', '0',
        ...(replicaOf === undefined ? [] : ['--replicaof', replicaOf.host, String(replicaOf.port)]),
      ],
      cwd: memberDir,
      output: options.output,
      readyTimeoutMs,
    });
  };

  const sentinelConf = (port: number): string => join(dir, `sentinel-${port}.conf`);
  const launchSentinel = async (member: Member): Promise<void> => {
    member.proc = await launchRedisProcess({
      name: `sentinel-${member.port}`,
      bin,
      port: member.port,
      configFile: sentinelConf(member.port),
      args: ['--sentinel'],
      cwd: dir,
      output: options.output,
      readyTimeoutMs,
    });
    // Redis 7's test knobs: INFO every 1 s (not 10 s) and hellos every 0.5 s, so Sentinels learn
    // replicas, each other and a changed role in about a second; a 5 s TILT instead of 30 s.
    await call(member.port, ['SENTINEL', 'DEBUG', 'info-period', 1000, 'publish-period', 500, 'tilt-period', 5000]).catch(() => undefined);
  };

  const running = (kind: Member['kind']): Member[] => members.filter((m) => m.kind === kind && m.proc?.running === true && !m.paused);
  const memberAt = (port: number): Member => {
    const member = members.find((m) => m.port === port);
    if (member === undefined) throw new Error(`no process of this Sentinel set-up on port ${port}`);
    return member;
  };

  const reportedPrimary = async (sentinelPort: number): Promise<RedisAddress> => {
    const reply = (await call(sentinelPort, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName])) as string[] | null;
    if (reply === null || reply.length < 2) throw new Error(`sentinel ${sentinelPort} knows no master "${masterName}"`);
    return { host: reply[0]!, port: Number(reply[1]) };
  };

  const primary = async (): Promise<RedisAddress> => {
    let lastError: unknown = new Error('no Sentinel is running');
    for (const s of running('sentinel')) {
      try {
        return await reportedPrimary(s.port);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  };

  /** Why the set-up is not ready, or undefined once it is. */
  const notReadyReason = async (): Promise<string | undefined> => {
    const sentinels = running('sentinel');
    if (sentinels.length === 0) return 'no Sentinel is running';
    const reported = new Set<number>();
    for (const s of sentinels) {
      const master = pairs(await call(s.port, ['SENTINEL', 'MASTER', masterName]));
      if (master.get('flags') !== 'master') return `sentinel ${s.port} sees the master as ${master.get('flags')}`;
      reported.add(Number(master.get('port')));
      if (Number(master.get('num-other-sentinels')) < sentinels.length - 1) return `sentinel ${s.port} does not know the other Sentinels yet`;
      const replicas = ((await call(s.port, ['SENTINEL', 'REPLICAS', masterName])) as unknown[]).map(pairs);
      if (!replicas.some((r) => r.get('flags') === 'slave' && r.get('master-link-status') === 'ok')) return `sentinel ${s.port} sees no replica in sync`;
    }
    if (reported.size > 1) return `the Sentinels disagree on the primary: ${[...reported].join(', ')}`;
    const [port] = reported;
    const role = String(await call(port!, ['INFO', 'replication']));
    if (infoField(role, 'role') !== 'master') return `${port} does not say it is the primary yet`;
    return undefined;
  };

  const waitFor = async <T>(what: string, check: () => Promise<T | string>, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let reason = 'not checked';
    for (;;) {
      const outcome = await check().catch((err: unknown) => `a process did not answer: ${err instanceof Error ? err.message : String(err)}`);
      if (typeof outcome !== 'string') return outcome;
      reason = outcome;
      if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${reason}`);
      await sleep(100);
    }
  };

  const waitUntilReady = async (timeoutMs = readyTimeoutMs): Promise<void> => {
    await waitFor('the Sentinel set-up was not ready', async () => (await notReadyReason()) ?? { ready: true }, timeoutMs);
  };

  const waitForNewPrimary = (formerPort: number, timeoutMs = readyTimeoutMs): Promise<RedisAddress> =>
    waitFor(
      `no new primary replaced ${formerPort}`,
      async () => {
        const sentinels = running('sentinel');
        if (sentinels.length === 0) return 'no Sentinel is running';
        const reports = await Promise.all(sentinels.map((s) => reportedPrimary(s.port)));
        const ports = new Set(reports.map((r) => r.port));
        if (ports.has(formerPort)) return `a Sentinel still reports ${formerPort}`;
        if (ports.size > 1) return `the Sentinels disagree: ${[...ports].join(', ')}`;
        const next = reports[0]!;
        const role = infoField(String(await call(next.port, ['INFO', 'replication'])), 'role');
        return role === 'master' ? next : `${next.port} does not say it is the primary yet`;
      },
      timeoutMs,
    );

  const stopAll = async (): Promise<void> => {
    // Sentinels first, so none starts a failover while the servers go down.
    const stop = (kind: Member['kind']) =>
      Promise.all(members.flatMap((m) => (m.kind === kind && m.proc !== undefined ? [m.proc.stop('SIGTERM', 3000)] : [])));
    await stop('sentinel');
    await stop('redis');
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const first: Member = { kind: 'redis', port: await newPort(), proc: undefined, paused: false };
    const second: Member = { kind: 'redis', port: await newPort(), proc: undefined, paused: false };
    members.push(first, second);
    await launchRedis(first, undefined);
    await launchRedis(second, { host: HOST, port: first.port });
    // Sentinels learn replicas from the primary's INFO, sent every 10 s: start them once it lists one.
    await waitFor(
      'the replica did not sync',
      async () => {
        const info = String(await call(second.port, ['INFO', 'replication']));
        return infoField(info, 'master_link_status') === 'up' ? { synced: true } : 'replica link not up';
      },
      readyTimeoutMs,
    );
    const sentinelPorts = [await newPort(), await newPort(), await newPort()];
    for (const port of sentinelPorts) {
      await writeFile(
        sentinelConf(port),
        [
          `dir ${JSON.stringify(dir)}`,
          `sentinel monitor ${masterName} ${HOST} ${first.port} 2`,
          `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
          `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      );
      members.push({ kind: 'sentinel', port, proc: undefined, paused: false });
    }
    await Promise.all(members.filter((m) => m.kind === 'sentinel').map((m) => launchSentinel(m)));
    await waitUntilReady();
  } catch (err) {
    await stopAll();
    throw err;
  }

  const sentinelPorts = members.filter((m) => m.kind === 'sentinel').map((m) => m.port);
  let stopped: Promise<void> | undefined;
  return {
    sentinels: sentinelPorts.map((port) => `${HOST}:${port}`).join(','),
    masterName,
    topology: { mode: 'sentinel', sentinels: sentinelPorts.map((port) => ({ host: HOST, port })), name: masterName },
    redisPorts: members.filter((m) => m.kind === 'redis').map((m) => m.port),
    sentinelPorts,
    dir,
    primary,
    async failover() {
      const before = await primary();
      const sentinel = running('sentinel')[0];
      if (sentinel === undefined) throw new Error('no Sentinel is running');
      // Right after a failover the Sentinels may not yet count the old primary as a usable replica.
      await waitFor(
        'SENTINEL FAILOVER was refused',
        () =>
          call(sentinel.port, ['SENTINEL', 'FAILOVER', masterName]).then(
            () => ({ started: true }),
            (err: unknown) => (err instanceof Error ? err.message : String(err)),
          ),
        readyTimeoutMs,
      );
      return waitForNewPrimary(before.port);
    },
    waitForNewPrimary,
    waitUntilReady,
    pid: (port) => {
      const proc = memberAt(port).proc;
      return proc?.running === true ? proc.pid : undefined;
    },
    kill(port, signal: NodeJS.Signals = 'SIGKILL') {
      const member = memberAt(port);
      member.proc?.kill(signal);
      if (signal === 'SIGSTOP' || signal === 'SIGTSTP') member.paused = true;
      if (signal === 'SIGCONT') member.paused = false;
    },
    async restart(port) {
      const member = memberAt(port);
      member.proc?.kill('SIGCONT');
      member.paused = false;
      await member.proc?.stop('SIGTERM', 3000);
      if (member.kind === 'sentinel') {
        await launchSentinel(member);
        return;
      }
      const current = await primary();
      await launchRedis(member, current.port === port ? undefined : current);
    },
    killAll(signal: NodeJS.Signals = 'SIGKILL') {
      for (const m of members) m.proc?.kill(signal);
    },
    stop() {
      stopped ??= stopAll();
      return stopped;
    },
  };
}
