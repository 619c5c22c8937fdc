import { describe, expect, it } from '@jest/globals';
import { generateReply } from '../src/reply-generator.js';

const settings = { replyTokens: 48, seed: 42 };
const hello = [{ role: 'user', content: 'hello' }];

describe('generateReply', () => {
  it('returns replyTokens one-word tokens, a leading space on all but the first', () => {
    const tokens = generateReply(hello, 'gpt-4o-mini', settings);
    expect(tokens).toHaveLength(48);
    expect(tokens[0]).toMatch(/^[A-Z][a-z]*\.?$/);
    for (const token of tokens.slice(1)) expect(token).toMatch(/^ [A-Za-z]+\.?$/);
  });

  it('forms sentences of 8 to 14 words, capitalized, ending with a period', () => {
    const text = generateReply(hello, 'gpt-4o-mini', { replyTokens: 500, seed: 7 }).join('');
    expect(text.endsWith('.')).toBe(true);
    const sentences = text.slice(0, -1).split('. ');
    for (const sentence of sentences.slice(0, -1)) {
      const words = sentence.split(' ');
      expect(words.length).toBeGreaterThanOrEqual(8);
      expect(words.length).toBeLessThanOrEqual(14);
      expect(words[0]).toMatch(/^[A-Z]/);
    }
  });

  it('is deterministic and depends on prompt, model and seed', () => {
    const a = generateReply(hello, 'gpt-4o-mini', settings).join('');
    expect(generateReply([{ role: 'user', content: 'hello' }], 'gpt-4o-mini', settings).join('')).toBe(a);
    expect(generateReply([{ role: 'user', content: 'hello!' }], 'gpt-4o-mini', settings).join('')).not.toBe(a);
    expect(generateReply(hello, 'gpt-4o', settings).join('')).not.toBe(a);
    expect(generateReply(hello, 'gpt-4o-mini', { ...settings, seed: 43 }).join('')).not.toBe(a);
  });

  it('treats text content parts like the same string', () => {
    const parts = [{ role: 'user', content: [{ type: 'text', text: 'hel' }, { type: 'text', text: 'lo' }] }];
    expect(generateReply(parts, 'gpt-4o-mini', settings)).toEqual(generateReply(hello, 'gpt-4o-mini', settings));
  });

  it('a shorter reply is a prefix of a longer one except for the closing period', () => {
    const long = generateReply(hello, 'gpt-4o-mini', settings);
    const short = generateReply(hello, 'gpt-4o-mini', { ...settings, replyTokens: 5 });
    expect(short.slice(0, 4)).toEqual(long.slice(0, 4));
  });
});
