// A private Redis Cluster on one machine: redis-server in cluster mode on free ports (three
// primaries with a replica each by default), joined by `redis-cli --cluster create`, and the
// levers a fault test pulls: kill or restart a node, fail a primary over, move one slot.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisTopology } from '@chat-fleet/shared';
import { freePort } from './free-port.js';
import type { ManagedProcess } from './managed-process.js';
import type { OutputMode } from './process-output.js';
import { findOnPath, launchRedisProcess, redisCall, requireRedisServer } from './redis-server.js';

export const CLUSTER_SLOTS = 16384;

export interface ClusterNodeAddress {
  host: string;
  port: number;
}

export interface ClusterPrimary extends ClusterNodeAddress {
  /** The node id (40 hex characters). */
  id: string;
  /** Inclusive ranges, e.g. `[[0, 5460]]`. */
  slots: Array<[number, number]>;
  /** Its replicas that are not marked failed. */
  replicas: ClusterNodeAddress[];
}

export interface StartRedisClusterOptions {
  /** Default 3 (the least redis-cli accepts). */
  primaries?: number;
  /** Default 1. */
  replicasPerPrimary?: number;
  /** `cluster-node-timeout`: how long a node may be silent before a failover; default 2000 ms. */
  nodeTimeoutMs?: number;
  /** Default `'silent'`; the nodes are named `redis-<port>`. */
  output?: OutputMode;
  /** For start-up, restart and every wait; default 30 s. */
  readyTimeoutMs?: number;
}

export interface MigrateSlotOptions {
  /** Called once the slot is MIGRATING/IMPORTING and before any key moves: clients now get ASK. */
  onMigrating?: () => Promise<void> | void;
  /** Keys per MIGRATE; default 100. */
  batch?: number;
}

export interface RedisCluster {
  /** `127.0.0.1:p1,127.0.0.1:p2,…`, every node: the value for REDIS_CLUSTER_NODES. */
  readonly nodes: string;
  /** The same as a topology, for startStack's `redis` and connectRedis. */
  readonly topology: Extract<RedisTopology, { mode: 'cluster' }>;
  /** Every node's port, in start order (the first `primaries` started as primaries). */
  readonly ports: readonly number[];
  /** The private directory holding each node's nodes.conf; removed by stop(). */
  readonly dir: string;
  /** The primaries that serve slots now, by their first slot, as a running node sees them. */
  primaries(): Promise<ClusterPrimary[]>;
  /** The primary that serves `slot` now. */
  nodeForSlot(slot: number): Promise<ClusterNodeAddress>;
  /** The process of the node on `port` (stopped or not), undefined once it has exited. */
  pid(port: number): number | undefined;
  /**
   * Signals the node without waiting (default SIGKILL). SIGSTOP hangs it (alive, silent) and
   * SIGCONT wakes it; while stopped, waitUntilOk counts it as down.
   */
  kill(port: number, signal?: NodeJS.Signals): void;
  /**
   * Stops the node if it runs and starts it again on the same ports with its nodes.conf, empty (no
   * persistence): a former primary whose slots moved rejoins as a replica. Waits until waitUntilOk.
   */
  restart(port: number): Promise<void>;
  /**
   * Promotes a replica of the primary on `primaryPort` (CLUSTER FAILOVER, the graceful kind) and
   * waits until the cluster is ok; a primary that is down is left to the cluster's own failover.
   * Resolves with the new primary.
   */
  failover(primaryPort: number): Promise<ClusterNodeAddress>;
  /**
   * Moves one slot, with its keys, to the primary on `toPort`: SETSLOT IMPORTING/MIGRATING, MIGRATE
   * in batches, SETSLOT NODE on every primary; resolves once every running node agrees.
   */
  migrateSlot(slot: number, toPort: number, options?: MigrateSlotOptions): Promise<void>;
  /**
   * Waits until every running node says cluster_state:ok, knows every other running node as
   * healthy, sees every slot served by a running primary and agrees with the others on who serves
   * what, and every running replica is in sync; after a kill, that is once a replica took over.
   */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  /** Signals every process at once without waiting (default SIGKILL); for a forced exit. */
  killAll(signal?: NodeJS.Signals): void;
  /** Stops every node and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

interface NodeView {
  id: string;
  host: string;
  port: number;
  flags: Set<string>;
  masterId: string | undefined;
  connected: boolean;
  slots: Array<[number, number]>;
}

interface ClusterNodeProcess {
  port: number;
  busPort: number;
  dir: string;
  proc: ManagedProcess | undefined;
  /** Sent SIGSTOP and not SIGCONT since: alive, but counted as down. */
  paused: boolean;
}

const HOST = '127.0.0.1';
const UNHEALTHY_FLAGS = ['fail', 'fail?', 'handshake', 'noaddr'];

/** The hash slot of a key, hash tags included (`{user1}:a` and `{user1}:b` share one). */
export function keySlot(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  const open = bytes.indexOf(0x7b);
  let part = bytes;
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) part = bytes.subarray(open + 1, close);
  }
  return crc16(part) % CLUSTER_SLOTS;
}

// CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with.
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Parses CLUSTER NODES; migrating/importing markers (`[slot->-id]`) are left out of `slots`. */
export function parseClusterNodes(text: string): NodeView[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , link = '', ...slots] = line.split(' ');
      const hostPort = address.split('@')[0] ?? '';
      const cut = hostPort.lastIndexOf(':');
      return {
        id,
        host: hostPort.slice(0, cut),
        port: Number(hostPort.slice(cut + 1)),
        flags: new Set(flags.split(',')),
        masterId: master === '-' ? undefined : master,
        connected: link === 'connected',
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s): [number, number] => {
            const [from, to] = s.split('-').map(Number) as [number, number | undefined];
            return [from, to ?? from];
          }),
      };
    });
}

const countSlots = (ranges: Array<[number, number]>): number => ranges.reduce((n, [a, b]) => n + b - a + 1, 0);

/** One command on one node over a short-lived connection; rejects fast if the node is down. */
function nodeCall(port: number, args: Array<string | number>, timeoutMs = 5000): Promise<unknown> {
  return redisCall(HOST, port, args, timeoutMs);
}

async function clusterView(port: number): Promise<NodeView[]> {
  return parseClusterNodes(String(await nodeCall(port, ['CLUSTER', 'NODES'])));
}

/** Two distinct free ports per node (client and cluster bus), none repeated. */
async function freePorts(count: number, taken: Set<number>): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (taken.has(port)) continue;
    taken.add(port);
    ports.push(port);
  }
  return ports;
}

function runRedisCli(bin: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`redis-cli ${args.slice(0, 2).join(' ')} failed: ${err.message}\n${stdout}${stderr}`.trim()));
      else resolve(stdout);
    });
  });
}

/** Starts a throwaway Redis Cluster on 127.0.0.1 and resolves once it is ok (see waitUntilOk). */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const primaryCount = options.primaries ?? 3;
  const replicasPerPrimary = options.replicasPerPrimary ?? 1;
  if (!Number.isInteger(primaryCount) || primaryCount < 3) throw new Error(`a Redis Cluster needs at least 3 primaries, got ${primaryCount}`);
  if (!Number.isInteger(replicasPerPrimary) || replicasPerPrimary < 0) throw new Error(`replicasPerPrimary: expected a whole number, got ${replicasPerPrimary}`);
  const bin = requireRedisServer();
  const cli = findOnPath('redis-cli');
  if (cli === undefined) throw new Error('redis-cli was not found on PATH; it creates the cluster (Debian: apt-get install -y redis-tools)');
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'chat-fleet-cluster-'));
  const nodes: ClusterNodeProcess[] = [];
  const taken = new Set<number>();

  const launch = async (node: ClusterNodeProcess): Promise<void> => {
    node.proc = await launchRedisProcess({
      name: `redis-${node.port}`,
      bin,
      port: node.port,
      args: [
        '--cluster-enabled', 'yes',
        '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', String(nodeTimeoutMs),
        '--cluster-port', String(node.busPort),
        // A replica takes over however long it was cut off: tests want the failover, not the data age.
        '--cluster-replica-validity-factor', '0',
        '--save', '',
        '--appendonly', 'no',
        '--dir', node.dir,
        // Replicas sync at once instead of waiting 5 s for more replicas to share a transfer.
        '--repl-diskless-sync-delay', '0',
      ],
      cwd: node.dir,
      output: options.output,
      readyTimeoutMs,
    });
  };

  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.flatMap((n) => (n.proc === undefined ? [] : [n.proc.stop('SIGTERM', 3000)])));
    await rm(dir, { recursive: true, force: true });
  };

  const running = (): ClusterNodeProcess[] => nodes.filter((n) => n.proc?.running === true && !n.paused);
  const nodeAt = (port: number): ClusterNodeProcess => {
    const node = nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`no node of this cluster on port ${port} (ports ${nodes.map((n) => n.port).join(', ')})`);
    return node;
  };

  /** Why the cluster is not ok yet, or undefined once it is. */
  const notOkReason = async (): Promise<string | undefined> => {
    const live = running();
    if (live.length === 0) return 'no node is running';
    const livePorts = new Set(live.map((n) => n.port));
    const signatures = new Set<string>();
    for (const node of live) {
      const info = String(await nodeCall(node.port, ['CLUSTER', 'INFO']));
      if (!/^cluster_state:ok\r?$/m.test(info)) return `${node.port} says cluster_state is not ok`;
      const view = await clusterView(node.port);
      for (const other of live) {
        const seen = view.find((v) => v.port === other.port);
        if (seen === undefined) return `${node.port} does not know ${other.port} yet`;
        const bad = UNHEALTHY_FLAGS.find((f) => seen.flags.has(f));
        if (bad !== undefined) return `${node.port} sees ${other.port} as ${bad}`;
        if (!seen.flags.has('myself') && !seen.connected) return `${node.port} is not connected to ${other.port}`;
      }
      let covered = 0;
      for (const v of view) {
        if (v.slots.length === 0) continue;
        if (!livePorts.has(v.port)) return `${node.port} sees slots on ${v.port}, which is down`;
        covered += countSlots(v.slots);
      }
      if (covered !== CLUSTER_SLOTS) return `${node.port} sees ${covered} of ${CLUSTER_SLOTS} slots served`;
      const byId = new Map(view.map((v) => [v.id, v]));
      // Who serves which slots and who replicates whom, among running nodes: the same from every node.
      signatures.add(
        view
          .filter((v) => livePorts.has(v.port))
          .map((v) => `${v.port}:${v.flags.has('master') ? 'm' : `r${byId.get(v.masterId ?? '')?.port}`}:${v.slots.map(([a, b]) => `${a}-${b}`).join('/')}`)
          .sort()
          .join(' '),
      );
      if (view.find((v) => v.flags.has('myself'))?.flags.has('slave') === true) {
        const replication = String(await nodeCall(node.port, ['INFO', 'replication']));
        if (!/^master_link_status:up\r?$/m.test(replication)) return `replica ${node.port} is not in sync with its primary`;
      }
    }
    if (signatures.size > 1) return `the nodes do not agree yet: ${[...signatures].join(' | ')}`;
    return undefined;
  };

  const waitUntilOk = async (timeoutMs = readyTimeoutMs): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let reason: string | undefined = 'not checked';
    while (Date.now() < deadline) {
      reason = await notOkReason().catch((err: unknown) => `a node did not answer: ${err instanceof Error ? err.message : String(err)}`);
      if (reason === undefined) return;
      await sleep(100);
    }
    throw new Error(`the Redis Cluster was not ok after ${timeoutMs} ms: ${reason}`);
  };

  const primaries = async (): Promise<ClusterPrimary[]> => {
    let lastError: unknown = new Error('no node is running');
    for (const node of running()) {
      try {
        const view = await clusterView(node.port);
        const healthy = (v: NodeView) => !UNHEALTHY_FLAGS.some((f) => v.flags.has(f));
        return view
          .filter((v) => v.flags.has('master') && v.slots.length > 0 && healthy(v))
          .map((v) => ({
            id: v.id,
            host: v.host,
            port: v.port,
            slots: [...v.slots].sort((a, b) => a[0] - b[0]),
            replicas: view.filter((r) => r.masterId === v.id && healthy(r)).map((r) => ({ host: r.host, port: r.port })),
          }))
          .sort((a, b) => (a.slots[0]?.[0] ?? 0) - (b.slots[0]?.[0] ?? 0));
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  };

  const nodeForSlot = async (slot: number): Promise<ClusterNodeAddress> => {
    if (!Number.isInteger(slot) || slot < 0 || slot >= CLUSTER_SLOTS) throw new Error(`no slot ${slot}: slots are 0..${CLUSTER_SLOTS - 1}`);
    const owner = (await primaries()).find((p) => p.slots.some(([a, b]) => slot >= a && slot <= b));
    if (owner === undefined) throw new Error(`no primary serves slot ${slot} now`);
    return { host: owner.host, port: owner.port };
  };

  let stopped: Promise<void> | undefined;
  try {
    const total = primaryCount * (1 + replicasPerPrimary);
    // A port from the kernel can be taken again before redis-server binds it: draw new ones then.
    await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const nodeDir = join(dir, `node-${i + 1}`);
        await mkdir(nodeDir);
        for (let attempt = 1; ; attempt++) {
          const [port, busPort] = await freePorts(2, taken);
          const node: ClusterNodeProcess = { port: port!, busPort: busPort!, dir: nodeDir, proc: undefined, paused: false };
          try {
            await launch(node);
            nodes[i] = node;
            return;
          } catch (err) {
            if (attempt >= 3) throw err;
          }
        }
      }),
    );
    await runRedisCli(
      cli,
      ['--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`), '--cluster-replicas', String(replicasPerPrimary), '--cluster-yes'],
      readyTimeoutMs,
    );
    await waitUntilOk();
  } catch (err) {
    await stopAll();
    throw err;
  }

  return {
    nodes: nodes.map((n) => `${HOST}:${n.port}`).join(','),
    topology: { mode: 'cluster', nodes: nodes.map((n) => ({ host: HOST, port: n.port })) },
    ports: nodes.map((n) => n.port),
    dir,
    primaries,
    nodeForSlot,
    pid: (port) => {
      const proc = nodeAt(port).proc;
      return proc?.running === true ? proc.pid : undefined;
    },
    kill(port, signal: NodeJS.Signals = 'SIGKILL') {
      const node = nodeAt(port);
      node.proc?.kill(signal);
      if (signal === 'SIGSTOP' || signal === 'SIGTSTP') node.paused = true;
      if (signal === 'SIGCONT') node.paused = false;
    },
    async restart(port) {
      const node = nodeAt(port);
      // A stopped (SIGSTOP) node cannot handle SIGTERM: wake it first.
      node.proc?.kill('SIGCONT');
      node.paused = false;
      await node.proc?.stop('SIGTERM', 3000);
      await launch(node);
      await waitUntilOk();
    },
    async failover(primaryPort) {
      const primary = (await primaries()).find((p) => p.port === primaryPort);
      if (primary === undefined) throw new Error(`${primaryPort} is not a primary serving slots`);
      const replica = primary.replicas.find((r) => running().some((n) => n.port === r.port));
      if (replica === undefined) throw new Error(`primary ${primaryPort} has no running replica to promote`);
      if (running().some((n) => n.port === primaryPort)) await nodeCall(replica.port, ['CLUSTER', 'FAILOVER']);
      const deadline = Date.now() + readyTimeoutMs;
      while (!(await primaries().catch(() => [])).some((p) => p.port === replica.port)) {
        if (Date.now() > deadline) throw new Error(`replica ${replica.port} did not take over from ${primaryPort} within ${readyTimeoutMs} ms`);
        await sleep(100);
      }
      await waitUntilOk();
      return replica;
    },
    async migrateSlot(slot, toPort, migrateOptions = {}) {
      const batch = migrateOptions.batch ?? 100;
      const from = await nodeForSlot(slot);
      if (from.port === toPort) return;
      const view = await clusterView(from.port);
      const source = view.find((v) => v.port === from.port);
      const target = view.find((v) => v.port === toPort);
      if (source === undefined || target === undefined || !target.flags.has('master')) {
        throw new Error(`cannot move slot ${slot} to ${toPort}: it is not a primary of this cluster`);
      }
      // The order the Redis Cluster specification gives: importing side first, so no ASK goes nowhere.
      await nodeCall(toPort, ['CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id]);
      await nodeCall(from.port, ['CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id]);
      await migrateOptions.onMigrating?.();
      for (;;) {
        const keys = (await nodeCall(from.port, ['CLUSTER', 'GETKEYSINSLOT', slot, batch])) as string[];
        if (keys.length === 0) break;
        await nodeCall(from.port, ['MIGRATE', HOST, toPort, '', 0, 10_000, 'REPLACE', 'KEYS', ...keys], 15_000);
      }
      // Target, then source, then every other primary (each also learns it by gossip).
      const others = (await primaries()).map((p) => p.port).filter((p) => p !== toPort && p !== from.port);
      for (const port of [toPort, from.port, ...others]) await nodeCall(port, ['CLUSTER', 'SETSLOT', slot, 'NODE', target.id]);
      const deadline = Date.now() + readyTimeoutMs;
      for (;;) {
        const views = await Promise.all(running().map((n) => clusterView(n.port).catch(() => [])));
        const agreed = views.every((v) => v.find((n) => n.slots.some(([a, b]) => slot >= a && slot <= b))?.port === toPort);
        if (agreed) break;
        if (Date.now() > deadline) throw new Error(`slot ${slot} moved to ${toPort}, but not every node agreed within ${readyTimeoutMs} ms`);
        await sleep(50);
      }
    },
    waitUntilOk,
    killAll(signal: NodeJS.Signals = 'SIGKILL') {
      for (const m of nodes) m.proc?.kill(signal);
    },
    stop() {
      stopped ??= stopAll();
      return stopped;
    },
  };
}
