// Token counts with a real tokenizer (o200k, the gpt-4o family). Special-token text in user
// content is counted as plain text, never refused.
import { countTokens } from 'gpt-tokenizer';
import type { ModelMessage } from './model-client.js';

const PLAIN = { disallowedSpecial: new Set<string>() };

/** ChatML framing per message (role and separators), as OpenAI counts it. */
export const MESSAGE_OVERHEAD_TOKENS = 4;

export function countTextTokens(text: string): number {
  return countTokens(text, PLAIN);
}

// A session's history is counted again for every reply in it: the counts of texts seen lately are
// kept (the oldest go first), so each message is tokenized about once, not once per later reply.
const COUNTS_KEPT = 20_000;
const counted = new Map<string, number>();

/** countTextTokens, remembered for the texts counted lately. */
export function countKnownTextTokens(text: string): number {
  if (text.length < 16) return countTextTokens(text);
  const known = counted.get(text);
  if (known !== undefined) return known;
  const n = countTextTokens(text);
  if (counted.size >= COUNTS_KEPT) counted.delete(counted.keys().next().value!);
  counted.set(text, n);
  return n;
}

/** A message's tokens: its text, a tool call's name and arguments, and the framing. */
export function countMessageTokens(message: ModelMessage): number {
  let tokens = MESSAGE_OVERHEAD_TOKENS + (message.content === null ? 0 : countKnownTextTokens(message.content));
  if (message.role === 'assistant' && message.tool_calls !== undefined) {
    for (const call of message.tool_calls) tokens += countKnownTextTokens(call.function.name) + countKnownTextTokens(call.function.arguments) + MESSAGE_OVERHEAD_TOKENS;
  }
  return tokens;
}
