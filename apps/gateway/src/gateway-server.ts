// Builds the gateway's uWS app from its parts; owns listen, drain and health.
import { setTimeout as sleep } from 'node:timers/promises';
import uWS from 'uWebSockets.js';
import { CLOSE_CODES, ChatError, withTimeout, type GatewayConfig, type HealthResponse, type Logger, type SessionFrameReader, type RedisClient } from '@chat-fleet/shared';
import type { SocketLimiter } from './limits/socket-leases.js';
import type { ChatService } from './chat/chat-service.js';
import type { TokenService } from './auth/token-service.js';
import type { AdminAuth } from './auth/admin-auth.js';
import type { UserAuth } from './auth/user-auth.js';
import type { SessionAccess } from './auth/session-access.js';
import type { SessionHub } from './relay/session-hub.js';
import type { SessionControl } from './relay/session-control.js';
import type { UsageApi } from './usage/usage-api.js';
import type { AdminApi } from './admin/admin-api.js';
import type { GatewayMetrics } from './metrics.js';
import type { RedisMemoryReading } from './limits/redis-memory.js';
import { mountNotFound, mountRest, type RestEndpoint } from './transport/rest-routes.js';
import { mountStaticFiles } from './transport/static-files.js';
import { mountWebSocket, type WsEndpoint } from './transport/ws-endpoint.js';

export interface GatewayParts {
  config: GatewayConfig;
  instance: string;
  redis: RedisClient;
  service: ChatService;
  tokens: TokenService;
  users: UserAuth;
  access: SessionAccess;
  admin: AdminAuth;
  hub: SessionHub;
  control: SessionControl;
  storedFrames: SessionFrameReader;
  usage: UsageApi;
  adminApi: AdminApi;
  metrics: GatewayMetrics;
  log: Logger;
  /** Jobs waiting for a worker, fleet-wide (health). */
  queueDepth(): Promise<number>;
  inflightReplies(): number;
  /** Folder of the web client served at `/`; undefined serves none. */
  webRoot: string | undefined;
  /** Open sockets per session and per address, fleet-wide. */
  sockets: SocketLimiter;
  /** The latest Redis memory reading (health). */
  redisMemory(): RedisMemoryReading | undefined;
}

export interface ExtendedHealth extends HealthResponse {
  redisRttMs: number | null;
  /** Jobs waiting for a worker, fleet-wide; null while Redis is unreachable. */
  queueDepth: number | null;
  /** Replies this gateway accepted that have not ended yet. */
  inflightReplies: number;
  uptimeSeconds: number;
  draining: boolean;
  /** Null before the first reading. `refusing`: new sessions and messages get `unavailable`. */
  redisMemory: RedisMemoryReading | null;
}

export class GatewayServer {
  private readonly app: uWS.TemplatedApp;
  private readonly ws: WsEndpoint;
  private readonly rest: RestEndpoint;
  private listenSocket: uWS.us_listen_socket | undefined;
  private draining = false;
  private readonly startedAt = Date.now();
  port = 0;

  constructor(private readonly parts: GatewayParts) {
    const { config } = parts;
    this.app = uWS.App();
    const allowAll = config.ALLOWED_ORIGINS.includes('*');
    const isOriginAllowed = (origin: string): boolean => allowAll || config.ALLOWED_ORIGINS.includes(origin);
    const classify = (err: unknown): ChatError => this.classify(err);
    this.ws = mountWebSocket(this.app, {
      trustedProxyHops: config.TRUSTED_PROXY_HOPS,
      service: parts.service,
      tokens: parts.tokens,
      hub: parts.hub,
      metrics: parts.metrics,
      log: parts.log,
      instance: parts.instance,
      maxFrameBytes: config.MAX_FRAME_BYTES,
      maxBackpressureBytes: config.WS_MAX_BACKPRESSURE_BYTES,
      idleTimeoutSeconds: config.WS_IDLE_TIMEOUT_SECONDS,
      isOriginAllowed,
      isDraining: () => this.draining,
      classify,
      control: parts.control,
      storedFrames: parts.storedFrames,
      resumeGraceMs: config.RESUME_GRACE_MS,
      sockets: parts.sockets,
      framesPerSec: config.WS_FRAMES_PER_SEC,
      frameBurst: config.WS_FRAME_BURST,
    });
    this.rest = mountRest(this.app, {
      trustedProxyHops: config.TRUSTED_PROXY_HOPS,
      service: parts.service,
      tokens: parts.tokens,
      users: parts.users,
      access: parts.access,
      admin: parts.admin,
      hub: parts.hub,
      storedFrames: parts.storedFrames,
      usage: parts.usage,
      adminApi: parts.adminApi,
      metrics: parts.metrics,
      log: parts.log,
      maxBodyBytes: config.MAX_FRAME_BYTES,
      replyTimeoutMs: config.REPLY_TIMEOUT_MS,
      isOriginAllowed,
      health: () => this.health(),
      isDraining: () => this.draining,
      classify,
    });
    if (parts.webRoot !== undefined) mountStaticFiles(this.app, parts.webRoot);
    mountNotFound(this.app);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`could not listen on ${host}:${port} (is the port in use?)`));
          return;
        }
        this.listenSocket = socket;
        this.port = uWS.us_socket_local_port(socket);
        resolve(this.port);
      });
    });
  }

  get connections(): number {
    return this.ws.count;
  }

  /** True once drain() started. */
  get isDraining(): boolean {
    return this.draining;
  }

  async health(): Promise<{ status: number; body: ExtendedHealth }> {
    let rtt: number | null = null;
    try {
      const t0 = performance.now();
      await withTimeout(this.parts.redis.ping(), 1000);
      rtt = Math.round((performance.now() - t0) * 100) / 100;
    } catch {
      rtt = null;
    }
    const up = rtt !== null;
    const queueDepth = up ? await withTimeout(this.parts.queueDepth(), 1000).catch(() => null) : null;
    const redisMemory = this.parts.redisMemory() ?? null;
    // A full Redis stays 200: restarting or unrouting gateways frees no memory, and replies in
    // flight, history reads and resumes still work.
    const body: ExtendedHealth = {
      status: up && redisMemory?.refusing !== true ? 'ok' : 'degraded',
      redis: up ? 'up' : 'down',
      instance: this.parts.instance,
      connections: this.ws.count,
      sessions: this.parts.hub.sessions,
      redisRttMs: rtt,
      queueDepth,
      inflightReplies: this.parts.inflightReplies(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      draining: this.draining,
      redisMemory,
    };
    return { status: up ? 200 : 503, body };
  }

  /** Errors that are not ChatErrors become `unavailable` while Redis is down, else `internal`. */
  classify(err: unknown): ChatError {
    if (err instanceof ChatError) return err;
    // Redis past maxmemory (noeviction) refuses writes: no room now, not a bug.
    if (err instanceof Error && err.message.startsWith('OOM ')) {
      return new ChatError('unavailable', 'the data store is full; try again later', { retryAfterMs: 5000, cause: err });
    }
    if (this.parts.redis.status !== 'ready' || isRedisConnectionError(err)) {
      return new ChatError('unavailable', 'the service cannot reach its data store; try again shortly', { retryAfterMs: 1000, cause: err });
    }
    return new ChatError('internal', 'internal error', { cause: err });
  }

  /**
   * Drain: /ready turns 503, new sockets and messages are refused, every socket is told to
   * reconnect elsewhere, REST and SSE replies in progress finish, then the listen socket
   * closes. Resolves when sockets and requests are done or time is up.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.ws.closeAll(CLOSE_CODES.GOING_AWAY_RECONNECT, 'gateway draining: reconnect and resume');
    const deadline = Date.now() + timeoutMs;
    while ((this.ws.count > 0 || this.rest.pending > 0) && Date.now() < deadline) await sleep(50);
    if (this.listenSocket !== undefined) {
      uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    }
  }

  close(): void {
    this.app.close();
  }
}

function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|enableOfflineQueue/i.test(err.message)
  );
}

