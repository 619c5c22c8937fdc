// Conversations (issue 20), on real gateways, a worker and the simulator: each user's list of
// sessions (newest activity first, titled by the first message, paged by cursor), renaming, a fresh
// token to reopen one, the session's language reaching the model, and regenerating the last reply
// (over a socket and over REST) in place of the old one, never from the cache, one at a time.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, decodeJwt } from 'jose';
import { http, connect, sendChat, tokensOf, type HttpAnswer, type Session, type TestSocket } from '../support/chat-client.js';
import { history, simRequests, type SimRequest } from '../support/probes.js';
import { api } from '../support/sdk-client.js';
import { SIM_DEFAULTS, useTestStack, type TestStack } from '../support/test-stack.js';

const USER_SECRET = 'the-product-login-hs256-secret-for-lists-0123456789';
const API_KEY = `backend-${Math.random().toString(36).slice(2)}-0123456789abcdef`;

interface Listed {
  sessionId: string;
  title: string;
  createdAt: string;
  updatedAt: string;
}
type ErrorAnswer = { error?: { code: string; message: string } };
type ListAnswer = ErrorAnswer & { sessions: Listed[]; nextBefore?: string };

const unique = (name: string): string => `${name}-${Math.random().toString(36).slice(2, 8)}`;

function list(base: string, token: string, query = ''): Promise<HttpAnswer<ListAnswer>> {
  return http<ListAnswer>(base, 'GET', `/chat/sessions${query}`, { token });
}

async function listed(base: string, token: string, query = ''): Promise<Listed[]> {
  const r = await list(base, token, query);
  if (r.status !== 200) throw new Error(`GET /chat/sessions answered ${r.status}: ${r.text}`);
  return r.json.sessions;
}

function rename(base: string, sessionId: string, token: string, title: unknown): Promise<HttpAnswer<{ sessionId: string; title: string } & ErrorAnswer>> {
  return http(base, 'PATCH', `/chat/session/${sessionId}`, { token, body: { title } });
}

function freshToken(base: string, sessionId: string, token: string | undefined): Promise<HttpAnswer<Session & ErrorAnswer>> {
  return http(base, 'POST', `/chat/session/${sessionId}/token`, token === undefined ? {} : { token });
}

async function create(base: string, body: Record<string, unknown>, credential?: string): Promise<Session> {
  const r = await http<Session>(base, 'POST', '/chat/session', { body, ...(credential === undefined ? {} : { token: credential }) });
  if (r.status !== 201) throw new Error(`POST /chat/session answered ${r.status}: ${r.text}`);
  return r.json;
}

async function chat(base: string, session: Session, content: string): Promise<{ messageId: string; reply: string; cached: boolean }> {
  const r = await http<{ messageId: string; reply: string; cached: boolean }>(base, 'POST', '/chat/message', { token: session.token, body: { sessionId: session.sessionId, content } });
  if (r.status !== 200) throw new Error(`POST /chat/message answered ${r.status}: ${r.text}`);
  return r.json;
}

const refusal = (r: HttpAnswer<ErrorAnswer | undefined>): [number, string | undefined] => [r.status, r.json?.error?.code];

/** The model calls whose last message is `content`, oldest first. */
async function callsFor(stack: TestStack, content: string): Promise<SimRequest[]> {
  return (await simRequests(stack)).filter((r) => r.messages.at(-1)?.content === content);
}

async function doneOf(socket: TestSocket, messageId: string): Promise<Extract<TestSocket['frames'][number], { type: 'done' }>> {
  return socket.until((fs) => fs.find((f): f is Extract<typeof f, { type: 'done' }> => f.type === 'done' && f.messageId === messageId), 20_000, `done of ${messageId}`);
}

/** Sends a regenerate and waits for its ack or its refusal. */
async function regenerate(socket: TestSocket): Promise<{ messageId: string } | { error: { code: string; message: string } }> {
  const id = unique('r');
  socket.send({ type: 'regenerate', id });
  const f = await socket.until((fs) => fs.find((x) => (x.type === 'ack' || x.type === 'error') && 'id' in x && x.id === id), 15_000, `ack of ${id}`);
  return f.type === 'ack' ? { messageId: f.messageId } : { error: f as { code: string; message: string } };
}

describe('AUTH_MODE=anonymous', () => {
  const stack = useTestStack('conversations', { workers: 1, gatewayEnv: { CHAT_API_KEYS: API_KEY } });

  it("lists a user's sessions newest first, titled by their first message as scrubbed, on any gateway", async () => {
    const [A, B] = [stack.gateways[0]!.url, stack.gateways[1]!.url];
    const userId = unique('lister');
    const first = await create(A, { userId });
    const second = await create(B, { userId });
    const third = await create(A, { userId });

    const before = await listed(B, third.token);
    expect(before.map((s) => s.sessionId)).toEqual([third.sessionId, second.sessionId, first.sessionId]);
    expect(before.map((s) => s.title)).toEqual(['', '', '']);
    for (const s of before) expect(s.updatedAt).toBe(s.createdAt);

    await chat(A, first, 'Write to me at jane.doe@example.com   about the trip');
    const long = 'Plan a whole week in Lisbon for two people who like museums, food and long walks by the river';
    await chat(B, second, long);
    await chat(A, second, 'and a second message does not change the title');

    const after = await listed(A, first.token);
    expect(after.map((s) => s.sessionId)).toEqual([second.sessionId, first.sessionId, third.sessionId]);
    const titles = Object.fromEntries(after.map((s) => [s.sessionId, s.title]));
    expect(titles[first.sessionId]).toBe('Write to me at [EMAIL] about the trip');
    expect(titles[second.sessionId]).toBe('Plan a whole week in Lisbon for two people who like…');
    expect([...titles[second.sessionId]!].length).toBeLessThanOrEqual(60);
    expect(titles[third.sessionId]).toBe('');
    const moved = after.find((s) => s.sessionId === first.sessionId)!;
    expect(Date.parse(moved.updatedAt)).toBeGreaterThan(Date.parse(moved.createdAt));

    // The history read shows the title too.
    const view = await http<{ title: string }>(B, 'GET', `/chat/session/${first.sessionId}`, { token: first.token });
    expect(view.json.title).toBe('Write to me at [EMAIL] about the trip');
  });

  it('pages with nextBefore: every session once, in order, though one moves up meanwhile', async () => {
    const A = stack.gateways[0]!.url;
    const userId = unique('pager');
    const sessions: Session[] = [];
    for (let i = 0; i < 5; i++) sessions.push(await create(A, { userId }));
    const token = sessions[0]!.token;
    const all = await listed(A, token, '?limit=100');
    expect(new Set(all.map((s) => s.sessionId))).toEqual(new Set(sessions.map((s) => s.sessionId)));
    const times = all.map((s) => Date.parse(s.updatedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const page1 = await list(A, token, '?limit=2');
    expect(page1.status).toBe(200);
    expect(page1.json.sessions.map((s) => s.sessionId)).toEqual(all.slice(0, 2).map((s) => s.sessionId));
    expect(page1.json.nextBefore).toEqual(expect.any(String));
    // The newest session of the next page gets a message: it moves to the top, and paging goes on
    // from where the first page ended without repeating or skipping any other.
    const bumped = sessions.find((s) => s.sessionId === all[2]!.sessionId)!;
    await chat(A, bumped, 'bump');
    const page2 = await list(A, token, `?limit=2&before=${encodeURIComponent(page1.json.nextBefore!)}`);
    expect(page2.json.sessions.map((s) => s.sessionId)).toEqual(all.slice(3, 5).map((s) => s.sessionId));
    expect(page2.json.nextBefore).toBeUndefined();
    expect((await listed(A, token, '?limit=1'))[0]!.sessionId).toBe(bumped.sessionId);

    expect(refusal(await list(A, token, '?limit=0'))).toEqual([400, 'bad_request']);
    expect(refusal(await list(A, token, '?limit=101'))).toEqual([400, 'bad_request']);
    expect(refusal(await list(A, token, '?before=not-a-cursor'))).toEqual([400, 'bad_request']);
  });

  it('renames a session: trimmed, control characters out, scrubbed; 1 to 120 characters', async () => {
    const [A, B] = [stack.gateways[0]!.url, stack.gateways[1]!.url];
    const userId = unique('renamer');
    const session = await create(A, { userId });
    await chat(A, session, 'first message');
    const renamed = await rename(B, session.sessionId, session.token, '  Call +44 20 7946 0958\u0007 about\n the   visa  ');
    expect([renamed.status, renamed.json]).toEqual([200, { sessionId: session.sessionId, title: 'Call [PHONE] about the visa' }]);
    expect((await listed(A, session.token))[0]).toMatchObject({ sessionId: session.sessionId, title: 'Call [PHONE] about the visa' });

    // A title given before the first message stays when the message comes.
    const early = await create(A, { userId });
    expect((await rename(A, early.sessionId, early.token, 'Named first')).status).toBe(200);
    await chat(A, early, 'this is not the title');
    expect((await listed(A, early.token)).find((s) => s.sessionId === early.sessionId)?.title).toBe('Named first');

    expect(refusal(await rename(A, session.sessionId, session.token, '   '))).toEqual([400, 'bad_request']);
    expect(refusal(await rename(A, session.sessionId, session.token, 'x'.repeat(121)))).toEqual([400, 'bad_request']);
    expect((await rename(A, session.sessionId, session.token, 'é'.repeat(120))).status).toBe(200);
    expect(refusal(await rename(A, session.sessionId, session.token, 42))).toEqual([400, 'bad_request']);
    expect(refusal(await rename(A, session.sessionId, 'nope', 'x'))).toEqual([401, 'unauthorized']);
  });

  it('a deleted session leaves the list', async () => {
    const A = stack.gateways[0]!.url;
    const userId = unique('deleter');
    const kept = await create(A, { userId });
    const gone = await create(A, { userId });
    expect((await listed(A, kept.token)).map((s) => s.sessionId)).toEqual([gone.sessionId, kept.sessionId]);
    await api(A).deleteSession(gone);
    expect((await listed(A, kept.token)).map((s) => s.sessionId)).toEqual([kept.sessionId]);
    expect(refusal(await rename(A, gone.sessionId, kept.token, 'too late'))).toEqual([404, 'not_found']);
  });

  it("another user's session is not listed, cannot be renamed and gives no token", async () => {
    const A = stack.gateways[0]!.url;
    const alice = await create(A, { userId: unique('alice') });
    const bob = await create(A, { userId: unique('bob') });
    expect((await listed(A, bob.token)).map((s) => s.sessionId)).toEqual([bob.sessionId]);
    expect(refusal(await rename(A, alice.sessionId, bob.token, 'mine now'))).toEqual([403, 'forbidden']);
    expect(refusal(await freshToken(A, alice.sessionId, bob.token))).toEqual([403, 'forbidden']);
    // A session created without a userId is nobody's list, and only its own token reaches it.
    const nobody = await create(A, {});
    expect((await listed(A, nobody.token)).length).toBe(0);
    expect(refusal(await rename(A, nobody.sessionId, bob.token, 'x'))).toEqual([403, 'forbidden']);
    expect((await rename(A, nobody.sessionId, nobody.token, 'mine')).status).toBe(200);
    expect(refusal(await list(A, 'not-a-token'))).toEqual([401, 'unauthorized']);
    expect(refusal(await http<ErrorAnswer>(A, 'GET', '/chat/sessions'))).toEqual([401, 'unauthorized']);
  });

  it('gives a fresh token of a session to a token of another session of the same user', async () => {
    const [A, B] = [stack.gateways[0]!.url, stack.gateways[1]!.url];
    const userId = unique('reopener');
    const older = await create(A, { userId });
    const newer = await create(A, { userId });
    const issued = await freshToken(B, older.sessionId, newer.token);
    expect(issued.status).toBe(201);
    expect(issued.json).toEqual({ sessionId: older.sessionId, token: expect.any(String), expiresAt: expect.any(String) });
    expect(decodeJwt(issued.json.token)).toMatchObject({ sub: older.sessionId, uid: userId, via: 'anonymous' });
    expect((await http(A, 'GET', `/chat/session/${older.sessionId}`, { token: issued.json.token })).status).toBe(200);
    expect(refusal(await freshToken(A, older.sessionId, undefined))).toEqual([401, 'unauthorized']);
    expect(refusal(await freshToken(A, 'no-such-session', newer.token))).toEqual([404, 'not_found']);
  });

  it('keeps an anonymous label apart from the same userId a backend vouched for', async () => {
    const A = stack.gateways[0]!.url;
    const userId = unique('carol');
    const vouched = await create(A, { userId }, API_KEY);
    const labelled = await create(A, { userId });
    expect((await listed(A, labelled.token)).map((s) => s.sessionId)).toEqual([labelled.sessionId]);
    expect((await listed(A, vouched.token)).map((s) => s.sessionId)).toEqual([vouched.sessionId]);
    expect(refusal(await freshToken(A, vouched.sessionId, labelled.token))).toEqual([403, 'forbidden']);
    expect(refusal(await rename(A, vouched.sessionId, labelled.token, 'x'))).toEqual([403, 'forbidden']);
  });

  it("asks the model to answer in the session's language, before its system prompt", async () => {
    const A = stack.gateways[0]!.url;
    const session = await create(A, { userId: unique('hablante'), locale: 'es', systemPrompt: 'Be brief.' });
    const content = `hola ${unique('q')}`;
    await chat(A, session, content);
    const [call] = await callsFor(stack, content);
    expect(call?.messages.slice(0, 3)).toEqual([
      { role: 'system', content: 'Reply in Spanish (es) unless the instructions below ask for another language.' },
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content },
    ]);
    const view = await http<{ locale: string }>(A, 'GET', `/chat/session/${session.sessionId}`, { token: session.token });
    expect(view.json.locale).toBe('es');

    const chinese = await create(A, { locale: 'zh-cn' });
    const other = `你好 ${unique('q')}`;
    await chat(A, chinese, other);
    expect((await callsFor(stack, other))[0]?.messages[0]).toEqual({ role: 'system', content: 'Reply in Chinese (zh-CN) unless the instructions below ask for another language.' });
    expect(refusal(await http<ErrorAnswer>(A, 'POST', '/chat/session', { body: { locale: 'not a tag!' } }))).toEqual([400, 'bad_request']);
    expect(refusal(await http<ErrorAnswer>(A, 'POST', '/chat/session', { body: { locale: `en-${'x'.repeat(40)}` } }))).toEqual([400, 'bad_request']);
  });

  it('regenerate replaces the last reply with a new one from the model, not the cache', async () => {
    const gw = stack.gateways[0]!;
    const session = await create(gw.url, { userId: unique('regen') });
    const socket = await connect(gw.wsUrl, session.sessionId, 'c1', session.token);
    try {
      const content = `Tell me about regenerating ${unique('q')}`;
      const sent = await sendChat(socket, content);
      if (!('messageId' in sent)) throw new Error(`refused: ${JSON.stringify(sent.error)}`);
      await doneOf(socket, sent.messageId);
      const [question, first] = await history(gw.url, session);
      expect([question?.role, first?.id]).toEqual(['user', sent.messageId]);

      const again = await regenerate(socket);
      if (!('messageId' in again)) throw new Error(`refused: ${JSON.stringify(again.error)}`);
      expect(again.messageId).not.toBe(sent.messageId);
      const done = await doneOf(socket, again.messageId);
      expect([done.cached, done.finishReason]).toEqual([false, 'stop']);
      const text = tokensOf(socket.frames, again.messageId)
        .map((t) => t.text)
        .join('');
      expect(tokensOf(socket.frames, again.messageId).map((t) => t.seq)).toEqual(Array.from({ length: done.seq }, (_, i) => i + 1));

      // The old reply is gone from the history, the new one answers the same question.
      expect(await history(gw.url, session)).toEqual([
        expect.objectContaining({ id: question!.id, role: 'user', content }),
        expect.objectContaining({ id: again.messageId, role: 'assistant', content: text }),
      ]);
      // Two model calls with the same context: the second did not take the cached reply.
      const calls = await callsFor(stack, content);
      expect(calls.length).toBe(2);
      expect(calls[1]!.messages).toEqual(calls[0]!.messages);
      // The context is cached: the same question in a new session is served from it.
      const elsewhere = await chat(stack.gateways[1]!.url, await create(gw.url, {}), content);
      expect(elsewhere.cached).toBe(true);
      expect((await callsFor(stack, content)).length).toBe(2);
    } finally {
      socket.close();
    }
  });

  it('regenerate is busy while a reply streams, and not_found with nothing to answer', async () => {
    const gw = stack.gateways[0]!;
    const empty = await create(gw.url, { userId: unique('empty') });
    const emptySocket = await connect(gw.wsUrl, empty.sessionId, 'c1', empty.token);
    try {
      const refused = await regenerate(emptySocket);
      expect('error' in refused && refused.error.code).toBe('not_found');
    } finally {
      emptySocket.close();
    }
    expect(refusal(await http<ErrorAnswer>(gw.url, 'POST', '/chat/message', { token: empty.token, body: { sessionId: empty.sessionId, regenerate: true } }))).toEqual([404, 'not_found']);
    expect(refusal(await http<ErrorAnswer>(gw.url, 'POST', '/chat/message', { token: empty.token, body: { sessionId: empty.sessionId, content: 'x', regenerate: true } }))).toEqual([400, 'bad_request']);

    const session = await create(gw.url, { userId: unique('busy') });
    const socket = await connect(gw.wsUrl, session.sessionId, 'c1', session.token);
    await http(stack.sim!.url, 'POST', '/_sim/config', { body: { ttftMs: 2000 } });
    try {
      const sent = await sendChat(socket, `a slow one ${unique('q')}`);
      if (!('messageId' in sent)) throw new Error(`refused: ${JSON.stringify(sent.error)}`);
      const busy = await regenerate(socket);
      expect('error' in busy && busy.error.code).toBe('busy');
      expect(refusal(await http<ErrorAnswer>(stack.gateways[1]!.url, 'POST', '/chat/message', { token: session.token, body: { sessionId: session.sessionId, regenerate: true } }))).toEqual([409, 'busy']);
      // Stopped, the partial reply stays marked as cancelled; a regenerate replaces it.
      socket.send({ type: 'cancel', messageId: sent.messageId });
      expect((await doneOf(socket, sent.messageId)).finishReason).toBe('cancelled');
    } finally {
      await http(stack.sim!.url, 'POST', '/_sim/config', { body: { ttftMs: Number(SIM_DEFAULTS.SIM_TTFT_MS) } });
    }
    try {
      expect((await history(gw.url, session)).at(-1)).toMatchObject({ id: expect.any(String), role: 'assistant', status: 'cancelled' });
      const rest = await http<{ messageId: string; reply: string; cached: boolean; finishReason: string }>(stack.gateways[1]!.url, 'POST', '/chat/message', {
        token: session.token,
        body: { sessionId: session.sessionId, regenerate: true },
      });
      expect([rest.status, rest.json.cached, rest.json.finishReason]).toEqual([200, false, 'stop']);
      const stored = await history(gw.url, session);
      expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(stored[1]).toEqual(expect.objectContaining({ id: rest.json.messageId, content: rest.json.reply }));
      expect(stored[1]!.status).toBeUndefined();
    } finally {
      socket.close();
    }
  }, 60_000);
});

describe('AUTH_MODE=jwt', () => {
  const secret = new TextEncoder().encode(USER_SECRET);
  const userToken = (sub: string): Promise<string> =>
    new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(secret);
  const stack = useTestStack('conversations-jwt', {
    workers: 1,
    gatewayEnv: { AUTH_MODE: 'jwt', USER_JWT_SECRET: USER_SECRET, RATE_LIMIT_USER_PER_MIN: '3' },
  });
  let alice: string;
  let bob: string;
  let aliceId: string;
  beforeAll(async () => {
    aliceId = unique('alice');
    [alice, bob] = await Promise.all([userToken(aliceId), userToken(unique('bob'))]);
  });

  it("lists by the user token, renames and reopens the user's own sessions only", async () => {
    const [A, B] = [stack.gateways[0]!.url, stack.gateways[1]!.url];
    const one = await create(A, {}, alice);
    const two = await create(B, { locale: 'fr' }, alice);
    const theirs = await create(A, {}, bob);
    expect((await listed(B, alice)).map((s) => s.sessionId)).toEqual([two.sessionId, one.sessionId]);
    expect((await listed(A, bob)).map((s) => s.sessionId)).toEqual([theirs.sessionId]);
    // A session token lists its user's sessions too.
    expect((await listed(A, one.token)).map((s) => s.sessionId)).toEqual([two.sessionId, one.sessionId]);

    expect((await rename(A, one.sessionId, alice, 'Lisbon')).json).toEqual({ sessionId: one.sessionId, title: 'Lisbon' });
    expect(refusal(await rename(A, one.sessionId, bob, 'mine'))).toEqual([403, 'forbidden']);

    const issued = await freshToken(B, two.sessionId, alice);
    expect(issued.status).toBe(201);
    expect(decodeJwt(issued.json.token)).toMatchObject({ sub: two.sessionId, uid: aliceId, via: 'jwt' });
    expect((await http<{ locale: string }>(A, 'GET', `/chat/session/${two.sessionId}`, { token: issued.json.token })).json.locale).toBe('fr');
    expect(refusal(await freshToken(A, two.sessionId, bob))).toEqual([403, 'forbidden']);
    expect(refusal(await http<ErrorAnswer>(A, 'GET', '/chat/sessions'))).toEqual([401, 'unauthorized']);
  });

  it("counts a regenerate against the user's message limit", async () => {
    const gw = stack.gateways[0]!;
    const session = await create(gw.url, {}, await userToken(unique('counted')));
    const socket = await connect(gw.wsUrl, session.sessionId, 'c1', session.token);
    try {
      const sent = await sendChat(socket, `count me ${unique('q')}`);
      if (!('messageId' in sent)) throw new Error(`refused: ${JSON.stringify(sent.error)}`);
      await doneOf(socket, sent.messageId);
      for (let i = 0; i < 2; i++) {
        const again = await regenerate(socket);
        if (!('messageId' in again)) throw new Error(`refused: ${JSON.stringify(again.error)}`);
        await doneOf(socket, again.messageId);
      }
      const limited = await regenerate(socket);
      expect('error' in limited && limited.error.code).toBe('rate_limited');
    } finally {
      socket.close();
    }
  }, 60_000);
});

