// Builds what the model sees for a reply: the session's system prompt and its history up to
// the user message being answered.
import { ChatError, type SessionStore } from '@chat-fleet/shared';
import type { ModelMessage } from './model-client.js';

export class ContextBuilder {
  constructor(private readonly sessions: SessionStore) {}

  async build(sessionId: string, userMessageId: string): Promise<ModelMessage[]> {
    const [meta, history] = await Promise.all([this.sessions.getMeta(sessionId), this.sessions.history(sessionId)]);
    if (meta === undefined) throw new ChatError('not_found', `session ${sessionId} no longer exists`);
    const end = history.findIndex((m) => m.id === userMessageId);
    if (end < 0) throw new ChatError('not_found', 'the message to answer is no longer in the session history');
    const messages: ModelMessage[] = [];
    if (meta.systemPrompt !== undefined && meta.systemPrompt !== '') messages.push({ role: 'system', content: meta.systemPrompt });
    for (const m of history.slice(0, end + 1)) {
      // Partial replies (cancelled, failed) are kept for the user but not fed back to the model.
      if (m.role === 'assistant' && m.status !== undefined) continue;
      messages.push({ role: m.role, content: m.content });
    }
    return messages;
  }
}
