// Issue 3: what every replica shares through Redis. The response cache and coalescing save
// model calls (counted in the simulator's own request log), personal data never reaches the
// model, the history or the logs, and failed or cut replies are never cached.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { redisKeys } from '@chat-fleet/shared';
import type { Stack } from '@chat-fleet/stack';
import { connect, http, newSession, sendChat, type TestSocket } from '../support/chat-client.js';
import { simRequests as simLog } from '../support/probes.js';
import { endingOf, expectWhole, replyOf } from '../support/replies.js';
import { connectedClient } from '../support/sdk-client.js';
import { testRedis } from '../support/test-redis.js';
import { useTestStack,  } from '../support/test-stack.js';


const simRequests = (s: Stack = stack) => simLog(s, 1000);

/** Model calls whose last message is `content`. */
async function callsFor(content: string, s: Stack = stack): Promise<number> {
  return (await simRequests(s)).filter((r) => r.messages.at(-1)?.content === content).length;
}

async function simConfig(body: Record<string, unknown>, s: Stack = stack): Promise<void> {
  const r = await http(s.sim!.url, 'POST', '/_sim/config', { body });
  expect(r.status).toBe(200);
}

/**
 * A client (the SDK's) opens a session on `gateway` and asks `content` once; `end` is the frame that
 * ended the reply and `reply` the reply judged on the frames the client read.
 */
async function askOnce(gateway: number, content: string, s: Stack = stack, session: { systemPrompt?: string } = {}) {
  const { client, frames } = await connectedClient(s.gateways[gateway]!, { sessionBody: { userId: `u-${Math.random().toString(36).slice(2)}`, ...session } });
  try {
    const outcome = await client.send(content).finished;
    if (outcome.messageId === undefined) throw new Error(`refused: ${outcome.status === 'error' ? outcome.error.code : ''}`);
    const ending = endingOf(frames, outcome.messageId)!;
    const end = frames.find((f) => (f.type === 'done' || f.type === 'error') && 'messageId' in f && f.messageId === outcome.messageId);
    return { session: client.session!, messageId: outcome.messageId, end, reply: ending.kind === 'done' ? ending : undefined, frames };
  } finally {
    client.close();
  }
}

const stack = useTestStack('shared-state', { workers: 2, simEnv: { SIM_TTFT_MS: '40' } });

describe('session context', () => {
  it('renews the session TTL in Redis when the session is used, on any gateway', async () => {
    const redis = testRedis();
    try {
      const keys = redisKeys(stack.prefix);
      const asked = await askOnce(0, `Remember me ${Date.now()}`);
      const meta = keys.sessionMeta(asked.session.sessionId);
      const history = keys.sessionHistory(asked.session.sessionId);
      for (const key of [meta, history]) {
        const ttl = await redis.ttl(key);
        expect(ttl).toBeGreaterThan(3500);
        expect(ttl).toBeLessThanOrEqual(3600);
      }
      await redis.expire(meta, 30);
      await redis.expire(history, 30);
      const r = await http(stack.gateways[1]!.url, 'GET', `/chat/session/${asked.session.sessionId}`, { token: asked.session.token });
      expect(r.status).toBe(200);
      expect(await redis.ttl(meta)).toBeGreaterThan(3500);
      expect(await redis.ttl(history)).toBeGreaterThan(3500);
    } finally {
      redis.disconnect();
    }
  });
});

describe('client address', () => {
  it('ignores a client-sent X-Forwarded-For unless TRUSTED_PROXY_HOPS says a proxy sets it', async () => {
    const redis = testRedis();
    try {
      const r = await http<{ sessionId: string }>(stack.gateways[0]!.url, 'POST', '/chat/session', { body: {}, headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(r.status).toBe(201);
      const address = await redis.hget(redisKeys(stack.prefix).sessionMeta(r.json.sessionId), 'clientAddress');
      expect(address).not.toContain('203.0.113.9');
      expect(address).toMatch(/127\.0\.0\.1/);
    } finally {
      redis.disconnect();
    }
  });
});

describe('response cache', () => {
  it('answers the same question in a fresh session on the other gateway from the cache, with no model call', async () => {
    const q = `What is the capital of France? ${Date.now()}`;
    const first = await askOnce(0, q);
    expect(first.end).toMatchObject({ type: 'done', cached: false, finishReason: 'stop' });
    const second = await askOnce(1, q);
    expect(second.end).toMatchObject({ type: 'done', cached: true, finishReason: 'stop' });

    expect(second.reply!.text).toBe(first.reply!.text);
    expectWhole(second.reply!, first.reply!.seqs.length);
    expect(second.reply!.done.usage).toEqual(first.reply!.done.usage);
    expect(await callsFor(q)).toBe(1);

    // The cached reply is part of the second session like any other.
    const h = await http<{ messages: Array<{ role: string; content: string }> }>(stack.gateways[1]!.url, 'GET', `/chat/session/${second.session.sessionId}`, {
      token: second.session.token,
    });
    expect(h.json.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', q],
      ['assistant', first.reply!.text],
    ]);

    // The gateway counts where replies came from.
    const metrics = await http(stack.gateways[1]!.url, 'GET', '/metrics');
    expect(metrics.text).toMatch(/chat_cache_requests_total\{[^}]*result="hit"[^}]*\} [1-9]/);
  });

  it('keys the cache on the system prompt: a different one asks the model again', async () => {
    const q = `Name a colour. ${Date.now()}`;
    await askOnce(0, q, stack, { systemPrompt: 'You are terse.' });
    const other = await askOnce(1, q, stack, { systemPrompt: 'You are verbose.' });
    expect(other.end).toMatchObject({ type: 'done', cached: false });
    const same = await askOnce(1, q, stack, { systemPrompt: 'You are terse.' });
    expect(same.end).toMatchObject({ type: 'done', cached: true });
    expect(await callsFor(q)).toBe(2);
  });

  it('never caches a failed reply', async () => {
    const q = `Will this fail? ${Date.now()}`;
    // 400 is not retried: one call, one error.
    await simConfig({ failRate: 1, failStatus: 400 });
    try {
      const failed = await askOnce(0, q);
      expect(failed.end).toMatchObject({ type: 'error', code: 'upstream_error' });
    } finally {
      await simConfig({ failRate: 0, failStatus: 500 });
    }
    const retried = await askOnce(1, q);
    expect(retried.end).toMatchObject({ type: 'done', cached: false, finishReason: 'stop' });
    expect(await callsFor(q)).toBe(2);
  });
});

describe('coalescing', () => {
  it('takes a corrupt cache entry for a miss: removed, one model call for two identical questions, then cached again', async () => {
    const q = `What does a corrupt cache entry cost? ${Date.now()}`;
    const first = await askOnce(0, q);
    expect(first.end).toMatchObject({ type: 'done', cached: false });
    // The entry this reply left, found by its text (the key is a hash of the whole request).
    const redis = testRedis();
    try {
      await redis.get(`${stack.prefix}:warm-up`); // connected, so a cluster client knows its nodes
      const primaries = 'nodes' in redis ? redis.nodes('master') : [redis];
      // The worker stores the entry just after `done`: look until it is there.
      const findEntry = async (): Promise<{ key: string; value: string | null } | undefined> => {
        const keys: string[] = [];
        for (const node of primaries) {
          let cursor = '0';
          do {
            const [next, found] = await node.scan(cursor, 'MATCH', `${stack.prefix}:cache:*`, 'COUNT', 1000);
            keys.push(...found);
            cursor = next;
          } while (cursor !== '0');
        }
        const entries = await Promise.all(keys.map(async (key) => ({ key, value: await redis.get(key) })));
        return entries.find((e) => e.value !== null && (JSON.parse(e.value) as { chunks: string[] }).chunks.join('') === first.reply!.text);
      };
      let entry = await findEntry();
      for (let i = 0; entry === undefined && i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        entry = await findEntry();
      }
      expect(entry).toBeDefined();
      await redis.set(entry!.key, '{"chunks": not json', 'KEEPTTL');

      await simConfig({ ttftMs: 400 });
      const [a, b] = await Promise.all([askOnce(0, q), askOnce(1, q)]);
      // A miss: the model is asked again, once, the other question following that call (the lock
      // let go with the corrupt entry was taken again).
      expect(await callsFor(q)).toBe(2);
      for (const r of [a, b]) {
        expect(r.end).toMatchObject({ type: 'done', cached: false, finishReason: 'stop' });
        expect(r.reply!.text).toBe(first.reply!.text);
      }
      expect([a, b].filter((r) => r.reply!.done.coalesced === true)).toHaveLength(1);
      const stored = await redis.get(entry!.key);
      expect((JSON.parse(stored!) as { chunks: string[] }).chunks.join('')).toBe(first.reply!.text);
    } finally {
      redis.disconnect();
      await simConfig({ ttftMs: 40 });
    }
  });

  it('makes one model call for eight identical questions sent at once from eight sessions on two gateways', async () => {
    await simConfig({ ttftMs: 400 });
    const q = `Explain coalescing in one line. ${Date.now()}`;
    try {
      const sockets: Array<{ socket: TestSocket; gateway: number }> = [];
      for (let i = 0; i < 8; i++) {
        const gw = stack.gateways[i % 2]!;
        const s = await newSession(gw.url);
        sockets.push({ socket: await connect(gw.wsUrl, s.sessionId, 'c', s.token), gateway: i % 2 });
      }
      const sent = await Promise.all(sockets.map(({ socket }) => sendChat(socket, q)));
      const replies = await Promise.all(
        sent.map((m, i) => {
          if (!('messageId' in m)) throw new Error(`refused: ${JSON.stringify(m.error)}`);
          return sockets[i]!.socket.until((fs) => replyOf(fs, m.messageId), 20_000, 'done');
        }),
      );
      for (const { socket } of sockets) socket.close();

      expect(await callsFor(q)).toBe(1);
      const text = replies[0]!.text;
      expect(text.length).toBeGreaterThan(0);
      for (const r of replies) {
        expectWhole(r);
        expect(r.text).toBe(text);
        expect(r.done).toMatchObject({ finishReason: 'stop', cached: false });
      }
      // One leader asked the model; seven followed it.
      expect(replies.filter((r) => r.done.coalesced === true)).toHaveLength(7);
    } finally {
      await simConfig({ ttftMs: 40 });
    }
  });
});

describe('coalescing when the shared call breaks', () => {
  it('restarts the leader with a reset, lets the followers start over on their own, and ends every reply whole', async () => {
    const q = `This call breaks after three tokens ${Date.now()}`;
    await simConfig({ ttftMs: 300, failRate: 1, failAfterTokens: 3 });
    try {
      const sockets: TestSocket[] = [];
      for (let i = 0; i < 3; i++) {
        const gw = stack.gateways[i % 2]!;
        const s = await newSession(gw.url);
        sockets.push(await connect(gw.wsUrl, s.sessionId, 'c', s.token));
      }
      const sent = await Promise.all(sockets.map((socket) => sendChat(socket, q)));
      // Once the first (breaking) call reached the model, later calls succeed.
      for (let i = 0; i < 100 && (await callsFor(q)) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await callsFor(q)).toBe(1);
      await simConfig({ failRate: 0 });
      const replies = await Promise.all(
        sent.map((m, i) => {
          if (!('messageId' in m)) throw new Error(`refused: ${JSON.stringify(m.error)}`);
          return sockets[i]!.until((fs) => replyOf(fs, m.messageId), 20_000, 'the end');
        }),
      );
      for (const socket of sockets) socket.close();
      const text = replies[0]!.text;
      for (let i = 0; i < 3; i++) {
        const m = sent[i]!;
        if (!('messageId' in m)) continue;
        const frames = sockets[i]!.frames.filter((f) => 'messageId' in f && f.messageId === m.messageId);
        // Everyone had the three tokens of the broken call, then a reset, then a whole reply.
        const resetAt = frames.findIndex((f) => f.type === 'reset');
        expect(resetAt).toBeGreaterThan(0);
        expect(frames.slice(0, resetAt).filter((f) => f.type === 'token')).toHaveLength(3);
        expectWhole(replies[i]!, 24);
        expect(replies[i]!.text).toBe(text);
        expect(replies[i]!.done).toMatchObject({ finishReason: 'stop', cached: false });
      }
      // The broken call, the leader's restart and one call for each follower.
      expect(await callsFor(q)).toBe(4);
    } finally {
      await simConfig({ ttftMs: 40, failRate: 0, failAfterTokens: 0 });
    }
  });
});

describe('personal data', () => {
  const email = 'jane.doe@example.com';
  const card = '4111 1111 1111 1111';
  const phone = '+1 415 555 0134';
  const orderNo = '1234 5678 9012 3456';

  it('replaces e-mail, card and phone numbers before the model, the history and the logs see them, and keeps near-misses', async () => {
    const content = `Mail ${email}, card ${card}, call ${phone}. Order ${orderNo} ${Date.now()}`;
    const asked = await askOnce(0, content);
    expect(asked.end).toMatchObject({ type: 'done' });
    const ack = asked.frames.find((f) => f.type === 'ack');
    expect(ack).toMatchObject({ scrubbed: { EMAIL: 1, CARD: 1, PHONE: 1 } });

    const seen = (await simRequests()).map((r) => r.messages.at(-1)?.content ?? '').find((c) => c.startsWith('Mail [EMAIL]'));
    expect(seen).toBeDefined();
    expect(seen).toContain('card [CARD]');
    expect(seen).toContain('call [PHONE]');
    // Fails the Luhn check: an order number, not a card.
    expect(seen).toContain(`Order ${orderNo}`);
    for (const raw of [email, card, phone]) expect(seen).not.toContain(raw);

    const h = await http<{ messages: Array<{ role: string; content: string }> }>(stack.gateways[1]!.url, 'GET', `/chat/session/${asked.session.sessionId}`, {
      token: asked.session.token,
    });
    expect(h.json.messages[0]!.content).toBe(seen);

    const logs = readdirSync(stack.logDir).map((f) => readFileSync(join(stack.logDir, f), 'utf8')).join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const raw of [email, card, phone]) expect(logs).not.toContain(raw);
  });

  it('scrubs the system prompt too', async () => {
    const q = `Hello there ${Date.now()}`;
    await askOnce(1, q, stack, { systemPrompt: `Escalate to ${email} or 078-05-1120.` });
    const req = (await simRequests()).find((r) => r.messages.at(-1)?.content === q);
    expect(req?.messages[0]).toEqual({ role: 'system', content: 'Escalate to [EMAIL] or [SSN].' });
  });
});

describe('cache off', () => {

  const small = useTestStack('cache-off', { gateways: 1, env: { CACHE_TTL_SECONDS: '0' }, workerEnv: { COALESCE: 'false' } });

  it('asks the model every time when CACHE_TTL_SECONDS is 0', async () => {
    const q = `No cache please ${Date.now()}`;
    for (let i = 0; i < 2; i++) {
      const r = await askOnce(0, q, small);
      expect(r.end).toMatchObject({ type: 'done', cached: false });
    }
    expect(await callsFor(q, small)).toBe(2);
  });
});

describe('cache without coalescing', () => {

  const solo = useTestStack('cache-no-coalesce', { gateways: 1, workerEnv: { COALESCE: 'false' } });

  it('still stores a finished reply and serves the same question from the cache with COALESCE=false', async () => {
    const q = `Cache me without coalescing ${Date.now()}`;
    const first = await askOnce(0, q, solo);
    expect(first.end).toMatchObject({ type: 'done', cached: false, finishReason: 'stop' });
    const second = await askOnce(0, q, solo);
    expect(second.end).toMatchObject({ type: 'done', cached: true, finishReason: 'stop' });
    expect(await callsFor(q, solo)).toBe(1);
  });
});

describe('cut replies', () => {

  // Replies of 24 tokens capped at 8: every reply ends with finishReason "length".
  const cut = useTestStack('cut-replies', { gateways: 1, workerEnv: { MAX_REPLY_TOKENS: '8' } });

  it('never caches a reply cut at the length cap', async () => {
    const q = `Tell me a long story ${Date.now()}`;
    for (let i = 0; i < 2; i++) {
      const r = await askOnce(0, q, cut);
      expect(r.end).toMatchObject({ type: 'done', cached: false, finishReason: 'length', seq: 8 });
    }
    expect(await callsFor(q, cut)).toBe(2);
  });
});

describe('fleet model budget', () => {

  // 60 requests a minute counted over 2 s windows: 2 model calls per window, fleet-wide.
  const budget = useTestStack('model-budget', {
    gateways: 1,
    workers: 2,
    workerEnv: { LLM_MAX_RPM: '60', LLM_BUDGET_WINDOW_SECONDS: '2' },
  });

  it('holds jobs in the queue past LLM_MAX_RPM across both workers, then answers every one whole', async () => {
    const stamp = Date.now();
    const questions = Array.from({ length: 6 }, (_, i) => `Budget question ${i} ${stamp}`);
    const results = await Promise.all(questions.map((q) => askOnce(0, q, budget)));
    for (const r of results) {
      expect(r.end).toMatchObject({ type: 'done', finishReason: 'stop', cached: false });
      expectWhole(r.reply!);
    }
    const times = (await simRequests(budget))
      .filter((r) => questions.includes(r.messages.at(-1)?.content ?? ''))
      .map((r) => Date.parse(r.at))
      .sort((a, b) => a - b);
    expect(times).toHaveLength(6);
    // Six calls at two per 2 s window need three windows: the last starts at least 4 s after the first.
    expect(times[5]! - times[0]!).toBeGreaterThanOrEqual(3500);
    const waits = await Promise.all(budget.workers.map(async (w) => (await http(w.metricsUrl, 'GET', '/metrics')).text));
    const waited = waits.reduce((n, text) => n + Number(/llm_budget_waits_total\{[^}]*reason="rpm"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0), 0);
    expect(waited).toBeGreaterThan(0);
  });
});
