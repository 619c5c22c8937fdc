// Observability across processes: one trace per message spanning gateway and worker (exported
// over real OTLP/HTTP to a receiver in the test), metrics that move on both processes, logs that
// carry the ids and never a secret or a message's text, and health with its extra fields.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, http, newSession, sendChat, UpgradeRefused, type TestSocket } from '../support/chat-client.js';
import { expectWhole, replyOf } from '../support/replies.js';
import { OtlpReceiver, type ReceivedSpan } from '@chat-fleet/stack';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const API_KEY = `sk-observability-${Math.random().toString(36).slice(2)}`;
const AUTH_SECRET = `auth-secret-${Math.random().toString(36).slice(2)}-0123456789abcdef`;

let stack: TestStack;
let otlp: OtlpReceiver;

beforeAll(async () => {
  otlp = await OtlpReceiver.start();
  stack = await startTestStack('observability', {
    workers: 1,
    env: {
      AUTH_SECRET,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    workerEnv: { OPENAI_API_KEY: API_KEY },
  });
});

afterAll(async () => {
  await stack?.stop();
  await otlp?.close();
});

/** Sum of the samples of `name` whose labels include `labels`, from Prometheus text. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}

async function scrape(url: string): Promise<string> {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
}

async function chatOnce(gateway: { url: string; wsUrl: string }, content: string): Promise<{ sessionId: string; token: string; messageId: string; socket: TestSocket }> {
  const session = await newSession(gateway.url);
  const socket = await connect(gateway.wsUrl, session.sessionId, 'c', session.token);
  const sent = await sendChat(socket, content);
  if (!('messageId' in sent)) throw new Error(`refused: ${JSON.stringify(sent.error)}`);
  expectWhole(await socket.until((fs) => replyOf(fs, sent.messageId), 15_000, 'done'));
  return { sessionId: session.sessionId, token: session.token, messageId: sent.messageId, socket };
}

/** The spans of the trace whose gateway `chat.message` span names `messageId`, once the worker's are in too. */
async function traceOf(messageId: string, workerSpans: string[]): Promise<ReceivedSpan[]> {
  return otlp.until(
    (spans) => {
      const root = spans.find((s) => s.name === 'chat.message' && s.attributes['chat.message_id'] === messageId);
      if (root === undefined) return undefined;
      const trace = spans.filter((s) => s.traceId === root.traceId);
      return workerSpans.every((n) => trace.some((s) => s.service === 'chat-llm-worker' && s.name === n)) ? trace : undefined;
    },
    15_000,
    `the trace of ${messageId}`,
  );
}

const isRedis = (s: ReceivedSpan): boolean => (s.attributes['db.system.name'] ?? s.attributes['db.system']) === 'redis';

const one = (spans: ReceivedSpan[], name: string, service?: string): ReceivedSpan => {
  const found = spans.filter((s) => s.name === name && (service === undefined || s.service === service));
  if (found.length !== 1) throw new Error(`expected one ${name} span, found ${found.length}: ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
};

describe('observability', () => {
  const content = `observability probe ${Math.random().toString(36).slice(2)} tell me about tides`;
  let first: Awaited<ReturnType<typeof chatOnce>>;
  let second: Awaited<ReturnType<typeof chatOnce>>;
  let before: { gateway: string; worker: string };

  beforeAll(async () => {
    const gateway = stack.gateways[0]!;
    before = { gateway: await scrape(gateway.url), worker: await scrape(stack.workers[0]!.metricsUrl) };
    first = await chatOnce(gateway, content);
    // The same question in a fresh session: answered from the response cache.
    second = await chatOnce(gateway, content);
    first.socket.close();
    second.socket.close();
  });

  it('one trace links the gateway and the worker: receive, queue wait, job, model call, first token, done', async () => {
    const spans = await traceOf(first.messageId, ['chat.queue_wait', 'chat.generate', 'llm.call']);
    const message = one(spans, 'chat.message', 'chat-gateway');
    const accept = one(spans, 'chat.accept', 'chat-gateway');
    const wait = one(spans, 'chat.queue_wait', 'chat-llm-worker');
    const generate = one(spans, 'chat.generate', 'chat-llm-worker');
    const call = one(spans, 'llm.call', 'chat-llm-worker');

    expect(message.parentSpanId).toBeUndefined();
    expect(accept.parentSpanId).toBe(message.spanId);
    expect(wait.parentSpanId).toBe(message.spanId);
    expect(generate.parentSpanId).toBe(message.spanId);
    expect(call.parentSpanId).toBe(generate.spanId);
    expect(message.instance).toBe(stack.gateways[0]!.instance);
    expect(generate.instance).toBe(stack.workers[0]!.instance);

    // The model's HTTP request (instrumented fetch) is a child of the model call.
    const request = spans.find((s) => s.parentSpanId === call.spanId && s.service === 'chat-llm-worker' && /POST/.test(s.name));
    expect(request).toBeDefined();
    expect(String(request!.attributes['url.full'] ?? request!.attributes['http.url'] ?? '')).toContain('/v1/chat/completions');
    // Redis commands of the accept path are children of the accept span.
    expect(spans.some((s) => s.parentSpanId === accept.spanId && isRedis(s))).toBe(true);

    // Ordering: the wait ends when the job starts, and the worker's spans lie within the
    // message's. The wait starts at the gateway's wall clock and spans are timed on each
    // process's monotonic clock, so allow them 50 ms apart.
    expect(Math.abs(wait.endMs - generate.startMs)).toBeLessThan(50);
    expect(generate.startMs).toBeGreaterThan(message.startMs - 50);
    expect(generate.endMs).toBeLessThan(message.endMs + 50);
    expect(call.startMs).toBeGreaterThanOrEqual(generate.startMs);
    expect(call.endMs).toBeLessThanOrEqual(generate.endMs);

    expect(generate.attributes).toMatchObject({ 'chat.message_id': first.messageId, 'chat.cache_hit': false, 'chat.source': 'model', 'chat.attempt': 1, 'chat.finish_reason': 'stop' });
    expect(generate.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(call.events.map((e) => e.name)).toContain('first_token');
    expect(message.events.map((e) => e.name)).toEqual(expect.arrayContaining(['first_token', 'done']));
    expect(message.attributes).toMatchObject({ 'chat.session_id': first.sessionId, 'chat.cache_hit': false, 'chat.transport': 'ws' });

    // Token frames are written untraced; no span carries the message's text.
    expect(spans.filter((s) => isRedis(s)).length).toBeLessThan(60);
    expect(JSON.stringify(spans)).not.toContain('tell me about tides');
  });

  it('a cache hit is a trace without a model call, marked as a hit', async () => {
    const spans = await traceOf(second.messageId, ['chat.generate']);
    const generate = one(spans, 'chat.generate', 'chat-llm-worker');
    expect(generate.attributes).toMatchObject({ 'chat.cache_hit': true, 'chat.source': 'cache' });
    expect(spans.some((s) => s.name === 'llm.call')).toBe(false);
    expect(one(spans, 'chat.message', 'chat-gateway').attributes['chat.cache_hit']).toBe(true);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  });

  it('metrics move on the gateway and the worker, with bounded labels only', async () => {
    const gateway = await scrape(stack.gateways[0]!.url);
    const worker = await scrape(stack.workers[0]!.metricsUrl);
    const moved = (text: string, old: string, name: string, labels: Record<string, string> = {}): number => metric(text, name, labels) - metric(old, name, labels);

    expect(moved(gateway, before.gateway, 'chat_messages_total', { result: 'completed' })).toBe(2);
    expect(moved(gateway, before.gateway, 'chat_first_token_seconds_count')).toBe(2);
    expect(moved(gateway, before.gateway, 'chat_response_seconds_count')).toBe(2);
    expect(moved(gateway, before.gateway, 'chat_accept_seconds_count')).toBe(2);
    expect(moved(gateway, before.gateway, 'chat_cache_requests_total', { result: 'hit' })).toBe(1);
    expect(moved(gateway, before.gateway, 'chat_cache_requests_total', { result: 'miss' })).toBe(1);
    expect(metric(gateway, 'chat_redis_up', { client: 'commands' })).toBe(1);
    expect(metric(gateway, 'chat_inflight_replies')).toBe(0);
    expect(metric(gateway, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    expect(moved(worker, before.worker, 'chat_queue_wait_seconds_count')).toBe(2);
    expect(moved(worker, before.worker, 'llm_replies_total', { source: 'model' })).toBe(1);
    expect(moved(worker, before.worker, 'llm_replies_total', { source: 'cache' })).toBe(1);
    expect(moved(worker, before.worker, 'llm_request_duration_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(moved(worker, before.worker, 'llm_tokens_total', { kind: 'completion' })).toBeGreaterThan(0);
    expect(metric(worker, 'chat_redis_command_seconds_count', { client: 'commands' })).toBeGreaterThan(0);
    expect(metric(worker, 'chat_redis_up', { client: 'bullmq' })).toBe(1);

    // Never a session, user or message id in a label.
    for (const text of [gateway, worker]) {
      for (const id of [first.sessionId, first.messageId, second.sessionId, second.messageId]) expect(text).not.toContain(id);
    }
  });

  it('counts resumes, cancels and socket closes by result', async () => {
    const gateway = stack.gateways[0]!;
    const old = await scrape(gateway.url);
    const socket = await connect(gateway.wsUrl, first.sessionId, 'again', first.token);
    socket.send({ type: 'resume', messageId: first.messageId, afterSeq: 0 });
    await socket.until((fs) => replyOf(fs, first.messageId), 10_000, 'the replayed reply');
    socket.send({ type: 'resume', messageId: 'no-such-reply', afterSeq: 0 });
    await socket.until((fs) => fs.find((f) => f.type === 'error' && f.code === 'not_found'), 10_000, 'not_found');
    socket.send({ type: 'cancel', messageId: first.messageId });
    await new Promise((r) => setTimeout(r, 300));
    socket.close();
    await new Promise((r) => setTimeout(r, 300));
    const now = await scrape(gateway.url);
    const moved = (name: string, labels: Record<string, string>): number => metric(now, name, labels) - metric(old, name, labels);
    expect(moved('chat_resumes_total', { result: 'replayed' })).toBe(1);
    expect(moved('chat_resumes_total', { result: 'not_found' })).toBe(1);
    expect(moved('chat_cancels_total', { result: 'finished' })).toBe(1);
    expect(moved('chat_ws_closes_total', { code: '1005' }) + moved('chat_ws_closes_total', { code: '1000' })).toBe(1);
  });

  it('logs are JSON lines with instance, session, message and trace ids, and never a token, key or message text', async () => {
    // A refused upgrade with a token in the URL must not leave the token in a log either.
    const forged = `${first.token.slice(0, -4)}AAAA`;
    await expect(connect(stack.gateways[1]!.wsUrl, first.sessionId, 'x', forged)).rejects.toBeInstanceOf(UpgradeRefused);
    await http(stack.gateways[1]!.url, 'GET', `/chat/session/${first.sessionId}`, { token: first.token });
    // Give the processes a moment to write their last lines.
    await new Promise((r) => setTimeout(r, 500));

    const files = readdirSync(stack.logDir).filter((f) => f.endsWith('.log'));
    const lines = files.flatMap((f) => readFileSync(join(stack.logDir, f), 'utf8').split('\n').filter((l) => l.trim() !== ''));
    const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.length).toBeGreaterThan(10);

    const trace = one(await traceOf(first.messageId, ['chat.generate']), 'chat.generate');
    const done = json.find((l) => l.msg === 'reply done' && l.messageId === first.messageId);
    expect(done).toMatchObject({ instance: stack.workers[0]!.instance, sessionId: first.sessionId, messageId: first.messageId, trace_id: trace.traceId, source: 'model' });
    const accepted = json.find((l) => l.msg === 'message accepted' && l.messageId === first.messageId);
    expect(accepted).toMatchObject({ instance: stack.gateways[0]!.instance, sessionId: first.sessionId, trace_id: trace.traceId });

    const everything = lines.join('\n');
    for (const secret of [first.token, second.token, forged, API_KEY, AUTH_SECRET, 'tell me about tides']) {
      expect(everything).not.toContain(secret);
    }
    // A JWT's signature part alone must not appear either.
    expect(everything).not.toContain(first.token.split('.')[2]!);
  });

  it('health reports Redis round trip, queue depth and uptime on both processes', async () => {
    const g = await http<Record<string, unknown>>(stack.gateways[0]!.url, 'GET', '/health');
    expect(g.status).toBe(200);
    expect(g.json).toMatchObject({ status: 'ok', redis: 'up', instance: stack.gateways[0]!.instance, draining: false, queueDepth: 0, inflightReplies: 0 });
    expect(g.json.redisRttMs).toEqual(expect.any(Number));
    expect(g.json.uptimeSeconds).toEqual(expect.any(Number));

    const w = await http<Record<string, unknown>>(stack.workers[0]!.metricsUrl, 'GET', '/health');
    expect(w.status).toBe(200);
    expect(w.json).toMatchObject({ status: 'ok', redis: 'up', instance: stack.workers[0]!.instance, queueDepth: 0, activeGenerations: 0 });
    expect(w.json.redisRttMs).toEqual(expect.any(Number));
    expect(w.json.uptimeSeconds).toEqual(expect.any(Number));
  });

  it('a draining gateway answers /ready 503, refuses new messages and finishes the REST reply it holds', async () => {
    const gateway = stack.gateways[1]!;
    const session = await newSession(gateway.url);
    // A slow model, so the reply is still running when the drain starts.
    expect((await http(stack.sim!.url, 'POST', '/_sim/config', { body: { ttftMs: 1500 } })).status).toBe(200);
    try {
      expect((await http(gateway.url, 'GET', '/ready')).status).toBe(200);
      const held = http<{ reply: string; finishReason: string }>(gateway.url, 'POST', '/chat/message', { token: session.token, body: { sessionId: session.sessionId, content: 'a slow one' } });
      await new Promise((r) => setTimeout(r, 400));
      gateway.process.kill('SIGTERM');
      const deadline = Date.now() + 3000;
      let ready = 0;
      while (Date.now() < deadline) {
        ready = await http(gateway.url, 'GET', '/ready').then((r) => r.status, () => 0);
        if (ready === 503) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(ready).toBe(503);
      const other = await newSession(stack.gateways[0]!.url);
      const refused = await http<{ error: { code: string } }>(gateway.url, 'POST', '/chat/message', { token: other.token, body: { sessionId: other.sessionId, content: 'too late' } });
      expect(refused.status).toBe(503);
      expect(refused.json.error.code).toBe('unavailable');

      const answer = await held;
      expect(answer.status).toBe(200);
      expect(answer.json.finishReason).toBe('stop');
      expect(answer.json.reply.length).toBeGreaterThan(0);
      expect((await gateway.process.exited).code).toBe(0);
    } finally {
      await http(stack.sim!.url, 'POST', '/_sim/config', { body: { ttftMs: 30 } });
      await gateway.restart();
    }
  });
});
