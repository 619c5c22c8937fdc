// RELAY_SUBSCRIPTION=gateway: each gateway holds one pattern subscription for every session
// channel instead of one per session. Replies must still reach every socket of their session on
// every gateway, whole, and never a socket of another session.
import { expect, it } from '@jest/globals';
import { connect, newSession, sendChat } from '../support/chat-client.js';
import { expectWhole, replyOf } from '../support/replies.js';
import { useTestStack,  } from '../support/test-stack.js';


const stack = useTestStack('relay-gateway-mode', { gatewayEnv: { RELAY_SUBSCRIPTION: 'gateway' } });

it('relays a reply whole to the session on both gateways and to no other session', async () => {
  const [g1, g2] = [stack.gateways[0]!, stack.gateways[1]!];
  const session = await newSession(g1.url);
  const other = await newSession(g2.url);
  const a = await connect(g1.wsUrl, session.sessionId, 'a', session.token);
  const b = await connect(g2.wsUrl, session.sessionId, 'b', session.token);
  const bystander = await connect(g2.wsUrl, other.sessionId, 'x', other.token);

  const sent = await sendChat(a, 'gateway mode relay');
  if (!('messageId' in sent)) throw new Error(JSON.stringify(sent.error));
  const ra = await a.until((fs) => replyOf(fs, sent.messageId), 15_000, 'reply on gateway 1');
  const rb = await b.until((fs) => replyOf(fs, sent.messageId), 15_000, 'reply on gateway 2');
  expectWhole(ra);
  expect(ra.seqs.length).toBeGreaterThan(0);
  expect(rb.text).toBe(ra.text);
  expectWhole(rb);

  // The bystander's own reply arrives, and none of the first session's frames did.
  const own = await sendChat(bystander, 'a different question');
  if (!('messageId' in own)) throw new Error(JSON.stringify(own.error));
  expectWhole(await bystander.until((fs) => replyOf(fs, own.messageId), 15_000, "the bystander's reply"));
  expect(bystander.frames.some((f) => 'messageId' in f && f.messageId === sent.messageId)).toBe(false);

  // A socket that joins later resumes the finished reply on the other gateway.
  const late = await connect(g2.wsUrl, session.sessionId, 'late', session.token);
  late.send({ type: 'resume', messageId: sent.messageId, afterSeq: 0 });
  const rl = await late.until((fs) => replyOf(fs, sent.messageId), 10_000, 'the resumed reply');
  expect(rl.text).toBe(ra.text);
  expectWhole(rl);
  for (const s of [a, b, bystander, late]) s.close();
});
