// Issue 14's ledger and budgets on real processes: every reply adds to its user's usage once, in
// the step that finishes it; a user's daily token budget holds across two gateways and two
// workers at once; a spent budget is refused before anything is queued.
import { describe, expect, it } from '@jest/globals';
import type { ReplyError } from '@chat-fleet/client';
import { FleetUsageSchema, UserUsageSchema, type FleetUsage, type UsageReport, type UserUsage } from '@chat-fleet/shared';
import { http, newSession } from '../support/chat-client.js';
import { writeArtifact as artifact } from '../support/artifacts.js';
import { endingOf, expectWhole } from '../support/replies.js';
import { api, connectedClient, type RecordingClient } from '../support/sdk-client.js';
import { useTestStack,  } from '../support/test-stack.js';

const usageOf = (base: string, token: string): Promise<UsageReport> => api(base).usage(token);

/** Clients (the SDK's) of one user, each on its own session, alternating over the gateways. */
function clientsOf(gateways: ReadonlyArray<{ url: string }>, userId: string, n: number): Promise<RecordingClient[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => connectedClient(gateways[i % gateways.length]!, { sessionBody: { userId } })));
}


describe('the usage ledger', () => {

  const stack = useTestStack('usage-ledger', {
    gateways: 2,
    workers: 2,
    // A priced model, so the ledger's cost is checked too (the simulator is otherwise free).
    workerEnv: { MODEL_PRICES: JSON.stringify({ 'gpt-4o-mini': { input: 0.15, output: 0.6 } }) },
  });

  it("equals, to the token, the usage the model reported for the user's replies; cache hits count as cached", async () => {
    const userId = `ledger-${Date.now()}`;
    const clients = await clientsOf(stack.gateways, userId, 6);
    const sessions = clients.map((c) => c.client.session!);
    const model = { prompt: 0, completion: 0, replies: 0 };
    let cached = 0;
    let replies = 0;
    // Four distinct questions, then two repeats of the first (served from the cache).
    const questions = ['What is a ledger?', 'Why count tokens?', 'How do budgets reset?', 'Who pays for the model?', 'What is a ledger?', 'What is a ledger?'];
    for (const [i, q] of questions.entries()) {
      const reply = await clients[i]!.client.send(q).done();
      expectWhole(endingOf(clients[i]!.frames, reply.messageId)!);
      replies++;
      if (reply.cached || reply.coalesced) cached += reply.usage.completionTokens;
      else {
        model.prompt += reply.usage.promptTokens;
        model.completion += reply.usage.completionTokens;
        model.replies++;
      }
    }
    expect(cached).toBeGreaterThan(0);
    const mine = await usageOf(stack.gateways[0]!.url, sessions[0]!.token);
    expect(mine.userId).toBe(userId);
    expect(mine.day).toMatchObject({ promptTokens: model.prompt, completionTokens: model.completion, cachedTokens: cached, replies });
    expect(mine.month).toEqual(mine.day);
    const expectedCost = (model.prompt * 0.15 + model.completion * 0.6) / 1e6;
    expect(mine.day.costUsd).toBeCloseTo(expectedCost, 9);
    // Any session of the user, on any gateway, reads the same ledger.
    expect((await usageOf(stack.gateways[1]!.url, sessions[5]!.token)).day).toEqual(mine.day);
    // A reply counts once: its job's retries (a restarted reply) do not add to it.
    artifact('usage-ledger', { userId, model, cached, replies, ledger: mine.day });
    for (const c of clients) c.client.close();
  }, 60_000);

  it('shows admins the heaviest users and the fleet, and no one else', async () => {
    const base = stack.gateways[1]!.url;
    const heavy = `heavy-${Date.now()}`;
    const light = `light-${Date.now()}`;
    for (const [userId, n] of [[heavy, 3], [light, 1]] as const) {
      for (let i = 0; i < n; i++) {
        const s = await newSession(base, { userId });
        const r = await http(base, 'POST', '/chat/message', { token: s.token, body: { sessionId: s.sessionId, content: `Admin view question ${i} for ${userId}` } });
        expect(r.status).toBe(200);
      }
    }
    const key = stack.adminApiKey;
    const r = await http<FleetUsage>(base, 'GET', '/admin/usage?top=1000', { token: key });
    expect(r.status).toBe(200);
    FleetUsageSchema.parse(r.json);
    const ids = r.json.users.map((u) => u.userId);
    expect(ids.indexOf(heavy)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(heavy)).toBeLessThan(ids.indexOf(light));
    const heavyRow = r.json.users.find((u) => u.userId === heavy)!;
    expect(heavyRow.day.replies).toBe(3);
    const fleetTokens = r.json.fleet.day.promptTokens + r.json.fleet.day.completionTokens + r.json.fleet.day.cachedTokens;
    const usersTokens = r.json.users.reduce((n, u) => n + u.day.promptTokens + u.day.completionTokens + u.day.cachedTokens, 0);
    expect(fleetTokens).toBe(usersTokens);
    const today = new Date().toISOString().slice(0, 10);
    const one = await http<UserUsage>(base, 'GET', `/admin/usage/users/${heavy}?from=${today}&to=${today}`, { token: key });
    expect(one.status).toBe(200);
    UserUsageSchema.parse(one.json);
    expect(one.json.range).toEqual(heavyRow.day);
    expect(Object.keys(one.json.day.byModel)).toEqual(['gpt-4o-mini']);
    expect((await http(base, 'GET', '/admin/usage')).status).toBe(401);
    const s = await newSession(base, { userId: heavy });
    expect((await http(base, 'GET', '/admin/usage', { token: s.token })).status).toBe(401);
    expect((await http(base, 'GET', '/admin/usage?top=0', { token: key })).status).toBe(400);
    expect((await http(base, 'GET', '/admin/usage?from=2026-13-01', { token: key })).status).toBe(400);
  });

  it('refuses GET /v1/usage without a valid token', async () => {
    expect((await http(stack.gateways[0]!.url, 'GET', '/v1/usage')).status).toBe(401);
    expect((await http(stack.gateways[0]!.url, 'GET', '/v1/usage', { token: 'not-a-token' })).status).toBe(401);
  });
});

describe('a daily token budget under concurrency', () => {
  const BUDGET = 1500;
  const MAX_REPLY_TOKENS = 60;

  const stack = useTestStack('usage-budget', {
    gateways: 2,
    workers: 2,
    env: { USER_DAILY_TOKENS: String(BUDGET), RATE_LIMIT_USER_PER_MIN: '0', RATE_LIMIT_USER_TOKENS_PER_MIN: '0' },
    workerEnv: { MAX_REPLY_TOKENS: String(MAX_REPLY_TOKENS), COALESCE: 'false', CACHE_TTL_SECONDS: '0' },
    simEnv: { SIM_TTFT_MS: '100', SIM_TOKENS_PER_SEC: '200', SIM_REPLY_TOKENS: '40' },
  });

  it('50 parallel messages of one user over two gateways and two workers overshoot it by at most one reply', async () => {
    const userId = `budget-${Date.now()}`;
    const opened = (await clientsOf(stack.gateways, userId, 50)).map((c) => ({ ...c, session: c.client.session! }));
    const outcomes = await Promise.all(opened.map(({ client }, i) => client.send(`Parallel budget question ${i}: tell me about number ${i * 7}`).finished));
    let spent = 0;
    let done = 0;
    const refusals: string[] = [];
    for (const outcome of outcomes) {
      if (outcome.status === 'error') {
        refusals.push(outcome.error.code);
        // Refused after its ack (by the worker): the error frame says when to try again.
        if (outcome.messageId !== undefined) expect(outcome.error.retryAfterMs).toBeGreaterThan(0);
        continue;
      }
      done++;
      spent += outcome.usage.promptTokens + outcome.usage.completionTokens;
    }
    for (const code of refusals) expect(code).toBe('quota_exceeded');
    const ledger = await usageOf(stack.gateways[0]!.url, opened[0]!.session.token);
    // The ledger holds exactly what the finished replies report.
    expect(ledger.day.promptTokens + ledger.day.completionTokens).toBe(spent);
    expect(ledger.day.replies).toBe(done);
    // The embedded simulator (no OPENAI_API_KEY, no MODEL_PRICES) costs nothing.
    expect(ledger.day.costUsd).toBe(0);
    const overshoot = Math.max(0, spent - BUDGET);
    expect(overshoot).toBeLessThanOrEqual(MAX_REPLY_TOKENS);
    expect(done).toBeGreaterThan(10);
    expect(refusals.length).toBeGreaterThan(0);

    // Spend the rest one message at a time: once the budget is spent, the next message is
    // refused at the gateway, before anything is queued, and still no reply passes the bound.
    const { client } = opened[0]!;
    let refusedAtGateway: ReplyError | undefined;
    for (let i = 0; i < 40 && refusedAtGateway === undefined; i++) {
      const next = await client.send(`One more, number ${i}?`).finished;
      // Refused before its ack: at the gateway, nothing queued.
      if (next.status === 'error' && next.messageId === undefined) refusedAtGateway = next.error;
    }
    expect(refusedAtGateway).toMatchObject({ code: 'quota_exceeded' });
    expect(refusedAtGateway?.retryAfterMs).toBeGreaterThan(0);
    const final = await usageOf(stack.gateways[1]!.url, opened[1]!.session.token);
    const total = final.day.promptTokens + final.day.completionTokens;
    expect(total).toBeLessThanOrEqual(BUDGET + MAX_REPLY_TOKENS);
    const rest = await http<{ error: { code: string } }>(stack.gateways[1]!.url, 'POST', '/chat/message', {
      token: opened[1]!.session.token,
      body: { sessionId: opened[1]!.session.sessionId, content: 'And over REST?' },
    });
    expect(rest.status).toBe(429);
    expect(rest.json.error.code).toBe('quota_exceeded');
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);
    artifact('usage-budget', { budget: BUDGET, maxReplyTokens: MAX_REPLY_TOKENS, messages: 50, done, refused: refusals.length, spentInParallel: spent, overshootInParallel: overshoot, spentAtTheEnd: total, overshootAtTheEnd: Math.max(0, total - BUDGET) });
    for (const { client } of opened) client.close();
  }, 120_000);
});
