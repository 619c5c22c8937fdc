// Open sockets per session and per client address, counted for the whole fleet. Crash-safe by
// leases: each socket is a sorted-set member scored by an expiry its gateway renews while the
// socket lives, and only unexpired members count, so a crashed gateway's sockets drop out alone.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LimitError, defineScript, type RedisClient, type RedisKeys } from '@chat-fleet/shared';

/** Admits sockets within the fleet-wide limits; a refused socket never counts. */
export interface SocketLimiter {
  /**
   * Takes a place for one socket of `sessionId` from `address`. Resolves with the lease to
   * release when the socket closes (undefined when no limit is on); throws `rate_limited`
   * (LimitError) when the session or the address has no room. A lease never released (a
   * crash) stops counting within the lease lifetime.
   */
  claim(sessionId: string, address: string): Promise<string | undefined>;
  /** Gives the place back; never throws. */
  release(lease: string | undefined): void;
}

export interface SocketLeaseOptions {
  /** Names this gateway in every member, so two gateways never share one. */
  instance: string;
  /** 0: no limit. */
  maxPerSession: number;
  /** 0: no limit. */
  maxPerAddress: number;
  /** How long a lease counts without renewal; renewed every third of it. */
  leaseMs?: number;
}

const CLAIM_LUA = readFileSync(new URL('../../lua/claim-lease.lua', import.meta.url), 'utf8');
/** What a refused client is told to wait: sockets are long-lived, so this is a pause, not a promise. */
const REFUSED_RETRY_MS = 5000;
/**
 * Leases renewed per batch of writes. A gateway holding thousands of sockets would otherwise
 * build a ZADD and a PEXPIRE per socket at once, tens of thousands of commands alive together
 * until Redis answers them all: enough to grow the heap by kilobytes per socket each tick.
 */
const RENEW_BATCH = 500;

interface Lease {
  sessionKey: string | undefined;
  addressKey: string | undefined;
  member: string;
}

type ClaimingRedis = RedisClient & {
  claimLease(key: string, now: number, expiry: number, member: string, max: number, ttlMs: number): Promise<number>;
};

export class SocketLeases implements SocketLimiter {
  private readonly redis: ClaimingRedis;
  private readonly leaseMs: number;
  private readonly live = new Map<string, Lease>();
  private next = 0;
  /** A restarted gateway with the same instance id must not reuse its predecessor's members. */
  private readonly boot = randomBytes(4).toString('hex');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly options: SocketLeaseOptions,
    private readonly onRenewError: (err: unknown) => void = () => undefined,
  ) {
    defineScript(redis, 'claimLease', 1, CLAIM_LUA);
    this.redis = redis as ClaimingRedis;
    this.leaseMs = options.leaseMs ?? 30_000;
  }

  get enabled(): boolean {
    return this.options.maxPerSession > 0 || this.options.maxPerAddress > 0;
  }

  /** Live leases held by this gateway. */
  get size(): number {
    return this.live.size;
  }

  /** Starts renewing this gateway's leases (one batch of writes per tick). */
  start(): void {
    if (!this.enabled || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async claim(sessionId: string, address: string): Promise<string | undefined> {
    if (!this.enabled) return undefined;
    const id = `${this.options.instance}:${this.boot}:${(this.next++).toString(36)}`;
    const lease: Lease = {
      sessionKey: this.options.maxPerSession > 0 ? this.keys.sessionSockets(sessionId) : undefined,
      addressKey: this.options.maxPerAddress > 0 ? this.keys.addressSockets(address) : undefined,
      member: id,
    };
    // Two single-key steps rather than one script, so the keys may live on different cluster slots.
    if (lease.sessionKey !== undefined && !(await this.take(lease.sessionKey, id, this.options.maxPerSession))) {
      throw new LimitError('session_sockets', `this session already has ${this.options.maxPerSession} open sockets; close one first`, REFUSED_RETRY_MS);
    }
    if (lease.addressKey !== undefined) {
      let taken = false;
      try {
        taken = await this.take(lease.addressKey, id, this.options.maxPerAddress);
      } finally {
        if (!taken && lease.sessionKey !== undefined) this.redis.zrem(lease.sessionKey, id).catch(() => undefined);
      }
      if (!taken) throw new LimitError('address_sockets', `this address already has ${this.options.maxPerAddress} open sockets; close one first`, REFUSED_RETRY_MS);
    }
    this.live.set(id, lease);
    return id;
  }

  release(id: string | undefined): void {
    if (id === undefined) return;
    const lease = this.live.get(id);
    if (lease === undefined) return;
    this.live.delete(id);
    // Sent after any renewal pipeline already written on this connection, so it wins.
    for (const key of [lease.sessionKey, lease.addressKey]) {
      if (key !== undefined) this.redis.zrem(key, id).catch(() => undefined);
    }
  }

  /**
   * Extends every live lease of this gateway to one new expiry, RENEW_BATCH leases at a time (each
   * batch's writes sent together, on a cluster to each key's shard, and answered before the next
   * is built); resolves when all are written. A lease released before its batch is left out, so a
   * renewal never adds back a member release() removed; one released later is removed after it.
   */
  async renew(): Promise<void> {
    if (this.live.size === 0) return;
    const expiry = Date.now() + this.leaseMs;
    const ids = [...this.live.keys()];
    let failed: PromiseRejectedResult | undefined;
    for (let start = 0; start < ids.length; start += RENEW_BATCH) {
      const byKey = new Map<string, Array<string | number>>();
      const add = (key: string | undefined, member: string): void => {
        if (key === undefined) return;
        let args = byKey.get(key);
        if (args === undefined) byKey.set(key, (args = []));
        args.push(expiry, member);
      };
      for (const id of ids.slice(start, start + RENEW_BATCH)) {
        const lease = this.live.get(id);
        if (lease === undefined) continue;
        add(lease.sessionKey, lease.member);
        add(lease.addressKey, lease.member);
      }
      const writes = [...byKey].flatMap(([key, args]) => [this.redis.zadd(key, ...args), this.redis.pexpire(key, this.leaseMs)]);
      const results = await Promise.allSettled(writes);
      failed ??= results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    }
    if (failed !== undefined) this.onRenewError(failed.reason);
  }

  private async take(key: string, member: string, max: number): Promise<boolean> {
    const now = Date.now();
    return (await this.redis.claimLease(key, now, now + this.leaseMs, member, max, this.leaseMs)) === 1;
  }
}
