import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ReplyAssembler, assembleRecorded, closeAction } from '../src/index.js';

const usage = { promptTokens: 3, completionTokens: 3 };
const token = (seq: number, text = `t${seq} `) => ({ type: 'token' as const, seq, text });
const done = (seq: number) => ({ type: 'done' as const, seq, finishReason: 'stop' as const, cached: false, usage });

describe('the whole-reply rule', () => {
  it('drops a seq seen before and refuses one past a gap, which asks for a resume after lastSeq', () => {
    const a = new ReplyAssembler();
    expect(a.apply(token(1))).toBe('token');
    expect(a.apply(token(1))).toBe('duplicate');
    expect(a.apply(token(3))).toBe('gap');
    expect(a.lastSeq).toBe(1);
    expect(a.apply(done(3))).toBe('early');
    expect(a.apply(token(2))).toBe('token');
    expect(a.apply(token(3))).toBe('token');
    expect(a.apply(done(3))).toBe('done');
    expect(a.text).toBe('t1 t2 t3 ');
    expect(a.problem).toBeUndefined();
    expect(a.apply(token(4))).toBe('after');
  });

  it('starts again on a reset of a newer attempt and ignores a stale one', () => {
    const a = new ReplyAssembler();
    a.apply(token(1));
    a.apply(token(2));
    expect(a.apply({ type: 'reset', attempt: 2 })).toBe('reset');
    expect(a.text).toBe('');
    expect(a.apply({ type: 'reset', attempt: 1 })).toBe('stale');
    a.apply(token(1, 'B'));
    expect(a.apply(done(1))).toBe('done');
    expect(a).toMatchObject({ text: 'B', attempt: 2, phase: 'done' });
  });

  it('judges recorded frames: whole only with every seq once, no gap, and done', () => {
    expect(assembleRecorded([token(1), token(2), done(2)])).toMatchObject({ whole: true, seqs: [1, 2] });
    expect(assembleRecorded([token(1), token(1), token(2), done(2)])).toMatchObject({ whole: false, duplicates: 1 });
    expect(assembleRecorded([token(1), token(3), done(3)])).toMatchObject({ whole: false, phase: 'streaming' });
    expect(assembleRecorded([token(1), token(2), done(1)])).toMatchObject({ whole: false, phase: 'done', problem: 'done names seq 1, but the last token was 2' });
    expect(assembleRecorded([token(1), { type: 'error', code: 'unavailable', message: 'x' }])).toMatchObject({ whole: false, phase: 'error' });
    // A reply's events sit between its tokens without a seq: never a duplicate, a gap or a problem.
    const call = { type: 'tool_call' as const, messageId: 'a', callId: 'c1', name: 'flight_status', arguments: {} };
    const sources = { type: 'sources' as const, messageId: 'a', sources: [{ id: 'p1', title: 'Rebooking policy' }] };
    expect(assembleRecorded([call, call, token(1), sources, token(2), sources, done(2)])).toMatchObject({ whole: true, seqs: [1, 2], duplicates: 0, gaps: 0, problem: undefined });
    expect(assembleRecorded([{ ...token(1), messageId: 'b' }, { ...token(1), messageId: 'a' }, { ...done(1), messageId: 'a' }], 'a')).toMatchObject({ whole: true, text: 't1 ' });
  });

  it('assembles any arrival order of one attempt into the text in seq order once the missing frames come', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(fc.nat(), { maxLength: 60 }), (n, picks) => {
        // Frames arrive in any order, some twice; whenever a gap refuses one, the reader resumes:
        // everything after lastSeq comes again in order.
        const a = new ReplyAssembler();
        for (const p of picks) {
          if (a.apply(token((p % n) + 1)) === 'gap') for (let s = a.lastSeq + 1; s <= n; s++) a.apply(token(s));
        }
        for (let s = a.lastSeq + 1; s <= n; s++) a.apply(token(s));
        expect(a.apply(done(n))).toBe('done');
        expect(a.text).toBe(Array.from({ length: n }, (_, i) => `t${i + 1} `).join(''));
      }),
    );
  });
});

describe('the close-code policy', () => {
  it('reconnects after drops and 4000-4099, ends the session on 4100/4101 and stops on the rest', () => {
    expect([1001, 1006, 1011, 1012, 1013, 4000, 4001, 4002].map(closeAction)).toEqual(Array(8).fill('reconnect'));
    expect(closeAction(4100)).toBe('session_ended');
    expect(closeAction(4101)).toBe('unauthorized');
    expect([1000, 4102, 4103].map(closeAction)).toEqual(['stop', 'stop', 'stop']);
  });
});
