// REST adapter of the admin routes: every one goes through AdminAuth.admit first (the address's
// admin rate limit, then the credential: 401 / 403 before anything is read or changed), answers
// with `cache-control: no-store`, and leaves the work to AdminApi and UsageApi.
import { BlockUserBodySchema, ChatError, isValidId, parseOrThrow } from '@chat-fleet/shared';
import type { AdminAuth } from '../auth/admin-auth.js';
import type { AdminActor, AdminApi } from '../admin/admin-api.js';
import type { UsageApi } from '../usage/usage-api.js';
import { parseJson, type Reply, type RequestInfo } from './http-kit.js';
import type { Route } from './rest-routes.js';

export interface AdminRouteDeps {
  admin: AdminAuth;
  api: AdminApi;
  usage: UsageApi;
}

const NO_STORE = { 'cache-control': 'no-store' };

/** A user id as the ledger names users (`ip:<address>` too): 1-160 characters. */
function validUserId(userId: string): string {
  if (userId === '' || userId.length > 160) throw new ChatError('bad_request', 'a user id is 1-160 characters');
  return userId;
}

/** The path's user id, percent-decoded. */
function userIdParam(info: RequestInfo): string {
  try {
    return validUserId(decodeURIComponent(info.params[0] ?? ''));
  } catch (err) {
    if (err instanceof URIError) throw new ChatError('bad_request', 'the user id is not valid percent-encoding');
    throw err;
  }
}

/** A session or message id. */
function validId(id: string, what: string): string {
  if (!isValidId(id)) throw new ChatError('bad_request', `${what} must be 1-64 characters of A-Z, a-z, 0-9, _ or -`);
  return id;
}

function queryOf(q: URLSearchParams, ...names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = q.get(name);
    if (v !== null) out[name] = v;
  }
  return out;
}

export function mountAdminRoutes(route: Route, deps: AdminRouteDeps): void {
  const { api } = deps;
  const admitted = async (info: RequestInfo): Promise<AdminActor> => {
    const { who } = await deps.admin.admit(info.authorization, info.remoteAddress);
    return { who, address: info.remoteAddress };
  };
  const json = (reply: Reply, body: unknown): void => reply.json(200, body, NO_STORE);

  route('get', '/admin/whoami', 0, async (reply, info) => {
    json(reply, await api.signIn(await admitted(info)));
  });

  route('get', '/admin/fleet', 0, async (reply, info) => {
    await admitted(info);
    json(reply, await api.fleet());
  });

  route('get', '/admin/queue/failed', 0, async (reply, info) => {
    await admitted(info);
    json(reply, await api.failedJobs(info.query.get('limit') ?? undefined));
  });

  route('get', '/admin/series', 0, async (reply, info) => {
    await admitted(info);
    json(reply, await api.series(info.query.get('minutes') ?? undefined));
  });

  route('get', '/admin/usage', 0, async (reply, info) => {
    await admitted(info);
    json(reply, await deps.usage.fleet(queryOf(info.query, 'from', 'to', 'top')));
  });

  route('get', '/admin/usage/users/:id', 1, async (reply, info) => {
    await admitted(info);
    json(reply, await deps.usage.user(userIdParam(info), queryOf(info.query, 'from', 'to')));
  });

  route('get', '/admin/users/:userId', 1, async (reply, info) => {
    await admitted(info);
    json(reply, await api.user(userIdParam(info)));
  });

  route('post', '/admin/users/:userId/block', 1, async (reply, info, body) => {
    const actor = await admitted(info);
    const { reason } = parseOrThrow(BlockUserBodySchema, parseJson(await body!), 'block body');
    json(reply, await api.block(userIdParam(info), reason, actor));
  });

  route('post', '/admin/users/:userId/unblock', 1, async (reply, info) => {
    const actor = await admitted(info);
    json(reply, await api.unblock(userIdParam(info), actor));
  });

  route('post', '/admin/users/:userId/budget/reset', 1, async (reply, info) => {
    const actor = await admitted(info);
    json(reply, await api.resetBudget(userIdParam(info), actor));
  });

  route('get', '/admin/sessions', 0, async (reply, info) => {
    await admitted(info);
    const query = queryOf(info.query, 'userId', 'sessionId', 'limit');
    if (query.sessionId !== undefined) validId(query.sessionId, 'sessionId');
    if (query.userId !== undefined) validUserId(query.userId);
    json(reply, await api.sessions(query));
  });

  route('get', '/admin/sessions/:sessionId', 1, async (reply, info) => {
    await admitted(info);
    json(reply, await api.session(validId(info.params[0] ?? '', 'the session id')));
  });

  route('del', '/admin/sessions/:sessionId', 1, async (reply, info) => {
    const actor = await admitted(info);
    await api.deleteSession(validId(info.params[0] ?? '', 'the session id'), actor);
    reply.empty(204);
  });

  route('post', '/admin/replies/:messageId/cancel', 1, async (reply, info) => {
    const actor = await admitted(info);
    json(reply, await api.cancel(validId(info.params[0] ?? '', 'the message id'), actor));
  });

  route('get', '/admin/audit', 0, async (reply, info) => {
    await admitted(info);
    json(reply, await api.audit(info.query.get('limit') ?? undefined));
  });
}
