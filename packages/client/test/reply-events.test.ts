// A reply's tool calls and sources: decoded, routed to their reply, each once however often a resume
// sends them, dropped by a reset, and never part of the whole-reply rule or the async iteration.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ServerFrame } from '@chat-fleet/protocol';
import { ChatClient, Reply, decodeServerFrame, isReplyEvent, isReplyFrame, type ReplyEvent, type Source, type ToolCall } from '../src/index.js';
import type { ReplyHost } from '../src/reply.js';
import { FakeGateway } from './fake-gateway.js';

const usage = { promptTokens: 2, completionTokens: 2 };
const M = 'r1';
const call = (callId: string, name = 'flight_status', args: unknown = { flight: 'XY123' }) => ({ type: 'tool_call' as const, messageId: M, callId, name, arguments: args });
const result = (callId: string, ok: boolean, summary?: string, name = 'flight_status') => ({ type: 'tool_result' as const, messageId: M, callId, name, ok, ...(summary !== undefined ? { summary } : {}) });
const sources = (...list: Source[]) => ({ type: 'sources' as const, messageId: M, sources: list });
const token = (seq: number, text = `t${seq} `) => ({ type: 'token' as const, messageId: M, seq, text });
const done = (seq: number) => ({ type: 'done' as const, messageId: M, seq, finishReason: 'stop' as const, cached: false, usage });
const POLICY: Source = { id: 'p1', title: 'Rebooking policy', url: 'https://example.com/rebooking' };
const BAGS: Source = { id: 'p2', title: 'Baggage' };

/** The client side of a reply that only records the resumes it is asked for. */
function host(): ReplyHost & { resumes: number[] } {
  const resumes: number[] = [];
  return { resumes, cancel: () => undefined, resume: (r) => resumes.push(r.lastSeq) };
}

/** A reply fed decoded frames as the client routes them: events beside the text, the rest to the assembler. */
function feed(reply: Reply, frames: ServerFrame[]): void {
  for (const text of frames.map((f) => JSON.stringify(f))) {
    const frame = decodeServerFrame(text);
    if (frame === undefined || !isReplyFrame(frame)) continue;
    if (isReplyEvent(frame)) reply.event(frame);
    else reply.frame(frame);
  }
}

/** Every event a reply emits, in order, as [name, what it carried]. */
function record(reply: Reply): Array<[string, unknown]> {
  const seen: Array<[string, unknown]> = [];
  reply.on('tool_call', (c) => seen.push(['tool_call', c]));
  reply.on('tool_result', (c) => seen.push(['tool_result', c]));
  reply.on('sources', (s) => seen.push(['sources', s]));
  reply.on('token', (t) => seen.push(['token', t]));
  reply.on('reset', (a) => seen.push(['reset', a]));
  return seen;
}

describe('decoding', () => {
  it('knows the tool_call, tool_result and sources frames as frames of a reply, and still ignores unknown types', () => {
    for (const f of [call('c1'), result('c1', true, 'on time'), sources(POLICY)]) {
      const frame = decodeServerFrame(JSON.stringify(f))!;
      expect(frame).toEqual(f);
      expect(isReplyFrame(frame) && isReplyEvent(frame)).toBe(true);
    }
    expect(isReplyEvent(decodeServerFrame(JSON.stringify(token(1)))!)).toBe(false);
    expect(decodeServerFrame(JSON.stringify({ type: 'tool_progress', messageId: M, callId: 'c1' }))).toBeUndefined();
  });
});

describe('Reply', () => {
  it('merges calls with their answers in call order; events between tokens leave the reply whole', async () => {
    const reply = new Reply(M, 'q', host(), { messageId: M });
    const seen = record(reply);
    feed(reply, [call('c1'), call('c2', 'policy_search', { query: 'rebooking' }), result('c2', true, '1 passage', 'policy_search'), token(1), sources(POLICY), result('c1', false, 'timed out'), token(2), done(2)]);
    const outcome = await reply.done();
    expect(outcome).toMatchObject({ text: 't1 t2 ', problem: undefined, duplicates: 0, gaps: 0 });
    expect(reply.toolCalls).toEqual([
      { callId: 'c1', name: 'flight_status', arguments: { flight: 'XY123' }, ok: false, summary: 'timed out', state: 'failed' },
      { callId: 'c2', name: 'policy_search', arguments: { query: 'rebooking' }, ok: true, summary: '1 passage', state: 'done' },
    ]);
    expect(reply.sources).toEqual([POLICY]);
    expect(seen.map(([name, v]) => (name === 'tool_call' || name === 'tool_result' ? `${name}:${(v as ToolCall).callId}:${(v as ToolCall).state}` : name))).toEqual([
      'tool_call:c1:running',
      'tool_call:c2:running',
      'tool_result:c2:done',
      'token',
      'sources',
      'tool_result:c1:failed',
      'token',
    ]);
  });

  it('takes each call, answer and source once when a resume sends them again, and merges sources by id', () => {
    const h = host();
    const reply = new Reply(M, 'q', h, { messageId: M });
    const seen = record(reply);
    feed(reply, [call('c1'), result('c1', true, 'on time'), sources(POLICY), token(1)]);
    const calls = reply.toolCalls;
    // The stream again from the start, as after a resume from seq 0, then what follows.
    feed(reply, [call('c1'), result('c1', false, 'late copy'), sources(POLICY), token(1), sources(POLICY, BAGS), token(2), done(2)]);
    expect(reply.toolCalls).toBe(calls);
    expect(reply.toolCalls[0]).toMatchObject({ ok: true, summary: 'on time', state: 'done' });
    expect(reply.sources).toEqual([POLICY, BAGS]);
    expect(seen.filter(([name]) => name !== 'token')).toEqual([
      ['tool_call', expect.objectContaining({ callId: 'c1' })],
      ['tool_result', expect.objectContaining({ callId: 'c1' })],
      ['sources', [POLICY]],
      ['sources', [BAGS]],
    ]);
    // The repeated token counts as a duplicate (the rule's business); the events never do.
    expect(reply.result).toMatchObject({ status: 'done', duplicates: 1, gaps: 0, problem: undefined });
    expect(h.resumes).toEqual([]);
    // A source known under its id but changed replaces the old one in place.
    const renamed = { ...BAGS, title: 'Baggage rules' };
    const later = new Reply(M, 'q', host(), { messageId: M });
    feed(later, [sources(POLICY, BAGS), sources(renamed)]);
    expect(later.sources).toEqual([POLICY, renamed]);
  });

  it('drops the tool calls and sources of an attempt on reset (not on a stale one); the new attempt brings its own', () => {
    const reply = new Reply(M, 'q', host(), { messageId: M });
    const atReset: unknown[] = [];
    reply.on('reset', () => atReset.push([reply.toolCalls, reply.sources]));
    feed(reply, [call('c1'), result('c1', true), sources(POLICY), token(1), { type: 'reset', messageId: M, attempt: 2 }]);
    expect(atReset).toEqual([[[], []]]);
    feed(reply, [call('c1'), { type: 'reset', messageId: M, attempt: 1 }]);
    expect(reply.toolCalls).toMatchObject([{ callId: 'c1', state: 'running' }]);
    feed(reply, [result('c1', true, 'on time'), token(1, 'B'), done(1)]);
    expect(reply.result).toMatchObject({ text: 'B', problem: undefined });
    expect(reply.toolCalls).toMatchObject([{ callId: 'c1', state: 'done', summary: 'on time' }]);
  });

  it('answers that come without their call (a reader that joined late) still show, and nothing changes an ended reply', () => {
    const reply = new Reply(M, 'q', host(), { messageId: M });
    feed(reply, [result('c9', true, 'ok', 'tone_check'), token(1), done(1)]);
    expect(reply.toolCalls).toEqual([{ callId: 'c9', name: 'tone_check', arguments: undefined, ok: true, summary: 'ok', state: 'done' }]);
    feed(reply, [call('c10'), sources(POLICY)]);
    expect(reply.toolCalls).toHaveLength(1);
    expect(reply.sources).toEqual([]);
  });

  it('iterates over the text only: the events are not items', async () => {
    const reply = new Reply(M, 'q', host(), { messageId: M });
    const items: Promise<ReplyEvent[]> = (async () => {
      const out: ReplyEvent[] = [];
      for await (const e of reply) out.push(e);
      return out;
    })();
    feed(reply, [call('c1'), result('c1', true), token(1), sources(POLICY), token(2), done(2)]);
    expect((await items).map((e) => e.type)).toEqual(['ack', 'token', 'token', 'done']);
  });
});

// ---- the client over a scripted gateway ----

const clients: ChatClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function clientOn(gw: FakeGateway): ChatClient {
  const client = new ChatClient({ gateways: ['http://gw'], fetch: gw.fetch, createSocket: gw.createSocket, backoffBaseMs: 10 });
  clients.push(client);
  return client;
}

describe('ChatClient', () => {
  it('routes the events to their reply and, after a dropped socket, takes what the resume sends again once', async () => {
    const gw = new FakeGateway();
    gw.script.reply = (id) => [
      { ...call('c1'), messageId: id },
      { ...result('c1', true, 'on time'), messageId: id },
      { ...sources(POLICY), messageId: id },
      { ...token(1), messageId: id },
    ];
    // The gateway sends everything after the position again, events included.
    gw.script.resume = (f) => [
      { ...call('c1'), messageId: f.messageId },
      { ...result('c1', true, 'on time'), messageId: f.messageId },
      { ...sources(POLICY, BAGS), messageId: f.messageId },
      { ...call('c2', 'policy_search'), messageId: f.messageId },
      { type: 'surprise', messageId: f.messageId } as never,
      { ...token(2), messageId: f.messageId },
      { ...result('c2', true, '1 passage', 'policy_search'), messageId: f.messageId },
      { ...done(2), messageId: f.messageId },
    ];
    const client = clientOn(gw);
    await client.connect();
    const reply = client.send('Is XY123 on time?');
    const seen = record(reply);
    await new Promise<void>((resolve) => reply.on('token', () => resolve()));
    gw.sockets.at(-1)!.close(1006, 'dropped');
    const outcome = await reply.done();
    expect(gw.received).toContainEqual({ type: 'resume', messageId: outcome.messageId, afterSeq: 1, attempt: 1 });
    expect(outcome).toMatchObject({ text: 't1 t2 ', resumes: 1, duplicates: 0, gaps: 0, problem: undefined });
    expect(reply.toolCalls.map((c) => [c.callId, c.state, c.summary])).toEqual([
      ['c1', 'done', 'on time'],
      ['c2', 'done', '1 passage'],
    ]);
    expect(reply.sources).toEqual([POLICY, BAGS]);
    expect(seen.map(([name]) => name)).toEqual(['tool_call', 'tool_result', 'sources', 'token', 'sources', 'tool_call', 'token', 'tool_result']);
  });

  it('gives the events of a reply started elsewhere to the reply it announces', async () => {
    const gw = new FakeGateway();
    const client = clientOn(gw);
    await client.connect();
    const announced = new Promise<Reply>((resolve) => client.on('reply', resolve));
    const socket = gw.sockets.at(-1)!;
    socket.push(call('c1'));
    const reply = await announced;
    expect(reply.messageId).toBe(M);
    expect(reply.toolCalls).toMatchObject([{ callId: 'c1', state: 'running' }]);
    socket.push(token(1));
    socket.push(done(1));
    expect(await reply.done()).toMatchObject({ problem: undefined });
  });
});
