// The fault suite: real processes killed, drained and cut off from Redis mid-reply. Every
// accepted message must end whole (token seq 1..n exactly once after the last reset, then
// done) or, where the fault makes that impossible, in a clear error; never in silence.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startRedisServer, type RedisServer } from '@chat-fleet/stack';
import { connect, http, newSession, sendChat, startChats, type Frame, type OpenChat } from '../support/chat-client.js';
import { gauge, history, waitUntil } from '../support/probes.js';
import { expectNoLoss, expectWhole, recorded, replyOf } from '../support/replies.js';
import { connectedClient, tokensIn } from '../support/sdk-client.js';
import { useTestStack } from '../support/test-stack.js';

/** One reply as a client that reconnects read it, earlier sockets' frames first: whole, `tokens` long, stopped. */
function wholeReply(parts: Frame[][], messageId: string, tokens: number) {
  const reply = replyOf(parts.flat(), messageId);
  if (reply === undefined) throw new Error(`no done for ${messageId}`);
  expectWhole(reply, tokens);
  expect(reply.done).toMatchObject({ finishReason: 'stop', seq: tokens });
  return reply;
}

describe('a worker killed mid-stream', () => {
  const TOKENS = 40;

  const stack = useTestStack('fault-worker-kill', {
    workers: 2,
    workerEnv: { WORKER_LOCK_MS: '1500' },
    simEnv: { SIM_TTFT_MS: '50', SIM_TOKENS_PER_SEC: '20', SIM_REPLY_TOKENS: String(TOKENS) },
  });

  it('has its replies taken up by the other worker: reset, then whole', async () => {
    // Ordinary clients: the SDK's, each recording what it read.
    const chats = [];
    for (let i = 0; i < 6; i++) {
      const c = await connectedClient(stack.gateways[i % 2]!);
      chats.push({ ...c, reply: c.client.send(`Survive a crash ${i} ${Date.now()}`) });
    }
    await Promise.all(chats.map(({ reply }) => tokensIn(reply, 3)));
    // Kill the worker that runs the most replies right now.
    const active = await Promise.all(stack.workers.map((w) => gauge(w.metricsUrl, 'llm_active_generations')));
    const victim = active[0]! >= active[1]! ? 0 : 1;
    expect(active[victim]).toBeGreaterThan(0);
    stack.workers[victim]!.process.kill('SIGKILL');

    const outcomes = await Promise.all(chats.map(({ reply }) => reply.done()));
    let resets = 0;
    for (const [i, { client, frames }] of chats.entries()) {
      const { messageId } = outcomes[i]!;
      // Judged on the frames as they came, not on what the client made of them.
      wholeReply([frames], messageId, TOKENS);
      expect(outcomes[i]!.resumes).toBe(0);
      if (frames.some((f) => f.type === 'reset' && f.messageId === messageId)) resets++;
      client.close();
    }
    expect(resets).toBe(active[victim]);
  });
});

describe('a gateway drained with sockets open', () => {
  const TOKENS = 40;

  const stack = useTestStack('fault-drain', {
    workers: 1,
    gatewayEnv: { DRAIN_TIMEOUT_MS: '2000' },
    simEnv: { SIM_TTFT_MS: '50', SIM_TOKENS_PER_SEC: '40', SIM_REPLY_TOKENS: String(TOKENS) },
  });

  it('tells every socket to reconnect (4000), exits cleanly, and the clients resume on the other gateway whole', async () => {
    const A = stack.gateways[0]!;
    const B = stack.gateways[1]!;
    // Raw sockets: the test reads the close code and picks the seq each resume continues after.
    const clients: OpenChat[] = await startChats([A], 5, 'Drain me', 3, 10_000);

    A.process.kill('SIGTERM');
    for (const { socket } of clients) {
      await socket.until(() => socket.closed, 5_000, 'close').catch(() => undefined);
      expect(socket.closed?.code).toBe(4000);
    }
    const exit = await A.process.exited;
    expect(exit.code).toBe(0);

    const resumed = await Promise.all(
      clients.map(async ({ session, socket, messageId }) => {
        const seen = recorded(socket.frames, messageId);
        const again = await connect(B.wsUrl, session.sessionId, 'c', session.token);
        again.send({ type: 'resume', messageId, afterSeq: seen.seqs.length });
        await again.until((fs) => fs.find((f) => f.type === 'done' && f.messageId === messageId), 15_000, 'done on B');
        again.close();
        return wholeReply([socket.frames, again.frames], messageId, TOKENS);
      }),
    );
    expect(resumed).toHaveLength(5);
  });
});

describe('a Redis outage', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  const stack = useTestStack('fault-redis', () => ({ redisUrl: redis.url, workers: 1 }));

  afterAll(async () => {
    await redis?.stop();
  });

  it('degrades health, refuses messages with unavailable, then recovers by itself on every process', async () => {
    const before = await newSession(stack.gateways[0]!.url);
    const socket = await connect(stack.gateways[1]!.wsUrl, before.sessionId, 'c', before.token);
    const ok = await sendChat(socket, 'Before the outage');
    if (!('messageId' in ok)) throw new Error('refused');
    expectWhole(await socket.until((fs) => replyOf(fs, ok.messageId), 15_000, 'first reply'));

    await redis.stop();
    for (const gw of stack.gateways) {
      const h = await http<{ status: string; redis: string }>(gw.url, 'GET', '/health');
      expect(h.status).toBe(503);
      expect(h.json).toMatchObject({ status: 'degraded', redis: 'down' });
    }
    const during = await http<{ error: { code: string } }>(stack.gateways[0]!.url, 'POST', '/chat/session', { body: {} });
    expect(during.status).toBe(503);
    expect(during.json.error.code).toBe('unavailable');
    // A socket that stays open gets a clear answer to a chat sent now.
    if (!socket.closed) {
      socket.send({ type: 'chat', id: 'during', content: 'During the outage' });
      const answer = await socket.until((fs) => fs.find((f) => f.type === 'error' && 'id' in f && f.id === 'during') ?? (socket.closed ? true : undefined), 10_000, 'an answer');
      if (answer !== true) expect(answer).toMatchObject({ code: 'unavailable' });
    }

    // Redis comes back empty on the same port; every process reconnects by itself.
    const again = await startRedisServer({ port: redis.port });
    redis = again;
    for (const gw of stack.gateways) {
      await waitUntil(async () => (await http(gw.url, 'GET', '/health')).status === 200, 10_000, `${gw.instance} healthy`).catch(() => undefined);
      expect((await http(gw.url, 'GET', '/health')).status).toBe(200);
    }
    for (const [i, gw] of stack.gateways.entries()) {
      const s = await newSession(gw.url);
      const other = stack.gateways[(i + 1) % 2]!;
      const fresh = await connect(other.wsUrl, s.sessionId, 'c', s.token);
      const sent = await sendChat(fresh, `After the outage ${i} ${Date.now()}`);
      if (!('messageId' in sent)) throw new Error(`refused after recovery: ${JSON.stringify(sent.error)}`);
      const reply = await fresh.until((fs) => replyOf(fs, sent.messageId), 20_000, 'a reply after recovery');
      expectWhole(reply, 24);
      fresh.close();
    }
    for (const p of [...stack.gateways.map((g) => g.process), ...stack.workers.map((w) => w.process)]) expect(p.running).toBe(true);
    socket.close();
  });
});

describe('a reader that stops reading', () => {
  const TOKENS = 100_000;

  // A long reply as fast as the model can: about 7 MB of frames, more than the loopback
  // socket buffers hold (4 MB send, 128 KB receive for a reader that never reads).
  const stack = useTestStack('fault-slow-reader', {
    gateways: 2,
    workers: 1,
    gatewayEnv: { WS_MAX_BACKPRESSURE_BYTES: String(256 * 1024) },
    workerEnv: { MAX_REPLY_TOKENS: String(TOKENS), REPLY_MAX_FRAMES: String(TOKENS + 1000) },
    simEnv: { SIM_TTFT_MS: '10', SIM_TOKENS_PER_SEC: '0', SIM_REPLY_TOKENS: String(TOKENS) },
  });

  it('is closed as a slow consumer (4001) and can resume the reply whole on the other gateway', async () => {
    const A = stack.gateways[0]!;
    const s = await newSession(A.url);
    const stalled = await connect(A.wsUrl, s.sessionId, 'c', s.token);
    const sent = await sendChat(stalled, `A very long answer ${Date.now()}`);
    if (!('messageId' in sent)) throw new Error('refused');
    // Stop reading: the kernel buffers fill, then the gateway's.
    const raw = (stalled.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    // The reply is written whole (its history entry appears) while the socket reads nothing.
    await waitUntil(async () => (await history(A.url, s)).some((m) => m.id === sent.messageId), 30_000, 'the reply in the history').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    raw.resume();
    await stalled.until(() => stalled.closed, 10_000, 'close').catch(() => undefined);
    expect(stalled.closed?.code).toBe(4001);

    const seen = recorded(stalled.frames, sent.messageId);
    expectNoLoss(seen);
    expect(seen.seqs.length).toBeLessThan(TOKENS);
    const again = await connect(stack.gateways[1]!.wsUrl, s.sessionId, 'c', s.token);
    again.send({ type: 'resume', messageId: sent.messageId, afterSeq: seen.seqs.length });
    await again.until((fs) => fs.find((f) => f.type === 'done' && f.messageId === sent.messageId), 20_000, 'done after resume');
    wholeReply([stalled.frames, again.frames], sent.messageId, TOKENS);
    again.close();
  });
});
