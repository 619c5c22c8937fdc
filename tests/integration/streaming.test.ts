// The foundation: a reply streams whole to every device of a session, across gateways.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Stack } from '@chat-fleet/stack';
import { generateReply } from '@chat-fleet/llm-sim';
import { assembleRecorded, type ReplyFrameLike } from '@chat-fleet/client';
import { UpgradeRefused, connect, http, newSession, sendChat, type TestSocket } from '../support/chat-client.js';
import { simRequests } from '../support/probes.js';
import { endingOf, expectWhole, replyOf } from '../support/replies.js';
import { connectedClient } from '../support/sdk-client.js';
import { SIM_DEFAULTS, startTestStack } from '../support/test-stack.js';

let stack: Stack;
let A: { url: string; wsUrl: string };
let B: { url: string; wsUrl: string };

const expected = (messages: Array<{ role: string; content: string }>): string =>
  generateReply(messages, 'gpt-4o-mini', { replyTokens: Number(SIM_DEFAULTS.SIM_REPLY_TOKENS), seed: 42 }).join('');

beforeAll(async () => {
  stack = await startTestStack('streaming');
  [A, B] = stack.gateways as unknown as [typeof A, typeof B];
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('streaming across gateways', () => {
  it('streams one reply whole to a socket on gateway B and a second device on gateway A', async () => {
    const s = await newSession(A.url);
    const onB = await connect(B.wsUrl, s.sessionId, 'phone', s.token);
    const onA = await connect(A.wsUrl, s.sessionId, 'laptop', s.token);
    try {
      const sent = await sendChat(onB, 'Say hello in five words.');
      if (!('messageId' in sent)) throw new Error(JSON.stringify(sent));
      const want = expected([{ role: 'user', content: 'Say hello in five words.' }]);

      for (const socket of [onB, onA]) {
        const reply = await socket.until((fs) => replyOf(fs, sent.messageId), 15_000, 'done');
        expectWhole(reply, Number(SIM_DEFAULTS.SIM_REPLY_TOKENS));
        expect(reply.text).toBe(want);
        expect(reply.done).toMatchObject({ cached: false, finishReason: 'stop' });
        expect(reply.done.usage.completionTokens).toBe(Number(SIM_DEFAULTS.SIM_REPLY_TOKENS));
        expect(reply.done.usage.promptTokens).toBeGreaterThan(0);
      }
      // The ack reached the sender before any frame of its reply.
      const ackAt = onB.frames.findIndex((f) => f.type === 'ack');
      const firstToken = onB.frames.findIndex((f) => f.type === 'token');
      expect(ackAt).toBeLessThan(firstToken);

      for (const gw of [A, B]) {
        const h = await http<{ sessionId: string; messages: Array<{ id: string; role: string; content: string }> }>(gw.url, 'GET', `/chat/session/${s.sessionId}`, { token: s.token });
        expect(h.status).toBe(200);
        expect(h.json.messages.map((m) => [m.role, m.content])).toEqual([
          ['user', 'Say hello in five words.'],
          ['assistant', want],
        ]);
        expect(h.json.messages[1]!.id).toBe(sent.messageId);
      }
    } finally {
      onA.close();
      onB.close();
    }
  });

  it('sends the whole history to the model on the next turn', async () => {
    // An ordinary client (the SDK's) of a session made on B, its socket on A.
    const s = await newSession(B.url, { systemPrompt: 'You are terse.' });
    const { client, frames } = await connectedClient(A, { session: s });
    try {
      const r1 = await client.send('first question').done();
      const r2 = await client.send('second question').done();
      for (const r of [r1, r2]) expectWhole(endingOf(frames, r.messageId)!);
      const context = [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: r1.text },
        { role: 'user', content: 'second question' },
      ];
      expect(r2.text).toBe(expected(context));
      const call = (await simRequests(stack, 200)).find((r) => r.messages.some((m) => m.content === 'second question'));
      expect(call?.stream).toBe(true);
      expect(call?.messages).toEqual(context);
    } finally {
      client.close();
    }
  });

  it('answers a second chat in the same session with busy while one streams', async () => {
    await http(stack.sim!.url, 'POST', '/_sim/config', { body: { tokensPerSec: 40 } });
    const s = await newSession(A.url);
    const sock = await connect(B.wsUrl, s.sessionId, 'c1', s.token);
    try {
      const first = await sendChat(sock, 'a long one');
      if (!('messageId' in first)) throw new Error(JSON.stringify(first));
      const second = await sendChat(sock, 'too soon');
      expect(second).toMatchObject({ error: { type: 'error', code: 'busy' } });
      const rest = await http(A.url, 'POST', '/chat/message', { token: s.token, body: { sessionId: s.sessionId, content: 'also too soon' } });
      expect(rest.status).toBe(409);
      expect(rest.json).toMatchObject({ error: { code: 'busy' } });
      expectWhole(await sock.until((fs) => replyOf(fs, first.messageId), 20_000));
      const third = await sendChat(sock, 'now it is free');
      expect('messageId' in third).toBe(true);
      if ('messageId' in third) expectWhole(await sock.until((fs) => replyOf(fs, third.messageId), 20_000));
    } finally {
      sock.close();
      await http(stack.sim!.url, 'POST', '/_sim/config', { body: { tokensPerSec: Number(SIM_DEFAULTS.SIM_TOKENS_PER_SEC) } });
    }
  });
});

describe('authentication at the upgrade', () => {
  it('refuses a socket without a valid token with 401 and an unknown session with 404', async () => {
    const s = await newSession(A.url);
    const other = await newSession(B.url);
    const status = async (p: Promise<TestSocket>): Promise<number> => {
      try {
        (await p).close();
        return 101;
      } catch (err) {
        if (err instanceof UpgradeRefused) return err.status;
        throw err;
      }
    };
    expect(await status(connect(B.wsUrl, s.sessionId, 'x'))).toBe(401);
    expect(await status(connect(B.wsUrl, s.sessionId, 'x', 'not-a-jwt'))).toBe(401);
    expect(await status(connect(B.wsUrl, s.sessionId, 'x', other.token))).toBe(401);
    expect(await status(connect(A.wsUrl, s.sessionId, 'x', `${s.token.slice(0, -2)}xx`))).toBe(401);
    expect(await status(connect(A.wsUrl, s.sessionId, 'bad id!', s.token))).toBe(400);
    expect(await status(connect(A.wsUrl, s.sessionId, 'ok', s.token))).toBe(101);
    const deleted = await newSession(A.url);
    expect((await http(B.url, 'DELETE', `/chat/session/${deleted.sessionId}`, { token: deleted.token })).status).toBe(204);
    expect(await status(connect(A.wsUrl, deleted.sessionId, 'x', deleted.token))).toBe(404);
  });

  it('refuses REST calls without the session token', async () => {
    const s = await newSession(A.url);
    const other = await newSession(A.url);
    expect((await http(B.url, 'GET', `/chat/session/${s.sessionId}`)).status).toBe(401);
    const foreign = await http(B.url, 'GET', `/chat/session/${s.sessionId}`, { token: other.token });
    expect(foreign.status).toBe(401);
    expect(foreign.json).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await http(B.url, 'POST', '/chat/message', { token: other.token, body: { sessionId: s.sessionId, content: 'hi' } })).status).toBe(401);
    expect((await http(B.url, 'DELETE', `/chat/session/${s.sessionId}`)).status).toBe(401);
  });
});

describe('REST chat', () => {
  it('answers POST /chat/message with JSON', async () => {
    const s = await newSession(A.url);
    const r = await http<{ messageId: string; reply: string; cached: boolean; usage: { completionTokens: number } }>(B.url, 'POST', '/chat/message', {
      token: s.token,
      body: { sessionId: s.sessionId, content: 'json please' },
    });
    expect(r.status).toBe(200);
    expect(r.json.reply).toBe(expected([{ role: 'user', content: 'json please' }]));
    expect(r.json.cached).toBe(false);
    expect(r.json.usage.completionTokens).toBe(Number(SIM_DEFAULTS.SIM_REPLY_TOKENS));
  });

  it('streams POST /chat/message as SSE token, done events', async () => {
    const s = await newSession(A.url);
    const res = await fetch(`${A.url}/chat/message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ sessionId: s.sessionId, content: 'sse please' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const body = await res.text();
    const events = body
      .split('\n\n')
      .filter(Boolean)
      .map((block) => {
        const name = /^event: (.+)$/m.exec(block)?.[1];
        const data = JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? 'null') as { type: string; seq?: number; text?: string };
        return { name, data };
      });
    expect(events[0]?.name).toBe('ack');
    const tokens = events.filter((e) => e.name === 'token');
    const reply = assembleRecorded(events.flatMap((e) => (e.name === 'ack' ? [] : [e.data as ReplyFrameLike])));
    expectWhole(reply, tokens.length);
    expect(reply.text).toBe(expected([{ role: 'user', content: 'sse please' }]));
    expect(events.at(-1)).toMatchObject({ name: 'done', data: { type: 'done', seq: tokens.length } });
    for (const e of events) expect(e.data.type).toBe(e.name);
  });

  it('answers bad input with the contract codes', async () => {
    const s = await newSession(A.url);
    const bad = await http(A.url, 'POST', '/chat/session', { body: '{nope' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: 'bad_request' } });
    const tooLong = await http(A.url, 'POST', '/chat/message', { token: s.token, body: { sessionId: s.sessionId, content: 'x'.repeat(8001) } });
    expect(tooLong.status).toBe(413);
    expect(tooLong.json).toMatchObject({ error: { code: 'too_large' } });
    const missing = await http(A.url, 'POST', '/chat/message', { token: s.token, body: { sessionId: s.sessionId } });
    expect(missing.status).toBe(400);
    expect((await http(A.url, 'GET', '/no/such/route')).status).toBe(404);
  });
});

describe('socket input', () => {
  it('answers malformed frames with bad_request and keeps the socket', async () => {
    const s = await newSession(A.url);
    const sock = await connect(A.wsUrl, s.sessionId, 'c1', s.token);
    try {
      sock.send('{not json');
      sock.send({ type: 'dance' });
      sock.send({ type: 'chat', content: 42 });
      sock.send({ type: 'chat', content: 'y'.repeat(8001) });
      // A binary frame, a frame over MAX_FRAME_BYTES (64 KiB), a bad id.
      sock.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
      sock.send({ type: 'chat', content: 'z'.repeat(70_000) });
      sock.send({ type: 'resume', messageId: 'bad id!', afterSeq: 0 });
      sock.send({ type: 'ping' });
      await sock.until((fs) => fs.find((f) => f.type === 'pong'));
      // A chat is counted against the user's limit (in Redis) before its text is checked, so
      // its `too_large` may come after the answers to later frames.
      await sock.until((fs) => fs.filter((f) => f.type === 'error').length >= 7 || undefined, 5_000, '7 errors');
      const errors = sock.frames.filter((f) => f.type === 'error');
      expect(errors.map((e) => (e.type === 'error' ? e.code : '')).sort()).toEqual([
        'bad_request',
        'bad_request',
        'bad_request',
        'bad_request',
        'bad_request',
        'too_large',
        'too_large',
      ]);
      for (const e of errors) expect(e.type === 'error' && e.message.length > 5).toBe(true);
      expect(sock.closed).toBeUndefined();

      // Invalid UTF-8 in a text frame fails the connection (RFC 6455 §8.1): that socket only.
      const broken = await connect(B.wsUrl, s.sessionId, 'c2', s.token);
      broken.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      await broken.until(() => broken.closed, 5_000, 'close').catch(() => undefined);
      expect(broken.closed).toBeDefined();
      sock.send({ type: 'ping' });
      await sock.until((fs) => fs.filter((f) => f.type === 'pong').length === 2 || undefined, 5_000, 'second pong');
      expect(sock.closed).toBeUndefined();
    } finally {
      sock.close();
    }
  });
});

describe('health', () => {
  it('reports ok, ready and metrics on every gateway and serves the web client', async () => {
    for (const gw of [A, B]) {
      const h = await http<{ status: string; redis: string; instance: string; connections: number; sessions: number }>(gw.url, 'GET', '/health');
      expect(h.status).toBe(200);
      expect(h.json).toMatchObject({ status: 'ok', redis: 'up' });
      expect(typeof h.json.instance).toBe('string');
      expect((await http(gw.url, 'GET', '/ready')).status).toBe(200);
      const m = await http(gw.url, 'GET', '/metrics');
      expect(m.text).toMatch(/^chat_messages_total\{result="accepted"/m);
      expect(m.text).toContain('chat_first_token_seconds_bucket');
    }
    // The web client (apps/web/dist): the page and its script, which renders the contract's test ids
    // (tests/e2e drives it in a browser).
    const page = await http(A.url, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const script = /<script type="module" crossorigin src="(\/assets\/[\w.-]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const js = await http(A.url, 'GET', script!);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    for (const id of ['chat-input', 'chat-send', 'chat-stop', 'connection-status']) expect(js.text).toContain(id);
    const w = await http(stack.workers[0]!.metricsUrl, 'GET', '/metrics');
    expect(w.text).toMatch(/^llm_tokens_total\{kind="completion"/m);
    expect(w.text).toContain('chat_queue_jobs');
  });
});
