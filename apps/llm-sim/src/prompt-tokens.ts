// prompt_tokens for usage: counted with the o200k tokenizer (gpt-4o family) whatever model name was asked for.
import { countTokens, encodeChat } from 'gpt-tokenizer';
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
