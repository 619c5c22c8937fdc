// A conversation as a value: the user's messages and the assistant's replies, in the order a chat
// view shows them. Every change returns a new value (and new objects for the messages it touched),
// so a view can skip what did not change. It holds no protocol logic: a reply's text and status are
// what its Reply (the SDK's assembler) says, copied in by the ConversationStore.
import type { Source, StoredMessage } from '@chat-fleet/protocol';
import type { ReplyDone, ReplyErrorCode } from './reply.js';
import { fromStoredToolCalls, type ToolCall } from './reply-events.js';

export type UserStatus =
  /** Handed to the client: waiting for the socket or the gateway's `ack`. */
  | 'sending'
  /** Accepted by the gateway (or read from the history). */
  | 'sent'
  /** Refused or lost; `note` says why, and it can be sent again. */
  | 'unsent';

export type ReplyStatus = 'waiting' | 'streaming' | 'done' | 'length' | 'cancelled' | 'error';

/** Where a reply shown came from: the history, a message sent here, one followed after a reload, or another tab. */
export type ReplyOrigin = 'history' | 'sent' | 'followed' | 'elsewhere';

export interface UserMessage {
  readonly role: 'user';
  /** The `chat` frame id this client gave it, or the stored id for history. */
  readonly key: string;
  readonly text: string;
  readonly status: UserStatus;
  /** Why it was not sent. */
  readonly note?: string | undefined;
  /** What the gateway replaced before sending (kind → count), from its `ack`. */
  readonly scrubbed?: Readonly<Record<string, number>> | undefined;
}

export interface AssistantMessage {
  readonly role: 'assistant';
  /** The reply's messageId. */
  readonly key: string;
  readonly text: string;
  readonly status: ReplyStatus;
  readonly origin: ReplyOrigin;
  /** Why it failed (status `error`). */
  readonly note?: string | undefined;
  readonly error?: ReplyErrorCode | undefined;
  /** How it ended, when it ended here with `done` (usage, timings, cached). */
  readonly result?: ReplyDone | undefined;
  /** The tools the reply called, in call order (a reset drops those of the attempt before). */
  readonly toolCalls?: readonly ToolCall[] | undefined;
  /** The sources the reply was given. */
  readonly sources?: readonly Source[] | undefined;
}

export type ChatMessage = UserMessage | AssistantMessage;

export interface Conversation {
  readonly messages: readonly ChatMessage[];
}

export const EMPTY: Conversation = { messages: [] };

const FINAL: ReadonlySet<ReplyStatus> = new Set(['done', 'length', 'cancelled', 'error']);

export function isFinal(status: ReplyStatus): boolean {
  return FINAL.has(status);
}

/** The status a reply that ended with `done` shows for its finish reason. */
export function statusOfFinish(finishReason: string): ReplyStatus {
  return finishReason === 'cancelled' ? 'cancelled' : finishReason === 'length' ? 'length' : 'done';
}

/** A page of stored history as messages (the system prompt is not shown). */
export function fromHistory(stored: readonly StoredMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of stored) {
    if (m.role === 'user') out.push({ role: 'user', key: m.id, text: m.content, status: 'sent' });
    else if (m.role === 'assistant') {
      const status: ReplyStatus = m.status === 'cancelled' ? 'cancelled' : m.status === 'error' ? 'error' : 'done';
      out.push({
        role: 'assistant',
        key: m.id,
        text: m.content,
        status,
        origin: 'history',
        ...(m.tools !== undefined && m.tools.length > 0 ? { toolCalls: fromStoredToolCalls(m.tools) } : {}),
        ...(m.sources !== undefined && m.sources.length > 0 ? { sources: m.sources } : {}),
      });
    }
  }
  return out;
}

/** An older page of the history, put before what is shown (messages already shown are not repeated). */
export function withOlder(c: Conversation, stored: readonly StoredMessage[]): Conversation {
  const known = new Set(c.messages.map((m) => m.key));
  const older = fromHistory(stored).filter((m) => !known.has(m.key));
  return older.length === 0 ? c : { messages: [...older, ...c.messages] };
}

/** Messages appended at the end (a newer history page, or unsent messages carried to a new session). */
export function withNewer(c: Conversation, messages: readonly ChatMessage[]): Conversation {
  const known = new Set(c.messages.map((m) => m.key));
  const newer = messages.filter((m) => !known.has(m.key));
  return newer.length === 0 ? c : { messages: [...c.messages, ...newer] };
}

/** The reply still streaming (or waiting for its first token), if any. */
export function activeReply(c: Conversation): AssistantMessage | undefined {
  for (let i = c.messages.length - 1; i >= 0; i--) {
    const m = c.messages[i]!;
    if (m.role === 'assistant' && !isFinal(m.status)) return m;
  }
  return undefined;
}

/** A message the gateway has not acknowledged yet. */
export function pendingMessage(c: Conversation): UserMessage | undefined {
  return c.messages.find((m): m is UserMessage => m.role === 'user' && m.status === 'sending');
}

export function addUserMessage(c: Conversation, key: string, text: string): Conversation {
  return { messages: [...c.messages, { role: 'user', key, text, status: 'sending' }] };
}

export function removeMessage(c: Conversation, key: string): Conversation {
  const messages = c.messages.filter((m) => m.key !== key);
  return messages.length === c.messages.length ? c : { messages };
}

/** Puts `message` where the message `key` is (a regenerated reply takes the old one's place). */
export function replaceMessage(c: Conversation, key: string, message: ChatMessage): Conversation {
  return update(c, key, () => message);
}

export function markUnsent(c: Conversation, userKey: string, note: string): Conversation {
  return update(c, userKey, (m) => (m.role === 'user' ? { ...m, status: 'unsent', note } : m));
}

/** The gateway accepted message `userKey` as reply `messageId`: the message is sent, its reply expected. */
export function acknowledge(c: Conversation, userKey: string, messageId: string, scrubbed?: Readonly<Record<string, number>>): Conversation {
  const sent = update(c, userKey, (m) => (m.role === 'user' ? { ...m, status: 'sent', note: undefined, scrubbed } : m));
  return expectReply(sent, messageId, 'sent');
}

/** A reply to show (after `ack`, one followed after a reload, or one started elsewhere), placed last. */
export function expectReply(c: Conversation, messageId: string, origin: ReplyOrigin): Conversation {
  if (c.messages.some((m) => m.role === 'assistant' && m.key === messageId)) return c;
  return { messages: [...c.messages, { role: 'assistant', key: messageId, text: '', status: 'waiting', origin }] };
}

export type ReplyPatch = Partial<Pick<AssistantMessage, 'text' | 'status' | 'note' | 'error' | 'result' | 'toolCalls' | 'sources'>>;

/** Changes a reply that has not ended; an ended reply stays as it ended. */
export function updateReply(c: Conversation, messageId: string, patch: ReplyPatch): Conversation {
  return update(c, messageId, (m) => {
    if (m.role !== 'assistant' || isFinal(m.status)) return m;
    const changed = (Object.keys(patch) as Array<keyof ReplyPatch>).some((k) => patch[k] !== m[k]);
    return changed ? { ...m, ...patch } : m;
  });
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

function update(c: Conversation, key: string, change: (m: ChatMessage) => ChatMessage): Conversation {
  let changed = false;
  const messages = c.messages.map((m) => {
    if (m.key !== key) return m;
    const next = change(m);
    if (next !== m) changed = true;
    return next;
  });
  return changed ? { messages } : c;
}
