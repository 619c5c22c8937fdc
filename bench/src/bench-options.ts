// The command line of `npm run bench`, parsed once into frozen options; a bad flag names itself.
import {
  choiceOption,
  integerOption,
  listOption,
  msRangeOption,
  numberOption,
  parseOptions,
  REDIS_MODES,
  REDIS_TOPOLOGY_VARIABLES,
  UsageError,
  type RedisMode,
} from '@chat-fleet/stack';
import { CHAT_THINK, LEVELS, SLOW_THINK } from '@chat-fleet/loadtest';

export interface BenchOptions {
  /** Concurrent users of the system run, and clients of the floor run. */
  readonly users: number;
  /** Seconds of each measured run (floor and system). */
  readonly durationS: number;
  /** Seconds over which the users start. */
  readonly rampS: number;
  /** Pause between a reply's end and the user's next message. */
  readonly thinkMs: { readonly min: number; readonly max: number };
  /** Seconds of unmeasured warm-up load before each measured run. */
  readonly warmupS: number;
  /** Users of the realistic-pace run (one message every 20–30 s each); 0 skips it. */
  readonly paced: number;
  readonly pacedDurationS: number;
  readonly pacedRampS: number;
  readonly pacedThinkMs: { readonly min: number; readonly max: number };
  /** Idle socket counts to measure gateway memory at; empty when skipped. */
  readonly idle: readonly number[];
  /** The simulator's fixed behaviour. */
  readonly sim: { readonly ttftMs: number; readonly tokensPerSec: number; readonly replyTokens: number };
  /**
   * `single`: the Redis at REDIS_URL, else a private redis-server; `cluster`: a private Redis Cluster
   * (3 primaries, 3 replicas) with QUEUE_SHARDS 6 unless --env sets it; `sentinel`: a private
   * primary, replica and 3 Sentinels.
   */
  readonly redis: RedisMode;
  /** Extra environment for every process of the stack, e.g. FRAME_BATCH_MS=10 to compare a setting. */
  readonly env: Readonly<Record<string, string>>;
  /** Where the JSON goes; undefined means bench/results/<timestamp>.json. */
  readonly out: string | undefined;
  /** Whether to rewrite the bench section of docs/performance.md (single Redis only). */
  readonly docs: boolean;
  readonly quick: boolean;
  /** A results file to judge again and render (table, docs) without measuring anything. */
  readonly render: string | undefined;
  readonly help: boolean;
}

export { UsageError };

const FULL = {
  users: LEVELS.l1000.users,
  // The level runs 180 s in the load table; 60 s give the percentiles thousands of samples.
  durationS: 60,
  rampS: LEVELS.l1000.rampS,
  thinkMs: { min: CHAT_THINK.minMs, max: CHAT_THINK.maxMs },
  warmupS: 5,
  idle: [1000, 10_000],
  paced: LEVELS.l10k.users,
  pacedDurationS: LEVELS.l10k.durationS,
  pacedRampS: LEVELS.l10k.rampS,
};

const QUICK = {
  users: 50,
  durationS: 5,
  rampS: 1,
  thinkMs: { min: 200, max: 600 },
  warmupS: 0,
  idle: [200],
  paced: 0,
  pacedDurationS: 10,
  pacedRampS: 1,
};

/** QUEUE_SHARDS on a cluster unless --env gives it: two queues per primary. */
export const CLUSTER_QUEUE_SHARDS = 6;

export const USAGE = `npm run bench -- [options]

  --users N             concurrent users (system) and clients (floor)   default ${FULL.users}
  --duration S          seconds of each measured run                     default ${FULL.durationS}
  --ramp S              seconds over which users start                   default ${FULL.rampS}
  --think MIN-MAX       think time between messages (ms, or 3s-6s)       default ${FULL.thinkMs.min}-${FULL.thinkMs.max}
  --warmup S            unmeasured warm-up before each run               default ${FULL.warmupS}
  --idle N,N            idle sockets for the memory measurement          default ${FULL.idle.join(',')}
  --skip-idle           no idle-socket measurement
  --paced N             users at a realistic pace (${SLOW_THINK.minMs / 1000}-${SLOW_THINK.maxMs / 1000} s think)      default ${FULL.paced}
  --paced-duration S    seconds of that run (ramp ${FULL.pacedRampS} s)                  default ${FULL.pacedDurationS}
  --skip-paced          no realistic-pace run
  --ttft-ms MS          simulator first-token latency                    default 150
  --tokens-per-sec N    simulator token pace                             default 60
  --reply-tokens N      simulator reply length in tokens                 default 48
  --redis MODE          single: REDIS_URL or a private redis-server      default single
                        cluster: a private Redis Cluster, 3 primaries + 3 replicas, QUEUE_SHARDS ${CLUSTER_QUEUE_SHARDS}
                        sentinel: a private primary, replica and 3 Sentinels
  --env KEY=VALUE       extra setting for every process of the stack (repeatable)
  --out FILE            JSON results file            default bench/results/<timestamp>.json
  --no-docs             leave docs/performance.md alone (implied by --quick and --redis cluster|sentinel)
  --render FILE         no run: judge a results file again, print its table, update the docs
  --quick               smoke run: 50 users, 5 s, idle 200, no paced run, no warm-up, no docs
  --help`;

/** The settings the bench itself decides; overriding them would measure something else. */
const RESERVED_ENV = new Set<string>([...REDIS_TOPOLOGY_VARIABLES, 'REDIS_PREFIX', 'PORT', 'METRICS_PORT', 'LLM_SIM_PORT', 'INSTANCE_ID', 'AUTH_SECRET']);

export function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (m === null) throw new UsageError(`--env: expected KEY=VALUE with an upper-case KEY, got "${pair}"`);
    const key = m[1] ?? '';
    if (RESERVED_ENV.has(key)) throw new UsageError(`--env: ${key} is set by the bench itself`);
    env[key] = m[2] ?? '';
  }
  return env;
}

/** Parses argv (without node and the script); throws UsageError on anything unknown or malformed. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const v = parseOptions(argv, {
    users: { type: 'string' },
    duration: { type: 'string' },
    ramp: { type: 'string' },
    think: { type: 'string' },
    warmup: { type: 'string' },
    idle: { type: 'string' },
    'skip-idle': { type: 'boolean' },
    paced: { type: 'string' },
    'paced-duration': { type: 'string' },
    'skip-paced': { type: 'boolean' },
    'ttft-ms': { type: 'string' },
    'tokens-per-sec': { type: 'string' },
    'reply-tokens': { type: 'string' },
    redis: { type: 'string' },
    env: { type: 'string', multiple: true },
    out: { type: 'string' },
    'no-docs': { type: 'boolean' },
    quick: { type: 'boolean' },
    render: { type: 'string' },
    help: { type: 'boolean' },
  });
  const quick = v.quick === true;
  const base = quick ? QUICK : FULL;
  const idle = v['skip-idle'] === true ? [] : v.idle === undefined ? base.idle : (listOption('idle', v.idle) ?? []).map((n) => integerOption('idle', n, 1, 1_000_000) ?? 0);
  if (v.out !== undefined && v.out.trim() === '') throw new UsageError('--out: expected a file name');
  const redis: RedisMode = choiceOption('redis', v.redis, REDIS_MODES) ?? 'single';
  return Object.freeze({
    users: integerOption('users', v.users, 1, 1_000_000) ?? base.users,
    durationS: integerOption('duration', v.duration, 1, 86_400) ?? base.durationS,
    rampS: integerOption('ramp', v.ramp, 0, 3600) ?? base.rampS,
    thinkMs: v.think === undefined ? base.thinkMs : msRangeOption('think', v.think),
    warmupS: integerOption('warmup', v.warmup, 0, 600) ?? base.warmupS,
    idle,
    paced: v['skip-paced'] === true ? 0 : (integerOption('paced', v.paced, 0, 1_000_000) ?? base.paced),
    pacedDurationS: integerOption('paced-duration', v['paced-duration'], 1, 86_400) ?? base.pacedDurationS,
    pacedRampS: base.pacedRampS,
    pacedThinkMs: { min: SLOW_THINK.minMs, max: SLOW_THINK.maxMs },
    sim: {
      ttftMs: integerOption('ttft-ms', v['ttft-ms'], 0, 600_000) ?? 150,
      tokensPerSec: numberOption('tokens-per-sec', v['tokens-per-sec'], 1, 1_000_000) ?? 60,
      replyTokens: integerOption('reply-tokens', v['reply-tokens'], 1, 100_000) ?? 48,
    },
    redis,
    env: parseEnv(v.env ?? []),
    out: v.out,
    // The docs' bench section is the single-Redis figures; other topologies are compared by hand.
    docs: !quick && v['no-docs'] !== true && redis === 'single',
    quick,
    render: v.render,
    help: v.help === true,
  });
}
