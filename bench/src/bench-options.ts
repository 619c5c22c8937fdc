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
import { DEFAULT_BASELINE_ROOT } from './baseline-build.js';

export interface BenchOptions {
  /** The closed-loop levels: concurrent users of each system run, and clients of its floor run. */
  readonly users: readonly number[];
  /** Each level's figures are the median over this many runs per build. */
  readonly repeat: number;
  /** A git ref to build in a worktree and run the same load against, interleaved with the new build. */
  readonly baseline: string | undefined;
  /** Where baseline worktrees are kept (one per commit). */
  readonly baselineDir: string;
  /** Seconds of the Redis command census (MONITOR) after a build's first run at a level; 0 skips it. */
  readonly censusS: number;
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
  /** The simulator's fixed behaviour; replyTokens is the primary length (figures, ratios, goals). */
  readonly sim: { readonly ttftMs: number; readonly tokensPerSec: number; readonly replyTokens: number };
  /** Every reply length measured, the primary first; a second one splits the CPU per message and per token. */
  readonly replyTokens: readonly number[];
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
  // Issue 17's levels: 100 and 1000 users at 3–6 s think.
  users: [LEVELS.l100.users, LEVELS.l1000.users],
  repeat: 2,
  censusS: 10,
  replyTokens: [48, 96],
  // The level runs 180 s in the load table; 60 s give the percentiles thousands of samples.
  durationS: 60,
  rampS: LEVELS.l1000.rampS,
  thinkMs: { min: CHAT_THINK.minMs, max: CHAT_THINK.maxMs },
  warmupS: 5,
  idle: [1000, 10_000],
  // Issue 17's first-token goal at a realistic pace: 1000 users, 20–30 s think.
  paced: 1000,
  pacedDurationS: 120,
  pacedRampS: 30,
};

const QUICK = {
  users: [50],
  repeat: 1,
  censusS: 3,
  replyTokens: [48],
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

  --users N,N           levels: concurrent users (system) and clients (floor)  default ${FULL.users.join(',')}
  --baseline REF        also build REF (a git ref) in a worktree and run the same load against it,
                        interleaved: baseline, new, baseline, new … per level and reply length;
                        every figure for both and new/baseline (medians over --repeat)
  --baseline-dir DIR    where baseline worktrees are kept, one per commit    default ${DEFAULT_BASELINE_ROOT}
  --repeat N            runs per build, level and reply length (median)      default ${FULL.repeat}
  --reply-tokens N,N    simulator reply lengths; the first is the primary (figures, goals), a second
                        splits CPU into per message and per token            default ${FULL.replyTokens.join(',')}
  --census S            seconds of MONITOR after each build's first run at a level, counting the
                        commands clients sent apart from those scripts ran; 0 skips  default ${FULL.censusS}
  --duration S          seconds of each measured run                     default ${FULL.durationS}
  --ramp S              seconds over which users start                   default ${FULL.rampS}
  --think MIN-MAX       think time between messages (ms, or 3s-6s)       default ${FULL.thinkMs.min}-${FULL.thinkMs.max}
  --warmup S            unmeasured warm-up before each run               default ${FULL.warmupS}
  --idle N,N            idle sockets for the memory measurement          default ${FULL.idle.join(',')}
  --skip-idle           no idle-socket measurement
  --paced N             users at a realistic pace (--paced-think)        default ${FULL.paced}
  --paced-think MIN-MAX their think time                                 default ${SLOW_THINK.minMs / 1000}s-${SLOW_THINK.maxMs / 1000}s
  --paced-duration S    seconds of that run (ramp ${FULL.pacedRampS} s)                   default ${FULL.pacedDurationS}
  --skip-paced          no realistic-pace run
  --ttft-ms MS          simulator first-token latency                    default 150
  --tokens-per-sec N    simulator token pace                             default 60
  --redis MODE          single: REDIS_URL or a private redis-server      default single
                        cluster: a private Redis Cluster, 3 primaries + 3 replicas, QUEUE_SHARDS ${CLUSTER_QUEUE_SHARDS}
                        sentinel: a private primary, replica and 3 Sentinels
  --env KEY=VALUE       extra setting for every process of the stack (repeatable)
  --out FILE            JSON results file            default bench/results/<timestamp>.json
  --no-docs             leave docs/performance.md alone (implied by --quick and --redis cluster|sentinel)
  --render FILE         no run: judge a results file again, print its table, update the docs
  --quick               smoke run: 50 users, 5 s, one repetition, 48 tokens, idle 200, census 3 s,
                        no paced run, no warm-up, no docs
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

function intList(name: string, raw: string, min: number, max: number): number[] {
  const items = listOption(name, raw) ?? [];
  if (items.length === 0) throw new UsageError(`--${name}: expected a comma-separated list of whole numbers`);
  return items.map((n) => integerOption(name, n, min, max) ?? min);
}

function distinct(name: string, xs: number[]): number[] {
  if (new Set(xs).size !== xs.length) throw new UsageError(`--${name}: each value once`);
  return xs;
}

/** Parses argv (without node and the script); throws UsageError on anything unknown or malformed. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const v = parseOptions(argv, {
    users: { type: 'string' },
    baseline: { type: 'string' },
    'baseline-dir': { type: 'string' },
    repeat: { type: 'string' },
    census: { type: 'string' },
    'paced-think': { type: 'string' },
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
  const users = v.users === undefined ? base.users : distinct('users', intList('users', v.users, 1, 1_000_000));
  const replyTokens = v['reply-tokens'] === undefined ? base.replyTokens : distinct('reply-tokens', intList('reply-tokens', v['reply-tokens'], 1, 100_000));
  if (replyTokens.length > 2) throw new UsageError('--reply-tokens: one length, or two for the cost split');
  if (v.baseline !== undefined && v.baseline.trim() === '') throw new UsageError('--baseline: expected a git ref');
  const [primaryTokens = 48] = replyTokens;
  return Object.freeze({
    users,
    repeat: integerOption('repeat', v.repeat, 1, 100) ?? base.repeat,
    baseline: v.baseline?.trim(),
    baselineDir: v['baseline-dir'] ?? DEFAULT_BASELINE_ROOT,
    censusS: integerOption('census', v.census, 0, 600) ?? base.censusS,
    replyTokens,
    durationS: integerOption('duration', v.duration, 1, 86_400) ?? base.durationS,
    rampS: integerOption('ramp', v.ramp, 0, 3600) ?? base.rampS,
    thinkMs: v.think === undefined ? base.thinkMs : msRangeOption('think', v.think),
    warmupS: integerOption('warmup', v.warmup, 0, 600) ?? base.warmupS,
    idle,
    paced: v['skip-paced'] === true ? 0 : (integerOption('paced', v.paced, 0, 1_000_000) ?? base.paced),
    pacedDurationS: integerOption('paced-duration', v['paced-duration'], 1, 86_400) ?? base.pacedDurationS,
    pacedRampS: base.pacedRampS,
    pacedThinkMs: v['paced-think'] === undefined ? { min: SLOW_THINK.minMs, max: SLOW_THINK.maxMs } : msRangeOption('paced-think', v['paced-think']),
    sim: {
      ttftMs: integerOption('ttft-ms', v['ttft-ms'], 0, 600_000) ?? 150,
      tokensPerSec: numberOption('tokens-per-sec', v['tokens-per-sec'], 1, 1_000_000) ?? 60,
      replyTokens: primaryTokens,
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
