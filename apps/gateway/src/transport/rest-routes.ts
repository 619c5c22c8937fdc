// REST adapter: maps HTTP requests onto the ChatService and answers per the contract.
import type { TemplatedApp } from 'uWebSockets.js';
import {
  ChatError,
  CreateSessionBodySchema,
  PostMessageBodySchema,
  RenameSessionBodySchema,
  isValidId,
  parseOrThrow,
  toChatError,
  type HealthResponse,
  type Logger,
  type SessionFrameReader,
  type Source,
} from '@chat-fleet/shared';
import type { ChatService } from '../chat/chat-service.js';
import type { TokenService } from '../auth/token-service.js';
import type { AdminAuth } from '../auth/admin-auth.js';
import type { UserAuth } from '../auth/user-auth.js';
import type { SessionAccess } from '../auth/session-access.js';
import type { SessionHub } from '../relay/session-hub.js';
import type { GatewayMetrics } from '../metrics.js';
import { Reply, bearerToken, parseJson, readBody, readRequest, type RequestInfo } from './http-kit.js';
import { requestReply } from '../chat/reply-waiter.js';
import type { UsageApi } from '../usage/usage-api.js';
import type { AdminApi } from '../admin/admin-api.js';
import { mountAdminRoutes } from './admin-routes.js';

export interface RestDeps {
  /** Proxies in front of the gateway whose X-Forwarded-For entries are trusted. */
  trustedProxyHops: number;
  service: ChatService;
  tokens: TokenService;
  /** Who creates a session: a user token, an API key, or (anonymous mode) nobody in particular. */
  users: UserAuth;
  /** Whose sessions a caller may list, rename and get tokens of. */
  access: SessionAccess;
  /** The admin routes' gate: rate limit per address, then the admin credential. */
  admin: AdminAuth;
  hub: SessionHub;
  /** Reads a reply's stored frames: REST and SSE pass them through the same gate as sockets. */
  storedFrames: SessionFrameReader;
  /** The usage ledger's routes (GET /v1/usage, GET /admin/usage…). */
  usage: UsageApi;
  /** The admin console's routes. */
  adminApi: AdminApi;
  metrics: GatewayMetrics;
  log: Logger;
  maxBodyBytes: number;
  replyTimeoutMs: number;
  isOriginAllowed(origin: string): boolean;
  health(): Promise<{ status: number; body: HealthResponse }>;
  isDraining(): boolean;
  /** Maps an error to what the client sees (e.g. `unavailable` while Redis is down). */
  classify(err: unknown): ChatError;
}

/** Answers one request; `body` is the request body of a POST or PATCH. A ChatError thrown becomes its error answer. */
export type Handler = (reply: Reply, info: RequestInfo, body: Promise<Buffer> | undefined) => Promise<void>;

/** Declares a route: its path pattern, how many `:params` it has, and its handler. */
export type Route = (method: 'get' | 'post' | 'patch' | 'del', pattern: string, params: number, handler: Handler) => void;

/** What a drain waits for: requests still being answered (a REST or SSE reply can take a while). */
export interface RestEndpoint {
  readonly pending: number;
}

export function mountRest(app: TemplatedApp, deps: RestDeps): RestEndpoint {
  let pending = 0;
  const route: Route = (method, pattern, params, handler) => {
    app[method](pattern, (res, req) => {
      const reply = new Reply(res);
      const info = readRequest(res, req, params, deps.trustedProxyHops);
      if (info.origin !== '') {
        if (!deps.isOriginAllowed(info.origin)) {
          reply.error(new ChatError('forbidden', `origin ${info.origin} is not allowed`));
          return;
        }
        reply.allowOrigin(info.origin);
      }
      const body = method === 'post' || method === 'patch' ? readBody(reply, deps.maxBodyBytes) : undefined;
      body?.catch(() => undefined);
      pending++;
      handler(reply, info, body)
        .catch((err: unknown) => {
          const e = deps.classify(err);
          if (e.code === 'internal') deps.log.error({ err, url: info.url }, 'request failed');
          deps.metrics.refused(e);
          reply.error(e);
        })
        .finally(() => {
          pending--;
        });
    });
  };

  const sessionIdParam = (info: RequestInfo): string => {
    const id = info.params[0] ?? '';
    if (!isValidId(id)) throw new ChatError('bad_request', 'session id must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
    return id;
  };

  route('post', '/chat/session', 0, async (reply, info, body) => {
    // The credential first: without a good one the answer is 401 whatever the body says.
    const caller = await deps.users.identify(info.authorization);
    const parsed = parseOrThrow(CreateSessionBodySchema, parseJson(await body!), 'session body');
    reply.json(201, await deps.service.createSession(parsed, info.remoteAddress, deps.users.ownerOf(caller, parsed)));
  });

  route('get', '/chat/session/:id', 1, async (reply, info) => {
    const sessionId = sessionIdParam(info);
    await deps.tokens.verify(bearerToken(info.authorization), sessionId);
    reply.json(200, await deps.service.getSession(sessionId, historyPageOf(info.query)));
  });

  route('get', '/chat/sessions', 0, async (reply, info) => {
    const caller = await deps.access.caller(info.authorization);
    reply.json(200, await deps.service.listSessions(caller, sessionListPageOf(info.query)), { 'cache-control': 'no-store' });
  });

  route('patch', '/chat/session/:id', 1, async (reply, info, body) => {
    const sessionId = sessionIdParam(info);
    await deps.access.requireOwner(info.authorization, sessionId);
    const parsed = parseOrThrow(RenameSessionBodySchema, parseJson(await body!), 'rename body');
    reply.json(200, await deps.service.renameSession(sessionId, parsed.title));
  });

  route('post', '/chat/session/:id/token', 1, async (reply, info) => {
    const sessionId = sessionIdParam(info);
    const owner = await deps.access.requireOwner(info.authorization, sessionId);
    reply.json(201, await deps.service.sessionToken(sessionId, owner), { 'cache-control': 'no-store' });
  });

  route('del', '/chat/session/:id', 1, async (reply, info) => {
    const sessionId = sessionIdParam(info);
    await deps.tokens.verify(bearerToken(info.authorization), sessionId);
    await deps.service.deleteSession(sessionId);
    reply.empty(204);
  });

  route('post', '/chat/message', 0, async (reply, info, body) => {
    // A draining gateway finishes the replies it holds but takes no new ones.
    if (deps.isDraining()) throw new ChatError('unavailable', 'this gateway is draining; send the message to another one', { retryAfterMs: 1000 });
    const parsed = parseOrThrow(PostMessageBodySchema, parseJson(await body!), 'message body');
    await deps.tokens.verify(bearerToken(info.authorization), parsed.sessionId);
    const sse = info.accept.includes('text/event-stream');
    const tokens: string[] = [];
    // The reply's tool calls (merged with their results) and sources, for the JSON answer.
    const tools = new Map<string, { callId: string; name: string; arguments: unknown; ok?: boolean; summary?: string }>();
    const sources = new Map<string, Source>();
    const request = {
      sessionId: parsed.sessionId,
      ...(parsed.content === undefined ? { regenerate: true as const } : { content: parsed.content }),
      clientAddress: info.remoteAddress,
      transport: sse ? ('sse' as const) : ('rest' as const),
      timeoutMs: deps.replyTimeoutMs,
      accepted: (): void => {
        if (sse) reply.startStream(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      },
    };
    try {
      // SSE: every frame (the ack first) becomes an event; JSON: the reply's text is collected.
      const { ack, end } = await requestReply(deps, request, (frame, raw) => {
        if (sse) reply.write(`event: ${frame.type}\ndata: ${raw}\n\n`);
        else if (frame.type === 'token') tokens.push(frame.text);
        else if (frame.type === 'reset') {
          tokens.length = 0;
          tools.clear();
          sources.clear();
        } else if (frame.type === 'tool_call') tools.set(frame.callId, { callId: frame.callId, name: frame.name, arguments: frame.arguments });
        else if (frame.type === 'tool_result') {
          const call = tools.get(frame.callId);
          if (call !== undefined) Object.assign(call, { ok: frame.ok }, frame.summary === undefined ? {} : { summary: frame.summary });
        } else if (frame.type === 'sources') for (const source of frame.sources) sources.set(source.id, source);
      });
      if (sse) {
        reply.finish();
      } else if (end.type === 'error') {
        throw new ChatError(end.code, end.message, end.retryAfterMs === undefined ? {} : { retryAfterMs: end.retryAfterMs });
      } else {
        const scrubbed = ack.scrubbed === undefined ? {} : { scrubbed: ack.scrubbed };
        const used = { ...(tools.size === 0 ? {} : { tools: [...tools.values()] }), ...(sources.size === 0 ? {} : { sources: [...sources.values()] }) };
        reply.json(200, { messageId: ack.messageId, reply: tokens.join(''), cached: end.cached, usage: end.usage, finishReason: end.finishReason, ...scrubbed, ...used });
      }
    } catch (err) {
      if (!reply.streaming) throw err;
      // The SSE stream already started: report the error as an event.
      const e = toChatError(err);
      reply.finish(`event: error\ndata: ${JSON.stringify({ type: 'error', code: e.code, message: e.message })}\n\n`);
    }
  });

  route('get', '/v1/usage', 0, async (reply, info) => {
    reply.json(200, await deps.usage.mine(info.authorization, info.remoteAddress), { 'cache-control': 'no-store' });
  });

  mountAdminRoutes(route, { admin: deps.admin, api: deps.adminApi, usage: deps.usage });

  route('get', '/health', 0, async (reply) => {
    const h = await deps.health();
    reply.json(h.status, h.body, { 'cache-control': 'no-store' });
  });

  route('get', '/ready', 0, (reply) => {
    if (deps.isDraining()) reply.json(503, { status: 'draining' });
    else reply.json(200, { status: 'ready' });
    return Promise.resolve();
  });

  route('get', '/metrics', 0, async (reply) => {
    reply.send(200, await deps.metrics.registry.metrics(), { 'content-type': deps.metrics.registry.contentType });
  });

  app.options('/*', (res, req) => {
    const reply = new Reply(res);
    const origin = req.getHeader('origin');
    if (origin !== '' && deps.isOriginAllowed(origin)) reply.allowOrigin(origin);
    reply.send(204, '', {
      'access-control-allow-methods': 'GET, POST, PATCH, DELETE, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, accept',
      'access-control-max-age': '600',
    });
  });

  return {
    get pending(): number {
      return pending;
    },
  };
}

const PAGE_DEFAULT = 50;
const PAGE_MAX = 200;

/** `?limit=` (1-200, default 50) and `?before=<message id>` of a history read. */
function historyPageOf(query: URLSearchParams): { limit: number; before?: string } {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null || rawLimit === '' ? PAGE_DEFAULT : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) throw new ChatError('bad_request', `limit must be an integer from 1 to ${PAGE_MAX}`);
  const before = query.get('before');
  if (before === null || before === '') return { limit };
  if (!isValidId(before)) throw new ChatError('bad_request', 'before must be a message id (1-64 characters of A-Z, a-z, 0-9, _ or -)');
  return { limit, before };
}

const LIST_DEFAULT = 20;
const LIST_MAX = 100;

/** `?limit=` (1-100, default 20) and `?before=<nextBefore>` of a list of sessions. */
function sessionListPageOf(query: URLSearchParams): { limit: number; before?: string } {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null || rawLimit === '' ? LIST_DEFAULT : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) throw new ChatError('bad_request', `limit must be an integer from 1 to ${LIST_MAX}`);
  const before = query.get('before');
  return before === null || before === '' ? { limit } : { limit, before };
}

/** The catch-all, mounted last. */
export function mountNotFound(app: TemplatedApp): void {
  app.any('/*', (res, req) => {
    const reply = new Reply(res);
    reply.error(new ChatError('not_found', `no route for ${req.getCaseSensitiveMethod().toUpperCase()} ${req.getUrl()}`));
  });
}
