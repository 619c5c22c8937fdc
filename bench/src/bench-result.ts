// The JSON a bench run writes to bench/results/: everything measured, with the setup that produced it.
import type { LevelResult } from '@chat-fleet/loadgen';
import type { RedisMode } from '@chat-fleet/stack';
import type { MachineInfo, SourceInfo } from './machine.js';
import type { FloorResult } from './model-floor.js';
import type { EventLoopLag } from './prom-text.js';
import type { Build } from './bench-plan.js';
import type { BenchSummary } from './bench-summary.js';

export type ProcessRole = 'gateways' | 'workers' | 'simulator' | 'redis';

export interface SystemResult extends LevelResult {
  readonly messagesPerSec: number;
  readonly framesPerSec: number;
}

export interface RedisCost {
  readonly commands: number;
  readonly commandsPerMessage: number;
  /** Redis's own execution time per message (INFO commandstats usec), µs. */
  readonly usecPerMessage: number;
  /** Most called commands over the run. */
  readonly top: ReadonlyArray<{ readonly command: string; readonly calls: number; readonly perMessage: number }>;
  /** Every command executed over the run (absent in older results): what the census applies to. */
  readonly byCommand?: ReadonlyArray<{ readonly command: string; readonly calls: number }>;
  /** False when the Redis was found already running: other clients' commands count too. */
  readonly exclusive: boolean;
  /** How the commands spread over a cluster's primaries; null (or absent in older results) for one primary. */
  readonly shards?: ShardCost | null;
}

export interface ShardCost {
  /** Each primary, in slot order: what it executed over the run (INFO commandstats, summed over commands). */
  readonly primaries: ReadonlyArray<{
    readonly node: string;
    readonly commands: number;
    /** Its part of all primaries' commands, 0–1. */
    readonly share: number;
    readonly usec: number;
    /** CPU seconds of its redis-server; null when its process was not visible. */
    readonly cpuSeconds: number | null;
    readonly top: ReadonlyArray<{ readonly command: string; readonly calls: number }>;
  }>;
  /** The busiest primary's share of all commands: 1/primaries is an even spread, 1.0 one hot shard. */
  readonly busiestShare: number;
}

/** A cluster primary, its slots, and which of the fleet's single-slot keys (queues, fleet-wide keys) it serves. */
export interface ShardPlacement {
  readonly node: string;
  readonly slots: number;
  readonly holds: readonly string[];
}

export interface CpuCost {
  /** CPU seconds (user + system) over the system run, per role, summed over its processes. */
  readonly seconds: Readonly<Record<ProcessRole, number>> & { readonly total: number };
  readonly perThousandTokens: Readonly<Record<ProcessRole, number>> & { readonly total: number };
  /** Per process, e.g. gateway-1. */
  readonly byProcess: Readonly<Record<string, number>>;
  /** The bench itself (load clients, the floor's child processes included), for context. */
  readonly benchSeconds: number;
  /** Machine-wide busy CPU seconds minus ours: other people's work during the run. */
  readonly otherSeconds: number;
  /**
   * Redis replicas and Sentinels (absent in older results): their CPU is not the fleet's cost per
   * token, but on one machine it is not other people's work either.
   */
  readonly standbySeconds?: number;
  /** Busy share of every core over the run, 0–1. */
  readonly machineBusy: number;
  readonly wallSeconds: number;
}

export interface IdleMeasurement {
  readonly sockets: number;
  readonly opened: number;
  readonly failures: number;
  readonly firstError?: string;
  /** Which gateway held them; sessions were created through the other one, so REST work is not counted. */
  readonly gateway: string;
  /** The gateway's own count of open sockets once all were open. */
  readonly connectionsReported: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly bytesPerConnection: number;
  readonly settleMs: number;
}

export interface GoalCheck {
  readonly goal: string;
  readonly target: string;
  readonly measured: string;
  /** undefined when this run did not measure it. */
  readonly met: boolean | undefined;
}

/** One Redis command census (see redis-census.ts): MONITOR over a short load of its own. */
export interface CensusResult {
  readonly build: Build;
  readonly users: number;
  readonly durationS: number;
  /** Messages of the census load that ended. */
  readonly messages: number;
  /** Lines MONITOR showed, sent by clients and run by scripts. */
  readonly clientSent: number;
  readonly scriptInternal: number;
  /** Per command name: sent by clients, run by scripts. */
  readonly byCommand: ReadonlyArray<{ readonly command: string; readonly client: number; readonly script: number }>;
}

/** The model alone at one level (same users and think), measured once before the level's first run. */
export interface FloorMeasurement {
  readonly users: number;
  readonly paced: boolean;
  readonly thinkMs: { readonly min: number; readonly max: number };
  readonly durationS: number;
  readonly rampS: number;
  readonly result: FloorResult;
  readonly cpu: CpuCost;
  /** Why its first token cannot stand for the model's own (null when it can). */
  readonly disturbed: string | null;
}

/** One metered run: a build at a level and reply length, one repetition. */
export interface RunMeasurement {
  readonly index: number;
  readonly build: Build;
  readonly users: number;
  readonly paced: boolean;
  readonly replyTokens: number;
  readonly repetition: number;
  readonly thinkMs: { readonly min: number; readonly max: number };
  readonly durationS: number;
  readonly rampS: number;
  readonly system: SystemResult;
  readonly redis: RedisCost;
  readonly cpu: CpuCost;
  readonly eventLoop: Readonly<Record<string, EventLoopLag>>;
}

/** What was measured as `new` and as `baseline`. */
export interface BuildInfo {
  readonly build: Build;
  readonly commit: string | null;
  readonly subject?: string;
  /** The ref given to --baseline. */
  readonly ref?: string;
  readonly dir: string;
  readonly install?: 'linked' | 'npm ci';
  readonly reused?: boolean;
  readonly buildSeconds?: number;
}

export interface BenchResult {
  readonly kind: 'chat-fleet-bench';
  readonly version: 2;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly args: readonly string[];
  readonly quick: boolean;
  readonly machine: MachineInfo;
  readonly source: SourceInfo;
  readonly builds: readonly BuildInfo[];
  readonly setup: {
    readonly gateways: number;
    readonly workers: number;
    /** replyTokens: the primary length (goals, ratios); the lengths: every one measured. */
    readonly sim: { readonly ttftMs: number; readonly tokensPerSec: number; readonly replyTokens: number };
    readonly replyTokens: readonly number[];
    /** The closed-loop levels. */
    readonly users: readonly number[];
    readonly durationS: number;
    readonly rampS: number;
    readonly thinkMs: { readonly min: number; readonly max: number };
    readonly warmupS: number;
    readonly repeat: number;
    readonly censusS: number;
    readonly paced: { readonly users: number; readonly durationS: number; readonly rampS: number; readonly thinkMs: { readonly min: number; readonly max: number } } | null;
    readonly cache: string;
    /** Settings given with --env. */
    readonly env: Readonly<Record<string, string>>;
    readonly redis: {
      readonly private: boolean;
      readonly prefix: string;
      readonly mode?: RedisMode;
      /** The QUEUE_SHARDS the fleet ran with. */
      readonly queueShards?: number;
      readonly primaries?: number;
      readonly replicas?: number;
      readonly placement?: readonly ShardPlacement[] | null;
    };
    readonly openFiles: { readonly soft: number | null; readonly hard: number | null };
  };
  readonly floors: readonly FloorMeasurement[];
  /** Every metered run in the order run. */
  readonly runs: readonly RunMeasurement[];
  readonly censuses: readonly CensusResult[];
  /** Idle sockets per build, on its fresh gateways. */
  readonly idle: ReadonlyArray<{ readonly build: Build; readonly measurements: readonly IdleMeasurement[] }>;
  readonly idleSkipped: ReadonlyArray<{ readonly sockets: number; readonly reason: string }>;
  /** Medians, ratios and the cost split, derived from the runs (summarize()). */
  readonly summary: BenchSummary;
  readonly goals: readonly GoalCheck[];
}
