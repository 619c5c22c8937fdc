// Resume on any gateway and cancel across replicas: no frame lost, doubled or reordered.
import { describe, expect, it } from '@jest/globals';
import { connect, newSession, sendChat, startChat, tokensOf, type TestSocket } from '../support/chat-client.js';
import { history } from '../support/probes.js';
import { expectNoLoss, expectWhole, recorded, replyOf } from '../support/replies.js';
import { useTestStack } from '../support/test-stack.js';

const REPLY_TOKENS = 60;

// 60 tokens at 100/s: a reply streams for about 0.6 s, long enough to cut it mid-way.
const stack = useTestStack('resume-cancel', {
  workers: 2,
  simEnv: { SIM_TTFT_MS: '50', SIM_TOKENS_PER_SEC: '100', SIM_REPLY_TOKENS: String(REPLY_TOKENS) },
  gatewayEnv: { RESUME_GRACE_MS: '500' },
});

const startReply = (gateway: number, content: string) => startChat(stack.gateways[gateway]!, content, 'phone');

describe('resume', () => {
  it('continues a reply on the other gateway after the socket drops mid-stream, each frame exactly once', async () => {
    const { session, socket, messageId } = await startReply(0, `Resume me ${Date.now()}`);
    await socket.until((fs) => tokensOf(fs, messageId).length >= 8 || undefined, 10_000, '8 tokens');
    socket.ws.terminate();
    const read = [...socket.frames];
    const before = recorded(read, messageId);
    expectNoLoss(before);
    const afterSeq = before.seqs.length;

    const again = await connect(stack.gateways[1]!.wsUrl, session.sessionId, 'phone', session.token);
    again.send({ type: 'resume', messageId, afterSeq });
    const done = await again.until((fs) => fs.find((f) => f.type === 'done' && f.messageId === messageId), 15_000, 'done');
    again.close();

    expect(tokensOf(again.frames, messageId)[0]?.seq).toBe(afterSeq + 1);
    // Both sockets' frames in the order the client read them: each seq exactly once.
    const all = replyOf([...read, ...again.frames], messageId)!;
    expectWhole(all, REPLY_TOKENS);
    expect(done).toMatchObject({ seq: REPLY_TOKENS, finishReason: 'stop' });
    // The frames came in order: every token before done.
    const doneAt = again.frames.findIndex((f) => f.type === 'done');
    expect(again.frames.slice(doneAt + 1).filter((f) => 'messageId' in f && f.messageId === messageId)).toHaveLength(0);

    expect((await history(stack.gateways[0]!.url, session)).at(-1)).toMatchObject({ id: messageId, content: all.text });
  });

  it('replays a finished reply to its done, from any seq', async () => {
    const { session, socket, messageId } = await startReply(1, `Replay me ${Date.now()}`);
    const original = await socket.until((fs) => replyOf(fs, messageId), 15_000, 'done');
    socket.close();
    const again = await connect(stack.gateways[0]!.wsUrl, session.sessionId, 'laptop', session.token);
    again.send({ type: 'resume', messageId, afterSeq: 0 });
    const replay = await again.until((fs) => replyOf(fs, messageId), 15_000, 'replayed done');
    expect(replay.text).toBe(original.text);
    expectWhole(original);
    expectWhole(replay);
    again.send({ type: 'resume', messageId, afterSeq: REPLY_TOKENS - 2 });
    await again.until((fs) => fs.filter((f) => f.type === 'done').length === 2 || undefined, 10_000, 'second done');
    const second = again.frames.slice(again.frames.findIndex((f) => f.type === 'done') + 1);
    expect(second.filter((f) => f.type === 'token').map((f) => (f.type === 'token' ? f.seq : 0))).toEqual([REPLY_TOKENS - 1, REPLY_TOKENS]);
    again.close();
  });

  it('answers not_found for an unknown reply and for another session\'s reply, and keeps the socket', async () => {
    const other = await startReply(0, `Someone else's ${Date.now()}`);
    await other.socket.until((fs) => replyOf(fs, other.messageId), 15_000, 'done');
    other.socket.close();

    const s = await newSession(stack.gateways[1]!.url);
    const socket = await connect(stack.gateways[1]!.wsUrl, s.sessionId, 'c', s.token);
    socket.send({ type: 'resume', messageId: 'no-such-reply', afterSeq: 0 });
    socket.send({ type: 'resume', messageId: other.messageId, afterSeq: 0 });
    socket.send({ type: 'cancel', messageId: other.messageId });
    const errors = await socket.until((fs) => {
      const e = fs.filter((f) => f.type === 'error');
      return e.length >= 3 ? e : undefined;
    }, 10_000, 'three errors');
    for (const e of errors) expect(e).toMatchObject({ type: 'error', code: 'not_found' });
    expect(socket.frames.filter((f) => f.type === 'token')).toHaveLength(0);
    socket.send({ type: 'ping' });
    await socket.until((fs) => fs.find((f) => f.type === 'pong'), 5_000, 'pong');
    socket.close();
  });

  it('catches a socket that joins mid-reply up from seq 1 when it does not resume', async () => {
    const { session, socket, messageId } = await startReply(0, `Join late ${Date.now()}`);
    await socket.until((fs) => tokensOf(fs, messageId).length >= 10 || undefined, 10_000, '10 tokens');
    const late = await connect(stack.gateways[1]!.wsUrl, session.sessionId, 'tablet', session.token);
    const reply = await late.until((fs) => replyOf(fs, messageId), 15_000, 'done on the late socket');
    expectWhole(reply, REPLY_TOKENS);
    const first = await socket.until((fs) => replyOf(fs, messageId), 15_000, 'done');
    expect(reply.text).toBe(first.text);
    socket.close();
    late.close();
  });
});

describe('cancel', () => {

  const slow = useTestStack('cancel', {
    workers: 2,
    simEnv: { SIM_TTFT_MS: '50', SIM_TOKENS_PER_SEC: '20', SIM_REPLY_TOKENS: '200' },
  });

  it('stops a reply from a socket on the other gateway within a second and keeps the partial text', async () => {
    const gwA = slow.gateways[0]!;
    const gwB = slow.gateways[1]!;
    const s = await newSession(gwA.url);
    const sender = await connect(gwA.wsUrl, s.sessionId, 'phone', s.token);
    const other = await connect(gwB.wsUrl, s.sessionId, 'laptop', s.token);
    try {
      const sent = await sendChat(sender, `Tell me everything ${Date.now()}`);
      if (!('messageId' in sent)) throw new Error('refused');
      const { messageId } = sent;
      await other.until((fs) => tokensOf(fs, messageId).length >= 5 || undefined, 10_000, '5 tokens');
      const cancelAt = performance.now();
      other.send({ type: 'cancel', messageId });
      const done = await other.until((fs) => fs.find((f) => f.type === 'done' && f.messageId === messageId), 5_000, 'cancelled done');
      const took = done.at - cancelAt;
      expect(took).toBeLessThan(1000);
      expect(done).toMatchObject({ finishReason: 'cancelled', cached: false });
      const reply = replyOf(other.frames, messageId)!;
      expectWhole(reply);
      expect(reply.seqs.length).toBeGreaterThanOrEqual(5);
      expect(reply.seqs.length).toBeLessThan(200);

      expect((await history(gwB.url, s)).at(-1)).toMatchObject({ id: messageId, role: 'assistant', content: reply.text, status: 'cancelled' });

      // The session is free again.
      const next = await sendChat(sender, 'And now?');
      expect('messageId' in next).toBe(true);
    } finally {
      sender.close();
      other.close();
    }
  });
});

describe('cancel before a worker starts the reply', () => {

  const noWorkers = useTestStack('cancel-queued', { gateways: 2, workers: 0 });

  it('takes the job out of the queue and ends the reply with done cancelled', async () => {
    const s = await newSession(noWorkers.gateways[0]!.url);
    const socket: TestSocket = await connect(noWorkers.gateways[1]!.wsUrl, s.sessionId, 'c', s.token);
    try {
      const sent = await sendChat(socket, 'Nobody will answer this');
      if (!('messageId' in sent)) throw new Error('refused');
      socket.send({ type: 'cancel', messageId: sent.messageId });
      const done = await socket.until((fs) => fs.find((f) => f.type === 'done' && f.messageId === sent.messageId), 5_000, 'done');
      expect(done).toMatchObject({ seq: 0, finishReason: 'cancelled' });
      // The session is free for the next message.
      const next = await sendChat(socket, 'Another one');
      expect('messageId' in next).toBe(true);
    } finally {
      socket.close();
    }
  });
});
