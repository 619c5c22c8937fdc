// followReply merges a reply's stored frames with the live ones: no gap and no duplicate even
// when frames are written while the stream is being read. Real Redis, real pub/sub.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FollowStalledError, followReply } from '@chat-fleet/llm-worker';
import {
  ChannelSubscriber,
  encodeEnvelope,
  redisKeys,
  type FramePosition,
  type RedisKeys,
  type RedisClient,
  type ReplyFrame,
} from '@chat-fleet/shared';
import { assembleRecorded } from '@chat-fleet/client';
import { expectWhole } from '../support/replies.js';
import { testRedis } from '../support/test-redis.js';

let redis: RedisClient;
let sub: RedisClient;
let subscriber: ChannelSubscriber;
let keys: RedisKeys;

beforeAll(() => {
  redis = testRedis();
  sub = testRedis();
  subscriber = new ChannelSubscriber(sub);
  keys = redisKeys(`t-follow-${Date.now()}`);
});

afterAll(() => {
  redis.disconnect();
  sub.disconnect();
});

/** Writes frames the way a worker does: XADD at `attempt-seq`, then PUBLISH with the envelope. */
function writer(sessionId: string, messageId: string, attempt = 1) {
  let seq = 0;
  const put = (entrySeq: number, frame: ReplyFrame): Promise<unknown> => {
    const json = JSON.stringify(frame);
    const position = { attempt, seq: entrySeq };
    // PUBLISH once the XADD is stored, as the worker's script does: on a cluster the two commands
    // go to different nodes, so one connection's order no longer keeps them in sequence.
    return redis
      .xadd(keys.replyFrames(sessionId, messageId), `${attempt}-${entrySeq}`, 'f', json)
      .then(() => redis.publish(keys.sessionChannel(sessionId), encodeEnvelope(position, json)));
  };
  return {
    token: () => put(++seq, { type: 'token', messageId, seq, text: `t${seq} ` }),
    reset: () => put(0, { type: 'reset', messageId, attempt }),
    done: () => put(seq + 1, { type: 'done', messageId, seq, cached: false, usage: { promptTokens: 1, completionTokens: seq }, finishReason: 'stop' }),
  };
}

function follow(sessionId: string, messageId: string, after?: FramePosition, extra: Partial<Parameters<typeof followReply>[0]> = {}) {
  const seen: Array<{ frame: ReplyFrame; position: FramePosition }> = [];
  const end = followReply({
    redis,
    subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
    keys,
    sessionId,
    messageId,
    ...(after === undefined ? {} : { after }),
    onFrame: (frame, position) => seen.push({ frame, position }),
    ...extra,
  });
  return { seen, end };
}

const tokenSeqs = (seen: Array<{ frame: ReplyFrame }>): number[] => seen.flatMap((s) => (s.frame.type === 'token' ? [s.frame.seq] : []));

describe('followReply', () => {
  it('gets every frame exactly once when it starts while the reply is being written', async () => {
    for (let round = 0; round < 20; round++) {
      const sessionId = `s${round}`;
      const messageId = `m${round}`;
      const w = writer(sessionId, messageId);
      const total = 200;
      const startAt = Math.floor(Math.random() * total);
      let follower: ReturnType<typeof follow> | undefined;
      const writes: Array<Promise<unknown>> = [];
      for (let i = 0; i < total; i++) {
        if (i === startAt) follower = follow(sessionId, messageId);
        writes.push(w.token());
        // Give the follower's XRANGE a chance to interleave with the writes.
        if (i % 17 === 0) await new Promise((r) => setImmediate(r));
      }
      writes.push(w.done());
      await Promise.all(writes);
      const end = await follower!.end;
      expect(end).toMatchObject({ type: 'done', seq: total });
      // Whole by the clients' rule: every seq 1..total once, in order, then done.
      expectWhole(assembleRecorded(follower!.seen.map((s) => s.frame)), total);
    }
  });

  it('starts after a given position and replays a finished reply to its end', async () => {
    const w = writer('s-after', 'm-after');
    for (let i = 0; i < 10; i++) await w.token();
    await w.done();
    const { seen, end } = follow('s-after', 'm-after', { attempt: 1, seq: 6 });
    expect(await end).toMatchObject({ type: 'done', seq: 10 });
    expect(tokenSeqs(seen)).toEqual([7, 8, 9, 10]);
  });

  it('passes a restart on as reset, then the new attempt from seq 1', async () => {
    const first = writer('s-reset', 'm-reset', 1);
    for (let i = 0; i < 5; i++) await first.token();
    const { seen, end } = follow('s-reset', 'm-reset');
    const second = writer('s-reset', 'm-reset', 2);
    await second.reset();
    for (let i = 0; i < 3; i++) await second.token();
    await second.done();
    await end;
    expect(seen.map((s) => `${s.frame.type}@${s.position.attempt}-${s.position.seq}`)).toEqual([
      'token@1-1', 'token@1-2', 'token@1-3', 'token@1-4', 'token@1-5',
      'reset@2-0', 'token@2-1', 'token@2-2', 'token@2-3', 'done@2-4',
    ]);
  });

  it('ignores frames of other replies on the same session channel', async () => {
    const mine = writer('s-shared', 'm-mine');
    const other = writer('s-shared', 'm-other');
    const { seen, end } = follow('s-shared', 'm-mine');
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 3; i++) {
      await other.token();
      await mine.token();
    }
    await other.done();
    await mine.done();
    await end;
    expect(seen.every((s) => s.frame.messageId === 'm-mine')).toBe(true);
    expect(tokenSeqs(seen)).toEqual([1, 2, 3]);
  });

  it('fails with FollowStalledError when nobody writes the reply any more', async () => {
    const w = writer('s-dead', 'm-dead');
    await w.token();
    const { seen, end } = follow('s-dead', 'm-dead', undefined, { isAlive: () => Promise.resolve(false), idleCheckMs: 50 });
    await expect(end).rejects.toBeInstanceOf(FollowStalledError);
    expect(tokenSeqs(seen)).toEqual([1]);
    // Unsubscribing is queued behind the channel's other operations.
    for (let i = 0; i < 50 && subscriber.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(subscriber.size).toBe(0);
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const { end } = follow('s-abort', 'm-abort', undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('client left')), 20);
    await expect(end).rejects.toThrow('client left');
  });
});
