// Token counts with a real tokenizer (o200k, the gpt-4o family). Special-token text in user
// content is counted as plain text, never refused.
import { countTokens } from 'gpt-tokenizer';

const PLAIN = { disallowedSpecial: new Set<string>() };

/** ChatML framing per message (role and separators), as OpenAI counts it. */
export const MESSAGE_OVERHEAD_TOKENS = 4;

export function countTextTokens(text: string): number {
  return countTokens(text, PLAIN);
}

export function countMessageTokens(message: { content: string }): number {
  return countTextTokens(message.content) + MESSAGE_OVERHEAD_TOKENS;
}
