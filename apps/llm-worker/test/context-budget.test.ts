import { describe, expect, it } from '@jest/globals';
import { fitToBudget } from '../src/context-builder.js';
import { countMessageTokens, countTextTokens } from '../src/token-counter.js';
import type { ModelMessage } from '../src/model-client.js';

const turn = (role: 'user' | 'assistant', words: number, tag: string): ModelMessage => ({
  role,
  content: `${tag} ${'lorem ipsum dolor '.repeat(words)}`.trim(),
});

describe('fitToBudget', () => {
  const system: ModelMessage = { role: 'system', content: 'You are a careful assistant.' };
  const turns = [turn('user', 50, 'u1'), turn('assistant', 50, 'a1'), turn('user', 50, 'u2'), turn('assistant', 50, 'a2'), turn('user', 10, 'u3')];
  const cost = turns.map(countMessageTokens);
  const sys = countMessageTokens(system);

  it('keeps everything when it fits', () => {
    const total = sys + cost.reduce((a, b) => a + b, 0);
    const r = fitToBudget(system, turns, total);
    expect(r.messages).toEqual([system, ...turns]);
    expect(r.tokens).toBe(total);
    expect(r.dropped).toBe(0);
  });

  it('drops the oldest turns first and always keeps the system prompt and the last turn', () => {
    const budget = sys + cost[4]! + cost[3]! + cost[2]! + 1;
    const r = fitToBudget(system, turns, budget);
    expect(r.messages.map((m) => m.content.split(' ')[0])).toEqual(['You', 'u2', 'a2', 'u3']);
    expect(r.dropped).toBe(2);
    expect(r.tokens).toBeLessThanOrEqual(budget);
  });

  it('keeps the system prompt and the question even over budget', () => {
    const r = fitToBudget(system, turns, 1);
    expect(r.messages).toEqual([system, turns[4]]);
    expect(r.dropped).toBe(4);
  });

  it('counts special-token text as plain text instead of throwing', () => {
    expect(countTextTokens('hi <|endoftext|> there')).toBeGreaterThan(3);
  });
});
