// One process's share of a load run: its users, the timeout sweep and progress ticks. The result
// carries encoded histograms so shards from several processes merge exactly.
import { ChatUser, type UserContext } from './chat-user.js';
import { Semaphore, ShardStats, StopClock } from './shard-state.js';

export interface ShardSpec {
  gateways: string[];
  /** All users of the run; this shard drives those with `procOf(i) === procIndex`. */
  users: number;
  procIndex: number;
  procs: number;
  durationS: number;
  thinkMs: { min: number; max: number };
  rampS: number;
  replyTimeoutMs: number;
  /** 0: one session for the whole run. */
  turnsPerSession: number;
  connectConcurrency: number;
  staggerFirstMessage: boolean;
  userPrefix: string;
  /** Date.now() at which every shard starts its clock. */
  startAtEpochMs: number;
}

export interface ShardCounts {
  connected: number;
  inFlight: number;
  messages: number;
  failures: number;
}

export interface ShardResult {
  messages: number;
  failures: number;
  successes: number;
  tokens: number;
  frames: number;
  reconnects: number;
  cached: number;
  errors: Record<string, number>;
  /** Encoded LatencyHistograms (µs). */
  ttft: string;
  response: string;
  connect: string;
  peakConnected: number;
  /** Date.now() of the last message end (or of the shard's end when there was none). */
  lastEndEpochMs: number;
  /** CPU seconds (user + system) this process spent on the shard. */
  cpuS: number;
}

/** User i talks to gateway i mod g; users are dealt to processes so each process reaches every gateway. */
export function procOf(user: number, gateways: number, procs: number): number {
  return Math.floor(user / gateways) % procs;
}

export function defaultContent(userPrefix: string): (user: number, turn: number) => string {
  return (user, turn) => `${userPrefix} user ${user} turn ${turn}: tell me something about the number ${user * 1000 + turn}.`;
}

export interface ShardHooks {
  content?: (user: number, turn: number) => string;
  signal?: AbortSignal;
  onTick?: (counts: ShardCounts) => void;
}

const ABORT_GRACE_MS = 5000;

export async function runShard(spec: ShardSpec, hooks: ShardHooks = {}): Promise<ShardResult> {
  const wait = spec.startAtEpochMs - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const t0 = performance.now();
  const epochAtT0 = Date.now();
  const cpu0 = process.cpuUsage();
  const stats = new ShardStats();
  const clock = new StopClock();
  const ctx: UserContext = {
    stats,
    clock,
    connectGate: new Semaphore(spec.connectConcurrency),
    deadline: t0 + (spec.rampS + spec.durationS) * 1000,
    thinkMs: spec.thinkMs,
    replyTimeoutMs: spec.replyTimeoutMs,
    turnsPerSession: spec.turnsPerSession > 0 ? spec.turnsPerSession : Infinity,
    userPrefix: spec.userPrefix,
    gateways: spec.gateways,
    content: hooks.content ?? defaultContent(spec.userPrefix),
  };
  const users: ChatUser[] = [];
  const runs: Array<Promise<void>> = [];
  const g = spec.gateways.length;
  for (let i = 0; i < spec.users; i++) {
    if (procOf(i, g, spec.procs) !== spec.procIndex) continue;
    const user = new ChatUser(i, ctx);
    users.push(user);
    const startDelay = spec.users > 1 ? (i * spec.rampS * 1000) / spec.users : 0;
    const firstPause = spec.staggerFirstMessage ? Math.random() * spec.thinkMs.max : 0;
    runs.push(user.run(startDelay, firstPause));
  }

  const onAbort = (): void => {
    clock.stop();
    const by = performance.now() + ABORT_GRACE_MS;
    for (const u of users) u.hurry(by);
  };
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  // Message time-outs are checked by one sweep rather than a timer per message.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const u of users) u.checkTimeout(now);
  }, 250);
  const tick = (): void =>
    hooks.onTick?.({ connected: stats.connected, inFlight: stats.inFlight, messages: stats.messages, failures: stats.failures });
  const ticker = setInterval(tick, 500);
  try {
    await Promise.all(runs);
  } finally {
    clearInterval(sweep);
    clearInterval(ticker);
    hooks.signal?.removeEventListener('abort', onAbort);
  }
  tick();
  const cpu = process.cpuUsage(cpu0);
  const lastEnd = stats.lastEndAt > 0 ? stats.lastEndAt : performance.now();
  return {
    messages: stats.messages,
    failures: stats.failures,
    successes: stats.successes,
    tokens: stats.tokens,
    frames: stats.frames,
    reconnects: stats.reconnects,
    cached: stats.cached,
    errors: { ...stats.errors },
    ttft: stats.ttft.encode(),
    response: stats.response.encode(),
    connect: stats.connect.encode(),
    peakConnected: stats.peakConnected,
    lastEndEpochMs: epochAtT0 + (lastEnd - t0),
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}
