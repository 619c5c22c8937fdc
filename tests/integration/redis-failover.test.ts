// The fleet past one Redis, under the faults that come with it: on a real Redis Cluster (three
// primaries, three replicas) the primary holding a streaming session's slot is killed, and that
// slot is migrated to another primary mid-reply; on a Sentinel set-up the primary fails over
// mid-reply. Every accepted message must end whole (token seq 1..n after its last reset, then
// done, the same text in the stored stream and the history) or with a clear error; none in
// silence, no frame lost or doubled.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keySlot, startRedisCluster, startRedisSentinel, type RedisCluster, type RedisSentinelSet } from '@chat-fleet/stack';
import { writeArtifact } from '../support/artifacts.js';
import { connect, startChat, startChats, type OpenChat } from '../support/chat-client.js';
import { history } from '../support/probes.js';
import { endingOf, expectWhole, replyOf } from '../support/replies.js';
import { useTestStack, type TestStack } from '../support/test-stack.js';

const TOKENS = 40;
const SLOW_SIM = { SIM_TTFT_MS: '30', SIM_TOKENS_PER_SEC: '20', SIM_REPLY_TOKENS: String(TOKENS) };

interface Outcome {
  sent: number;
  whole: number;
  errors: string[];
  resets: number;
}

/** Waits for every chat's end; checks each `done` is whole live, stored and in the history. */
async function judge(stack: TestStack, chats: OpenChat[]): Promise<Outcome> {
  const outcome: Outcome = { sent: chats.length, whole: 0, errors: [], resets: 0 };
  for (const c of chats) {
    const live = await c.socket.until((fs) => endingOf(fs, c.messageId), 60_000, `the end of ${c.messageId}`);
    if (c.socket.frames.some((f) => f.type === 'reset' && f.messageId === c.messageId)) outcome.resets++;
    if (live.kind === 'error') {
      outcome.errors.push(live.code);
      continue;
    }
    expectWhole(live, TOKENS);
    expect(live.done).toMatchObject({ finishReason: 'stop', seq: TOKENS });
    // What a client that resumes from the start on the other gateway gets: the same text.
    const other = stack.gateways[1]!;
    const again = await connect(other.wsUrl, c.session.sessionId, 'again', c.session.token);
    again.send({ type: 'resume', messageId: c.messageId, afterSeq: 0 });
    const stored = await again.until((fs) => replyOf(fs, c.messageId), 20_000, 'the stored reply');
    again.close();
    expectWhole(stored);
    expect(stored.text).toBe(live.text);
    expect((await history(other.url, c.session)).find((m) => m.id === c.messageId)?.content).toBe(live.text);
    outcome.whole++;
  }
  for (const code of outcome.errors) expect(['unavailable', 'upstream_error']).toContain(code);
  return outcome;
}

describe('on a Redis Cluster', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);

  const stack = useTestStack('cluster-faults', () => ({ redis: cluster.topology, gateways: 2, workers: 2, env: { QUEUE_SHARDS: '3', REPLY_TIMEOUT_MS: '60000' }, simEnv: SLOW_SIM }));

  afterAll(async () => {
    await cluster?.stop();
  });

  it('a killed primary holding a streaming session: its replica takes over, every reply ends whole or clearly', async () => {
    const chats = await startChats(stack.gateways, 6, 'Primary kill');
    const victim = await cluster.nodeForSlot(keySlot(`{${chats[0]!.session.sessionId}}`));
    const onVictim = (await Promise.all(chats.map(async (c) => (await cluster.nodeForSlot(keySlot(`{${c.session.sessionId}}`))).port === victim.port))).filter(Boolean).length;
    cluster.kill(victim.port, 'SIGKILL');
    const outcome = await judge(stack, chats);
    await cluster.waitUntilOk();
    expect(outcome.whole).toBeGreaterThan(0);
    writeArtifact('cluster-primary-kill', { ...outcome, sessionsOnTheKilledPrimary: onVictim, framesLostOrDoubled: 0 });
    for (const c of chats) c.socket.close();
  }, 120_000);

  it('a slot migrated to another primary mid-reply: subscriptions follow the slot, every reply ends whole', async () => {
    const chats = await startChats(stack.gateways, 4, 'Slot move');
    const slot = keySlot(`{${chats[0]!.session.sessionId}}`);
    const from = await cluster.nodeForSlot(slot);
    const to = (await cluster.primaries()).find((p) => p.port !== from.port)!;
    await cluster.migrateSlot(slot, to.port);
    expect((await cluster.nodeForSlot(slot)).port).toBe(to.port);
    const outcome = await judge(stack, chats);
    expect(outcome.errors).toEqual([]);
    writeArtifact('cluster-slot-migration', { ...outcome, slot, from: from.port, to: to.port, framesLostOrDoubled: 0 });
    for (const c of chats) c.socket.close();
  }, 120_000);
});

describe('on Sentinel', () => {
  let sentinel: RedisSentinelSet;

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 60_000);

  const stack = useTestStack('sentinel-faults', () => ({ redis: sentinel.topology, gateways: 2, workers: 2, env: { REPLY_TIMEOUT_MS: '60000' }, simEnv: SLOW_SIM }));

  afterAll(async () => {
    await sentinel?.stop();
  });

  it('a failover mid-reply: every reply ends whole or clearly, and new messages are served by the new primary', async () => {
    const chats = await startChats(stack.gateways, 4, 'Failover');
    const before = await sentinel.primary();
    const after = await sentinel.failover();
    expect(after.port).not.toBe(before.port);
    const outcome = await judge(stack, chats);
    expect(outcome.whole).toBeGreaterThan(0);
    const next = await startChat(stack.gateways[0]!, `After the failover ${Date.now()}`);
    expectWhole(await next.socket.until((fs) => replyOf(fs, next.messageId), 30_000, 'a reply after the failover'));
    writeArtifact('sentinel-failover', { ...outcome, framesLostOrDoubled: 0 });
    for (const c of [...chats, next]) c.socket.close();
  }, 120_000);
});
