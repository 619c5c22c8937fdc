// A session's end reaches its sockets: deleting it (on any gateway) cancels its reply and closes
// every socket on every gateway with 4100, so does its expiry; a socket whose token expires is
// closed with 4101 at that moment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { redisKeys, type RedisClient } from '@chat-fleet/shared';
import { connect, http, newSession, sendChat, tokensOf, type TestSocket } from '../support/chat-client.js';
import { subscribeSessionChannel, testRedis } from '../support/test-redis.js';
import { startTestStack, useTestStack, type TestStack } from '../support/test-stack.js';

/** Resolves with the close once the socket is closed; rejects after `ms`. */
async function closedWithin(socket: TestSocket, ms: number, what: string): Promise<{ code: number; reason: string; at: number }> {
  const deadline = performance.now() + ms;
  while (socket.closed === undefined) {
    if (performance.now() > deadline) throw new Error(`${what}: still open after ${ms} ms; last frames ${JSON.stringify(socket.frames.slice(-3))}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { ...socket.closed, at: performance.now() };
}

describe('a session that ends', () => {
  let stack: TestStack;
  let redis: RedisClient;
  const SESSION_TTL_SECONDS = 10;
  const CHECK_MS = 1000;

  beforeAll(async () => {
    // 400 tokens at 20/s: a reply streams for 20 s, so a delete always cuts it mid-way.
    stack = await startTestStack('session-lifecycle', {
      workers: 1,
      env: { SESSION_TTL_SECONDS: String(SESSION_TTL_SECONDS) },
      gatewayEnv: { SESSION_CHECK_INTERVAL_MS: String(CHECK_MS) },
      simEnv: { SIM_TTFT_MS: '50', SIM_TOKENS_PER_SEC: '20', SIM_REPLY_TOKENS: '400' },
    });
    redis = testRedis();
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it('deleted: the reply stops and every socket on every gateway is closed with 4100, no token after the 204', async () => {
    const [gwA, gwB] = [stack.gateways[0]!, stack.gateways[1]!];
    const keys = redisKeys(stack.prefix);
    const s = await newSession(gwA.url);
    const phone = await connect(gwA.wsUrl, s.sessionId, 'phone', s.token);
    const laptop = await connect(gwB.wsUrl, s.sessionId, 'laptop', s.token);
    // What the fleet publishes for this session, whoever listens (sharded on a cluster).
    const published: Array<{ at: number; message: string }> = [];
    const sub = await subscribeSessionChannel(keys.sessionChannel(s.sessionId), (message) => published.push({ at: performance.now(), message }));
    try {
      const sent = await sendChat(phone, `Talk for a long time ${Date.now()}`);
      if (!('messageId' in sent)) throw new Error(`refused: ${JSON.stringify(sent.error)}`);
      await laptop.until((fs) => tokensOf(fs, sent.messageId).length >= 5 || undefined, 10_000, '5 tokens');

      const del = await http(gwB.url, 'DELETE', `/chat/session/${s.sessionId}`, { token: s.token });
      const answeredAt = performance.now();
      expect(del.status).toBe(204);

      const closes = await Promise.all([closedWithin(phone, 2000, 'phone'), closedWithin(laptop, 2000, 'laptop')]);
      for (const [socket, close] of [[phone, closes[0]], [laptop, closes[1]]] as const) {
        expect(close.code).toBe(4100);
        expect(close.at - answeredAt).toBeLessThan(1000);
        // Frames already on the wire when the 204 left may land a few ms after it; none later.
        expect(tokensOf(socket.frames, sent.messageId).filter((f) => f.at > answeredAt + 50)).toEqual([]);
        expect(socket.frames.at(-1)).toMatchObject({ type: 'error', code: 'not_found' });
      }

      // The worker stopped: nothing but control messages published a second after the delete.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(published.filter((p) => p.at > answeredAt + 1000 && !p.message.startsWith('!'))).toEqual([]);
      expect(published.some((p) => p.message.startsWith('!') && p.at > answeredAt - 1000)).toBe(true);
      expect(await redis.exists(keys.sessionMeta(s.sessionId), keys.sessionHistory(s.sessionId))).toBe(0);
      expect((await http(gwA.url, 'GET', `/chat/session/${s.sessionId}`, { token: s.token })).status).toBe(404);
    } finally {
      sub.close();
      phone.close();
      laptop.close();
    }
  });

  it('expired among live ones: only the sockets of the session that is gone are closed', async () => {
    // One gateway asks about all the sessions it holds in one EXISTS; a count short of them all must
    // find which one is gone, not close them all (nor none).
    const keys = redisKeys(stack.prefix);
    const sessions = await Promise.all([0, 1, 2].map(() => newSession(stack.gateways[0]!.url)));
    const sockets = await Promise.all(sessions.map((s, i) => connect(stack.gateways[1]!.wsUrl, s.sessionId, `held-${i}`, s.token)));
    try {
      await redis.del(keys.sessionMeta(sessions[1]!.sessionId));
      const close = await closedWithin(sockets[1]!, 2 * CHECK_MS + 3000, 'socket of the removed session');
      expect(close.code).toBe(4100);
      // Two more checks: the live sessions' sockets stay open.
      await new Promise((resolve) => setTimeout(resolve, 2 * CHECK_MS + 500));
      expect(sockets[0]!.closed).toBeUndefined();
      expect(sockets[2]!.closed).toBeUndefined();
    } finally {
      for (const socket of sockets) socket.close();
    }
  }, 30_000);

  it('expired: an idle session closes its open socket with 4100 within its TTL and one check', async () => {
    const s = await newSession(stack.gateways[0]!.url);
    const socket = await connect(stack.gateways[1]!.wsUrl, s.sessionId, 'idle', s.token);
    const connectedAt = performance.now();
    try {
      const close = await closedWithin(socket, (SESSION_TTL_SECONDS + 6) * 1000, 'idle socket');
      expect(close.code).toBe(4100);
      // The connect renewed the TTL; the check runs every CHECK_MS (and a second of slack).
      expect(close.at - connectedAt).toBeGreaterThan(SESSION_TTL_SECONDS * 1000 - 1000);
      expect(close.at - connectedAt).toBeLessThan(SESSION_TTL_SECONDS * 1000 + 2 * CHECK_MS + 2000);
      expect(socket.frames.at(-1)).toMatchObject({ type: 'error', code: 'not_found' });
    } finally {
      socket.close();
    }
  }, 40_000);
});

describe('a token that expires', () => {
  const TOKEN_TTL_SECONDS = 5;

  const stack = useTestStack('token-expiry', { gateways: 1, workers: 0, useSimulator: false, gatewayEnv: { TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS) } });

  it('closes its open socket with 4101 at its expiry', async () => {
    const s = await newSession(stack.gateways[0]!.url);
    const expiresAt = Date.parse(s.expiresAt);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(TOKEN_TTL_SECONDS * 1000);
    const socket = await connect(stack.gateways[0]!.wsUrl, s.sessionId, 'c', s.token);
    try {
      await closedWithin(socket, TOKEN_TTL_SECONDS * 1000 + 3000, 'socket');
      const closedAt = Date.now();
      expect(socket.closed?.code).toBe(4101);
      expect(Math.abs(closedAt - expiresAt)).toBeLessThan(1000);
      expect(socket.frames.at(-1)).toMatchObject({ type: 'error', code: 'unauthorized' });
    } finally {
      socket.close();
    }
    // The session outlives the token; a new token is what the client needs.
    expect((await http(stack.gateways[0]!.url, 'GET', `/chat/session/${s.sessionId}`, { token: s.token })).status).toBe(401);
  }, 30_000);
});
