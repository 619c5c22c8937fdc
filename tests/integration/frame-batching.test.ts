// The default FRAME_BATCH_MS joins tokens that come faster than its window: a fast model's reply
// arrives in fewer frames, still seq 1..n and whole, and the usage still counts model tokens.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { generateReply } from '@chat-fleet/llm-sim';
import { connect, expectSeqs, http, newSession, replyOf, sendChat } from '../support/chat-client.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const TOKENS = 60;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack('frame-batching', {
    gateways: 1,
    // The default window, and a model at 400 tokens/s: a delta every 2.5 ms.
    env: { FRAME_BATCH_MS: '25' },
    simEnv: { SIM_TTFT_MS: '30', SIM_TOKENS_PER_SEC: '400', SIM_REPLY_TOKENS: String(TOKENS) },
  });
});

afterAll(async () => {
  await stack?.stop();
});

it('joins fast tokens into fewer frames without losing or reordering text', async () => {
  const g = stack.gateways[0]!;
  const session = await newSession(g.url);
  const socket = await connect(g.wsUrl, session.sessionId, 'c', session.token);
  const sent = await sendChat(socket, 'batch me');
  if (!('messageId' in sent)) throw new Error(JSON.stringify(sent.error));
  const reply = await socket.until((fs) => replyOf(fs, sent.messageId), 15_000, 'done');
  expectSeqs(reply.seqs);
  // 60 tokens over 150 ms at one frame per 25 ms window: about 7 frames, far fewer than 60.
  expect(reply.seqs.length).toBeLessThan(TOKENS / 3);
  expect(reply.seqs.length).toBeGreaterThanOrEqual(2);
  expect(reply.done.usage.completionTokens).toBe(TOKENS);
  const history = await http<{ messages: Array<{ role: string; content: string }> }>(g.url, 'GET', `/chat/session/${session.sessionId}`, { token: session.token });
  const stored = history.json.messages.find((m) => m.role === 'assistant')!.content;
  expect(reply.text).toBe(stored);
  expect(reply.text).toBe(generateReply([{ role: 'user', content: 'batch me' }], 'gpt-4o-mini', { replyTokens: TOKENS, seed: 42 }).join(''));
  socket.close();
});
