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

/** A message's tokens: its text, a tool call's name and arguments, and the framing. */
export function countMessageTokens(message: ModelMessage): number {
  let tokens = MESSAGE_OVERHEAD_TOKENS + (message.content === null ? 0 : countTextTokens(message.content));
  if (message.role === 'assistant' && message.tool_calls !== undefined) {
    for (const call of message.tool_calls) tokens += countTextTokens(call.function.name) + countTextTokens(call.function.arguments) + MESSAGE_OVERHEAD_TOKENS;
  }
  return tokens;
}
