import { describe, expect, it } from '@jest/globals';
import { fitToBudget, languageInstruction, modelMessages } from '../src/context-builder.js';
import { countKnownTextTokens, countMessageTokens, countTextTokens } from '../src/token-counter.js';
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
    const r = fitToBudget([system], turns, total);
    expect(r.messages).toEqual([system, ...turns]);
    expect(r.tokens).toBe(total);
    expect(r.dropped).toBe(0);
  });

  it('drops the oldest turns first and always keeps the system prompt and the last turn', () => {
    const budget = sys + cost[4]! + cost[3]! + cost[2]! + 1;
    const r = fitToBudget([system], turns, budget);
    expect(r.messages.map((m) => (m.content ?? '').split(' ')[0])).toEqual(['You', 'u2', 'a2', 'u3']);
    expect(r.dropped).toBe(2);
    expect(r.tokens).toBeLessThanOrEqual(budget);
  });

  it('keeps the system prompt and the question even over budget', () => {
    const r = fitToBudget([system], turns, 1);
    expect(r.messages).toEqual([system, turns[4]]);
    expect(r.dropped).toBe(4);
  });

  it('keeps every system message, in order, and counts them', () => {
    const language = languageInstruction('es');
    const r = fitToBudget([language, system], turns, 1);
    expect(r.messages).toEqual([language, system, turns[4]]);
    expect(r.tokens).toBe(countMessageTokens(language) + sys + cost[4]!);
  });

  it('counts special-token text as plain text instead of throwing', () => {
    expect(countTextTokens('hi <|endoftext|> there')).toBeGreaterThan(3);
  });
});

describe('a reply that called tools, fed back to the model', () => {
  const tools = [
    { step: 0, callId: 'a', name: 'flight_status', arguments: '{"flight":"XY123"}', ok: true, result: 'XY123 is on time' },
    { step: 0, callId: 'b', name: 'policy_search', arguments: '{"query":"rebooking"}', ok: true, result: '[rebooking] Rebooking policy' },
    { step: 1, callId: 'c', name: 'tone_check', arguments: '{"text":"hi"}', ok: false, result: 'error: timed out' },
  ];
  const stored = { id: 'm1', role: 'assistant' as const, content: 'It is on time.', createdAt: '2026-01-01T00:00:00Z', tools };

  it('is its calls and results step by step, then its text', () => {
    const messages = modelMessages(stored);
    expect(messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'tool', 'assistant', 'tool', 'assistant']);
    expect(messages[0]).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'a', type: 'function', function: { name: 'flight_status', arguments: '{"flight":"XY123"}' } },
        { id: 'b', type: 'function', function: { name: 'policy_search', arguments: '{"query":"rebooking"}' } },
      ],
    });
    expect(messages[2]).toEqual({ role: 'tool', tool_call_id: 'b', content: '[rebooking] Rebooking policy' });
    expect(messages.at(-1)).toEqual({ role: 'assistant', content: 'It is on time.' });
  });

  it('a budget that cuts between a call and its result starts after the orphaned result', () => {
    const turns: ModelMessage[] = [{ role: 'user', content: 'is XY123 on time?' }, ...modelMessages(stored), { role: 'user', content: 'thanks' }];
    // Room for the last three messages only: tool (c), the reply's text, the question.
    const budget = turns.slice(-3).reduce((n, m) => n + countMessageTokens(m), 0);
    const r = fitToBudget([], turns, budget);
    expect(r.messages[0]!.role).not.toBe('tool');
    expect(r.messages.map((m) => m.role)).toEqual(['assistant', 'user']);
    expect(r.tokens).toBe(r.messages.reduce((n, m) => n + countMessageTokens(m), 0));
  });
});

describe('languageInstruction', () => {
  it.each([
    ['es', 'Reply in Spanish (es) unless the instructions below ask for another language.'],
    ['zh-CN', 'Reply in Chinese (zh-CN) unless the instructions below ask for another language.'],
    ['ar', 'Reply in Arabic (ar) unless the instructions below ask for another language.'],
    ['ja', 'Reply in Japanese (ja) unless the instructions below ask for another language.'],
    ['pt-BR', 'Reply in Brazilian Portuguese (pt-BR) unless the instructions below ask for another language.'],
  ])('names %s in English', (locale, content) => {
    expect(languageInstruction(locale)).toEqual({ role: 'system', content });
  });

  it('names a tag it has no name for by the tag', () => {
    expect(languageInstruction('qaa').content).toBe('Reply in qaa unless the instructions below ask for another language.');
  });
});

describe('remembered counts', () => {
  it('equal the tokenizer for texts counted before and new ones, short and long', () => {
    const texts = ['hi', 'The quick brown fox jumps over the lazy dog, twice over.', '日本語のテキストも同じように数えます。', 'x'.repeat(5000), '<|endoftext|> stays plain text here'];
    for (let round = 0; round < 3; round++) {
      for (const t of texts) expect(countKnownTextTokens(t)).toBe(countTextTokens(t));
    }
    const m: ModelMessage = { role: 'user', content: texts[1]! };
    expect(countMessageTokens(m)).toBe(countTextTokens(texts[1]!) + 4);
  });
});
