// The conversation as a value: the history plus the frames of each reply, applied in order.
// Every change returns a new state (and new objects for the messages it touched), so the view can
// skip what did not change. A reply's text is its token frames in `seq` order, each seq once:
// duplicates (a resume overlapping what arrived live) are dropped, and a gap asks for a resume.
import type { ReplyFrame, StoredMessage } from './protocol.js';

export type UserStatus = 'sending' | 'sent' | 'unsent';
export type ReplyStatus = 'waiting' | 'streaming' | 'done' | 'length' | 'cancelled' | 'error';

export interface UserMessage {
  readonly role: 'user';
  /** The `chat` frame id this page gave it, or the stored id for history. */
  readonly key: string;
  readonly text: string;
  readonly status: UserStatus;
  /** Why it was not sent. */
  readonly note?: string | undefined;
}

export interface AssistantMessage {
  readonly role: 'assistant';
  /** The reply's messageId. */
  readonly key: string;
  readonly text: string;
  readonly status: ReplyStatus;
  /** The attempt the text belongs to (a `reset` starts the next). */
  readonly attempt: number;
  /** The last token seq applied. */
  readonly seq: number;
  readonly note?: string | undefined;
}

export type ChatMessage = UserMessage | AssistantMessage;

export interface Conversation {
  readonly messages: readonly ChatMessage[];
}

/** Where a reply must be read again from: the missed frames come back with `resume`. */
export interface ResumePoint {
  readonly messageId: string;
  readonly afterSeq: number;
  readonly attempt: number;
}

export const EMPTY: Conversation = { messages: [] };

const FINAL: ReadonlySet<ReplyStatus> = new Set(['done', 'length', 'cancelled', 'error']);

export function isFinal(status: ReplyStatus): boolean {
  return FINAL.has(status);
}

export function fromHistory(messages: readonly StoredMessage[]): Conversation {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', key: m.id, text: m.content, status: 'sent' });
    else if (m.role === 'assistant') {
      const status: ReplyStatus = m.status === 'cancelled' ? 'cancelled' : m.status === 'error' ? 'error' : 'done';
      out.push({ role: 'assistant', key: m.id, text: m.content, status, attempt: 1, seq: 0 });
    }
  }
  return { messages: out };
}

/** The reply still streaming (or waiting for its first token), if any. */
export function activeReply(c: Conversation): AssistantMessage | undefined {
  for (let i = c.messages.length - 1; i >= 0; i--) {
    const m = c.messages[i]!;
    if (m.role === 'assistant' && !isFinal(m.status)) return m;
  }
  return undefined;
}

/** Every reply that is not finished: on a new socket each is resumed from where it stands. */
export function openReplies(c: Conversation): ResumePoint[] {
  return c.messages.flatMap((m) =>
    m.role === 'assistant' && !isFinal(m.status) ? [{ messageId: m.key, afterSeq: m.seq, attempt: m.attempt }] : [],
  );
}

export function addUserMessage(c: Conversation, key: string, text: string): Conversation {
  return { messages: [...c.messages, { role: 'user', key, text, status: 'sending' }] };
}

export function removeMessage(c: Conversation, key: string): Conversation {
  return { messages: c.messages.filter((m) => m.key !== key) };
}

/** A reply this page expects (after `ack`, or one it learned of before reloading), placed last. */
export function expectReply(c: Conversation, messageId: string, userKey?: string): Conversation {
  if (c.messages.some((m) => m.role === 'assistant' && m.key === messageId)) return c;
  const messages = c.messages.map((m) => (m.role === 'user' && m.key === userKey ? { ...m, status: 'sent' as const, note: undefined } : m));
  messages.push({ role: 'assistant', key: messageId, text: '', status: 'waiting', attempt: 1, seq: 0 });
  return { messages };
}

export function markUnsent(c: Conversation, userKey: string, note: string): Conversation {
  return update(c, (m) => m.role === 'user' && m.key === userKey, (m) => ({ ...m, status: 'unsent', note }) as ChatMessage);
}

/**
 * Applies one reply frame. Returns the new conversation and, when frames were missed (a gap in
 * `seq`, or `done` past the last token seen), the point to resume from instead of applying it.
 */
export function applyReplyFrame(c: Conversation, frame: ReplyFrame): { conversation: Conversation; resume?: ResumePoint } {
  const index = findReply(c, frame.messageId);
  if (index < 0) {
    // A reply this page did not start (another tab, or sent just before a reconnect): follow it
    // from the beginning.
    const fresh: AssistantMessage = { role: 'assistant', key: frame.messageId, text: '', status: 'waiting', attempt: 1, seq: 0 };
    const grown = { messages: [...c.messages, fresh] };
    if (frame.type === 'token' && frame.seq !== 1) return { conversation: grown, resume: { messageId: frame.messageId, afterSeq: 0, attempt: 1 } };
    return applyReplyFrame(grown, frame);
  }
  const m = c.messages[index] as AssistantMessage;
  if (isFinal(m.status)) return { conversation: c };
  let next: AssistantMessage;
  switch (frame.type) {
    case 'token':
      if (frame.seq <= m.seq) return { conversation: c };
      if (frame.seq > m.seq + 1) return { conversation: c, resume: { messageId: m.key, afterSeq: m.seq, attempt: m.attempt } };
      next = { ...m, text: m.text + frame.text, seq: frame.seq, status: 'streaming' };
      break;
    case 'reset':
      if (frame.attempt < m.attempt) return { conversation: c };
      next = { ...m, text: '', seq: 0, attempt: frame.attempt, status: 'waiting' };
      break;
    case 'done':
      if (frame.seq > m.seq) return { conversation: c, resume: { messageId: m.key, afterSeq: m.seq, attempt: m.attempt } };
      next = { ...m, status: frame.finishReason === 'cancelled' ? 'cancelled' : frame.finishReason === 'length' ? 'length' : 'done' };
      break;
    case 'error':
      next = { ...m, status: 'error', note: frame.message };
      break;
  }
  const messages = c.messages.slice();
  messages[index] = next;
  return { conversation: { messages } };
}

/** The user message a reply answers: the closest user message before it. */
export function promptOf(c: Conversation, replyKey: string): UserMessage | undefined {
  const index = c.messages.findIndex((m) => m.key === replyKey);
  for (let i = index - 1; i >= 0; i--) {
    const m = c.messages[i]!;
    if (m.role === 'user') return m;
  }
  return undefined;
}

function findReply(c: Conversation, messageId: string): number {
  for (let i = c.messages.length - 1; i >= 0; i--) {
    const m = c.messages[i]!;
    if (m.role === 'assistant' && m.key === messageId) return i;
  }
  return -1;
}

function update(c: Conversation, match: (m: ChatMessage) => boolean, change: (m: ChatMessage) => ChatMessage): Conversation {
  let changed = false;
  const messages = c.messages.map((m) => {
    if (!match(m)) return m;
    changed = true;
    return change(m);
  });
  return changed ? { messages } : c;
}
