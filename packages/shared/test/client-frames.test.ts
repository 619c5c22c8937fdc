import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ChatError, parseClientFrame } from '../src/index.js';

function parseError(text: string): ChatError {
  try {
    parseClientFrame(text);
  } catch (err) {
    return err as ChatError;
  }
  throw new Error(`expected ${text} to be refused`);
}

describe('parseClientFrame', () => {
  it.each([
    ['{"type":"chat","content":"hi"}', { type: 'chat', content: 'hi' }],
    ['{"type":"chat","id":"c1","content":"hi"}', { type: 'chat', id: 'c1', content: 'hi' }],
    ['{"type":"cancel","messageId":"m-1"}', { type: 'cancel', messageId: 'm-1' }],
    ['{"type":"resume","messageId":"m1","afterSeq":0}', { type: 'resume', messageId: 'm1', afterSeq: 0 }],
    ['{"type":"resume","messageId":"m1","afterSeq":7,"attempt":2}', { type: 'resume', messageId: 'm1', afterSeq: 7, attempt: 2 }],
    ['{"type":"ping"}', { type: 'ping' }],
    ['{"type":"regenerate"}', { type: 'regenerate' }],
    ['{"type":"regenerate","id":"r1"}', { type: 'regenerate', id: 'r1' }],
  ])('accepts %s', (text, expected) => {
    expect(parseClientFrame(text)).toEqual(expected);
  });

  it.each([
    ['not json', /not valid JSON/],
    ['[1,2]', /JSON object/],
    ['null', /JSON object/],
    ['"chat"', /JSON object/],
    ['{"content":"hi"}', /no "type"/],
    ['{"type":"shout","content":"hi"}', /unknown frame type "shout"/],
    ['{"type":"chat"}', /content/],
    ['{"type":"chat","content":5}', /content/],
    ['{"type":"cancel","messageId":"../../etc"}', /messageId/],
    ['{"type":"resume","messageId":"m1","afterSeq":-1}', /afterSeq/],
    ['{"type":"resume","messageId":"m1","afterSeq":1.5}', /afterSeq/],
    ['{"type":"regenerate","id":""}', /id/],
  ])('refuses %s with bad_request', (text, message) => {
    const err = parseError(text);
    expect(err).toBeInstanceOf(ChatError);
    expect(err.code).toBe('bad_request');
    expect(err.message).toMatch(message);
  });

  it('never throws anything but a bad_request ChatError, whatever the input', () => {
    const frameLike = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ type: fc.constantFrom('chat', 'regenerate', 'cancel', 'resume', 'ping', 'x', ''), content: fc.anything(), messageId: fc.anything(), afterSeq: fc.anything(), id: fc.anything() }).map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(frameLike, (text) => {
        try {
          const frame = parseClientFrame(text);
          expect(['chat', 'regenerate', 'cancel', 'resume', 'ping']).toContain(frame.type);
        } catch (err) {
          expect(err).toBeInstanceOf(ChatError);
          expect((err as ChatError).code).toBe('bad_request');
          expect((err as ChatError).message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
