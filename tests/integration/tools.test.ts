// Tool calling and retrieval context on real processes: gateways, workers, the simulator (which
// calls tools deterministically) and the example MCP server over Streamable HTTP, with its test
// tools (slow, fail, explode, huge, strict) and its record of every call it received.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Reply } from '@chat-fleet/client';
import WebSocket from 'ws';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { api, connectedClient } from '../support/sdk-client.js';
import { expectWhole, recorded } from '../support/replies.js';
import { simRequests, waitUntil } from '../support/probes.js';

interface ToolCallRecord {
  name: string;
  arguments: Record<string, unknown>;
  idempotencyKey?: string;
  startedAt: string;
  endedAt?: string;
  cancelled: boolean;
}

/** A logged model request, with the tool messages' fields the simulator records. */
type ToolAwareRequest = { messages: Array<{ role: string; content?: unknown; tool_call_id?: string }> };

let stack: TestStack;
const TOOL_TIMEOUT_MS = 1500;
const MAX_RESULT_BYTES = 2000;
const MAX_STEPS = 2;

beforeAll(async () => {
  stack = await startTestStack('tools', {
    workers: 1,
    mcpTools: { testTools: true },
    env: { TOOL_TIMEOUT_MS: String(TOOL_TIMEOUT_MS), TOOL_RESULT_MAX_BYTES: String(MAX_RESULT_BYTES), TOOL_MAX_STEPS: String(MAX_STEPS), WORKER_LOCK_MS: '2000' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const toolsBase = (): string => stack.mcpTools!.url.replace(/\/mcp$/, '');

async function toolCalls(): Promise<ToolCallRecord[]> {
  const res = await fetch(`${toolsBase()}/_calls`);
  return ((await res.json()) as { calls: ToolCallRecord[] }).calls;
}

async function modelRequests(of: TestStack = stack): Promise<ToolAwareRequest[]> {
  return (await simRequests(of, 1000));
}

/** Resolves with the first tool_call of the reply. */
function firstToolCall(reply: Reply): Promise<void> {
  return new Promise((resolve) => {
    const off = reply.on('tool_call', () => {
      off();
      resolve();
    });
  });
}

describe('tool calls', () => {
  it('answers "is flight XY123 on time, and what is the rebooking policy?" after two tool calls, with the policy as a source', async () => {
    const { client, frames } = await connectedClient(stack.gateways);
    const reply = client.send('Is flight XY123 on time, and what is the rebooking policy?');
    const done = await reply.done();
    expect(done).toMatchObject({ finishReason: 'stop', duplicates: 0, gaps: 0, problem: undefined, cached: false });
    expect(reply.toolCalls.map((c) => [c.name, c.state, c.ok])).toEqual([
      ['flight_status', 'done', true],
      ['policy_search', 'done', true],
    ]);
    expect(reply.toolCalls[0]!.arguments).toEqual({ flight: 'XY123' });
    expect(reply.sources.map((s) => s.id)).toContain('rebooking');
    // On the wire: both calls before any result, the results before the answer's first token, token seqs 1..n.
    const own = frames.filter((f) => 'messageId' in f && f.messageId === done.messageId).map((f) => f.type);
    expect(own.indexOf('tool_call')).toBeLessThan(own.indexOf('tool_result'));
    expect(own.lastIndexOf('tool_result')).toBeLessThan(own.indexOf('token'));
    expectWhole(recorded(frames, done.messageId));
    // The answer uses what the tools said (the simulator quotes their results).
    expect(done.text).toMatch(/on time/i);
    expect(done.text).toMatch(/rebook/i);
    // Each call reached the MCP server once, with the idempotency key messageId:callId.
    const calls = (await toolCalls()).filter((c) => c.idempotencyKey?.startsWith(`${done.messageId}:`));
    expect(calls.map((c) => c.name).sort()).toEqual(['flight_status', 'policy_search']);
    expect(calls.map((c) => c.idempotencyKey).sort()).toEqual(reply.toolCalls.map((c) => `${done.messageId}:${c.callId}`).sort());
    // The history keeps the tool turns, and a follow-up question sends them back to the model.
    const history = await client.api.history(client.session!);
    const stored = history.messages.at(-1)!;
    expect(stored).toMatchObject({ id: done.messageId, role: 'assistant', content: done.text });
    expect(stored.tools?.map((t) => [t.step, t.name, t.ok])).toEqual([
      [0, 'flight_status', true],
      [0, 'policy_search', true],
    ]);
    expect(stored.sources?.map((s) => s.id)).toContain('rebooking');
    const followUp = await client.send('Thanks, and what gate was that again?').done();
    expect(followUp.finishReason).toBe('stop');
    const requests = await modelRequests();
    const last = requests.at(-1)!;
    expect(last.messages.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(reply.toolCalls.map((c) => c.callId));
    client.close();
  }, 30_000);

  it('gives the model an error result, not a failed reply, for a tool that times out, fails, throws or gets invalid arguments', async () => {
    const { client } = await connectedClient(stack.gateways);
    const started = (await toolCalls()).length;
    const reply = client.send(
      'Check these [[tool:slow {"ms": 5000}]] [[tool:fail {}]] [[tool:explode {}]] [[tool:strict {"count": "seven"}]] [[tool:flight_status {"flight": 12}]]',
    );
    const done = await reply.done();
    expect(done).toMatchObject({ finishReason: 'stop', gaps: 0, problem: undefined });
    const byName = Object.fromEntries(reply.toolCalls.map((c) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['explode', 'fail', 'flight_status', 'slow', 'strict']);
    for (const call of reply.toolCalls) expect(call).toMatchObject({ state: 'failed', ok: false });
    expect(byName['slow']!.summary).toMatch(new RegExp(`${TOOL_TIMEOUT_MS} ms`));
    expect(byName['strict']!.summary).toMatch(/invalid arguments/);
    // The model was told: every failure came back as an `error: …` tool message, and it answered.
    expect(done.text).toMatch(/failed/i);
    const after = (await toolCalls()).slice(started).map((c) => c.name);
    // Arguments the schema refuses never reach the server; the others did.
    expect(after).not.toContain('strict');
    expect(after).not.toContain('flight_status');
    expect(after.sort()).toEqual(['explode', 'fail', 'slow']);
    client.close();
  }, 30_000);

  it('cuts a result over TOOL_RESULT_MAX_BYTES and tells the model so', async () => {
    const { client } = await connectedClient(stack.gateways);
    const reply = client.send('Fetch it all [[tool:huge {"bytes": 50000}]]');
    const done = await reply.done();
    expect(done.finishReason).toBe('stop');
    expect(reply.toolCalls[0]).toMatchObject({ name: 'huge', ok: true, state: 'done' });
    expect(reply.toolCalls[0]!.summary).toMatch(/cut to 2000 bytes of 50000/);
    const toolMessage = (await modelRequests())
      .flatMap((r) => r.messages)
      .find((m) => m.role === 'tool' && m.tool_call_id === reply.toolCalls[0]!.callId);
    const content = typeof toolMessage?.content === 'string' ? toolMessage.content : '';
    expect(Buffer.byteLength(content)).toBeLessThan(MAX_RESULT_BYTES + 200);
    expect(content).toMatch(/only the first 2000 are shown/);
    client.close();
  }, 30_000);

  it('stops offering tools after TOOL_MAX_STEPS turns that called them, and the model answers', async () => {
    const { client } = await connectedClient(stack.gateways);
    const reply = client.send('Keep going [[tool-loop:strict {"count": 1, "label": "again"}]]');
    const done = await reply.done();
    expect(done.finishReason).toBe('stop');
    expect(reply.toolCalls).toHaveLength(MAX_STEPS);
    expect(reply.toolCalls.every((c) => c.name === 'strict' && c.ok === true)).toBe(true);
    const history = await client.api.history(client.session!);
    expect(history.messages.at(-1)!.tools?.map((t) => t.step)).toEqual([0, 1]);
    client.close();
  }, 30_000);

  it('cancel during a tool call aborts the call and ends the reply as cancelled', async () => {
    const { client } = await connectedClient(stack.gateways);
    const reply = client.send('Take your time [[tool:slow {"ms": 20000}]]');
    await firstToolCall(reply);
    // The call is running on the MCP server.
    const slow = await waitUntil(async () => (await toolCalls()).find((c) => c.name === 'slow' && c.idempotencyKey?.startsWith(`${reply.messageId}:`)), 5000, 'the slow call to start');
    expect(slow.endedAt).toBeUndefined();
    const cancelledAt = performance.now();
    reply.cancel();
    const done = await reply.done();
    expect(done.finishReason).toBe('cancelled');
    expect(performance.now() - cancelledAt).toBeLessThan(5000);
    const record = await waitUntil(async () => (await toolCalls()).find((c) => c.idempotencyKey === slow.idempotencyKey && c.cancelled), 5000, 'the server to see the cancel');
    expect(record.cancelled).toBe(true);
    client.close();
  }, 30_000);

  it('a resume across the tool frames sends them again in their place and no token twice', async () => {
    const { client, frames } = await connectedClient(stack.gateways);
    const done = await client.send('Is flight XY123 on time, and what is the rebooking policy?').done();
    const wire = frames.filter((f) => f.type !== 'ack' && 'messageId' in f && f.messageId === done.messageId);
    const tokens = wire.filter((f) => f.type === 'token');
    expect(tokens.length).toBeGreaterThan(2);
    const { sessionId, token } = client.session!;
    client.close();
    // A raw socket resumes from the start, then after the answer's second token.
    const socket = new WebSocket(stack.gateways[1]!.socketUrl(sessionId, 'resumer', token), { perMessageDeflate: false });
    const got: Array<{ type: string; seq?: number; callId?: string }> = [];
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as { type: string; messageId?: string; seq?: number; callId?: string };
        if (frame.type === 'ready') socket.send(JSON.stringify({ type: 'resume', messageId: done.messageId, afterSeq: 0 }));
        if (frame.messageId !== done.messageId) return;
        got.push(frame);
        if (frame.type === 'done') resolve();
      });
    });
    const fromStart = got.splice(0);
    expect(fromStart.map((f) => f.type)).toEqual(wire.map((f) => f.type));
    expect(fromStart.filter((f) => f.type === 'token').map((f) => f.seq)).toEqual(tokens.map((_, i) => i + 1));
    const afterSeq = 2;
    await new Promise<void>((resolve) => {
      socket.removeAllListeners('message');
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as { type: string; messageId?: string; seq?: number };
        if (frame.messageId !== done.messageId) return;
        got.push(frame);
        if (frame.type === 'done') resolve();
      });
      socket.send(JSON.stringify({ type: 'resume', messageId: done.messageId, afterSeq }));
    });
    const seqs = got.filter((f) => f.type === 'token').map((f) => f.seq);
    expect(seqs).toEqual(tokens.slice(afterSeq).map((_, i) => i + afterSeq + 1));
    // Every frame after the second token is there, in order; events before it may come again.
    const tail = wire.slice(wire.findIndex((f) => f.type === 'token' && f.seq === afterSeq) + 1).map((f) => f.type);
    expect(got.map((f) => f.type).slice(-tail.length)).toEqual(tail);
    socket.close();
  }, 30_000);

  it('never serves a reply that called a tool from the cache, nor shares it with an identical request in flight', async () => {
    const question = `Is flight XY123 on time? ${Date.now()}`;
    const a = await connectedClient(stack.gateways);
    const first = await a.client.send(question).done();
    expect(first.cached).toBe(false);
    // Same question, same context, in another session: the cache would hit if the reply were stored.
    const b = await connectedClient(stack.gateways);
    const again = b.client.send(question);
    const second = await again.done();
    expect(second).toMatchObject({ cached: false, coalesced: false });
    expect(again.toolCalls.map((c) => c.name)).toEqual(['flight_status']);
    // Two more at once: each calls the tool itself.
    const c = await connectedClient(stack.gateways);
    const d = await connectedClient(stack.gateways);
    const both = await Promise.all([c.client.send(question).done(), d.client.send(question).done()]);
    expect(both.map((r) => r.coalesced)).toEqual([false, false]);
    const keys = new Set(both.map((r) => r.messageId));
    const calls = (await toolCalls()).filter((call) => keys.has(call.idempotencyKey?.split(':')[0] ?? ''));
    expect(calls.map((call) => call.name)).toEqual(['flight_status', 'flight_status']);
    for (const x of [a, b, c, d]) x.client.close();
  }, 30_000);

  it('a worker killed mid-call: the reply restarts with reset, calls the tool again with the same key, and ends whole', async () => {
    const { client } = await connectedClient(stack.gateways);
    const reply = client.send('Wait for it [[tool:slow {"ms": 1200}]]');
    let resets = 0;
    reply.on('reset', () => resets++);
    await firstToolCall(reply);
    const victim = stack.workers[0]!;
    victim.process.kill('SIGKILL');
    await stack.addWorker();
    const done = await reply.done();
    expect(done).toMatchObject({ finishReason: 'stop', gaps: 0, problem: undefined });
    expect(resets).toBeGreaterThanOrEqual(1);
    const calls = (await toolCalls()).filter((c) => c.name === 'slow' && c.idempotencyKey?.startsWith(`${done.messageId}:`));
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(1);
    expect(reply.toolCalls).toHaveLength(1);
    client.close();
  }, 60_000);
});

describe('retrieval context', () => {
  let ctx: TestStack;
  beforeAll(async () => {
    ctx = await startTestStack('tools-context', { workers: 1, mcpTools: {}, env: { CONTEXT_TOOL: 'tools/policy_search' } });
  }, 60_000);
  afterAll(async () => {
    await ctx?.stop();
  });

  it('puts the passages for the user message into the prompt and names them in a sources frame first', async () => {
    const { client, frames } = await connectedClient(ctx.gateways);
    const done = await client.send('How much baggage can I bring?').done();
    expect(done.finishReason).toBe('stop');
    const own = frames.filter((f) => 'messageId' in f && f.messageId === done.messageId);
    const first = own.find((f) => f.type !== 'ack');
    expect(first?.type).toBe('sources');
    const sources = first?.type === 'sources' ? first.sources.map((s) => s.id) : [];
    expect(sources).toContain('baggage');
    // The reply's first model request: the one that ends with the user's message (a policy tool may follow).
    const request = (await modelRequests(ctx)).filter((r) => r.messages.at(-1)?.role === 'user').at(-1)!;
    const system = request.messages.filter((m) => m.role === 'system').map((m) => String(m.content));
    expect(system.some((text) => text.includes('[baggage]'))).toBe(true);
    // The passages sit just before the user's message.
    expect(request.messages.at(-2)!.role).toBe('system');
    const history = await api(ctx.gateways).history(client.session!);
    expect(history.messages.at(-1)!.sources?.map((s) => s.id)).toContain('baggage');
    client.close();
  }, 30_000);
});
