// Redis near maxmemory (noeviction): past REDIS_MEMORY_HIGH_WATER the gateways refuse new
// sessions and messages with `unavailable` and say so in /health, while a reply already
// streaming finishes whole; with room again, new work is accepted. A private redis-server, so
// its maxmemory touches no other test.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@chat-fleet/stack';
import { connect, http, newSession, sendChat, startChats } from '../support/chat-client.js';
import { waitUntil } from '../support/probes.js';
import { endingOf, expectWhole, replyOf } from '../support/replies.js';
import { useTestStack } from '../support/test-stack.js';

const TOKENS = 40;
let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

const stack = useTestStack('redis-full', () => ({
  redisUrl: server.url,
  workers: 1,
  simEnv: { SIM_TTFT_MS: '50', SIM_TOKENS_PER_SEC: '10', SIM_REPLY_TOKENS: String(TOKENS) },
}));

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

interface Health {
  status: string;
  redisMemory: { usedBytes: number; maxBytes: number; ratio: number | null; refusing: boolean } | null;
}

function waitForRefusing(refusing: boolean): Promise<Array<{ status: number; json: Health }>> {
  return waitUntil(
    async () => {
      const answers = await Promise.all(stack.gateways.map((g) => http<Health>(g.url, 'GET', '/health')));
      return answers.every((a) => a.json.redisMemory?.refusing === refusing) && answers;
    },
    10_000,
    `health showing refusing=${refusing}`,
  );
}

describe('Redis past its high-water mark', () => {
  it('refuses new sessions and messages with 503 unavailable, finishes the reply in flight, and accepts work again once there is room', async () => {
    const [A, B] = [stack.gateways[0]!, stack.gateways[1]!];
    const waiting = await newSession(A.url);
    const waitingSocket = await connect(B.wsUrl, waiting.sessionId, 'w', waiting.token);
    const streaming = (await startChats([A], 1, 'A long reply through a full Redis', 3, 10_000))[0]!;

    // The data that filled Redis, then a maxmemory just above what is used now (95%).
    // SETRANGE grows it on the server: no 4 MB query buffer to inflate the reading below.
    await redis.setrange(`${stack.prefix}:filler`, 4 * 1024 * 1024 - 1, 'f');
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    await redis.config('SET', 'maxmemory', String(Math.ceil(used / 0.95)));

    const full = await waitForRefusing(true);
    expect(endingOf(streaming.socket.frames, streaming.messageId)).toBeUndefined();
    for (const h of full) {
      expect(h.status).toBe(200);
      expect(h.json.status).toBe('degraded');
      expect(h.json.redisMemory!.ratio).toBeGreaterThanOrEqual(0.9);
      expect(h.json.redisMemory!.maxBytes).toBeGreaterThan(0);
    }

    const session = await http<{ error?: { code: string } }>(B.url, 'POST', '/chat/session', { body: {} });
    expect(session.status).toBe(503);
    expect(session.json.error?.code).toBe('unavailable');
    expect(Number(session.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const rest = await http<{ error?: { code: string } }>(A.url, 'POST', '/chat/message', { token: waiting.token, body: { sessionId: waiting.sessionId, content: 'Refused for lack of room' } });
    expect(rest.status).toBe(503);
    expect(rest.json.error?.code).toBe('unavailable');
    const ws = await sendChat(waitingSocket, 'Refused on the socket too');
    expect(ws).toMatchObject({ error: { code: 'unavailable' } });
    expect('error' in ws && ws.error.retryAfterMs).toBeGreaterThan(0);
    const metrics = (await http(A.url, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^chat_redis_memory_refusing(\{[^}]*\})? 1$/m);

    // The reply that was streaming finishes whole.
    const reply = await streaming.socket.until((fs) => replyOf(fs, streaming.messageId), 20_000, 'the reply in flight');
    expectWhole(reply, TOKENS);
    expect(reply.done).toMatchObject({ finishReason: 'stop', seq: TOKENS });

    // Room again: new work is accepted.
    await redis.del(`${stack.prefix}:filler`);
    await redis.config('SET', 'maxmemory', '0');
    const ok = await waitForRefusing(false);
    for (const h of ok) expect(h.json.status).toBe('ok');
    const fresh = await newSession(B.url);
    expect(fresh.sessionId).toBeTruthy();
    const again = await sendChat(waitingSocket, `Accepted again ${Date.now()}`);
    if (!('messageId' in again)) throw new Error(`refused: ${JSON.stringify(again.error)}`);
    const after = await waitingSocket.until((fs) => replyOf(fs, again.messageId), 20_000, 'a reply after');
    expectWhole(after, TOKENS);
    waitingSocket.close();
    streaming.socket.close();
  });
});
