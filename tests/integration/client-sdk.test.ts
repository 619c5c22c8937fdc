// The client SDK against a real stack: two gateways, a worker, the simulator. A reply streams
// whole through events and async iteration; a drained gateway moves the socket to the other one
// and the reply resumes whole; cancel, refusals and a deleted session end replies with their codes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChatApi, ChatApiError, ChatClient, ConversationStore, type ChatSnapshot, type ReplyEvent } from '@chat-fleet/client';
import WebSocket from 'ws';
import { startTestStack, type TestStack } from '../support/test-stack.js';

let stack: TestStack;
const REPLY_TOKENS = 60;

beforeAll(async () => {
  // 60 tokens at 60/s: a reply streams for about a second, long enough to drain a gateway under it.
  stack = await startTestStack('client-sdk', {
    workers: 1,
    simEnv: { SIM_TTFT_MS: '50', SIM_TOKENS_PER_SEC: '60', SIM_REPLY_TOKENS: String(REPLY_TOKENS) },
    gatewayEnv: { RESUME_GRACE_MS: '500' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const gateways = (): string[] => stack.gateways.map((g) => g.url);
const client = (order = gateways()): ChatClient =>
  new ChatClient({ gateways: order, createSocket: (url) => new WebSocket(url, { perMessageDeflate: false }), sessionBody: { userId: `sdk-${Math.random().toString(36).slice(2, 8)}` } });

describe('@chat-fleet/client', () => {
  it('streams a reply whole as events and as an async iterator, with the stored history equal to it', async () => {
    const c = client();
    await c.connect();
    const reply = c.send(`Tell me something ${Date.now()}`);
    let tokens = '';
    reply.on('token', (text) => (tokens += text));
    const events: ReplyEvent[] = [];
    for await (const event of reply) events.push(event);
    const done = await reply.done();
    expect(done).toMatchObject({ status: 'done', finishReason: 'stop', duplicates: 0, gaps: 0 });
    expect(events[0]).toMatchObject({ type: 'ack', messageId: done.messageId });
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    const iterated = events.flatMap((e) => (e.type === 'token' ? [e.text] : [])).join('');
    expect(iterated).toBe(done.text);
    expect(tokens).toBe(done.text);
    expect(events.filter((e) => e.type === 'token')).toHaveLength(REPLY_TOKENS);
    const history = await c.api.history(c.session!);
    expect(history.messages.at(-1)).toMatchObject({ id: done.messageId, role: 'assistant', content: done.text });
    c.close();
  });

  it('moves to the other gateway when its gateway drains mid-reply and resumes the reply whole', async () => {
    const victim = stack.gateways[0]!;
    const c = client([victim.url, stack.gateways[1]!.url]);
    await c.connect();
    expect(c.instance).toBe(victim.instance);
    const reply = c.send(`Drain under me ${Date.now()}`);
    const seqs: number[] = [];
    reply.on('token', (_text, seq) => seqs.push(seq));
    await new Promise<void>((resolve) => {
      const off = reply.on('token', (_t, seq) => seq >= 10 && (off(), resolve()));
    });
    victim.process.kill('SIGTERM');
    const done = await reply.done();
    expect(done.resumes).toBeGreaterThanOrEqual(1);
    expect(c.instance).toBe(stack.gateways[1]!.instance);
    expect(seqs).toEqual(Array.from({ length: REPLY_TOKENS }, (_, i) => i + 1));
    expect(done).toMatchObject({ finishReason: 'stop', duplicates: 0, gaps: 0 });
    const history = await c.api.history(c.session!);
    expect(history.messages.at(-1)).toMatchObject({ id: done.messageId, content: done.text });
    c.close();
    await victim.restart();
  }, 60_000);

  it('cancels a streaming reply (done, cancelled) and routes a refusal to the message it refuses', async () => {
    const c = client();
    await c.connect();
    const reply = c.send(`Stop me ${Date.now()}`);
    await new Promise<void>((resolve) => reply.on('token', () => resolve()));
    reply.cancel();
    const stopped = await reply.done();
    expect(stopped.finishReason).toBe('cancelled');
    expect(stopped.text.length).toBeGreaterThan(0);

    const tooLong = c.send('x'.repeat(40_000));
    const outcome = await tooLong.finished;
    expect(outcome.status).toBe('error');
    if (outcome.status === 'error') expect(outcome.error.code).toBe('too_large');
    await expect(tooLong.done()).rejects.toMatchObject({ name: 'ReplyError', code: 'too_large' });
    // The client still works after a refusal.
    expect((await c.send(`Still here ${Date.now()}`).done()).finishReason).toBe('stop');
    c.close();
  }, 30_000);

  it('ends the open reply with session_gone when the session is deleted, and says so once', async () => {
    const c = client();
    await c.connect();
    const ended = new Promise((resolve) => c.on('ended', resolve));
    const reply = c.send(`Delete under me ${Date.now()}`);
    await new Promise<void>((resolve) => reply.on('token', () => resolve()));
    await new ChatApi({ gateways: gateways() }).deleteSession(c.session!);
    const outcome = await reply.finished;
    expect(outcome.status).toBe('error');
    if (outcome.status === 'error') expect(outcome.error.code).toBe('session_gone');
    expect(await ended).toMatchObject({ reason: 'session_ended', code: 4100 });
    expect((await c.send('too late').finished).status).toBe('error');
    await expect(c.api.history(c.session!)).rejects.toBeInstanceOf(ChatApiError);
    c.close();
  }, 30_000);

  it('REST errors carry the protocol code and status; a dead gateway is skipped for the next', async () => {
    const api = new ChatApi({ gateways: ['http://127.0.0.1:9', ...gateways()] });
    const session = await api.createSession({ userId: 'sdk-rest' });
    expect(api.gateway).toBe(stack.gateways[0]!.url);
    const err = await api.history({ sessionId: session.sessionId, token: 'not-a-token' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatApiError);
    expect(err).toMatchObject({ status: 401, code: 'unauthorized', sessionGone: true });
  });

  it('a ConversationStore shows the exchange live and the same conversation again from the history in a second store', async () => {
    const options = { gateways: gateways(), createSocket: (url: string) => new WebSocket(url), sessionBody: { userId: 'sdk-store' }, pageSize: 2 };
    const store = new ConversationStore(options);
    const until = (s: ConversationStore, pick: (v: ChatSnapshot) => boolean): Promise<ChatSnapshot> =>
      new Promise((resolve) => {
        const check = (): void => {
          const v = s.getSnapshot();
          if (pick(v)) {
            off();
            resolve(v);
          }
        };
        const off = s.subscribe(check);
        check();
      });
    const session = await store.open();
    await until(store, (v) => v.connection === 'connected');
    for (const n of [1, 2]) {
      expect(store.send(`Question ${n} ${Date.now()}`)).toBe(true);
      await until(store, (v) => v.messages.length === 2 * n && v.active === undefined && v.messages.at(-1)?.role === 'assistant' && v.messages.at(-1)?.status === 'done');
    }
    const live = store.getSnapshot().messages.map((m): [string, string] => [m.role, m.text]);
    expect(live).toHaveLength(4);
    expect(live.every(([, text]) => text.length > 0)).toBe(true);
    store.close();

    // A second store on the same session reads it back a page (2 messages) at a time.
    const again = new ConversationStore(options);
    await again.open({ session });
    const first = await until(again, (v) => !v.loading && v.messages.length > 0);
    expect(first.messages).toHaveLength(2);
    expect(first.history.hasMore).toBe(true);
    await again.loadOlder();
    const all = await until(again, (v) => v.messages.length === 4);
    expect(all.messages.map((m) => [m.role, m.text])).toEqual(live);
    again.close();
  }, 30_000);
});
