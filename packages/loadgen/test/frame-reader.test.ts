import { expect, test } from '@jest/globals';
import { decodeServerFrame } from '@chat-fleet/client';
import fc from 'fast-check';
import { decodeWithoutTokenText, scanToken } from '../src/frame-reader.js';

const text = (v: unknown): string => JSON.stringify(v);

test('token frames in the worker layout are read on their text, whatever the token text holds', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), fc.integer({ min: 1, max: 1e9 }), fc.string({ unit: 'binary' }), (messageId, seq, t) => {
      expect(scanToken(text({ type: 'token', messageId, seq, text: t }))).toEqual({ messageId, seq });
    }),
  );
});

test('text that imitates the keys does not fool the scan', () => {
  const frame = text({ type: 'token', messageId: 'm1', seq: 3, text: '","seq":99,"x":"' });
  expect(scanToken(frame)).toEqual({ messageId: 'm1', seq: 3 });
});

test('the frames are the SDK decoder\'s, token text aside; other layouts and frames go through it', () => {
  expect(decodeWithoutTokenText(text({ type: 'token', messageId: 'm', seq: 2, text: 'x' }))).toEqual({ type: 'token', messageId: 'm', seq: 2, text: '' });
  expect(scanToken(text({ seq: 2, type: 'token', messageId: 'm', text: 'x' }))).toBeUndefined();
  expect(decodeWithoutTokenText(text({ seq: 2, type: 'token', messageId: 'm', text: 'x' }))).toEqual({ seq: 2, type: 'token', messageId: 'm', text: 'x' });
  const done = text({ type: 'done', messageId: 'm', seq: 4, cached: true, usage: { promptTokens: 1, completionTokens: 4 }, finishReason: 'stop' });
  expect(decodeWithoutTokenText(done)).toEqual(decodeServerFrame(done));
  for (const other of ['not json', text({ type: 'token', messageId: 'm' }), text({ type: 'surprise' })]) {
    expect(decodeWithoutTokenText(other)).toBeUndefined();
    expect(decodeServerFrame(other)).toBeUndefined();
  }
});
