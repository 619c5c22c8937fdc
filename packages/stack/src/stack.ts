// The whole fleet on one machine: simulator, MCP tools server, workers and gateways as child processes over one Redis.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { freePort, isPortFree } from './free-port.js';
import { startProcess, type ManagedProcess, type ProcessExit } from './managed-process.js';
import type { OutputMode } from './process-output.js';
import type { RedisTopology } from '@chat-fleet/shared';
import { REDIS_TOPOLOGY_VARIABLES, redisEnv } from './redis-topology.js';
import { APP_SCRIPTS, REPO_ROOT, type AppScripts } from './repo-paths.js';

export type StackOutput = 'inherit-prefixed' | 'silent' | { dir: string };

export interface StackOptions {
  /**
   * Where Redis is: one server, a cluster or a Sentinel-watched primary. Every gateway and worker
   * gets exactly that topology's variables (REDIS_URL, REDIS_CLUSTER_NODES, or REDIS_SENTINELS and
   * REDIS_SENTINEL_MASTER; REDIS_USERNAME/PASSWORD/TLS if it has them), whatever our own
   * environment says. Give this or `redisUrl`.
   */
  redis?: RedisTopology;
  /** One Redis at this URL: the same as `redis: { mode: 'single', url }`. */
  redisUrl?: string;
  /** Default 2. */
  gateways?: number;
  /** Default 2. */
  workers?: number;
  /**
   * `'fixed'` (default): ports not given count up from 8088 (gateways) and 9464 (workers), simulator
   * 8090, MCP tools server 8100, and each must be free. `'auto'`: every port not given is a free one
   * from the kernel, so several stacks can run at once. A port given as 0 is a free one in either mode.
   */
  ports?: 'fixed' | 'auto';
  gatewayPorts?: number[];
  metricsPorts?: number[];
  simPort?: number;
  mcpToolsPort?: number;
  /** Default true; false means the workers' env must point at a model (OPENAI_BASE_URL / OPENAI_API_KEY). */
  useSimulator?: boolean;
  /**
   * The example MCP tools server (apps/mcp-tools), started by default with its example tools only;
   * every worker gets `MCP_SERVERS=tools=<its url>` unless `env` or `workerEnv` sets MCP_SERVERS.
   * `testTools` adds the test tools and /_calls. `false`: none is started, and workers get
   * MCP_SERVERS only from `env` or `workerEnv`.
   */
  mcpTools?: false | { testTools?: boolean };
  /** Passed to every child over our own env, e.g. REDIS_PREFIX, AUTH_SECRET, LOG_LEVEL. */
  env?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  simEnv?: Record<string, string>;
  /** Default `'silent'`; `{ dir }` writes `<dir>/<instance>.log` per process. */
  output?: StackOutput;
  /** Per process; default 30 s. */
  readyTimeoutMs?: number;
  /** SIGTERM-to-SIGKILL grace on stop; default 15 s (a gateway drains for up to ~10 s). */
  stopGraceMs?: number;
  /** Called when a child that was ready exits on its own (not by stop or restart). */
  onExit?: (instance: string, exit: ProcessExit) => void;
  /** Aborting during start-up stops what started and rejects. */
  signal?: AbortSignal;
  /** Other scripts in place of the built apps; for testing the launcher itself. */
  scripts?: Partial<AppScripts>;
}

export interface GatewayHandle {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>`; sockets live under `/ws/{sessionId}/{clientId}?token=…` (see socketUrl). */
  readonly wsUrl: string;
  /** INSTANCE_ID, e.g. `gateway-1`. */
  readonly instance: string;
  /** The current process; a new one after restart. */
  readonly process: ManagedProcess;
  socketUrl(sessionId: string, clientId: string, token: string): string;
  /** SIGTERM (the gateway drains), wait, start again on the same port and wait until ready. */
  restart(): Promise<void>;
}

export interface WorkerHandle {
  readonly metricsPort: number;
  /** `http://127.0.0.1:<metricsPort>` (serves /health and /metrics) */
  readonly metricsUrl: string;
  /** INSTANCE_ID, e.g. `worker-2`. */
  readonly instance: string;
  readonly process: ManagedProcess;
  restart(): Promise<void>;
}

export interface SimHandle {
  readonly port: number;
  /** `http://127.0.0.1:<port>`; the OpenAI base URL is this plus `/v1`. */
  readonly url: string;
  readonly process: ManagedProcess;
}

export interface McpToolsHandle {
  readonly port: number;
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`: what the workers' MCP_SERVERS names. */
  readonly url: string;
  readonly process: ManagedProcess;
}

export interface Stack {
  readonly redis: RedisTopology;
  /** The URL when `redis` is one server, else undefined. */
  readonly redisUrl: string | undefined;
  /** The AUTH_SECRET every gateway shares: `env.AUTH_SECRET` or a generated one. */
  readonly authSecret: string;
  /** The ADMIN_API_KEY every gateway shares: the environment's (gatewayEnv, env, then ours) or a generated one. */
  readonly adminApiKey: string;
  readonly sim: SimHandle | undefined;
  /** Undefined when started with `mcpTools: false`. */
  readonly mcpTools: McpToolsHandle | undefined;
  readonly gateways: readonly GatewayHandle[];
  /** Grows with addWorker; a killed worker stays listed with its process exited. */
  readonly workers: readonly WorkerHandle[];
  /** Starts one more worker (`worker-<n+1>`) and waits until it is ready. */
  addWorker(): Promise<WorkerHandle>;
  /** SIGTERM gateways and workers and wait, then the simulator and the MCP tools server. Idempotent. */
  stop(): Promise<void>;
  /** Signals every child at once without waiting (default SIGKILL); for a forced exit. */
  kill(signal?: NodeJS.Signals): void;
}

const DEFAULT_GATEWAY_PORT = 8088;
const DEFAULT_METRICS_PORT = 9464;
const DEFAULT_SIM_PORT = 8090;
const DEFAULT_MCP_TOOLS_PORT = 8100;

interface Context {
  readonly readyTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly nameWidth: number;
  readonly output: StackOutput;
  readonly signal: AbortSignal | undefined;
  readonly onExit: ((instance: string, exit: ProcessExit) => void) | undefined;
  stopping: boolean;
}

/** One child of the stack: its fixed name, script, env and readiness URL, and its current process. */
class Member {
  private current: ManagedProcess | undefined;
  private restarting = false;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly healthUrl: string,
    private readonly ctx: Context,
  ) {}

  get process(): ManagedProcess {
    if (this.current === undefined) throw new Error(`${this.name} has not started`);
    return this.current;
  }

  async launch(): Promise<void> {
    const proc = await startProcess({
      name: this.name,
      script: this.script,
      env: this.env,
      cwd: REPO_ROOT,
      output: outputFor(this.ctx.output, this.name),
      nameWidth: this.ctx.nameWidth,
    });
    this.current = proc;
    let ready = false;
    void proc.exited.then((exit) => {
      if (!ready || this.restarting || this.ctx.stopping || this.current !== proc) return;
      try {
        this.ctx.onExit?.(this.name, exit);
      } catch {
        // a faulty listener must not take the launcher down
      }
    });
    await untilAborted(proc.waitForHttp(this.healthUrl, this.ctx.readyTimeoutMs), this.ctx.signal, this.name);
    ready = true;
  }

  async restart(): Promise<void> {
    if (this.ctx.stopping) throw new Error(`${this.name}: the stack is stopping`);
    this.restarting = true;
    try {
      await this.stop();
      await this.launch();
    } finally {
      this.restarting = false;
    }
  }

  async stop(): Promise<void> {
    await this.current?.stop('SIGTERM', this.ctx.stopGraceMs);
  }

  kill(signal: NodeJS.Signals): void {
    this.current?.kill(signal);
  }
}

function outputFor(output: StackOutput, name: string): OutputMode {
  return typeof output === 'object' ? { file: join(output.dir, `${name}.log`) } : output;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, name: string): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new Error(`start-up aborted before ${name} was ready`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(`start-up aborted before ${name} was ready`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

type PortPlan = { port: number; owner: string };

async function resolvePort(given: number | undefined, fallback: number, auto: boolean): Promise<number> {
  const port = given ?? (auto ? 0 : fallback);
  return port === 0 ? freePort() : port;
}

async function checkPorts(plans: PortPlan[]): Promise<void> {
  const seen = new Map<number, string>();
  for (const { port, owner } of plans) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${owner}: invalid port ${port}`);
    const other = seen.get(port);
    if (other !== undefined) throw new Error(`${owner} and ${other} were both given port ${port}`);
    seen.set(port, owner);
  }
  const busy = await Promise.all(plans.map(async (p) => ((await isPortFree(p.port)) ? undefined : p)));
  const first = busy.find((p) => p !== undefined);
  if (first !== undefined) {
    throw new Error(`port ${first.port} for ${first.owner} is already in use; stop what listens there or choose other ports`);
  }
}

function checkScripts(scripts: AppScripts, useSimulator: boolean, useMcpTools: boolean): void {
  const needed = [scripts.worker, scripts.gateway, ...(useSimulator ? [scripts.sim] : []), ...(useMcpTools ? [scripts.mcpTools] : [])];
  const missing = needed.filter((s) => !existsSync(s));
  if (missing.length > 0) {
    const names = missing.map((s) => relative(REPO_ROOT, s) || s).join(', ');
    throw new Error(`not built: ${names} missing; run npm run build first`);
  }
}

function count(value: number | undefined, fallback: number, what: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: expected a whole number, got ${n}`);
  return n;
}

/**
 * Every client of a stack on one machine (browser, load runner, bench, tests) shares one address,
 * so the per-address limits would count them all as one caller: off unless the environment sets them.
 */
const ONE_ADDRESS_ENV = { RATE_LIMIT_SESSIONS_PER_MIN: '0', MAX_SOCKETS_PER_ADDRESS: '0' };

function topologyOf(options: StackOptions): RedisTopology {
  if (options.redis !== undefined && options.redisUrl !== undefined) throw new Error('give startStack redis or redisUrl, not both');
  if (options.redis !== undefined) return options.redis;
  if (options.redisUrl !== undefined) return { mode: 'single', url: options.redisUrl };
  throw new Error('startStack needs redis (or redisUrl): where the fleet\'s Redis is');
}

/** Starts the simulator and the MCP tools server (if used), then workers and gateways in parallel; resolves when all answer /health. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const redis = topologyOf(options);
  const gatewayCount = count(options.gateways, 2, 'gateways');
  const workerCount = count(options.workers, 2, 'workers');
  const useSimulator = options.useSimulator ?? true;
  const mcpTools = options.mcpTools ?? {};
  const auto = options.ports === 'auto';
  const scripts: AppScripts = { ...APP_SCRIPTS, ...options.scripts };
  checkScripts(scripts, useSimulator, mcpTools !== false);

  const gatewayPorts = await Promise.all(
    Array.from({ length: gatewayCount }, (_, i) =>
      resolvePort(options.gatewayPorts?.[i], (options.gatewayPorts?.[0] ?? DEFAULT_GATEWAY_PORT) + i, auto),
    ),
  );
  const metricsPorts = await Promise.all(
    Array.from({ length: workerCount }, (_, i) =>
      resolvePort(options.metricsPorts?.[i], (options.metricsPorts?.[0] ?? DEFAULT_METRICS_PORT) + i, auto),
    ),
  );
  // Once one worker port came from the kernel, added workers take theirs from it too.
  const metricsAuto = auto || (options.metricsPorts ?? []).includes(0);
  const simPort = useSimulator ? await resolvePort(options.simPort, DEFAULT_SIM_PORT, auto) : undefined;
  const mcpToolsPort = mcpTools === false ? undefined : await resolvePort(options.mcpToolsPort, DEFAULT_MCP_TOOLS_PORT, auto);
  await checkPorts([
    ...(simPort === undefined ? [] : [{ port: simPort, owner: 'llm-sim' }]),
    ...(mcpToolsPort === undefined ? [] : [{ port: mcpToolsPort, owner: 'mcp-tools' }]),
    ...gatewayPorts.map((port, i) => ({ port, owner: `gateway-${i + 1}` })),
    ...metricsPorts.map((port, i) => ({ port, owner: `worker-${i + 1}` })),
  ]);

  const authSecret = options.env?.AUTH_SECRET ?? randomBytes(48).toString('base64url');
  const inherited: NodeJS.ProcessEnv = { ...process.env };
  if (simPort !== undefined) {
    // Point workers at our simulator even if the shell has OpenAI settings; explicit env still wins.
    delete inherited.OPENAI_API_KEY;
    inherited.OPENAI_BASE_URL = `http://127.0.0.1:${simPort}/v1`;
    inherited.LLM_SIM_PORT = String(simPort);
  }
  const mcpToolsUrl = mcpToolsPort === undefined ? undefined : `http://127.0.0.1:${mcpToolsPort}/mcp`;
  // Workers reach our tools server even if the shell names other MCP servers; explicit env still wins.
  if (mcpToolsUrl === undefined) delete inherited.MCP_SERVERS;
  else inherited.MCP_SERVERS = `tools=${mcpToolsUrl}`;
  // A child reads one topology: a REDIS_URL left in our environment must not sit next to REDIS_CLUSTER_NODES.
  for (const name of REDIS_TOPOLOGY_VARIABLES) delete inherited[name];
  const common: NodeJS.ProcessEnv = { ...ONE_ADDRESS_ENV, ...inherited, ...options.env };
  for (const name of REDIS_TOPOLOGY_VARIABLES) delete common[name];
  Object.assign(common, redisEnv(redis));
  // The admin routes need a credential; one stack on one machine gets a fresh one unless given.
  const adminApiKey = nonEmpty(options.gatewayEnv?.ADMIN_API_KEY) ?? nonEmpty(common.ADMIN_API_KEY) ?? randomBytes(24).toString('base64url');

  const ctx: Context = {
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    stopGraceMs: options.stopGraceMs ?? 15_000,
    nameWidth: Math.max(9, `gateway-${gatewayCount}`.length, `worker-${workerCount}`.length),
    output: options.output ?? 'silent',
    signal: options.signal,
    onExit: options.onExit,
    stopping: false,
  };

  const simMember =
    simPort === undefined
      ? undefined
      : new Member(
          'llm-sim',
          scripts.sim,
          { ...common, ...options.simEnv, LLM_SIM_PORT: String(simPort), INSTANCE_ID: 'llm-sim' },
          `http://127.0.0.1:${simPort}/health`,
          ctx,
        );

  const mcpToolsMember =
    mcpToolsPort === undefined
      ? undefined
      : new Member(
          'mcp-tools',
          scripts.mcpTools,
          { ...common, MCP_TOOLS_PORT: String(mcpToolsPort), MCP_TOOLS_TEST: mcpTools !== false && mcpTools.testTools === true ? '1' : '0', INSTANCE_ID: 'mcp-tools' },
          `http://127.0.0.1:${mcpToolsPort}/health`,
          ctx,
        );

  const gatewayMember = (index: number, port: number) =>
    new Member(
      `gateway-${index}`,
      scripts.gateway,
      { ...common, ...options.gatewayEnv, AUTH_SECRET: authSecret, ADMIN_API_KEY: adminApiKey, PORT: String(port), INSTANCE_ID: `gateway-${index}` },
      `http://127.0.0.1:${port}/health`,
      ctx,
    );
  const workerMember = (index: number, port: number) =>
    new Member(
      `worker-${index}`,
      scripts.worker,
      { ...common, ...options.workerEnv, METRICS_PORT: String(port), INSTANCE_ID: `worker-${index}` },
      `http://127.0.0.1:${port}/health`,
      ctx,
    );

  const gatewayMembers = gatewayPorts.map((port, i) => ({ port, member: gatewayMember(i + 1, port) }));
  const workerMembers = metricsPorts.map((port, i) => ({ port, member: workerMember(i + 1, port) }));
  const all: Member[] = [];

  // The workers call the model and the tools: those stop last and start first.
  const upstream = [simMember, mcpToolsMember].filter((m): m is Member => m !== undefined);
  const stopMembers = async (): Promise<void> => {
    ctx.stopping = true;
    await Promise.all(all.filter((m) => !upstream.includes(m)).map((m) => m.stop()));
    await Promise.all(upstream.map((m) => m.stop()));
  };

  try {
    all.push(...upstream);
    const started = await Promise.allSettled(upstream.map((m) => m.launch()));
    const failed = started.flatMap((r) => (r.status === 'rejected' ? [errorMessage(r.reason)] : []));
    if (failed.length > 0) throw new Error(failed.join('\n'));
    const rest = [...workerMembers, ...gatewayMembers].map((w) => w.member);
    all.push(...rest);
    const results = await Promise.allSettled(rest.map((m) => m.launch()));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [errorMessage(r.reason)] : []));
    if (failures.length > 0) throw new Error(failures.join('\n'));
  } catch (err) {
    await stopMembers();
    throw err;
  }

  const gateways: GatewayHandle[] = gatewayMembers.map(({ port, member }) => gatewayHandle(port, member));
  const workers: WorkerHandle[] = workerMembers.map(({ port, member }) => workerHandle(port, member));
  let stopped: Promise<void> | undefined;

  return {
    redis,
    redisUrl: redis.mode === 'single' ? redis.url : undefined,
    authSecret,
    adminApiKey,
    sim:
      simMember === undefined || simPort === undefined
        ? undefined
        : {
            port: simPort,
            url: `http://127.0.0.1:${simPort}`,
            get process() {
              return simMember.process;
            },
          },
    mcpTools:
      mcpToolsMember === undefined || mcpToolsPort === undefined || mcpToolsUrl === undefined
        ? undefined
        : {
            port: mcpToolsPort,
            url: mcpToolsUrl,
            get process() {
              return mcpToolsMember.process;
            },
          },
    gateways,
    workers,
    async addWorker() {
      if (ctx.stopping) throw new Error('the stack is stopping');
      const used = workers.map((w) => w.metricsPort);
      const port = metricsAuto
        ? await freePort()
        : await nextFreePort(Math.max((options.metricsPorts?.[0] ?? DEFAULT_METRICS_PORT) - 1, ...used) + 1);
      const member = workerMember(workers.length + 1, port);
      all.push(member);
      await member.launch();
      const handle = workerHandle(port, member);
      workers.push(handle);
      return handle;
    },
    stop() {
      stopped ??= stopMembers();
      return stopped;
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      ctx.stopping = true;
      for (const m of all) m.kill(signal);
    },
  };
}

async function nextFreePort(from: number): Promise<number> {
  for (let port = from; port < Math.min(from + 100, 65536); port++) {
    if (await isPortFree(port)) return port;
  }
  return freePort();
}

function gatewayHandle(port: number, member: Member): GatewayHandle {
  const wsUrl = `ws://127.0.0.1:${port}`;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl,
    instance: member.name,
    get process() {
      return member.process;
    },
    socketUrl: (sessionId, clientId, token) =>
      `${wsUrl}/ws/${encodeURIComponent(sessionId)}/${encodeURIComponent(clientId)}?token=${encodeURIComponent(token)}`,
    restart: () => member.restart(),
  };
}

function workerHandle(port: number, member: Member): WorkerHandle {
  return {
    metricsPort: port,
    metricsUrl: `http://127.0.0.1:${port}`,
    instance: member.name,
    get process() {
      return member.process;
    },
    restart: () => member.restart(),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
