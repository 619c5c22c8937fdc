// The default FRAME_BATCH_MS joins tokens that come faster than its window: a fast model's reply
// arrives in fewer frames, still seq 1..n and whole, and the usage still counts model tokens.
import { expect, it } from '@jest/globals';
import { generateReply } from '@chat-fleet/llm-sim';
import { history } from '../support/probes.js';
import { expectWhole, replyOf } from '../support/replies.js';
import { connectedClient } from '../support/sdk-client.js';
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
