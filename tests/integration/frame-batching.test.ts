// The default FRAME_BATCH_MS joins tokens that come faster than its window: a fast model's reply
// arrives in fewer frames, still seq 1..n and whole, and the usage still counts model tokens. The
// frames a worker's clock flushes for all its replies at once go to Redis in shared script calls
// (reply-frames.lua), each frame still answered on its own.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { expect, it } from '@jest/globals';
import { generateReply } from '@chat-fleet/llm-sim';
import { http } from '../support/chat-client.js';
import { history } from '../support/probes.js';
import { endingOf, expectWhole, replyOf } from '../support/replies.js';
import { connectedClient, tokensIn } from '../support/sdk-client.js';
import { testRedis, testRedisMode } from '../support/test-redis.js';
import { useTestStack,  } from '../support/test-stack.js';

const TOKENS = 60;

const stack = useTestStack('frame-batching', {
  gateways: 1,
  // The default window, and a model at 400 tokens/s: a delta every 2.5 ms.
  env: { FRAME_BATCH_MS: '25' },
  simEnv: { SIM_TTFT_MS: '30', SIM_TOKENS_PER_SEC: '400', SIM_REPLY_TOKENS: String(TOKENS) },
});

it('joins fast tokens into fewer frames without losing or reordering text', async () => {
  const g = stack.gateways[0]!;
  // An ordinary client (the SDK's); the frames it read are judged as they came.
  const { client, frames } = await connectedClient(g);
  const { messageId } = await client.send('batch me').done();
  const reply = replyOf(frames, messageId)!;
  expectWhole(reply);
  // 60 tokens over 150 ms at one frame per 25 ms window: about 7 frames, far fewer than 60.
  expect(reply.seqs.length).toBeLessThan(TOKENS / 3);
  expect(reply.seqs.length).toBeGreaterThanOrEqual(2);
  expect(reply.done.usage.completionTokens).toBe(TOKENS);
  const stored = (await history(g.url, client.session!)).find((m) => m.role === 'assistant')!.content;
  expect(reply.text).toBe(stored);
  expect(reply.text).toBe(generateReply([{ role: 'user', content: 'batch me' }], 'gpt-4o-mini', { replyTokens: TOKENS, seed: 42 }).join(''));
  client.close();
});

it('writes the frames of replies streaming at once in shared script calls, and one cancelled reply stops none of the others', async () => {
  const g = stack.gateways[0]!;
  const REPLIES = 6;
  // 60 tokens at 100/s: six replies stream side by side for 600 ms, ticking together.
  await http(stack.sim!.url, 'POST', '/_sim/config', { body: { tokensPerSec: 100 } });
  const single = testRedisMode() !== 'cluster';
  const frameScript = createHash('sha1').update(readFileSync(new URL('../../packages/shared/lua/reply-frames.lua', import.meta.url), 'utf8')).digest('hex');
  const redis = single ? (testRedis() as Redis) : undefined;
  const monitor = await redis?.monitor();
  let calls = 0;
  monitor?.on('monitor', (_time: string, args: string[]) => {
    if (args[0]?.toLowerCase() === 'evalsha' && args[1] === frameScript && (args[3] ?? '').startsWith(stack.prefix)) calls++;
  });
  const clients = await Promise.all(Array.from({ length: REPLIES }, () => connectedClient(g)));
  try {
    const replies = clients.map(({ client }, i) => client.send(`side by side ${i}`));
    await tokensIn(replies[0]!, 3);
    replies[0]!.cancel();
    const outcomes = await Promise.all(replies.map((r) => r.finished));
    expect(outcomes[0]).toMatchObject({ status: 'done', finishReason: 'cancelled' });
    let tokenFrames = 0;
    for (let i = 1; i < REPLIES; i++) {
      const { frames } = clients[i]!;
      const reply = replyOf(frames, outcomes[i]!.messageId!)!;
      expectWhole(reply, reply.seqs.length);
      expect(reply.done.finishReason).toBe('stop');
      expect(reply.text).toBe(generateReply([{ role: 'user', content: `side by side ${i}` }], 'gpt-4o-mini', { replyTokens: TOKENS, seed: 42 }).join(''));
      tokenFrames += reply.seqs.length;
    }
    // The cancelled reply's frames stopped at its cancel: fewer tokens than a whole reply.
    const cancelled = endingOf(clients[0]!.frames, outcomes[0]!.messageId!)!;
    expect(cancelled.kind).toBe('done');
    expect(cancelled.text.length).toBeLessThan(outcomes[1]!.status === 'done' ? outcomes[1]!.text.length : Infinity);
    if (single) {
      // One call per tick for the replies with text waiting, not one per frame.
      expect(tokenFrames).toBeGreaterThan(REPLIES * 5);
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThan(tokenFrames * 0.6);
    }
  } finally {
    monitor?.disconnect();
    redis?.disconnect();
    for (const { client } of clients) client.close();
    await http(stack.sim!.url, 'POST', '/_sim/config', { body: { tokensPerSec: 400 } });
  }
});
