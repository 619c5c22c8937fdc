// The gateway's Prometheus metrics. Labels are bounded: never a session, user or message id.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** First token from 10 ms to 30 s; whole replies up to 2 minutes. */
export const FIRST_TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30];
export const RESPONSE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120];

export type MessageResult = 'accepted' | 'completed' | 'cancelled' | 'failed' | 'rejected';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly wsConnections: Gauge;
  readonly sessionsActive: Gauge;
  readonly messages: Counter<'result'>;
  readonly firstToken: Histogram;
  readonly response: Histogram;
  readonly cacheRequests: Counter<'result'>;
  readonly rateLimited: Counter;
  readonly errors: Counter<'code'>;

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
    this.rateLimited = new Counter({ name: 'chat_rate_limited_total', help: 'Messages refused by a rate limit', registers });
    this.errors = new Counter({ name: 'chat_errors_total', help: 'Errors sent to clients by code', labelNames: ['code'], registers });
  }
}
