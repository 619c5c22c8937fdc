import { describe, expect, it } from '@jest/globals';
import { checkTone, describeTone } from '../src/tools/tone-check.js';

describe('tone check', () => {
  it('reads rude, polite, urgent and neutral messages', () => {
    expect(checkTone('This is ridiculous, you people are useless!')).toMatchObject({ tone: 'rude' });
    expect(checkTone('Shut up and give me my refund')).toMatchObject({ tone: 'rude', notes: ['rude words: shut up'] });
    expect(checkTone('Would you please check my booking? Many thanks.')).toMatchObject({ tone: 'polite' });
    expect(checkTone('I need to rebook right now, my flight leaves in an hour')).toMatchObject({ tone: 'urgent', notes: ['urgent words: right now'] });
    expect(checkTone('My flight is XY123 and it is now boarding.')).toEqual({ tone: 'neutral', sentiment: 0, notes: [] });
  });

  it('takes shouting with negative words as rude, and many exclamation marks as urgent', () => {
    expect(checkTone('THIS IS THE WORST AIRLINE EVER')).toMatchObject({ tone: 'rude' });
    expect(checkTone('Where is my bag!!!')).toMatchObject({ tone: 'urgent', notes: ['3 exclamation marks'] });
    // A flight number or a short code in capitals is not shouting.
    expect(checkTone('Is XY123 covered by EU rules?').tone).toBe('neutral');
  });

  it('puts sentiment between -1 and 1, below 0 for hostile text and above for warm text', () => {
    const hostile = checkTone('You idiots lost my bag, this is a disgrace, terrible, awful service!!!');
    expect(hostile.sentiment).toBe(-1);
    const warm = checkTone('Thank you so much, the crew was wonderful and very helpful');
    expect(warm.sentiment).toBeGreaterThan(0.5);
    expect(warm.sentiment).toBeLessThanOrEqual(1);
  });

  it('describes the verdict in one sentence naming its reasons', () => {
    expect(describeTone(checkTone('Please help, thanks'))).toBe('The tone is polite, the sentiment positive (0.67): polite words: please, thanks.');
    expect(describeTone(checkTone('ok'))).toBe('The tone is neutral, the sentiment even (0.00): no marked words or punctuation.');
  });
});
