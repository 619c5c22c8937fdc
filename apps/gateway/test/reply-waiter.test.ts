import { describe, expect, it } from '@jest/globals';
import type { ReplyFrame } from '@chat-fleet/shared';
import { ReplyWaiter } from '../src/transport/reply-waiter.js';

const tok = (messageId: string, seq: number, text: string): ReplyFrame => ({ type: 'token', messageId, seq, text });

describe('ReplyWaiter', () => {
  it('keeps frames that arrive before the messageId is known and drops other replies', async () => {
    const seen: string[] = [];
    const w = new ReplyWaiter((f) => seen.push(f.type === 'token' ? f.text : f.type));
    w.deliver(tok('m1', 1, 'a'), '');
    w.deliver(tok('other', 1, 'x'), '');
    w.follow('m1');
    w.deliver(tok('m1', 2, 'b'), '');
    w.deliver({ type: 'done', messageId: 'm1', seq: 2, cached: false, usage: { promptTokens: 1, completionTokens: 2 }, finishReason: 'stop' }, '');
    const end = await w.finished;
    expect(end.type).toBe('done');
    expect(seen).toEqual(['a', 'b', 'done']);
  });

  it('settles on an error frame', async () => {
    const w = new ReplyWaiter();
    w.follow('m1');
    w.deliver({ type: 'error', messageId: 'm1', code: 'upstream_error', message: 'boom' }, '');
    await expect(w.finished).resolves.toMatchObject({ type: 'error', code: 'upstream_error' });
  });
});
