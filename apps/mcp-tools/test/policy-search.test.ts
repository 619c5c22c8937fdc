import { describe, expect, it } from '@jest/globals';
import { POLICIES } from '../src/tools/policies.js';
import { formatPassages, MIN_SCORE, PolicyIndex } from '../src/tools/policy-search.js';

const index = new PolicyIndex();
const top = (query: string): string | undefined => index.search(query, 1).passages[0]?.id;

describe('policy search', () => {
  it('finds the document a question is about, first', () => {
    expect(top('What is the rebooking policy?')).toBe('rebooking');
    expect(top('Can I change my flight to another date?')).toBe('rebooking');
    expect(top('how do I get my money back')).toBe('refunds');
    expect(top('my flight was cancelled, what are my options')).toBe('cancellations');
    expect(top('how many kg can my suitcase weigh')).toBe('baggage');
    expect(top('am I owed compensation for a 4 hour delay')).toBe('delays-compensation');
    expect(top('my name is misspelled on the ticket')).toBe('name-changes');
    expect(top('can I bring my dog in the cabin')).toBe('pets');
    expect(top('I need a wheelchair at the airport')).toBe('special-assistance');
  });

  it('returns the best paragraph of each document, at most `limit`, scores falling', () => {
    const result = index.search('rebooking a cancelled flight or a refund', 5);
    const ids = result.passages.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(ids.length).toBeLessThanOrEqual(5);
    for (const [i, p] of result.passages.entries()) {
      expect(p.score).toBeGreaterThanOrEqual(MIN_SCORE);
      if (i > 0) expect(p.score).toBeLessThanOrEqual(result.passages[i - 1]!.score);
      const doc = POLICIES.find((d) => d.id === p.id)!;
      expect(doc.paragraphs).toContain(p.text);
      expect(p).toMatchObject({ title: doc.title, url: doc.url });
    }
    expect(index.search('rebooking a cancelled flight or a refund', 1).passages).toHaveLength(1);
  });

  it('finds nothing for a question with no word of the policies, or only stop words', () => {
    expect(index.search('hello there').passages).toEqual([]);
    expect(index.search('what is it?').sources).toEqual([]);
  });

  it('formats passages as [id] title, then the text', () => {
    const result = index.search('pets in the cabin', 2);
    expect(formatPassages('pets in the cabin', result)).toBe(result.passages.map((p) => `[${p.id}] ${p.title}\n${p.text}`).join('\n\n'));
    expect(formatPassages('zzz', { passages: [], sources: [] })).toBe('No policy matches "zzz".');
  });

  it('every document has an id, a title, a URL under /policies/ and a few paragraphs', () => {
    expect(POLICIES).toHaveLength(8);
    for (const doc of POLICIES) {
      expect(doc.url).toBe(`https://example.com/policies/${doc.id}`);
      expect(doc.paragraphs.length).toBeGreaterThanOrEqual(3);
    }
  });
});
