// Builds what the model sees for a reply: the session's language (when it has a locale), its
// system prompt and as much of its history as fits the token budget, oldest turns dropped first.
// The system messages and the user message being answered are always kept.
import { ChatError, type ReplyInfo, type SessionMeta, type SessionStore, type StoredMessage } from '@chat-fleet/shared';
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

  /**
   * Reads, in one command, the reply's state and what its context is built from. `context()`
   * builds it, throwing `not_found` when the session or the message to answer is gone.
   */
  async read(sessionId: string, messageId: string, userMessageId: string): Promise<{ reply: ReplyInfo | undefined; context: () => BuiltContext }> {
    const { reply, meta, history } = await this.sessions.readForReply(sessionId, messageId);
    return { reply, context: () => this.build(sessionId, meta, history, userMessageId) };
  }

  private build(sessionId: string, meta: SessionMeta | undefined, history: readonly StoredMessage[], userMessageId: string): BuiltContext {
    if (meta === undefined) throw new ChatError('not_found', `session ${sessionId} no longer exists`);
    const end = history.findIndex((m) => m.id === userMessageId);
    if (end < 0) throw new ChatError('not_found', 'the message to answer is no longer in the session history');

    // Partial replies (cancelled, failed) are kept for the user but not fed back to the model.
    const turns: ModelMessage[] = history
      .slice(0, end + 1)
      .filter((m) => !(m.role === 'assistant' && m.status !== undefined))
      .flatMap(modelMessages);
    const system: ModelMessage[] = [];
    // Before the system prompt, so the session's own instructions can ask for another language.
    if (meta.locale !== undefined) system.push(languageInstruction(meta.locale));
    if (meta.systemPrompt !== undefined && meta.systemPrompt !== '') system.push({ role: 'system', content: meta.systemPrompt });
    return fitToBudget(system, turns, this.maxTokens);
  }
}

const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });

/** The system message that asks for replies in the session's language (a BCP 47 tag). */
export function languageInstruction(locale: string): ModelMessage {
  const named = languageName(locale);
  return { role: 'system', content: `Reply in ${named === locale ? locale : `${named} (${locale})`} unless the instructions below ask for another language.` };
}

/** `Spanish` for `es`; a region the name would put in parentheses is left to the tag (`Chinese` for `zh-CN`). */
function languageName(locale: string): string {
  try {
    const name = languageNames.of(locale) ?? locale;
    return name.includes('(') ? (languageNames.of(new Intl.Locale(locale).language) ?? name) : name;
  } catch {
    return locale;
  }
}

/**
 * A stored message as the model saw it: an assistant reply that called tools is its calls and
 * their results, step by step, then its text, so a follow-up question has what the tools said.
 */
export function modelMessages(m: StoredMessage): ModelMessage[] {
  if (m.role !== 'assistant') return [{ role: m.role, content: m.content }];
  if (m.tools === undefined || m.tools.length === 0) return [{ role: 'assistant', content: m.content }];
  const out: ModelMessage[] = [];
  for (let i = 0; i < m.tools.length; ) {
    const step = m.tools[i]!.step;
    const calls = [];
    const results: ModelMessage[] = [];
    for (; i < m.tools.length && m.tools[i]!.step === step; i++) {
      const t = m.tools[i]!;
      calls.push({ id: t.callId, type: 'function' as const, function: { name: t.name, arguments: t.arguments } });
      results.push({ role: 'tool', tool_call_id: t.callId, content: t.result });
    }
    out.push({ role: 'assistant', content: null, tool_calls: calls }, ...results);
  }
  out.push({ role: 'assistant', content: m.content });
  return out;
}

/** Keeps the system messages and the last turn, then as many earlier turns as fit, newest first. */
export function fitToBudget(system: readonly ModelMessage[], turns: ModelMessage[], maxTokens: number): BuiltContext {
  const last = turns.at(-1);
  if (last === undefined) throw new ChatError('not_found', 'there is no message to answer');
  let tokens = system.reduce((n, m) => n + countMessageTokens(m), 0) + countMessageTokens(last);
  let first = turns.length - 1;
  while (first > 0) {
    const cost = countMessageTokens(turns[first - 1]!);
    if (tokens + cost > maxTokens) break;
    tokens += cost;
    first--;
  }
  // A tool result without the call before it is not a valid request: start after it.
  while (first < turns.length - 1 && turns[first]!.role === 'tool') tokens -= countMessageTokens(turns[first++]!);
  const kept = turns.slice(first);
  return { messages: [...system, ...kept], tokens, dropped: first };
}
