// The launcher's own settings, read once from the environment; a bad value names its variable.
import { ConfigError, type RedisTopology } from '@chat-fleet/shared';
import { DEFAULT_REDIS_URL } from './redis-server.js';
import { REDIS_MODES, topologyFromEnv, type RedisMode } from './redis-topology.js';

export interface LauncherConfig {
  readonly gateways: number;
  readonly workers: number;
  /** First gateway port; the others count up from it. */
  readonly port: number;
  /** First worker metrics port; the others count up from it. */
  readonly metricsPort: number;
  readonly simPort: number;
  readonly mcpToolsPort: number;
  /** MCP_SERVERS as the shell gives it: the workers use those servers and no tools server is started. */
  readonly mcpServers: string | undefined;
  /** Used in `single` mode: the Redis there if it answers, else a private redis-server. */
  readonly redisUrl: string;
  /**
   * REDIS_MODE: which private Redis to start when none is given (`single`, `cluster`, `sentinel`);
   * follows REDIS_CLUSTER_NODES / REDIS_SENTINELS when they are set and REDIS_MODE is not.
   */
  readonly redisMode: RedisMode;
  /** The cluster or Sentinel set-up REDIS_CLUSTER_NODES or REDIS_SENTINELS names: used as it is. */
  readonly redisGiven: RedisTopology | undefined;
  /** REDIS_SENTINEL_MASTER, also the name a private Sentinel set-up monitors; default `chat-fleet`. */
  readonly sentinelMaster: string;
  /** Set: workers call OpenAI and no simulator runs. */
  readonly openaiApiKey: string | undefined;
  readonly authSecret: string | undefined;
  /** Whether LOG_PRETTY was set; if not, children get LOG_PRETTY=1. */
  readonly logPrettySet: boolean;
}

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function overlaps(aStart: number, aCount: number, bStart: number, bCount: number): boolean {
  return aCount > 0 && bCount > 0 && aStart < bStart + bCount && bStart < aStart + aCount;
}

function range(start: number, n: number): string {
  return n === 1 ? String(start) : `${start}-${start + n - 1}`;
}

/** Throws ConfigError ("invalid environment variable X: …") on the first bad value. */
export function parseLauncherEnv(env: Env): LauncherConfig {
  const gateways = int(env, 'GATEWAYS', 2, 1, 64);
  const workers = int(env, 'WORKERS', 2, 0, 64);
  const port = int(env, 'PORT', 8088, 1, 65536 - gateways);
  const metricsPort = int(env, 'METRICS_PORT', 9464, 1, 65536 - Math.max(workers, 1));
  const simPort = int(env, 'LLM_SIM_PORT', 8090, 1, 65535);
  const mcpToolsPort = int(env, 'MCP_TOOLS_PORT', 8100, 1, 65535);
  const openaiApiKey = value(env, 'OPENAI_API_KEY');
  const mcpServers = value(env, 'MCP_SERVERS');

  if (overlaps(port, gateways, metricsPort, workers)) {
    throw new ConfigError(
      'METRICS_PORT',
      `worker ports ${range(metricsPort, workers)} overlap gateway ports ${range(port, gateways)} (PORT)`,
    );
  }
  if (openaiApiKey === undefined) {
    if (overlaps(simPort, 1, port, gateways)) {
      throw new ConfigError('LLM_SIM_PORT', `${simPort} is one of the gateway ports ${range(port, gateways)} (PORT)`);
    }
    if (overlaps(simPort, 1, metricsPort, workers)) {
      throw new ConfigError('LLM_SIM_PORT', `${simPort} is one of the worker ports ${range(metricsPort, workers)} (METRICS_PORT)`);
    }
  }
  if (mcpServers === undefined) {
    if (overlaps(mcpToolsPort, 1, port, gateways)) {
      throw new ConfigError('MCP_TOOLS_PORT', `${mcpToolsPort} is one of the gateway ports ${range(port, gateways)} (PORT)`);
    }
    if (overlaps(mcpToolsPort, 1, metricsPort, workers)) {
      throw new ConfigError('MCP_TOOLS_PORT', `${mcpToolsPort} is one of the worker ports ${range(metricsPort, workers)} (METRICS_PORT)`);
    }
    if (openaiApiKey === undefined && mcpToolsPort === simPort) {
      throw new ConfigError('MCP_TOOLS_PORT', `${mcpToolsPort} is the simulator's port (LLM_SIM_PORT)`);
    }
  }

  const redisUrl = value(env, 'REDIS_URL') ?? DEFAULT_REDIS_URL;
  let protocol: string;
  try {
    protocol = new URL(redisUrl).protocol;
  } catch {
    throw new ConfigError('REDIS_URL', `expected a redis:// URL, got "${redisUrl}"`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', `expected a redis:// or rediss:// URL, got "${redisUrl}"`);
  }

  const given = topologyFromEnv({ ...env, REDIS_URL: undefined });
  const modeRaw = value(env, 'REDIS_MODE');
  if (modeRaw !== undefined && !(REDIS_MODES as readonly string[]).includes(modeRaw)) {
    throw new ConfigError('REDIS_MODE', `expected ${REDIS_MODES.join(', ')}, got "${modeRaw}"`);
  }
  const redisMode = (modeRaw as RedisMode | undefined) ?? given?.mode ?? 'single';
  if (given !== undefined && given.mode !== redisMode) {
    const source = given.mode === 'cluster' ? 'REDIS_CLUSTER_NODES names a cluster' : 'REDIS_SENTINELS names a Sentinel set-up';
    throw new ConfigError('REDIS_MODE', `"${redisMode}" contradicts ${source}; unset one of them`);
  }
  const sentinelMaster = value(env, 'REDIS_SENTINEL_MASTER') ?? 'chat-fleet';
  if (redisMode === 'sentinel' && given === undefined && !/^[A-Za-z0-9._-]+$/.test(sentinelMaster)) {
    throw new ConfigError('REDIS_SENTINEL_MASTER', `a private Sentinel set-up takes letters, digits, . _ - only, got "${sentinelMaster}"`);
  }

  const authSecret = value(env, 'AUTH_SECRET');
  if (authSecret !== undefined && authSecret.length < 32) {
    throw new ConfigError('AUTH_SECRET', 'must be at least 32 characters');
  }

  return Object.freeze({
    gateways,
    workers,
    port,
    metricsPort,
    simPort,
    mcpToolsPort,
    mcpServers,
    redisUrl,
    redisMode,
    redisGiven: given,
    sentinelMaster,
    openaiApiKey,
    authSecret,
    logPrettySet: env.LOG_PRETTY !== undefined,
  });
}
