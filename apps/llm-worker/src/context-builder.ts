// Builds what the model sees for a reply: the session's system prompt and as much of its
// history as fits the token budget, oldest turns dropped first. The system prompt and the
// user message being answered are always kept.
import { ChatError, type SessionStore } from '@chat-fleet/shared';
import type { ModelMessage } from './model-client.js';
import { countMessageTokens } from './token-counter.js';

export interface BuiltContext {
  messages: ModelMessage[];
  /** Prompt tokens as counted here (the model's own count may differ slightly). */
  tokens: number;
  /** History messages left out to fit the budget. */
  dropped: number;
}

export class ContextBuilder {
  constructor(
    private readonly sessions: SessionStore,
    private readonly maxTokens: number,
  ) {}

  async build(sessionId: string, userMessageId: string): Promise<BuiltContext> {
    const [meta, history] = await Promise.all([this.sessions.getMeta(sessionId), this.sessions.history(sessionId)]);
    if (meta === undefined) throw new ChatError('not_found', `session ${sessionId} no longer exists`);
    const end = history.findIndex((m) => m.id === userMessageId);
    if (end < 0) throw new ChatError('not_found', 'the message to answer is no longer in the session history');

    // Partial replies (cancelled, failed) are kept for the user but not fed back to the model.
    const turns: ModelMessage[] = history
      .slice(0, end + 1)
      .filter((m) => !(m.role === 'assistant' && m.status !== undefined))
      .map((m) => ({ role: m.role, content: m.content }));
    const system: ModelMessage | undefined =
      meta.systemPrompt !== undefined && meta.systemPrompt !== '' ? { role: 'system', content: meta.systemPrompt } : undefined;
    return fitToBudget(system, turns, this.maxTokens);
  }
}

/** Keeps the system prompt and the last turn, then as many earlier turns as fit, newest first. */
export function fitToBudget(system: ModelMessage | undefined, turns: ModelMessage[], maxTokens: number): BuiltContext {
  const last = turns.at(-1);
  if (last === undefined) throw new ChatError('not_found', 'there is no message to answer');
  let tokens = (system ? countMessageTokens(system) : 0) + countMessageTokens(last);
  let first = turns.length - 1;
  while (first > 0) {
    const cost = countMessageTokens(turns[first - 1]!);
    if (tokens + cost > maxTokens) break;
    tokens += cost;
    first--;
  }
  const kept = turns.slice(first);
  return { messages: system ? [system, ...kept] : kept, tokens, dropped: first };
}
