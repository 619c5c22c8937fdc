// The conversation model (a value, changed by pure functions) and the ConversationStore over a real
// ChatClient talking to a scripted in-memory gateway (createSocket and fetch passed in).
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ServerFrame, StoredMessage } from '@chat-fleet/protocol';
import {
  EMPTY,
  ConversationStore,
  acknowledge,
  activeReply,
  addUserMessage,
  expectReply,
  fromHistory,
  markUnsent,
  pendingMessage,
  promptOf,
  removeMessage,
  updateReply,
  withNewer,
  withOlder,
  type AssistantMessage,
  type ChatSnapshot,
} from '../src/index.js';
import { FakeGateway } from './fake-gateway.js';

const stored = (id: string, role: StoredMessage['role'], content: string, status?: 'cancelled' | 'error'): StoredMessage => ({
  id,
  role,
  content,
  createdAt: '',
  ...(status ? { status } : {}),
});

describe('conversation model', () => {
  it('reads the stored history: users and replies with their status, no system prompt', () => {
    const messages = fromHistory([stored('s', 'system', 'be brief'), stored('u1', 'user', 'hi'), stored('m1', 'assistant', 'hello'), stored('m2', 'assistant', 'par', 'cancelled')]);
    expect(messages.map((m) => [m.role, m.key, m.text, m.status])).toEqual([
      ['user', 'u1', 'hi', 'sent'],
      ['assistant', 'm1', 'hello', 'done'],
      ['assistant', 'm2', 'par', 'cancelled'],
    ]);
    expect(activeReply({ messages })).toBeUndefined();
  });

  it('follows a message through ack and its reply, leaving untouched messages as they were', () => {
    let c = addUserMessage(EMPTY, 'c1', 'hello');
    expect(pendingMessage(c)?.key).toBe('c1');
    c = acknowledge(c, 'c1', 'm1', { EMAIL: 1 });
    expect(c.messages.map((m) => [m.key, m.status])).toEqual([
      ['c1', 'sent'],
      ['m1', 'waiting'],
    ]);
    expect(c.messages[0]).toMatchObject({ scrubbed: { EMAIL: 1 } });
    expect(activeReply(c)?.key).toBe('m1');
    const user = c.messages[0];
    c = updateReply(c, 'm1', { text: 'Hel', status: 'streaming' });
    expect(c.messages[0]).toBe(user);
    c = updateReply(c, 'm1', { text: 'Hello', status: 'done' });
    expect(activeReply(c)).toBeUndefined();
    // An ended reply stays as it ended; a patch that changes nothing returns the same value.
    expect(updateReply(c, 'm1', { text: 'late', status: 'streaming' })).toBe(c);
    expect(promptOf(c, 'm1')?.text).toBe('hello');
  });

  it('marks a refused message unsent and removes it for a retry', () => {
    const c = markUnsent(addUserMessage(EMPTY, 'c1', 'hi'), 'c1', 'Not sent: rate limit reached.');
    expect(c.messages[0]).toMatchObject({ status: 'unsent', note: 'Not sent: rate limit reached.' });
    expect(removeMessage(c, 'c1').messages).toEqual([]);
    expect(removeMessage(c, 'nope')).toBe(c);
  });

  it("reads a stored reply's tool calls (arguments parsed when they are JSON) and sources", () => {
    const reply: StoredMessage = {
      ...stored('m1', 'assistant', 'On time.'),
      tools: [
        { step: 0, callId: 'c1', name: 'flight_status', arguments: '{"flight":"XY123"}', ok: true, result: '{"status":"on time"}' },
        { step: 0, callId: 'c2', name: 'policy_search', arguments: 'not json', ok: false, result: 'timed out' },
      ],
      sources: [{ id: 'p1', title: 'Rebooking policy', url: 'https://example.com/rebooking' }],
    };
    const [message] = fromHistory([reply, stored('m2', 'assistant', 'plain')]) as AssistantMessage[];
    expect(message!.toolCalls).toEqual([
      { callId: 'c1', name: 'flight_status', arguments: { flight: 'XY123' }, ok: true, state: 'done' },
      { callId: 'c2', name: 'policy_search', arguments: 'not json', ok: false, state: 'failed' },
    ]);
    expect(message!.sources).toEqual([{ id: 'p1', title: 'Rebooking policy', url: 'https://example.com/rebooking' }]);
    expect(fromHistory([stored('m2', 'assistant', 'plain')])[0]).not.toHaveProperty('toolCalls');
  });

  it('puts older history pages first and newer messages last, never twice', () => {
    const c = { messages: fromHistory([stored('u2', 'user', 'b'), stored('m2', 'assistant', 'B')]) };
    const older = withOlder(c, [stored('u1', 'user', 'a'), stored('m1', 'assistant', 'A'), stored('u2', 'user', 'b')]);
    expect(older.messages.map((m) => m.key)).toEqual(['u1', 'm1', 'u2', 'm2']);
    expect(withOlder(older, [stored('u1', 'user', 'a')])).toBe(older);
    const carried = withNewer(older, [{ role: 'user', key: 'c9', text: 'lost', status: 'unsent' }]);
    expect(carried.messages.at(-1)?.key).toBe('c9');
    expect(expectReply(carried, 'm2', 'followed')).toBe(carried);
  });
});

// ---- the store over a scripted gateway ----

const usage = { promptTokens: 2, completionTokens: 2 };
const words = (messageId: string, finishReason: 'stop' | 'cancelled' = 'stop'): ServerFrame[] => [
  { type: 'token', messageId, seq: 1, text: 'Hel' },
  { type: 'token', messageId, seq: 1, text: 'Hel' }, // a duplicate: shown once
  { type: 'token', messageId, seq: 2, text: 'lo' },
  { type: 'done', messageId, seq: 2, finishReason, cached: false, usage },
];

const stores: ConversationStore[] = [];
function storeOn(gateway: FakeGateway, options: { pageSize?: number } = {}): ConversationStore {
  const store = new ConversationStore({ gateways: ['http://gw'], fetch: gateway.fetch, createSocket: gateway.createSocket, ...options });
  stores.push(store);
  return store;
}

/** Resolves with the first published snapshot that satisfies `test`. */
function until(store: ConversationStore, test: (s: ChatSnapshot) => boolean): Promise<ChatSnapshot> {
  return new Promise((resolve) => {
    if (test(store.getSnapshot())) return resolve(store.getSnapshot());
    const off = store.subscribe(() => {
      if (!test(store.getSnapshot())) return;
      off();
      resolve(store.getSnapshot());
    });
  });
}

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('ConversationStore', () => {
  it('opens a new session, sends, and shows the reply whole with its result', async () => {
    const gw = new FakeGateway();
    gw.script.reply = (id) => words(id);
    const store = storeOn(gw);
    const acks: string[] = [];
    store.on('ack', (m) => acks.push(m.key));
    const session = await store.open();
    expect(session.sessionId).toBe('s1');
    await until(store, (s) => s.connection === 'connected');
    expect(store.send('   ')).toBe(false);
    expect(store.send('hello')).toBe(true);
    // One message at a time: the next waits for this one's reply.
    expect(store.send('again')).toBe(false);
    const done = await until(store, (s) => s.messages.at(-1)?.status === 'done');
    expect(done.messages.map((m) => [m.role, m.text, m.status])).toEqual([
      ['user', 'hello', 'sent'],
      ['assistant', 'Hello', 'done'],
    ]);
    const reply = done.messages[1]!;
    expect(reply.role === 'assistant' && reply.result).toMatchObject({ finishReason: 'stop', duplicates: 1 });
    expect(reply.role === 'assistant' && reply.origin).toBe('sent');
    expect(acks).toEqual([done.messages[0]!.key]);
    expect(done.active).toBeUndefined();
    expect(store.canSend()).toBe(true);
  });

  it("shows a reply's tool calls as they run and answer, and its sources, before and after its text", async () => {
    const gw = new FakeGateway();
    gw.script.reply = (id) => [{ type: 'tool_call', messageId: id, callId: 'c1', name: 'flight_status', arguments: { flight: 'XY123' } }];
    const store = storeOn(gw);
    await store.open();
    await until(store, (s) => s.connection === 'connected');
    store.send('Is XY123 on time?');
    // The call runs while no token has come: the reply waits and shows it.
    const running = await until(store, (s) => s.active?.toolCalls?.length === 1);
    expect(running.active).toMatchObject({ status: 'waiting', text: '', toolCalls: [{ callId: 'c1', name: 'flight_status', state: 'running' }] });
    const messageId = running.active!.key;
    const socket = gw.sockets.at(-1)!;
    socket.push({ type: 'tool_result', messageId, callId: 'c1', name: 'flight_status', ok: true, summary: 'on time' });
    socket.push({ type: 'sources', messageId, sources: [{ id: 'p1', title: 'Rebooking policy' }] });
    socket.push({ type: 'token', messageId, seq: 1, text: 'Yes.' });
    socket.push({ type: 'done', messageId, seq: 1, finishReason: 'stop', cached: false, usage });
    const done = await until(store, (s) => s.messages.at(-1)?.status === 'done');
    expect(done.messages.at(-1)).toMatchObject({
      text: 'Yes.',
      toolCalls: [{ callId: 'c1', ok: true, summary: 'on time', state: 'done' }],
      sources: [{ id: 'p1', title: 'Rebooking policy' }],
      result: { problem: undefined, duplicates: 0, gaps: 0 },
    });
  });

  it('marks a refused message unsent, blocks sending until the refusal allows, and retries it', async () => {
    const gw = new FakeGateway();
    gw.script.refuse = { type: 'error', code: 'rate_limited', message: 'slow down', retryAfterMs: 150 };
    const store = storeOn(gw);
    const refusals: string[] = [];
    store.on('refused', (r) => refusals.push(r.code));
    await store.open();
    await until(store, (s) => s.connection === 'connected');
    store.send('one');
    const refused = await until(store, (s) => s.messages[0]?.status === 'unsent');
    expect(refused.messages[0]).toMatchObject({ note: 'Not sent: rate limit reached.' });
    expect(refused.refusal).toMatchObject({ code: 'rate_limited', retryAfterMs: 150, messageKey: refused.messages[0]!.key });
    expect(refused.blockedUntil).toBeGreaterThan(Date.now());
    expect(refusals).toEqual(['rate_limited']);
    expect(store.retry(refused.messages[0]!.key)).toBe(false);
    // Published again once the wait is over.
    await until(store, (s) => s.blockedUntil === 0);
    gw.script = { reply: (id) => words(id) };
    expect(store.retry(refused.messages[0]!.key)).toBe(true);
    const after = await until(store, (s) => s.messages.at(-1)?.status === 'done');
    expect(after.messages.map((m) => [m.role, m.status])).toEqual([
      ['user', 'sent'],
      ['assistant', 'done'],
    ]);
  });

  it('stops a reply: the cancel goes out and the reply ends cancelled', async () => {
    const gw = new FakeGateway();
    gw.script.reply = (id) => [{ type: 'token', messageId: id, seq: 1, text: 'Long…' }];
    const store = storeOn(gw);
    await store.open();
    await until(store, (s) => s.connection === 'connected');
    store.send('write at length');
    const streaming = await until(store, (s) => s.active?.status === 'streaming');
    store.stop();
    expect(store.getSnapshot().stopping || (await until(store, (s) => s.stopping)).stopping).toBe(true);
    const messageId = streaming.active!.key;
    expect(gw.received).toContainEqual({ type: 'cancel', messageId });
    gw.sockets.at(-1)!.push({ type: 'done', messageId, seq: 1, finishReason: 'cancelled', cached: false, usage });
    const stopped = await until(store, (s) => s.messages.at(-1)?.status === 'cancelled');
    expect(stopped.messages.at(-1)?.text).toBe('Long…');
    expect(stopped.stopping).toBe(false);
  });

  it('regenerates the last reply: the new one takes its place as it streams, and the old one stays when the gateway refuses', async () => {
    const gw = new FakeGateway();
    gw.script.reply = (id) => words(id);
    const store = storeOn(gw);
    await store.open();
    await until(store, (s) => s.connection === 'connected');
    expect(store.canRegenerate()).toBe(false); // nothing to answer again yet
    store.send('hello');
    const first = await until(store, (s) => s.messages.at(-1)?.status === 'done');
    const firstKey = first.messages[1]!.key;
    expect(store.canRegenerate()).toBe(true);

    gw.script.reply = (id) => [
      { type: 'token', messageId: id, seq: 1, text: 'Again' },
      { type: 'done', messageId: id, seq: 1, finishReason: 'stop', cached: false, usage },
    ];
    expect(store.regenerate()).toBe(true);
    // At once: the old reply is gone, a waiting one stands in its place and nothing else can go.
    const waiting = store.getSnapshot();
    expect(waiting.messages.map((m) => [m.role, m.status])).toEqual([
      ['user', 'sent'],
      ['assistant', 'waiting'],
    ]);
    expect(store.send('more')).toBe(false);
    expect(store.regenerate()).toBe(false);
    const again = await until(store, (s) => s.messages.at(-1)?.status === 'done');
    expect(again.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'hello'],
      ['assistant', 'Again'],
    ]);
    expect(again.messages[1]!.key).not.toBe(firstKey);
    expect(gw.received.filter((f) => f.type === 'regenerate')).toHaveLength(1);

    // A gateway that does not know the frame: the reply comes back and the refusal says so.
    gw.script.noRegenerate = true;
    const refusals: Array<[string, boolean | undefined]> = [];
    store.on('refused', (r) => refusals.push([r.code, r.regenerate]));
    expect(store.regenerate()).toBe(true);
    const back = await until(store, (s) => s.refusal !== undefined);
    expect(back.messages).toEqual(again.messages);
    expect(refusals).toEqual([['bad_request', true]]);
    expect(store.canRegenerate()).toBe(true);
  });

  it('loads the saved session page by page and follows the reply that was in flight', async () => {
    const gw = new FakeGateway();
    gw.history = Array.from({ length: 5 }, (_, i) => stored(`h${i}`, i % 2 === 0 ? 'user' : 'assistant', `m${i}`));
    const store = storeOn(gw, { pageSize: 2 });
    await store.open({ session: { sessionId: 's', token: 't' }, follow: ['h4', 'live'] });
    let view = store.getSnapshot();
    // h4 is in the history already: only `live` is followed.
    expect(view.messages.map((m) => m.key)).toEqual(['h3', 'h4', 'live']);
    expect(view.history.hasMore).toBe(true);
    await until(store, (s) => s.connection === 'connected');
    expect(gw.received).toContainEqual({ type: 'resume', messageId: 'live', afterSeq: 0, attempt: 1 });
    await store.loadOlder();
    await store.loadOlder();
    view = await until(store, (s) => !s.history.hasMore);
    expect(view.messages.map((m) => m.key)).toEqual(['h0', 'h1', 'h2', 'h3', 'h4', 'live']);
    gw.sockets.at(-1)!.push({ type: 'token', messageId: 'live', seq: 1, text: 'resumed' });
    gw.sockets.at(-1)!.push({ type: 'done', messageId: 'live', seq: 1, finishReason: 'stop', cached: false, usage });
    const done = await until(store, (s) => s.messages.at(-1)?.status === 'done');
    expect(done.messages.at(-1)).toMatchObject({ key: 'live', text: 'resumed', origin: 'followed' });
  });

  it('rejects open for a saved session that is gone, and reports an ended session with its unsent messages', async () => {
    const gw = new FakeGateway();
    gw.gone = true;
    const store = storeOn(gw);
    await expect(store.open({ session: { sessionId: 'old', token: 't' } })).rejects.toMatchObject({ status: 404, sessionGone: true });
    expect(store.getSnapshot().failure?.status).toBe(404);

    gw.gone = false;
    await store.open({ session: undefined });
    await until(store, (s) => s.connection === 'connected');
    gw.script = {}; // acks, then nothing
    const ended = new Promise<string>((resolve) => store.on('ended', (end) => resolve(end.reason)));
    // A message waiting for its ack when the gateway closes the session's sockets with 4100.
    const socket = gw.sockets.at(-1)!;
    socket.onmessage = null; // the ack is lost with the socket
    store.send('lost');
    socket.close(4100, 'session deleted');
    expect(await ended).toBe('session_ended');
    expect(store.unsent()).toMatchObject([{ text: 'lost', status: 'unsent', note: 'Not sent: the chat had ended.' }]);
    await store.newSession({ carryUnsent: true });
    const fresh = await until(store, (s) => s.connection === 'connected');
    expect(fresh.ended).toBeUndefined();
    expect(fresh.messages).toMatchObject([{ text: 'lost', status: 'unsent' }]);
  });
});
