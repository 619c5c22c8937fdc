// Bounded cost per caller, across gateways: sessions per address, sockets per session and per
// address (crash-safe), frames per socket, size caps, the order of a chat's checks, and paged
// history. Each test is its own caller: the gateways trust one proxy hop, so X-Forwarded-For
// names the address.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { redisKeys, type RedisClient } from '@chat-fleet/shared';
import { TestSocket, http, sendChat, type HttpAnswer, type Session } from '../support/chat-client.js';
import { testRedis } from '../support/test-redis.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

let stack: TestStack;
let redis: RedisClient;

beforeAll(async () => {
  stack = await startTestStack('abuse-limits', {
    workers: 1,
    env: {
      TRUSTED_PROXY_HOPS: '1',
      RATE_LIMIT_SESSIONS_PER_MIN: '5',
      MAX_SOCKETS_PER_SESSION: '3',
      MAX_SOCKETS_PER_ADDRESS: '4',
      WS_SOCKET_LEASE_MS: '3000',
      WS_FRAMES_PER_SEC: '5',
      WS_FRAME_BURST: '5',
      RATE_LIMIT_USER_PER_MIN: '3',
    },
  });
  redis = testRedis();
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

let nextAddress = 1;
/** A caller of its own for each test. */
const newAddress = (): string => `10.9.${Math.floor(nextAddress / 250)}.${nextAddress++ % 250}`;

function sessionAs(url: string, address: string, body: Record<string, unknown> = {}): Promise<HttpAnswer<Session & { error?: { code: string } }>> {
  return http(url, 'POST', '/chat/session', { body: { userId: `u-${Math.random().toString(36).slice(2)}`, ...body }, headers: { 'x-forwarded-for': address } });
}

async function mustSession(url: string, address: string, body: Record<string, unknown> = {}): Promise<Session> {
  const r = await sessionAs(url, address, body);
  if (r.status !== 201) throw new Error(`POST /chat/session answered ${r.status}: ${r.text}`);
  return r.json;
}

interface Refused {
  status: number;
  retryAfter: string | undefined;
  body: { error?: { code: string; message: string } };
}

/** Opens a socket from `address`: the socket after `ready`, or how the upgrade was refused. */
function openAs(wsBase: string, s: Session, clientId: string, address: string): Promise<TestSocket | Refused> {
  const ws = new WebSocket(`${wsBase}/ws/${s.sessionId}/${clientId}?token=${encodeURIComponent(s.token)}`, { headers: { 'x-forwarded-for': address } });
  const socket = new TestSocket(ws);
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const retryAfter: string | string[] | undefined = res.headers['retry-after'];
        const body = JSON.parse(text) as Refused['body'];
        resolve({ status: res.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : retryAfter?.[0], body });
      });
    });
    ws.once('error', reject);
    ws.once('open', () => {
      socket.until((fs) => fs.find((f) => f.type === 'ready'), 10_000, 'ready').then(() => resolve(socket), reject);
    });
  });
}

async function mustOpen(wsBase: string, s: Session, clientId: string, address: string): Promise<TestSocket> {
  const r = await openAs(wsBase, s, clientId, address);
  if (!(r instanceof TestSocket)) throw new Error(`upgrade refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

function expectRefused(r: TestSocket | Refused): Refused {
  if (r instanceof TestSocket) throw new Error('the socket was admitted');
  expect(r.status).toBe(429);
  expect(r.body.error?.code).toBe('rate_limited');
  expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
  return r;
}

async function rateLimited(limit: string): Promise<number> {
  let sum = 0;
  for (const g of stack.gateways) {
    if (!g.process.running) continue;
    const text = (await http(g.url, 'GET', '/metrics')).text;
    const m = new RegExp(`^chat_rate_limited_total\\{[^}]*limit="${limit}"[^}]*\\} (\\d+)`, 'm').exec(text);
    sum += Number(m?.[1] ?? 0);
  }
  return sum;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('sessions per address', () => {
  it('refuses the sixth session a minute from one address, whichever gateway it asks, with 429 and Retry-After', async () => {
    const address = newAddress();
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await sessionAs(stack.gateways[i % 2]!.url, address));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201, 429]);
    const refused = answers[5]!;
    expect(refused.json.error?.code).toBe('rate_limited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another address is not affected.
    expect((await sessionAs(stack.gateways[1]!.url, newAddress())).status).toBe(201);
    expect(await rateLimited('sessions')).toBeGreaterThanOrEqual(1);
  });

  it('refuses an oversize system prompt or metadata with 413 too_large, without counting it as a session', async () => {
    const address = newAddress();
    const url = stack.gateways[0]!.url;
    for (const body of [
      { systemPrompt: 'x'.repeat(4001) },
      { systemPrompt: 'y'.repeat(16_000) },
      { metadata: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(300)])) },
    ]) {
      const r = await sessionAs(url, address, body);
      expect(r.status).toBe(413);
      expect(r.json.error?.code).toBe('too_large');
    }
    // At the caps, and all five of the minute's sessions are still there.
    const answers = [];
    answers.push(await sessionAs(url, address, { systemPrompt: 'z'.repeat(4000) }));
    answers.push(await sessionAs(url, address, { metadata: { a: 'n'.repeat(1000), b: 'n'.repeat(1000), c: 'n'.repeat(1000), d: 'n'.repeat(900) } }));
    for (let i = 0; i < 3; i++) answers.push(await sessionAs(url, address));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
  });
});

describe('sockets per session and per address', () => {
  it('refuses a fourth socket of one session across both gateways, then admits one after a close', async () => {
    const address = newAddress();
    const [A, B] = [stack.gateways[0]!, stack.gateways[1]!];
    const s = await mustSession(A.url, address);
    const open = [await mustOpen(A.wsUrl, s, 'a', address), await mustOpen(B.wsUrl, s, 'b', address), await mustOpen(A.wsUrl, s, 'c', address)];
    const refused = expectRefused(await openAs(B.wsUrl, s, 'd', address));
    expect(refused.body.error?.message).toMatch(/session/);
    expect(await rateLimited('session_sockets')).toBeGreaterThanOrEqual(1);

    open[1]!.close();
    let again: TestSocket | Refused | undefined;
    for (let i = 0; i < 20; i++) {
      again = await openAs(B.wsUrl, s, 'd', address);
      if (again instanceof TestSocket) break;
      await sleep(100);
    }
    expect(again).toBeInstanceOf(TestSocket);
    for (const socket of [open[0]!, open[2]!, again as TestSocket]) socket.close();
  });

  it('refuses a fifth socket from one address across sessions and gateways', async () => {
    const address = newAddress();
    const [A, B] = [stack.gateways[0]!, stack.gateways[1]!];
    const s1 = await mustSession(A.url, address);
    const s2 = await mustSession(B.url, address);
    const open = [
      await mustOpen(A.wsUrl, s1, 'a', address),
      await mustOpen(B.wsUrl, s1, 'b', address),
      await mustOpen(A.wsUrl, s2, 'a', address),
      await mustOpen(B.wsUrl, s2, 'b', address),
    ];
    const refused = expectRefused(await openAs(A.wsUrl, s2, 'c', address));
    expect(refused.body.error?.message).toMatch(/address/);
    // The same session from another address is fine: it has room.
    const other = await mustOpen(A.wsUrl, s2, 'c', newAddress());
    expect(await rateLimited('address_sockets')).toBeGreaterThanOrEqual(1);
    for (const socket of [...open, other]) socket.close();
  });
});

describe('frames per socket', () => {
  it('answers frames over WS_FRAMES_PER_SEC with rate_limited and retryAfterMs, and closes a flooding socket with 4103', async () => {
    const address = newAddress();
    const gw = stack.gateways[0]!;
    const s = await mustSession(gw.url, address);
    const socket = await mustOpen(gw.wsUrl, s, 'f', address);

    // Within the rate: five at once (the burst), then five more a second later.
    for (let i = 0; i < 5; i++) socket.send({ type: 'ping' });
    await socket.until((fs) => fs.filter((f) => f.type === 'pong').length === 5 || undefined, 5000, '5 pongs');
    await sleep(1100);
    for (let i = 0; i < 5; i++) socket.send({ type: 'ping' });
    await socket.until((fs) => fs.filter((f) => f.type === 'pong').length === 10 || undefined, 5000, '10 pongs');
    expect(socket.frames.filter((f) => f.type === 'error')).toEqual([]);

    // A flood: the bucket's five, then refusals, then the close.
    for (let i = 0; i < 60; i++) socket.send({ type: 'ping' });
    await socket.until(() => socket.closed, 5000, 'the close').catch(() => undefined);
    expect(socket.closed?.code).toBe(4103);
    const errors = socket.frames.filter((f) => f.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const e of errors) {
      expect(e).toMatchObject({ code: 'rate_limited' });
      expect((e as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    }
    expect(socket.frames.filter((f) => f.type === 'pong').length).toBeLessThan(20);
    expect(await rateLimited('frames')).toBeGreaterThanOrEqual(1);
  });
});

describe('a chat refused by a limit', () => {
  it('is counted against the user limit before its text is looked at: over the limit even an oversize message is rate_limited', async () => {
    const address = newAddress();
    const gw = stack.gateways[1]!;
    const s = await mustSession(gw.url, address);
    const socket = await mustOpen(gw.wsUrl, s, 'c', address);
    // RATE_LIMIT_USER_PER_MIN is 3: three blank messages use it up.
    for (let i = 0; i < 3; i++) {
      const r = await sendChat(socket, ' ');
      expect(r).toMatchObject({ error: { code: 'bad_request' } });
    }
    const over = await sendChat(socket, 'x'.repeat(9000));
    expect(over).toMatchObject({ error: { code: 'rate_limited' } });
    expect('error' in over && over.error.retryAfterMs).toBeGreaterThan(0);
    socket.close();
  });
});

describe('GET /chat/session/:id paged', () => {
  it('answers the newest page, then older ones with ?before=, oldest first within each page', async () => {
    const address = newAddress();
    const gw = stack.gateways[0]!;
    const s = await mustSession(gw.url, address);
    // 118 earlier turns written straight into the history, then a real message and its reply.
    const history = redisKeys(stack.prefix).sessionHistory(s.sessionId);
    const earlier = Array.from({ length: 118 }, (_, i) =>
      JSON.stringify({ id: `m-${i}`, role: i % 2 === 0 ? 'user' : 'assistant', content: `turn ${i}: "id":"m-0"`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }),
    );
    await redis.rpush(history, ...earlier);
    const sent = await http<{ messageId: string }>(gw.url, 'POST', '/chat/message', { token: s.token, body: { sessionId: s.sessionId, content: 'The real one' }, headers: { 'x-forwarded-for': address } });
    expect(sent.status).toBe(200);

    type Page = { sessionId: string; createdAt: string; messages: Array<{ id: string; content: string }>; hasMore?: boolean; nextBefore?: string };
    const get = (query: string): Promise<HttpAnswer<Page>> => http<Page>(gw.url, 'GET', `/chat/session/${s.sessionId}${query}`, { token: s.token });

    const first = await get('');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ sessionId: s.sessionId, hasMore: true });
    expect(first.json.messages).toHaveLength(50);
    expect(first.json.messages.at(-1)!.id).toBe(sent.json.messageId);
    expect(first.json.messages.at(-2)!.content).toBe('The real one');
    expect(first.json.nextBefore).toBe(first.json.messages[0]!.id);

    const all = [...first.json.messages];
    let before = first.json.nextBefore;
    while (before !== undefined) {
      const page = await get(`?limit=30&before=${before}`);
      expect(page.status).toBe(200);
      expect(page.json.messages.length).toBeLessThanOrEqual(30);
      all.unshift(...page.json.messages);
      before = page.json.hasMore === true ? page.json.nextBefore : undefined;
    }
    expect(all.map((m) => m.id)).toEqual([...earlier.map((_, i) => `m-${i}`), all[118]!.id, sent.json.messageId]);

    const whole = await get('?limit=200');
    expect(whole.json.messages).toHaveLength(120);
    expect(whole.json.hasMore).toBe(false);
    expect(whole.json.nextBefore).toBeUndefined();
    expect((await get('?before=m-0')).json).toMatchObject({ messages: [], hasMore: false });
    for (const bad of ['?limit=0', '?limit=201', '?limit=ten', '?before=not%20an%20id']) {
      const r = await get(bad);
      expect(r.status).toBe(400);
    }
    expect((await get('?before=never-was')).status).toBe(404);
  });
});

describe('a gateway that crashes with sockets open', () => {
  it('stops counting its sockets within the lease time (WS_SOCKET_LEASE_MS)', async () => {
    const address = newAddress();
    const [A, B] = [stack.gateways[0]!, stack.gateways[1]!];
    const s = await mustSession(A.url, address);
    const onB = [await mustOpen(B.wsUrl, s, 'a', address), await mustOpen(B.wsUrl, s, 'b', address), await mustOpen(B.wsUrl, s, 'c', address)];
    expectRefused(await openAs(A.wsUrl, s, 'd', address));

    B.process.kill('SIGKILL');
    await Promise.all(onB.map((socket) => socket.until(() => socket.closed, 5000, 'the crash').catch(() => undefined)));
    const killedAt = performance.now();
    // Right after the crash its sockets still count: nothing released them.
    expectRefused(await openAs(A.wsUrl, s, 'd', address));

    let admitted: TestSocket | undefined;
    while (admitted === undefined && performance.now() - killedAt < 8000) {
      const r = await openAs(A.wsUrl, s, 'd', address);
      if (r instanceof TestSocket) admitted = r;
      else await sleep(200);
    }
    expect(admitted).toBeInstanceOf(TestSocket);
    expect(performance.now() - killedAt).toBeLessThan(4500);
    const more = [await mustOpen(A.wsUrl, s, 'e', address), await mustOpen(A.wsUrl, s, 'f', address)];
    for (const socket of [admitted!, ...more]) socket.close();
  });
});
