import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import { readFrame, scanToken } from '../src/frame-reader.js';

const bytes = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

test('token frames in the worker layout are read on their bytes, whatever the text holds', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), fc.integer({ min: 1, max: 1e9 }), fc.string({ unit: 'binary' }), (messageId, seq, text) => {
      expect(scanToken(bytes({ type: 'token', messageId, seq, text }))).toEqual({ messageId, seq });
    }),
  );
});

test('text that imitates the keys does not fool the scan', () => {
  const frame = bytes({ type: 'token', messageId: 'm1', seq: 3, text: '","seq":99,"x":"' });
  expect(scanToken(frame)).toEqual({ messageId: 'm1', seq: 3 });
});

test('other layouts and other frames go through JSON', () => {
  expect(scanToken(bytes({ seq: 2, type: 'token', messageId: 'm', text: 'x' }))).toBeUndefined();
  expect(readFrame(bytes({ seq: 2, type: 'token', messageId: 'm', text: 'x' }))).toEqual({ type: 'token', messageId: 'm', seq: 2 });
  expect(readFrame(bytes({ type: 'done', messageId: 'm', seq: 4, cached: true, usage: { promptTokens: 1, completionTokens: 4 }, finishReason: 'stop' }))).toMatchObject({
    type: 'done',
    seq: 4,
    cached: true,
  });
  expect(readFrame(Buffer.from('not json'))).toEqual({ type: 'unknown' });
  expect(readFrame(bytes({ type: 'token', messageId: 'm' }))).toEqual({ type: 'unknown' });
  expect(readFrame(bytes({ type: 'surprise' }))).toEqual({ type: 'unknown' });
});
