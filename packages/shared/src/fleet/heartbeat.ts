// The fleet as the admin console sees it: every gateway and worker writes a heartbeat every
// HEARTBEAT_MS (what it is, its load, its event-loop delay and memory) into one Redis hash, so
// any gateway can list the whole fleet. A clean shutdown removes the record; a crashed process's
// record goes stale, and is forgotten a minute after its last heartbeat (lua/fleet-heartbeat.lua).
// `lastSeenMs` compares the writer's clock with the reader's: the fleet's clocks are assumed to
// agree (NTP) to well under a heartbeat, as reply deadlines already assume.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { FleetInstanceSchema, type FleetInstance } from '@chat-fleet/protocol';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis-client.js';
import type { RedisKeys } from '../redis-keys.js';
import { withScripts, type ChatScripts } from '../lua-scripts.js';

/** A silent instance is listed (stale) this long after its last heartbeat, then forgotten. */
export const FORGET_SILENT_MS = 60_000;

/** Stale once silent for this many of its own heartbeat intervals. */
const STALE_AFTER_BEATS = 3;

/** What an instance writes every heartbeat: what the fleet view shows of it, when it wrote, and its interval. */
export const HeartbeatRecordSchema = FleetInstanceSchema.omit({ uptimeSeconds: true, lastSeenMs: true, stale: true }).extend({
  /** When this record was written (ms since the epoch, the writer's clock). */
  at: z.number(),
  /** The writer's HEARTBEAT_MS. */
  heartbeatMs: z.number(),
});

export type HeartbeatRecord = z.infer<typeof HeartbeatRecordSchema>;
export type FleetRole = HeartbeatRecord['role'];

/** What changes from one heartbeat to the next, read from the process when it writes. */
export type HeartbeatLoad = Pick<HeartbeatRecord, 'inflight' | 'sockets' | 'sessions' | 'draining'>;

export interface HeartbeatIdentity {
  instance: string;
  role: FleetRole;
  version: string;
  intervalMs: number;
}

/** The `version` of the package.json at `url` (an app's own), or `unknown`. */
export function packageVersion(url: URL): string {
  try {
    const parsed = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Writes this process's heartbeat until stopped. Failures are logged, never thrown: the next beat tries again. */
export class Heartbeat {
  private readonly redis: RedisClient & ChatScripts;
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;
  /** The write in progress: a slow Redis never stacks up beats. */
  private writing: Promise<void> | undefined;
  private failing = false;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly self: HeartbeatIdentity,
    private readonly load: () => HeartbeatLoad,
    private readonly log: Logger,
  ) {
    this.redis = withScripts(redis);
  }

  start(): void {
    this.delay.enable();
    this.beat();
    this.timer = setInterval(() => this.beat(), this.self.intervalMs);
    this.timer.unref();
  }

  /** Stops beating and removes the record, so the instance leaves the list at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.delay.disable();
    await this.writing;
    await this.write('').catch((err: unknown) => this.log.warn({ err }, 'could not remove the heartbeat'));
  }

  private beat(): void {
    if (this.writing !== undefined) return;
    const { rss, heapUsed } = process.memoryUsage();
    const record: HeartbeatRecord = {
      instance: this.self.instance,
      role: this.self.role,
      version: this.self.version,
      startedAt: this.startedAt,
      at: Date.now(),
      heartbeatMs: this.self.intervalMs,
      ...this.load(),
      eventLoopDelayMs: Math.round(this.delay.percentile(99) / 1e4) / 100,
      rssBytes: rss,
      heapUsedBytes: heapUsed,
    };
    this.delay.reset();
    this.writing = this.write(JSON.stringify(record)).then(
      () => {
        if (this.failing) this.log.info('heartbeat written again');
        this.failing = false;
      },
      (err: unknown) => {
        if (!this.failing) this.log.warn({ err }, 'could not write the heartbeat');
        this.failing = true;
      },
    ).finally(() => {
      this.writing = undefined;
    });
  }

  private async write(record: string): Promise<void> {
    const now = Date.now();
    await this.redis.fleetHeartbeat(this.keys.fleetHeartbeats, this.keys.fleetSeen, this.self.instance, record, now, now - FORGET_SILENT_MS, FORGET_SILENT_MS);
  }
}

/** Every instance heard from within FORGET_SILENT_MS, gateways first, then by name. */
export async function readFleet(redis: RedisClient, keys: RedisKeys, now = Date.now()): Promise<FleetInstance[]> {
  const all = await redis.hgetall(keys.fleetHeartbeats);
  const instances: FleetInstance[] = [];
  for (const json of Object.values(all)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      continue;
    }
    const r = HeartbeatRecordSchema.safeParse(parsed);
    if (!r.success) continue;
    const { at, heartbeatMs, ...record } = r.data;
    const lastSeenMs = Math.max(0, now - at);
    if (lastSeenMs > FORGET_SILENT_MS) continue;
    const started = Date.parse(record.startedAt);
    instances.push({
      ...record,
      uptimeSeconds: Number.isNaN(started) ? 0 : Math.max(0, Math.round((now - started) / 1000)),
      lastSeenMs,
      stale: lastSeenMs > STALE_AFTER_BEATS * heartbeatMs,
    });
  }
  return instances.sort((a, b) => a.role.localeCompare(b.role) || a.instance.localeCompare(b.instance, 'en', { numeric: true }));
}
