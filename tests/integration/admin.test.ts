// The admin console's API (issue 19) on real processes: two gateways and a worker (more added and
// killed here) writing heartbeats every 500 ms, the charts' series, blocking a user on every
// gateway, resetting a budget, a user's sessions and what a session holds, cancelling a reply and
// deleting a session as an admin, the audit trail of it all, and a wrong credential that sees
// nothing. Also in the cluster suite.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AdminSessionDetailSchema,
  AdminSessionListSchema,
  AdminWhoAmISchema,
  AuditListSchema,
  BudgetResetResponseSchema,
  CancelReplyResponseSchema,
  FailedJobListSchema,
  FleetSchema,
  SeriesSchema,
  UserAccountSchema,
  UserBlockStatusSchema,
  redisKeys,
  type AdminSession,
  type Fleet,
  type RedisClient,
} from '@chat-fleet/shared';
import { connect, http, newSession, sendChat, tokensOf, type HttpAnswer, type Session } from '../support/chat-client.js';
import { sleep, waitUntil } from '../support/probes.js';
import { testRedis } from '../support/test-redis.js';
import { SIM_DEFAULTS, startTestStack, type TestStack } from '../support/test-stack.js';

type Refusal = { error?: { code: string; message: string } };

/** The daily budget of the plan `tight`; no other user has one. */
const DAILY_TOKENS = 2000;
const API_KEY = `backend-${Math.random().toString(36).slice(2)}-0123456789abcdef`;
const unique = (name: string): string => `${name}-${Math.random().toString(36).slice(2, 8)}`;

let stack: TestStack;
let redis: RedisClient;

beforeAll(async () => {
  stack = await startTestStack('admin', {
    workers: 1,
    // No response cache: every reply reaches the model, so first tokens and usage move. A daily
    // budget for the plan of the reset test's user only (a backend with an API key names plans).
    env: { HEARTBEAT_MS: '500', CACHE_TTL_SECONDS: '0', PLAN_BUDGETS: JSON.stringify({ tight: { dailyTokens: DAILY_TOKENS } }) },
    gatewayEnv: { ADMIN_RATE_LIMIT_PER_MIN: '0', CHAT_API_KEYS: API_KEY },
  });
  redis = testRedis();
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

function admin<T>(base: string, method: string, path: string, body?: unknown): Promise<HttpAnswer<T & Refusal>> {
  return http<T & Refusal>(base, method, path, { token: stack.adminApiKey, ...(body === undefined ? {} : { body }) });
}

/**
 * An admin call that must succeed: 200, and an answer the protocol's schema accepts. The answer is
 * returned as sent, not as parsed, so a field the schema does not know still shows in a comparison.
 */
async function adminOk<T>(schema: { parse(value: unknown): T }, base: string, method: string, path: string, body?: unknown): Promise<HttpAnswer<T & Refusal>> {
  const r = await admin<T>(base, method, path, body);
  expect([method, path, r.status, r.json?.error]).toEqual([method, path, 200, undefined]);
  schema.parse(r.json);
  return r;
}

async function fleet(base = stack.gateways[0]!.url): Promise<Fleet> {
  return (await adminOk(FleetSchema, base, 'GET', '/admin/fleet')).json;
}

/** One message over REST, waited for whole: the status and, when refused, the code. */
async function chat(base: string, session: Session, content: string): Promise<{ status: number; code?: string }> {
  const r = await http<Refusal>(base, 'POST', '/chat/message', { token: session.token, body: { sessionId: session.sessionId, content } });
  return r.json?.error === undefined ? { status: r.status } : { status: r.status, code: r.json.error.code };
}

describe('the fleet', () => {
  it('lists both gateways and the worker from their heartbeats, with the queue, on every gateway', async () => {
    const seen = await waitUntil(
      async () => {
        const f = await fleet();
        return f.instances.length >= 3 ? f : undefined;
      },
      10_000,
      'three instances',
    );
    expect(seen.heartbeatMs).toBe(500);
    expect(seen.instances.map((i) => [i.instance, i.role, i.stale])).toEqual([
      ['gateway-1', 'gateway', false],
      ['gateway-2', 'gateway', false],
      ['worker-1', 'worker', false],
    ]);
    for (const i of seen.instances) {
      expect(i.version).toBe('0.1.0');
      expect(Number.isNaN(Date.parse(i.startedAt))).toBe(false);
      expect(i.lastSeenMs).toBeLessThan(5_000);
      expect(i.rssBytes).toBeGreaterThan(0);
      expect(i.heapUsedBytes).toBeGreaterThan(0);
      expect(i.eventLoopDelayMs).toBeGreaterThanOrEqual(0);
      expect(i.inflight).toBeGreaterThanOrEqual(0);
      if (i.role === 'gateway') expect([typeof i.sockets, typeof i.sessions]).toEqual(['number', 'number']);
      else expect(i.sockets).toBeUndefined();
    }
    for (const state of ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const) expect(typeof seen.queue[state]).toBe('number');
    expect(seen.queue.oldestWaitingMs === null || seen.queue.oldestWaitingMs >= 0).toBe(true);

    // A socket shows on its gateway's record, and the other gateway lists the same fleet.
    const session = await newSession(stack.gateways[1]!.url);
    const socket = await connect(stack.gateways[1]!.wsUrl, session.sessionId, 'fleet', session.token);
    try {
      await waitUntil(
        async () => ((await fleet(stack.gateways[1]!.url)).instances.find((i) => i.instance === 'gateway-2')?.sockets ?? 0) >= 1,
        5_000,
        'gateway-2 reporting its socket',
      );
    } finally {
      socket.close();
    }
    expect((await fleet(stack.gateways[1]!.url)).instances.map((i) => i.instance)).toEqual(['gateway-1', 'gateway-2', 'worker-1']);
  });

  it('marks a SIGKILLed worker stale (or drops it) within 15 s; a worker that stops cleanly leaves at once', async () => {
    const doomed = await stack.addWorker();
    await waitUntil(async () => (await fleet()).instances.some((i) => i.instance === doomed.instance && !i.stale), 10_000, `${doomed.instance} listed`);
    const killed = performance.now();
    doomed.process.kill('SIGKILL');
    await waitUntil(
      async () => {
        const i = (await fleet()).instances.find((x) => x.instance === doomed.instance);
        return i === undefined || i.stale;
      },
      15_000,
      `${doomed.instance} stale or gone`,
    );
    expect(performance.now() - killed).toBeLessThan(15_000);
    const stale = (await fleet()).instances.find((x) => x.instance === doomed.instance);
    if (stale !== undefined) expect(stale.lastSeenMs).toBeGreaterThan(1_500);
    expect((await fleet()).instances.filter((i) => !i.stale).map((i) => i.instance)).toEqual(['gateway-1', 'gateway-2', 'worker-1']);

    const leaving = await stack.addWorker();
    await waitUntil(async () => (await fleet()).instances.some((i) => i.instance === leaving.instance), 10_000, `${leaving.instance} listed`);
    await leaving.process.stop('SIGTERM', 15_000);
    // Gone, not stale: its shutdown removed the record.
    expect((await fleet()).instances.some((i) => i.instance === leaving.instance)).toBe(false);
  }, 60_000);

  it('lists failed jobs newest first (none yet)', async () => {
    const r = await adminOk(FailedJobListSchema, stack.gateways[0]!.url, 'GET', '/admin/queue/failed?limit=5');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(Array.isArray(r.json.jobs)).toBe(true);
    expect((await admin(stack.gateways[0]!.url, 'GET', '/admin/queue/failed?limit=0')).status).toBe(400);
  });
});

describe('the charts', () => {
  it('count messages, replies and tokens per 10 s bucket, with a first-token p50 and p95', async () => {
    const [A, B] = [stack.gateways[0]!.url, stack.gateways[1]!.url];
    const session = await newSession(A);
    for (let i = 0; i < 3; i++) expect(await chat(i % 2 === 0 ? A : B, session, `chart question ${i} ${Date.now()}`)).toEqual({ status: 200 });
    // Counts go out once a second; any gateway reads them.
    const points = await waitUntil(
      async () => {
        const r = await adminOk(SeriesSchema, B, 'GET', '/admin/series?minutes=5');
        return r.json.points.reduce((n, p) => n + p.replies, 0) >= 3 ? r.json : undefined;
      },
      10_000,
      'three replies in the series',
    );
    expect(points.stepSeconds).toBe(10);
    expect(points.points).toHaveLength(30);
    expect(points.from).toBe(points.points[0]!.t);
    points.points.forEach((p, i) => expect(p.t).toBe(points.from + i * 10_000));
    // A reply may end in the bucket after its message's.
    expect(points.points.reduce((n, p) => n + p.messages, 0)).toBeGreaterThanOrEqual(3);
    expect(points.points.reduce((n, p) => n + p.tokens, 0)).toBeGreaterThanOrEqual(3 * Number(SIM_DEFAULTS.SIM_REPLY_TOKENS));
    const timed = points.points.filter((p) => p.firstTokenP50Ms !== null);
    expect(timed.length).toBeGreaterThan(0);
    for (const p of timed) expect(p.firstTokenP95Ms!).toBeGreaterThanOrEqual(p.firstTokenP50Ms!);
    // A quiet bucket is zeros, not missing.
    const quiet = points.points.find((p) => p.messages === 0 && p.replies === 0)!;
    expect(quiet).toMatchObject({ tokens: 0, cacheHits: 0, coalesced: 0, errors: {}, firstTokenP50Ms: null, firstTokenP95Ms: null });
    expect((await admin(B, 'GET', '/admin/series?minutes=121')).status).toBe(400);
  });
});

describe('a user', () => {
  it('blocked, cannot open a session nor send a message on any gateway, over REST or a socket, until unblocked', async () => {
    const [g1, g2] = stack.gateways as [TestStack['gateways'][number], TestStack['gateways'][number]];
    const userId = unique('blockee');
    const session = await newSession(g1.url, { userId });
    expect(await chat(g1.url, session, 'hello before the block')).toEqual({ status: 200 });
    const socket = await connect(g2.wsUrl, session.sessionId, 'blocked-tab', session.token);

    const blocked = await adminOk(UserBlockStatusSchema, g1.url, 'POST', `/admin/users/${encodeURIComponent(userId)}/block`, { reason: 'spam' });
    expect([blocked.status, blocked.json]).toEqual([200, { userId, blocked: true }]);
    // The gateway that wrote the block knows at once; the other within its cache's 2 s.
    expect(await chat(g1.url, session, 'still there?')).toEqual({ status: 403, code: 'forbidden' });
    await waitUntil(async () => (await chat(g2.url, session, 'still there?')).code === 'forbidden', 5_000, 'a refused message on gateway-2');
    const refused = await http<Refusal>(g2.url, 'POST', '/chat/message', { token: session.token, body: { sessionId: session.sessionId, content: 'why?' } });
    expect(refused.json.error?.message).toMatch(/blocked/);
    for (const g of [g1, g2]) {
      const created = await http<Refusal>(g.url, 'POST', '/chat/session', { body: { userId } });
      expect([created.status, created.json.error?.code]).toEqual([403, 'forbidden']);
    }
    const sent = await sendChat(socket, 'over the socket then?');
    expect('error' in sent && [sent.error.code, sent.error.message]).toEqual(['forbidden', expect.stringMatching(/blocked/)]);
    // Another user is not affected.
    expect(await chat(g2.url, await newSession(g2.url), 'someone else')).toEqual({ status: 200 });

    const view = await adminOk(UserAccountSchema, g2.url, 'GET', `/admin/users/${encodeURIComponent(userId)}`);
    // The first and maybe the refusals gateway-2 had not yet learnt of.
    expect(view.json).toMatchObject({ userId, blocked: true });
    expect(view.json.day.replies).toBeGreaterThanOrEqual(1);
    expect(Number.isNaN(Date.parse(view.json.blockedAt ?? ''))).toBe(false);

    const unblocked = await adminOk(UserBlockStatusSchema, g2.url, 'POST', `/admin/users/${encodeURIComponent(userId)}/unblock`);
    expect([unblocked.status, unblocked.json]).toEqual([200, { userId, blocked: false }]);
    await waitUntil(async () => (await chat(g1.url, session, 'back again?')).status === 200, 5_000, 'an answered message on gateway-1');
    expect(await chat(g2.url, session, 'and here?')).toEqual({ status: 200 });
    expect((await http(g1.url, 'POST', '/chat/session', { body: { userId } })).status).toBe(201);
    const again = await sendChat(socket, 'and over the socket');
    expect('messageId' in again).toBe(true);
    socket.close();
    expect((await adminOk(UserAccountSchema, g1.url, 'GET', `/admin/users/${encodeURIComponent(userId)}`)).json.blocked).toBe(false);
  }, 60_000);

  it('whose budget is spent chats again after a reset, which zeroes today\'s and this month\'s usage', async () => {
    const base = stack.gateways[0]!.url;
    const userId = unique('spender');
    const created = await http<Session>(base, 'POST', '/chat/session', { token: API_KEY, body: { userId, plan: 'tight' } });
    expect(created.status).toBe(201);
    const session = created.json;
    let last: { status: number; code?: string } = { status: 200 };
    const question = 'Tell me everything you know about lighthouses, their keepers, their lamps and the ships they guide. ';
    for (let i = 0; i < 25 && last.status === 200; i++) last = await chat(base, session, `${question.repeat(3)}(round ${i})`);
    expect(last).toEqual({ status: 429, code: 'quota_exceeded' });
    const spent = (await adminOk(UserAccountSchema, base, 'GET', `/admin/users/${userId}`)).json;
    expect(spent.day.completionTokens).toBeGreaterThan(0);
    // The budget of the plan of the user's latest session.
    expect(spent.budget).toMatchObject({ dailyTokens: DAILY_TOKENS, monthlyCostUsd: 0, monthCostLeftUsd: null, plan: 'tight' });
    expect(spent.budget.dayTokensLeft).toBeLessThan(DAILY_TOKENS);

    const reset = await adminOk(BudgetResetResponseSchema, base, 'POST', `/admin/users/${userId}/budget/reset`);
    const zero = { promptTokens: 0, completionTokens: 0, cachedTokens: 0, replies: 0, costUsd: 0 };
    expect(reset.json).toEqual({ userId, day: zero, month: zero });
    const after = (await adminOk(UserAccountSchema, base, 'GET', `/admin/users/${userId}`)).json;
    expect([after.day, after.month, after.budget.dayTokensLeft]).toEqual([zero, zero, DAILY_TOKENS]);
    expect(await chat(stack.gateways[1]!.url, session, 'and one more')).toEqual({ status: 200 });
    expect((await adminOk(UserAccountSchema, base, 'GET', `/admin/users/${userId}`)).json.day.replies).toBe(1);
  }, 60_000);
});

describe('sessions', () => {
  it('of a user, most recently active first; a deleted or expired one drops out of the list', async () => {
    const base = stack.gateways[0]!.url;
    const userId = unique('lister');
    const first = await newSession(base, { userId });
    const second = await newSession(stack.gateways[1]!.url, { userId });
    const third = await newSession(base, { userId });
    const list = async (): Promise<AdminSession[]> => (await adminOk(AdminSessionListSchema, base, 'GET', `/admin/sessions?userId=${userId}`)).json.sessions;
    expect((await list()).map((s) => s.sessionId)).toEqual([third.sessionId, second.sessionId, first.sessionId]);
    // A message moves its session to the top.
    expect(await chat(base, first, 'bump')).toEqual({ status: 200 });
    const bumped = await list();
    expect(bumped.map((s) => s.sessionId)).toEqual([first.sessionId, third.sessionId, second.sessionId]);
    // What a title is belongs to the session list of issue 20; here only that it is the user's.
    expect(bumped[0]?.userId).toBe(userId);
    expect(Date.parse(bumped[0]!.updatedAt)).toBeGreaterThan(Date.parse(bumped[0]!.createdAt));

    expect((await http(base, 'DELETE', `/chat/session/${third.sessionId}`, { token: third.token })).status).toBe(204);
    // An expired session: its keys are gone, its index entry not yet; the read skips and prunes it.
    const keys = redisKeys(stack.prefix);
    await redis.del(keys.sessionMeta(second.sessionId), keys.sessionHistory(second.sessionId));
    expect(await redis.zscore(keys.userSessions(userId), second.sessionId)).not.toBeNull();
    expect((await list()).map((s) => s.sessionId)).toEqual([first.sessionId]);
    expect(await redis.zscore(keys.userSessions(userId), second.sessionId)).toBeNull();
    expect(await redis.zscore(keys.userSessions(userId), third.sessionId)).toBeNull();

    const one = await adminOk(AdminSessionListSchema, base, 'GET', `/admin/sessions?sessionId=${first.sessionId}`);
    expect(one.json.sessions).toEqual([bumped[0]]);
    expect((await adminOk(AdminSessionListSchema, base, 'GET', `/admin/sessions?sessionId=${third.sessionId}`)).json.sessions).toEqual([]);
    expect((await admin(base, 'GET', '/admin/sessions')).status).toBe(400);
  });

  it('shows a streaming reply\'s text so far; an admin cancel ends it as the client\'s would (done, cancelled)', async () => {
    const gateway = stack.gateways[1]!;
    const sim = stack.sim!.url;
    await http(sim, 'POST', '/_sim/config', { body: { replyTokens: 200, tokensPerSec: 10 } });
    try {
      const userId = unique('streamer');
      const session = await newSession(gateway.url, { userId, systemPrompt: 'Be long-winded.' });
      const socket = await connect(gateway.wsUrl, session.sessionId, 'reader', session.token);
      const sent = await sendChat(socket, 'Tell me a very long story about a lighthouse.');
      if (!('messageId' in sent)) throw new Error(`refused: ${JSON.stringify(sent.error)}`);
      const { messageId } = sent;
      await socket.until((fs) => tokensOf(fs, messageId).length >= 3 || undefined, 15_000, 'the first tokens');

      const detail = await adminOk(AdminSessionDetailSchema, stack.gateways[0]!.url, 'GET', `/admin/sessions/${session.sessionId}`);
      expect(detail.json).toMatchObject({ sessionId: session.sessionId, userId, systemPrompt: 'Be long-winded.', inflight: { messageId, status: 'streaming' } });
      expect(detail.json.messages.map((m) => [m.role, m.content])).toEqual([['user', 'Tell me a very long story about a lighthouse.']]);
      const soFar = detail.json.inflight!.text;
      expect(soFar.length).toBeGreaterThan(0);

      const cancelled = await adminOk(CancelReplyResponseSchema, stack.gateways[0]!.url, 'POST', `/admin/replies/${messageId}/cancel`);
      expect([cancelled.status, cancelled.json.messageId, cancelled.json.status]).toEqual([200, messageId, 'running']);
      const done = await socket.until((fs) => fs.find((f) => f.type === 'done' && f.messageId === messageId), 10_000, 'done');
      expect(done.type === 'done' && done.finishReason).toBe('cancelled');
      const text = tokensOf(socket.frames, messageId).map((t) => t.text).join('');
      expect(text.startsWith(soFar)).toBe(true);
      expect(tokensOf(socket.frames, messageId).length).toBeLessThan(200);
      socket.close();

      // Ended: nothing in flight, the partial reply stored as cancelled; a second cancel finds nothing.
      const after = (await adminOk(AdminSessionDetailSchema, gateway.url, 'GET', `/admin/sessions/${session.sessionId}`)).json;
      expect(after.inflight).toBeNull();
      expect(after.messages.at(-1)).toMatchObject({ id: messageId, role: 'assistant', status: 'cancelled' });
      const again = await admin(gateway.url, 'POST', `/admin/replies/${messageId}/cancel`);
      expect([again.status, again.json.error?.code]).toEqual([404, 'not_found']);
      expect((await admin(gateway.url, 'POST', '/admin/replies/no-such-reply/cancel')).status).toBe(404);
      expect((await admin(gateway.url, 'GET', '/admin/sessions/no-such-session')).status).toBe(404);
    } finally {
      await http(sim, 'POST', '/_sim/config', { body: { replyTokens: Number(SIM_DEFAULTS.SIM_REPLY_TOKENS), tokensPerSec: Number(SIM_DEFAULTS.SIM_TOKENS_PER_SEC) } });
    }
  }, 60_000);

  it('deleted by an admin closes its sockets on every gateway with 4100', async () => {
    const userId = unique('deleted');
    const session = await newSession(stack.gateways[0]!.url, { userId });
    const sockets = await Promise.all(stack.gateways.map((g, i) => connect(g.wsUrl, session.sessionId, `tab-${i}`, session.token)));
    const r = await admin(stack.gateways[1]!.url, 'DELETE', `/admin/sessions/${session.sessionId}`);
    expect(r.status).toBe(204);
    for (const socket of sockets) {
      await waitUntil(() => socket.closed, 5_000, 'the socket closed');
      expect(socket.closed?.code).toBe(4100);
      expect(socket.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'not_found' });
    }
    expect((await http(stack.gateways[0]!.url, 'GET', `/chat/session/${session.sessionId}`, { token: session.token })).status).toBe(404);
    expect((await adminOk(AdminSessionListSchema, stack.gateways[0]!.url, 'GET', `/admin/sessions?userId=${userId}`)).json.sessions).toEqual([]);
    expect((await admin(stack.gateways[0]!.url, 'DELETE', `/admin/sessions/${session.sessionId}`)).status).toBe(404);
  });
});

describe('the audit trail', () => {
  it('records the sign-in and every action, newest first, with who and from where', async () => {
    const base = stack.gateways[0]!.url;
    const who = await adminOk(AdminWhoAmISchema, base, 'GET', '/admin/whoami');
    expect([who.status, who.json]).toEqual([200, { who: 'admin-key' }]);
    const userId = unique('audited');
    await admin(base, 'POST', `/admin/users/${userId}/block`, { reason: 'testing the trail' });
    await admin(base, 'POST', `/admin/users/${userId}/unblock`);
    await admin(base, 'POST', `/admin/users/${userId}/budget/reset`);

    const r = await adminOk(AuditListSchema, stack.gateways[1]!.url, 'GET', '/admin/audit?limit=1000');
    const entries = r.json.entries;
    expect(entries.slice(0, 4).map((e) => [e.action, e.target])).toEqual([
      ['budget-reset', userId],
      ['unblock', userId],
      ['block', userId],
      ['sign-in', ''],
    ]);
    expect(entries[2]).toMatchObject({ who: 'admin-key', reason: 'testing the trail' });
    for (const e of entries) {
      expect(e.who).toBe('admin-key');
      expect(e.address).toMatch(/\d/);
      expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    }
    // The earlier tests' actions are there too.
    const actions = new Set<string>(entries.map((e) => e.action));
    for (const action of ['sign-in', 'block', 'unblock', 'budget-reset', 'cancel', 'delete-session']) expect(actions.has(action)).toBe(true);
    expect((await adminOk(AuditListSchema, base, 'GET', '/admin/audit?limit=2')).json.entries).toHaveLength(2);
  });
});

describe('a wrong credential', () => {
  const userId = unique('untouched');
  const routes: Array<[string, string, unknown?]> = [
    ['GET', '/admin/whoami'],
    ['GET', '/admin/fleet'],
    ['GET', '/admin/queue/failed'],
    ['GET', '/admin/series?minutes=5'],
    ['GET', '/admin/usage?top=5'],
    ['GET', `/admin/usage/users/${userId}`],
    ['GET', `/admin/users/${userId}`],
    ['POST', `/admin/users/${userId}/block`, { reason: 'nope' }],
    ['POST', `/admin/users/${userId}/unblock`],
    ['POST', `/admin/users/${userId}/budget/reset`],
    ['GET', `/admin/sessions?userId=${userId}`],
    ['GET', '/admin/sessions/some-session'],
    ['DELETE', '/admin/sessions/some-session'],
    ['POST', '/admin/replies/some-reply/cancel'],
    ['GET', '/admin/audit'],
  ];

  it('gets 401 on every admin route, sees nothing and changes nothing', async () => {
    const base = stack.gateways[0]!.url;
    const before = (await adminOk(AuditListSchema, base, 'GET', '/admin/audit?limit=1')).json.entries[0];
    for (const credential of [undefined, 'not-the-admin-key-0123456789', `${stack.adminApiKey}x`]) {
      for (const [method, path, body] of routes) {
        const r = await http<Refusal>(base, method, path, { ...(credential === undefined ? {} : { token: credential }), ...(body === undefined ? {} : { body }) });
        expect([method, path, r.status, r.json?.error?.code]).toEqual([method, path, 401, 'unauthorized']);
        expect(Object.keys(r.json as object)).toEqual(['error']);
      }
    }
    await sleep(1_500);
    expect((await adminOk(UserAccountSchema, base, 'GET', `/admin/users/${userId}`)).json.blocked).toBe(false);
    expect((await http(base, 'POST', '/chat/session', { body: { userId } })).status).toBe(201);
    // Nothing reached the trail.
    expect((await adminOk(AuditListSchema, base, 'GET', '/admin/audit?limit=1')).json.entries[0]).toEqual(before);
  });
});
