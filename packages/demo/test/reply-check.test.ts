import { expect, test } from '@jest/globals';
import { ReplyCheck } from '../src/reply-check.js';

test('seq 1..n then done n is whole; an overlap after resume is dropped, not shown twice', () => {
  const c = new ReplyCheck();
  expect([1, 2, 3].map((s) => c.token(s))).toEqual(['next', 'next', 'next']);
  expect(c.token(2)).toBe('duplicate');
  expect(c.token(4)).toBe('next');
  expect(c.done(4)).toBeUndefined();
});

test('a gap, or done naming another seq, is reported', () => {
  const gap = new ReplyCheck();
  gap.token(1);
  expect(gap.token(4)).toBe('gap');
  expect(gap.done(4)).toBe('seq 2–3 of attempt 1 never arrived');

  const short = new ReplyCheck();
  short.token(1);
  expect(short.done(2)).toBe('done names seq 2, but the last token was 1');
});

test('reset starts the count over for the new attempt and forgets an earlier gap', () => {
  const c = new ReplyCheck();
  c.token(1);
  c.token(3);
  c.reset(2);
  expect(c.attempt).toBe(2);
  expect(c.lastSeq).toBe(0);
  expect(c.token(1)).toBe('next');
  expect(c.token(2)).toBe('next');
  expect(c.done(2)).toBeUndefined();
});
