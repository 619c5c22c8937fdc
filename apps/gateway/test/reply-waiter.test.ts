import { describe, expect, it } from '@jest/globals';
import { encodeEnvelope, type AckFrame, type FramePosition, type ReplyFrame, type StoredReader } from '@chat-fleet/shared';
import { ReplyWaiter } from '../src/chat/reply-waiter.js';

const tok = (messageId: string, seq: number, text: string): ReplyFrame => ({ type: 'token', messageId, seq, text });
const at = (attempt: number, seq: number): FramePosition => ({ attempt, seq });
const done = (messageId: string, seq: number): ReplyFrame => ({ type: 'done', messageId, seq, cached: false, usage: { promptTokens: 1, completionTokens: seq }, finishReason: 'stop' });

/** A stream of stored frames, read as the gateway reads a reply's Redis Stream. */
function storedOf(entries: Array<[FramePosition, ReplyFrame]>): StoredReader {
  return (_messageId, after, onEntry) => {
    for (const [p, f] of entries) {
      if (p.attempt < after.attempt || (p.attempt === after.attempt && p.seq <= after.seq)) continue;
      if (!onEntry(p, JSON.stringify(f))) break;
    }
    return Promise.resolve();
  };
}

const ack = (messageId: string): AckFrame => ({ type: 'ack', messageId });

/** A waiter whose message was acked at once: `seen` gets its reply's frames (a token's text, else the type). */
function ackedWaiter(stored: StoredReader, seen: string[] = []): ReplyWaiter {
  const w = new ReplyWaiter('m1', stored, (f) => {
    if (f.type !== 'ack') seen.push(f.type === 'token' ? f.text : f.type);
  });
  w.acked('m1', ack('m1'));
  return w;
}

describe('ReplyWaiter', () => {
  it('passes its reply once and in order, and drops other replies', async () => {
    const seen: string[] = [];
    const w = ackedWaiter(storedOf([]), seen);
    w.deliver(tok('m1', 1, 'a'), '', at(1, 1));
    w.deliver(tok('other', 1, 'x'), '', at(1, 1));
    w.deliver(tok('m1', 1, 'a'), '', at(1, 1));
    w.deliver(tok('m1', 2, 'b'), '', at(1, 2));
    w.deliver(done('m1', 2), '', at(1, 3));
    const end = await w.finished;
    expect(end.type).toBe('done');
    expect(seen).toEqual(['a', 'b', 'done']);
    expect(encodeEnvelope(at(1, 3), '{}')).toBe('1-3 {}');
  });

  it('fills a gap in the live frames from the stored stream before going on', async () => {
    const seen: string[] = [];
    const stream: Array<[FramePosition, ReplyFrame]> = [
      [at(1, 1), tok('m1', 1, 'a')],
      [at(1, 2), tok('m1', 2, 'b')],
      [at(1, 3), tok('m1', 3, 'c')],
      [at(1, 4), done('m1', 3)],
    ];
    const w = ackedWaiter(storedOf(stream), seen);
    w.deliver(tok('m1', 1, 'a'), '', at(1, 1));
    // seq 2 was lost on the way.
    w.deliver(tok('m1', 3, 'c'), '', at(1, 3));
    w.deliver(done('m1', 3), '', at(1, 4));
    await w.finished;
    expect(seen).toEqual(['a', 'b', 'c', 'done']);
  });

  it('reads the stream again when a read fails for a moment, instead of ending the reply', async () => {
    const stream: Array<[FramePosition, ReplyFrame]> = [
      [at(1, 1), tok('m1', 1, 'a')],
      [at(1, 2), tok('m1', 2, 'b')],
      [at(1, 3), done('m1', 2)],
    ];
    const whole = storedOf(stream);
    let failures = 2;
    const flaky: StoredReader = (messageId, after, onEntry) => (failures-- > 0 ? Promise.reject(new Error('Connection is closed.')) : whole(messageId, after, onEntry));
    const seen: string[] = [];
    const w = ackedWaiter(flaky, seen);
    // The first frame was lost: the gap is read from the stream, which fails twice first.
    w.deliver(tok('m1', 2, 'b'), '', at(1, 2));
    await expect(w.finished).resolves.toMatchObject({ type: 'done' });
    expect(seen).toEqual(['a', 'b', 'done']);
  });

  it('settles on an error frame', async () => {
    const w = ackedWaiter(storedOf([]));
    w.deliver({ type: 'error', messageId: 'm1', code: 'upstream_error', message: 'boom' }, '', at(2 ** 31, 0));
    await expect(w.finished).resolves.toMatchObject({ type: 'error', code: 'upstream_error' });
  });

  it('holds the reply until the ack has gone out, then sends the ack first', async () => {
    const seen: string[] = [];
    const w = new ReplyWaiter('m1', storedOf([]), (f) => seen.push(f.type === 'token' ? f.text : f.type));
    w.deliver(tok('m1', 1, 'a'), '', at(1, 1));
    w.deliver(done('m1', 1), '', at(1, 2));
    expect(seen).toEqual([]);
    w.acked('m1', ack('m1'));
    await expect(w.finished).resolves.toMatchObject({ type: 'done' });
    expect(seen).toEqual(['ack', 'a', 'done']);
  });

  it('fails with not_found when the session ends', async () => {
    const w = ackedWaiter(storedOf([]));
    w.sessionEnded('deleted');
    await expect(w.finished).rejects.toMatchObject({ code: 'not_found', message: 'the session was deleted' });
  });
});
