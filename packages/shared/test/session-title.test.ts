import { describe, expect, it } from '@jest/globals';
import { ChatError } from '../src/errors.js';
import { TITLE_FROM_MESSAGE_CHARS, titleFromMessage, titleFromRename } from '../src/session/session-title.js';

describe('titleFromMessage', () => {
  it.each([
    ['a short message is its own title, whitespace collapsed', '  Hello\n\tthere  ', 'Hello there'],
    ['exactly the limit stays whole', 'x'.repeat(TITLE_FROM_MESSAGE_CHARS), 'x'.repeat(TITLE_FROM_MESSAGE_CHARS)],
    [
      'a longer one is cut on a word boundary',
      'Plan a whole week in Lisbon for two people who like museums, food and long walks by the river',
      'Plan a whole week in Lisbon for two people who like…',
    ],
    [
      'a head that ends a word keeps it',
      'Plan a whole week in Lisbon for two people who like museums and food and long walks',
      'Plan a whole week in Lisbon for two people who like museums…',
    ],
    ['a run without spaces is cut where it is', '我'.repeat(80), `${'我'.repeat(TITLE_FROM_MESSAGE_CHARS - 1)}…`],
    ['characters, not UTF-16 units', '😀'.repeat(70), `${'😀'.repeat(TITLE_FROM_MESSAGE_CHARS - 1)}…`],
  ])('%s', (_name, input, expected) => {
    const title = titleFromMessage(input);
    expect(title).toBe(expected);
    expect([...title].length).toBeLessThanOrEqual(TITLE_FROM_MESSAGE_CHARS);
  });
});

describe('titleFromRename', () => {
  it('trims, strips control characters, collapses whitespace and scrubs personal data', () => {
    expect(titleFromRename('  Call +44 20 7946 0958\u0007 about\n the\u200b   visa  ')).toBe('Call [PHONE] about the visa');
    expect(titleFromRename('mail jane@example.com')).toBe('mail [EMAIL]');
  });

  it.each([[''], ['   \n '], ['x'.repeat(121)]])('refuses %j with bad_request', (raw) => {
    expect(() => titleFromRename(raw)).toThrow(ChatError);
    expect(() => titleFromRename(raw)).toThrow(/1 to 120 characters/);
  });

  it('takes 120 characters, counted as characters', () => {
    expect(titleFromRename('é'.repeat(120))).toBe('é'.repeat(120));
    expect(titleFromRename('😀'.repeat(120))).toBe('😀'.repeat(120));
  });
});
