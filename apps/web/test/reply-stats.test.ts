import { describe, expect, it } from '@jest/globals';
import type { AssistantMessage, ReplyDone } from '@chat-fleet/client';
import { replyStats } from '../src/reply-stats.js';

const ended = (origin: AssistantMessage['origin'], completionTokens: number, firstTokenMs: number | undefined, totalMs: number): AssistantMessage => {
  const result: ReplyDone = {
    status: 'done',
    messageId: 'm1',
    text: 'x',
    finishReason: 'stop',
    usage: { promptTokens: 5, completionTokens },
    cached: false,
    coalesced: false,
    resumes: 0,
    firstTokenMs,
    totalMs,
    duplicates: 0,
    gaps: 0,
    problem: undefined,
  };
  return { role: 'assistant', key: 'm1', text: 'x', status: 'done', origin, result };
};

describe('replyStats', () => {
  it('measures first token from sending and the rate from the first token to done', () => {
    const s = replyStats(ended('sent', 21, 250, 2250))!;
    expect(s.firstTokenMs).toBe(250);
    expect(s.tokensPerSec).toBeCloseTo(10, 6); // 20 tokens after the first in 2 s
    expect(s.completionTokens).toBe(21);
  });

  it('has no first-token time for a reply this page did not send (followed after a reload)', () => {
    const s = replyStats(ended('followed', 11, 100, 1100))!;
    expect(s.firstTokenMs).toBeUndefined();
    expect(s.tokensPerSec).toBeCloseTo(10, 6);
  });

  it('has no rate for a reply of one token or none, and no stats for history', () => {
    expect(replyStats(ended('sent', 1, 10, 50))!.tokensPerSec).toBeUndefined();
    expect(replyStats(ended('sent', 0, undefined, 50))!.tokensPerSec).toBeUndefined();
    expect(replyStats({ role: 'assistant', key: 'h', text: 'old', status: 'done', origin: 'history' })).toBeUndefined();
  });
});
