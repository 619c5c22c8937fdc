// The o200k tokenizer (gpt-4o family), whatever model name was asked for: usage counts and the pieces tool-call arguments stream in.
import { countTokens, decodeGenerator, encode, encodeChat } from 'gpt-tokenizer';
import { messageText, type MessageLike } from './chat-request.js';

// User text may contain strings like <|endoftext|>; count them as text instead of throwing.
const AS_TEXT = { disallowedSpecial: new Set<string>() };

export function countPromptTokens(messages: readonly MessageLike[]): number {
  const chat = messages.map((m) => ({ role: m.role, content: messageText(m) }));
  try {
    return encodeChat(chat, 'gpt-4o', AS_TEXT).length;
  } catch {
    return countTokens(chat.map((m) => m.content).join('\n'), AS_TEXT);
  }
}

/** What the tool definitions add to the prompt, roughly: the tokens of their JSON. */
export function countToolTokens(tools: readonly unknown[]): number {
  return countTokens(JSON.stringify(tools), AS_TEXT);
}

/** A text split into its tokens' text, as a model streams it; multi-byte characters never split. */
export function tokenPieces(text: string): { pieces: string[]; tokens: number } {
  const ids = encode(text, AS_TEXT);
  return { pieces: [...decodeGenerator(ids)], tokens: ids.length };
}
