import { describe, expect, it } from '@jest/globals';
import { ReplyTimer } from '../src/reply-stats.js';
import type { DoneFrame } from '../src/protocol.js';

const done = (messageId: string, completionTokens: number, seq = completionTokens): DoneFrame => ({
  type: 'done',
  messageId,
  seq,
  cached: false,
  usage: { promptTokens: 5, completionTokens },
  finishReason: 'stop',
});

describe('ReplyTimer', () => {
  it('measures first token from sending and the rate from the first token to done', () => {
    const t = new ReplyTimer();
    t.sent('c1', 1000);
    t.accepted('c1', 'm1');
    t.token('m1', 1250);
    t.token('m1', 1300);
    const s = t.done(done('m1', 21), 3250);
    expect(s.firstTokenMs).toBe(250);
    expect(s.tokensPerSec).toBeCloseTo(10, 6); // 20 tokens after the first in 2 s
    expect(s.completionTokens).toBe(21);
  });

  it('has no first-token time for a reply it did not send, and counts again after a reset', () => {
    const t = new ReplyTimer();
    t.token('m2', 100);
    t.reset('m2');
    t.token('m2', 600);
    const s = t.done(done('m2', 0, 11), 1600);
    expect(s.firstTokenMs).toBeUndefined();
    expect(s.completionTokens).toBe(11);
    expect(s.tokensPerSec).toBeCloseTo(10, 6);
  });

  it('has no rate for a reply of one token or none', () => {
    const t = new ReplyTimer();
    t.sent('c', 0);
    t.accepted('c', 'm');
    expect(t.done(done('m', 0), 50).tokensPerSec).toBeUndefined();
  });
});
