// Configuration: parsed once from the environment at boot, frozen, passed down.
// A bad value stops the process with one line naming the variable.
import { z } from 'zod';
import { DEFAULT_REDIS_PREFIX } from './redis-keys.js';
import type { RedisTopology } from './redis-client.js';
import { PlanBudgetsSchema } from './usage/budgets.js';
import { PriceTableSchema } from './usage/prices.js';

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`invalid environment variable ${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const int = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected an integer from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const num = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const bool = (def: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      if (/^(1|true|yes|on)$/i.test(v)) return true;
      if (/^(0|false|no|off)$/i.test(v)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
      return z.NEVER;
    });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T, def: T[number]) =>
  z
    .string()
    .optional()
    .transform((v, ctx): T[number] => {
      const s = v?.trim().toLowerCase() ?? '';
      if (s === '') return def;
      if ((values as readonly string[]).includes(s)) return s;
      ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}, got "${v}"` });
      return z.NEVER;
    });

const str = (def: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? def : v.trim()));

const optionalStr = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (def: string | undefined) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v.trim() === '' ? def : v.trim();
      if (value === undefined) return undefined;
      try {
        new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected a URL, got "${value}"` });
        return z.NEVER;
      }
      return value;
    });

/** A JSON value checked against `schema`; `def` when unset. */
const json = <T extends z.ZodType>(schema: T, def: z.infer<T>) =>
  z
    .string()
    .optional()
    .transform((v, ctx): z.infer<T> => {
      if (v === undefined || v.trim() === '') return def;
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected JSON, got "${v.slice(0, 80)}"` });
        return z.NEVER;
      }
      const r = schema.safeParse(parsed);
      if (!r.success) {
        const issue = r.error.issues[0];
        ctx.addIssue({ code: 'custom', message: `${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}` });
        return z.NEVER;
      }
      return r.data;
    });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const logLevel = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const value = v === undefined || v.trim() === '' ? 'info' : v.trim().toLowerCase();
    if (!(LOG_LEVELS as readonly string[]).includes(value)) {
      ctx.addIssue({ code: 'custom', message: `expected one of ${LOG_LEVELS.join(', ')}, got "${v}"` });
      return z.NEVER;
    }
    return value as (typeof LOG_LEVELS)[number];
  });

/** `host:port,host:port,…`; undefined when unset. */
const hostPorts = () =>
  z
    .string()
    .optional()
    .transform((v, ctx): Array<{ host: string; port: number }> | undefined => {
      if (v === undefined || v.trim() === '') return undefined;
      const out: Array<{ host: string; port: number }> = [];
      for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
        const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(part);
        const port = m === null ? NaN : Number(m[2]);
        if (m === null || !(port > 0 && port < 65536)) {
          ctx.addIssue({ code: 'custom', message: `expected host:port,host:port,…, got "${part}"` });
          return z.NEVER;
        }
        out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
      }
      return out;
    });

const McpServerSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a name of letters, digits, _ and -'),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
});

export type McpServerConfig = z.infer<typeof McpServerSchema>;

/** MCP servers: `name=url,name=url`, or a JSON array of `{ name, url, headers? }`; [] when unset. */
const mcpServers = () =>
  z
    .string()
    .optional()
    .transform((v, ctx): McpServerConfig[] => {
      if (v === undefined || v.trim() === '') return [];
      let listed: unknown;
      if (v.trim().startsWith('[')) {
        try {
          listed = JSON.parse(v);
        } catch {
          ctx.addIssue({ code: 'custom', message: `expected a JSON array of { name, url, headers }, got "${v.slice(0, 80)}"` });
          return z.NEVER;
        }
      } else {
        listed = v
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean)
          .map((part) => {
            const eq = part.indexOf('=');
            return eq < 0 ? { name: part, url: '' } : { name: part.slice(0, eq).trim(), url: part.slice(eq + 1).trim() };
          });
      }
      const r = z.array(McpServerSchema).safeParse(listed);
      if (!r.success) {
        const issue = r.error.issues[0];
        ctx.addIssue({ code: 'custom', message: `${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'} (expected name=url,name=url or a JSON array)` });
        return z.NEVER;
      }
      const names = new Set<string>();
      for (const server of r.data) {
        if (names.has(server.name)) {
          ctx.addIssue({ code: 'custom', message: `the server name "${server.name}" is used twice` });
          return z.NEVER;
        }
        names.add(server.name);
      }
      return r.data;
    });

/**
 * Readers of one environment variable as zod schemas (unset or blank: the default), for the
 * config of every process: the gateway's and the worker's here, the simulator's in its app.
 */
export const envVar = { int, num, bool, oneOf, str, optionalStr, url, json, logLevel, hostPorts, mcpServers } as const;

const commonShape = {
  REDIS_URL: url('redis://127.0.0.1:6379').transform((v) => v ?? 'redis://127.0.0.1:6379'),
  /** Seed nodes of a Redis Cluster; when set, used instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: hostPorts(),
  /** Sentinels watching the primary named REDIS_SENTINEL_MASTER; when set, used instead of REDIS_URL. */
  REDIS_SENTINELS: hostPorts(),
  REDIS_SENTINEL_MASTER: optionalStr(),
  /** Credentials and TLS for REDIS_CLUSTER_NODES / REDIS_SENTINELS (a REDIS_URL carries its own). */
  REDIS_USERNAME: optionalStr(),
  REDIS_PASSWORD: optionalStr(),
  REDIS_TLS: bool(false),
  /** BullMQ queues the replies are spread over (one queue lives on one cluster slot); every worker takes from all. */
  QUEUE_SHARDS: int(1, 1, 256),
  REDIS_PREFIX: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v.trim() === '' ? DEFAULT_REDIS_PREFIX : v.trim();
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) {
        ctx.addIssue({ code: 'custom', message: `expected 1-64 characters of A-Z, a-z, 0-9, _, . or -, got "${v}"` });
        return z.NEVER;
      }
      return value;
    }),
  LOG_LEVEL: logLevel,
  LOG_PRETTY: bool(false),
  INSTANCE_ID: optionalStr(),
  SESSION_TTL_SECONDS: int(3600, 10, 30 * 24 * 3600),
  /** How long a reply's frames stay in Redis for resume after the reply ends. */
  REPLY_RETENTION_SECONDS: int(600, 10, 24 * 3600),
  /** Chat messages per user per minute, across every gateway; 0 turns the limit off. */
  RATE_LIMIT_USER_PER_MIN: int(60, 0, 1_000_000),
  /** Model tokens (prompt + completion) per user per minute; 0 turns the limit off. */
  RATE_LIMIT_USER_TOKENS_PER_MIN: int(40_000, 0, 1_000_000_000),
  /** Model tokens (prompt + completion) a user may spend per UTC day, fleet-wide; 0: no budget. */
  USER_DAILY_TOKENS: int(0, 0, 1_000_000_000_000),
  /** Cost in USD a user may spend per UTC month (from the price table); 0: no budget. */
  USER_MONTHLY_COST_USD: num(0, 0, 1_000_000_000),
  /** Per-plan budgets over the defaults above, JSON: {"pro": {"dailyTokens": 2000000, "monthlyCostUsd": 50}}. */
  PLAN_BUDGETS: json(PlanBudgetsSchema, {}),
  /** Model prices over the defaults (USD per 1M tokens), JSON: {"my-model": {"input": 1, "output": 2}}. */
  MODEL_PRICES: json(PriceTableSchema, {}),
  /** Frames kept per reply for resume (the stream is capped at about this many). */
  REPLY_MAX_FRAMES: int(20_000, 100, 10_000_000),
  /** Messages kept in a session's history; the oldest go first. */
  HISTORY_MAX_MESSAGES: int(1000, 2, 1_000_000),
  /** Bytes (JSON) kept in a session's history; the oldest messages go first. */
  HISTORY_MAX_BYTES: int(1024 * 1024, 1024, 512 * 1024 * 1024),
  /**
   * How often a gateway or worker writes its heartbeat (load, memory, event-loop delay) for the
   * admin console's fleet view; one silent for three of its intervals shows as stale.
   */
  HEARTBEAT_MS: int(2000, 100, 60_000),
};

/** A credential: at least `min` characters without spaces. An error never shows the value. */
const credential = (min: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const value = v.trim();
      if (value.length < min || /\s/.test(value)) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${min} characters without spaces (value not shown)` });
        return z.NEVER;
      }
      return value;
    });

/** Comma-separated credentials as credential(min); unset: an empty list. */
const credentials = (min: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const values = (v ?? '').split(',').map((k) => k.trim()).filter(Boolean);
      const bad = values.findIndex((k) => k.length < min || /\s/.test(k));
      if (bad >= 0) {
        ctx.addIssue({ code: 'custom', message: `key ${bad + 1} must be at least ${min} characters without spaces (value not shown)` });
        return z.NEVER;
      }
      return values;
    });

/** A JWT claim name or path (`realm_access.roles`). */
const claimName = (def: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v.trim() === '' ? def : v.trim();
      if (value.length > 256 || /\s/.test(value)) {
        ctx.addIssue({ code: 'custom', message: `expected a claim name without spaces, got "${v}"` });
        return z.NEVER;
      }
      return value;
    });

/** Who may create sessions and call the admin routes (docs/protocol.md, "Identity"). */
const identityShape = {
  /** `anonymous`: the body's userId is a label. `jwt`: POST /chat/session needs a user token (or an API key). */
  AUTH_MODE: oneOf(['anonymous', 'jwt'] as const, 'anonymous'),
  /** HS256 key of user tokens (jwt mode), at least 32 characters; or USER_JWKS_URL, not both. */
  USER_JWT_SECRET: credential(32),
  /** The login's JSON Web Key Set (RS256, ES256, EdDSA); refetched on an unknown `kid`. */
  USER_JWKS_URL: url(undefined).refine((v) => v === undefined || /^https?:\/\//i.test(v), 'expected an http:// or https:// URL'),
  /** Required `iss` of user tokens when set. */
  USER_JWT_ISSUER: optionalStr(),
  /** Comma-separated; a user token's `aud` must name one of them, when set. */
  USER_JWT_AUDIENCE: optionalStr().transform((v) => (v === undefined ? undefined : v.split(',').map((a) => a.trim()).filter(Boolean))),
  /** Clock skew allowed on a user token's `exp` and `nbf`. */
  USER_JWT_CLOCK_TOLERANCE_SECONDS: int(30, 0, 3600),
  /** Claim (or dotted path) naming the user's plan; stored with the session. */
  USER_JWT_PLAN_CLAIM: claimName('plan'),
  /** Claim (or dotted path) holding the user's roles: an array, or a space-separated string. */
  USER_JWT_ROLES_CLAIM: claimName('roles'),
  /** The role that makes a user token an admin credential. */
  USER_JWT_ADMIN_ROLE: claimName('admin'),
  /** Least time between two JWKS fetches caused by tokens with an unknown `kid` (bounds load on the login). */
  USER_JWKS_COOLDOWN_SECONDS: int(30, 0, 3600),
  /** How long a fetched JWKS is used before it is fetched again. */
  USER_JWKS_CACHE_SECONDS: int(600, 1, 7 * 24 * 3600),
  /** Comma-separated keys of trusted backends that create sessions for a userId they name; kept only as SHA-256. */
  CHAT_API_KEYS: credentials(16),
  /** The credential of the admin routes (`Authorization: Bearer <key>`); unset: only admin user tokens (jwt mode). */
  ADMIN_API_KEY: credential(16),
  /** Admin requests per client address per minute, fleet-wide; 0 turns the limit off. */
  ADMIN_RATE_LIMIT_PER_MIN: int(120, 0, 1_000_000),
};

const gatewayShape = {
  ...commonShape,
  PORT: int(8088, 0, 65535),
  HOST: str('0.0.0.0'),
  AUTH_SECRET: optionalStr().refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters'),
  /** A socket is closed (4101) when its token expires, so the floor is low enough to test that. */
  TOKEN_TTL_SECONDS: int(24 * 3600, 5, 30 * 24 * 3600),
  CHAT_MODEL: str('gpt-4o-mini'),
  MAX_MESSAGE_CHARS: int(8000, 1, 1_000_000),
  /** Bytes of a WebSocket frame or a REST body; larger ones get `too_large`. */
  MAX_FRAME_BYTES: int(64 * 1024, 1024, 16 * 1024 * 1024),
  /** Bytes buffered for a socket that stopped reading before it is closed as a slow consumer. */
  WS_MAX_BACKPRESSURE_BYTES: int(1024 * 1024, 16 * 1024, 256 * 1024 * 1024),
  WS_IDLE_TIMEOUT_SECONDS: int(120, 8, 960),
  /** How long a REST or SSE request waits for the reply before it answers `unavailable`. */
  REPLY_TIMEOUT_MS: int(120_000, 1000, 3_600_000),
  /** How long a draining gateway waits for sockets to leave before it exits. */
  DRAIN_TIMEOUT_MS: int(10_000, 0, 600_000),
  /** Comma-separated browser origins allowed to open sockets; `*` allows any. */
  ALLOWED_ORIGINS: str('*').transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean)),
  /**
   * Proxies (load balancers) in front of the gateway that append to X-Forwarded-For. 0: the
   * header is ignored and the peer address is the client's (the rate-limit subject without a userId).
   */
  TRUSTED_PROXY_HOPS: int(0, 0, 10),
  /** How long a socket holds a reply it first sees mid-stream, waiting for the client's resume, before it catches up from the start. */
  RESUME_GRACE_MS: int(1500, 0, 60_000),
  /** How often a gateway checks that the sessions it holds sockets for still exist (expired ones are closed, 4100). */
  SESSION_CHECK_INTERVAL_MS: int(5000, 100, 600_000),
  /** Where the built web client lives; empty serves none. */
  WEB_ROOT: optionalStr(),
  /**
   * How a gateway hears its sessions' frames: `session` (one SUBSCRIBE per session held here)
   * or `gateway` (one PSUBSCRIBE for every session channel; each gateway receives every frame).
   */
  RELAY_SUBSCRIPTION: oneOf(['session', 'gateway'] as const, 'session'),
  /** Sessions one client address may create per minute, fleet-wide; 0 turns the limit off. */
  RATE_LIMIT_SESSIONS_PER_MIN: int(30, 0, 1_000_000),
  /** Open sockets per session, fleet-wide; more are refused at the upgrade (429). 0: no limit. */
  MAX_SOCKETS_PER_SESSION: int(8, 0, 1_000_000),
  /** Open sockets per client address, fleet-wide; more are refused at the upgrade (429). 0: no limit. */
  MAX_SOCKETS_PER_ADDRESS: int(200, 0, 10_000_000),
  /** How long a socket's place in those limits outlives a gateway that crashed; renewed every third of it. */
  WS_SOCKET_LEASE_MS: int(30_000, 1000, 600_000),
  /** Frames a socket may send per second (a token bucket per socket); 0 turns the limit off. */
  WS_FRAMES_PER_SEC: int(20, 0, 1_000_000),
  /** Frames a socket may send at once above WS_FRAMES_PER_SEC (the bucket's size). */
  WS_FRAME_BURST: int(40, 1, 1_000_000),
  /** Characters of a session's system prompt; longer ones get `too_large`. */
  MAX_SYSTEM_PROMPT_CHARS: int(4000, 1, 1_000_000),
  /** Bytes of a session's metadata as JSON; more get `too_large`. */
  MAX_METADATA_BYTES: int(4096, 2, 1_000_000),
  /** Share of Redis maxmemory past which new sessions and messages get `unavailable`; 0: never refuse. */
  REDIS_MEMORY_HIGH_WATER: num(0.9, 0, 1),
  ...identityShape,
};

const workerShape = {
  ...commonShape,
  OPENAI_API_KEY: optionalStr(),
  OPENAI_BASE_URL: url(undefined),
  LLM_SIM_PORT: int(8090, 1, 65535),
  CHAT_MODEL: str('gpt-4o-mini'),
  METRICS_PORT: int(9464, 0, 65535),
  /** Streams one worker process runs at once; streaming is I/O-bound, so hundreds. */
  WORKER_CONCURRENCY: int(256, 1, 10_000),
  /**
   * Token deltas that come faster than this window are joined into one frame; a delta after a
   * quiet window (and always the first) goes out at once. 0: one frame per delta.
   */
  FRAME_BATCH_MS: int(25, 0, 1000),
  /**
   * Under load the window grows with the replies a worker streams at once: FRAME_BATCH_MS up to 32
   * of them, then in proportion, up to this. Fewer, larger frames when every frame costs the
   * most; the first token still goes out at once. Equal to FRAME_BATCH_MS: a fixed window.
   */
  FRAME_BATCH_MAX_MS: int(100, 0, 5000),
  MAX_REPLY_TOKENS: int(1024, 1, 128_000),
  /** Prompt budget: oldest turns are dropped until system prompt + history fit. */
  CONTEXT_MAX_TOKENS: int(8000, 256, 2_000_000),
  /** Bound on one model call, start to last token. */
  UPSTREAM_TIMEOUT_MS: int(120_000, 1000, 3_600_000),
  /**
   * BullMQ job lock: a worker that dies (SIGKILL, lost host) holds its replies this long at
   * most before another worker takes them up again (with `reset`). Renewed every half of it.
   */
  WORKER_LOCK_MS: int(15_000, 1000, 600_000),
  /** Tries of one model call on retryable failures (429, 5xx, time-outs, broken streams). */
  UPSTREAM_MAX_ATTEMPTS: int(3, 1, 10),
  /** Response cache lifetime in seconds; 0 turns the cache off. */
  CACHE_TTL_SECONDS: int(1800, 0, 30 * 24 * 3600),
  /** Identical requests in flight at once share one model call (across every worker). */
  COALESCE: bool(true),
  /** Model requests per minute for the whole fleet; jobs wait in the queue past it. 0: no limit. */
  LLM_MAX_RPM: int(0, 0, 10_000_000),
  /** Model tokens (prompt + completion) per minute for the whole fleet; 0: no limit. */
  LLM_MAX_TPM: int(0, 0, 10_000_000_000),
  /** Window the fleet budget is counted over; the limits scale to it (RPM 600 over 10 s: 100). */
  LLM_BUDGET_WINDOW_SECONDS: int(60, 1, 3600),
  /**
   * MCP servers whose tools the model is offered (Streamable HTTP): `name=url,name=url`, or a
   * JSON array of `{ name, url, headers }` (headers sent with every request, e.g. a bearer).
   */
  MCP_SERVERS: mcpServers(),
  /** Bound on one tool call; past it the model is told the tool timed out. */
  TOOL_TIMEOUT_MS: int(10_000, 100, 600_000),
  /** A tool result longer than this (UTF-8 bytes) is cut, and the model told so. */
  TOOL_RESULT_MAX_BYTES: int(16_384, 256, 10_000_000),
  /** Model turns that may call tools in one reply; the turn after the last answers without tools. */
  TOOL_MAX_STEPS: int(4, 1, 32),
  /**
   * Retrieval context: `server/tool`, an MCP tool called with `{ query }` (the user's message)
   * before the model; its passages (structuredContent.passages) go into the prompt.
   */
  CONTEXT_TOOL: optionalStr(),
  /** Retrieval context from an HTTP endpoint instead: POST `{ query }`, answers `{ passages: [{ id, title, url?, text }] }`. */
  CONTEXT_URL: url(undefined),
  /** Prompt tokens the retrieved passages may take (on top of CONTEXT_MAX_TOKENS' history budget). */
  CONTEXT_PASSAGE_TOKENS: int(1500, 0, 200_000),
};

const GatewayConfigSchema = z.object(gatewayShape);
const WorkerConfigSchema = z.object(workerShape);

type CommonConfig = z.infer<ReturnType<typeof z.object<typeof commonShape>>>;
export type GatewayConfig = Readonly<z.infer<typeof GatewayConfigSchema> & { redis: RedisTopology }>;
export type WorkerConfig = Readonly<z.infer<typeof WorkerConfigSchema> & { redis: RedisTopology; openaiBaseUrl: string; openaiApiKey: string }>;

/** Parses the environment with a schema of envVar readers; the first bad value throws a ConfigError naming it. */
export function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(variable, issue?.message ?? 'invalid');
  }
  return Object.freeze(result.data) as z.infer<T>;
}

/** Where Redis is, from REDIS_CLUSTER_NODES, REDIS_SENTINELS or REDIS_URL (in that order). */
function topologyOf(c: CommonConfig): RedisTopology {
  const auth = {
    ...(c.REDIS_USERNAME === undefined ? {} : { username: c.REDIS_USERNAME }),
    ...(c.REDIS_PASSWORD === undefined ? {} : { password: c.REDIS_PASSWORD }),
    tls: c.REDIS_TLS,
  };
  if (c.REDIS_CLUSTER_NODES !== undefined) {
    if (c.REDIS_SENTINELS !== undefined) throw new ConfigError('REDIS_SENTINELS', 'set either REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both');
    return { mode: 'cluster', nodes: c.REDIS_CLUSTER_NODES, ...auth };
  }
  if (c.REDIS_SENTINELS !== undefined) {
    if (c.REDIS_SENTINEL_MASTER === undefined) throw new ConfigError('REDIS_SENTINEL_MASTER', 'required with REDIS_SENTINELS: the name the Sentinels monitor');
    return { mode: 'sentinel', sentinels: c.REDIS_SENTINELS, name: c.REDIS_SENTINEL_MASTER, ...auth };
  }
  return { mode: 'single', url: c.REDIS_URL };
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const config = parseEnv(GatewayConfigSchema, env);
  const redis = topologyOf(config);
  if (redis.mode === 'cluster' && config.RELAY_SUBSCRIPTION === 'gateway') {
    throw new ConfigError('RELAY_SUBSCRIPTION', '`gateway` needs a pattern subscription, which sharded pub/sub on a Redis Cluster does not have; use `session`');
  }
  // jwt mode verifies user tokens one way: an HS256 secret or a JWKS, never both (no algorithm confusion).
  if (config.USER_JWT_SECRET !== undefined && config.USER_JWKS_URL !== undefined) {
    throw new ConfigError('USER_JWKS_URL', 'set USER_JWT_SECRET or USER_JWKS_URL, not both');
  }
  if (config.AUTH_MODE === 'jwt' && config.USER_JWT_SECRET === undefined && config.USER_JWKS_URL === undefined) {
    throw new ConfigError('AUTH_MODE', 'jwt needs USER_JWT_SECRET or USER_JWKS_URL to verify user tokens');
  }
  return Object.freeze({ ...config, redis });
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const base = parseEnv(WorkerConfigSchema, env);
  const redis = topologyOf(base);
  // No key and no URL: the embedded simulator is the model.
  const openaiBaseUrl =
    base.OPENAI_BASE_URL ??
    (base.OPENAI_API_KEY === undefined ? `http://127.0.0.1:${base.LLM_SIM_PORT}/v1` : 'https://api.openai.com/v1');
  return Object.freeze({ ...base, redis, openaiBaseUrl, openaiApiKey: base.OPENAI_API_KEY ?? 'sk-simulator' });
}

/** Runs a loader in a main.ts; on a bad value prints one line and exits. */
export function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
