// The gateway's Prometheus metrics. Labels are bounded: never a session, user or message id.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CLOSE_CODES, LimitError, RedisClientMetrics, type ChatError, type LimitName } from '@chat-fleet/shared';

/** First token from 10 ms to 30 s; whole replies up to 2 minutes. */
export const FIRST_TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30];
export const RESPONSE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120];

/** Receipt to queued: validation, scrubbing, limits, history and the queue add; 0.5 ms to 1 s. */
export const ACCEPT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export type MessageResult = 'accepted' | 'completed' | 'cancelled' | 'failed' | 'rejected';
export type ResumeResult = 'replayed' | 'not_found' | 'failed';
export type CancelResult = 'running' | 'queued' | 'finished' | 'not_found';

/** Close codes a label may carry; anything else (a client's own code) counts as `other`. */
const KNOWN_CLOSE_CODES = new Set<number>([1000, 1001, 1005, 1006, 1008, 1009, 1011, 1012, 1013, ...Object.values(CLOSE_CODES)]);

export function closeCodeLabel(code: number): string {
  return KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other';
}

/** The limit behind a `rate_limited` error; `other` when it does not say. */
function limitOf(err: unknown): LimitName | 'other' {
  return err instanceof LimitError ? err.limit : 'other';
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly wsConnections: Gauge;
  readonly sessionsActive: Gauge;
  readonly messages: Counter<'result'>;
  readonly firstToken: Histogram;
  readonly response: Histogram;
  readonly cacheRequests: Counter<'result'>;
  /** `limit`: messages, tokens, sessions, session_sockets, address_sockets, frames (or other). */
  readonly rateLimited: Counter<'limit'>;
  readonly redisMemoryUsed: Gauge;
  readonly redisMemoryMax: Gauge;
  /** 1 while new sessions and messages are refused for Redis memory. */
  readonly redisMemoryRefusing: Gauge;
  readonly errors: Counter<'code'>;
  readonly accept: Histogram;
  readonly inflight: Gauge;
  readonly resumes: Counter<'result'>;
  readonly cancels: Counter<'result'>;
  readonly wsCloses: Counter<'code'>;
  /** Admin actions that changed something, and sign-ins to the console, by action. */
  readonly adminActions: Counter<'action'>;
  readonly redis: RedisClientMetrics;

  constructor(defaultLabels: Record<string, string>) {
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.wsConnections = new Gauge({ name: 'chat_ws_connections', help: 'Open WebSocket connections on this gateway', registers });
    this.sessionsActive = new Gauge({ name: 'chat_sessions_active', help: 'Sessions with at least one live client on this gateway', registers });
    this.messages = new Counter({ name: 'chat_messages_total', help: 'Chat messages by outcome', labelNames: ['result'], registers });
    this.firstToken = new Histogram({ name: 'chat_first_token_seconds', help: 'From accepting a message to relaying its first token', buckets: FIRST_TOKEN_BUCKETS, registers });
    this.response = new Histogram({ name: 'chat_response_seconds', help: 'From accepting a message to relaying its done frame', buckets: RESPONSE_BUCKETS, registers });
    this.cacheRequests = new Counter({ name: 'chat_cache_requests_total', help: 'Replies by source: the response cache (hit), an identical request in flight (coalesced) or the model (miss)', labelNames: ['result'], registers });
    this.rateLimited = new Counter({ name: 'chat_rate_limited_total', help: 'Requests, sockets and frames refused by a rate limit, by limit', labelNames: ['limit'], registers });
    this.redisMemoryUsed = new Gauge({ name: 'chat_redis_memory_used_bytes', help: 'Redis used_memory as this gateway last read it (every second)', registers });
    this.redisMemoryMax = new Gauge({ name: 'chat_redis_memory_max_bytes', help: 'Redis maxmemory as this gateway last read it; 0: no limit', registers });
    this.redisMemoryRefusing = new Gauge({ name: 'chat_redis_memory_refusing', help: '1 while this gateway refuses new sessions and messages because Redis is past REDIS_MEMORY_HIGH_WATER', registers });
    this.errors = new Counter({ name: 'chat_errors_total', help: 'Errors sent to clients by code', labelNames: ['code'], registers });
    this.accept = new Histogram({ name: 'chat_accept_seconds', help: 'From receiving a message to its job in the queue (validation, scrubbing, limits, history, enqueue)', buckets: ACCEPT_BUCKETS, registers });
    this.inflight = new Gauge({ name: 'chat_inflight_replies', help: 'Replies accepted by this gateway and not yet ended', registers });
    this.resumes = new Counter({ name: 'chat_resumes_total', help: 'Resume requests by result', labelNames: ['result'], registers });
    this.cancels = new Counter({ name: 'chat_cancels_total', help: 'Cancel requests by what they found: a running reply, a queued one, a finished one, or none', labelNames: ['result'], registers });
    this.wsCloses = new Counter({ name: 'chat_ws_closes_total', help: 'WebSocket closes by close code (4000 drain, 4001 slow consumer, 1006 dropped …)', labelNames: ['code'], registers });
    this.adminActions = new Counter({ name: 'chat_admin_actions_total', help: 'Admin actions (block, unblock, budget-reset, cancel, delete-session) and console sign-ins, by action', labelNames: ['action'], registers });
    this.redis = new RedisClientMetrics(this.registry);
  }

  /** Counts an error sent to a client, and the limit behind a `rate_limited` one. */
  refused(err: ChatError): void {
    this.errors.inc({ code: err.code });
    if (err.code === 'rate_limited') this.rateLimited.inc({ limit: limitOf(err) });
  }
}
