// useChat for React and Preact (through preact/compat): a chat view's state and actions over a
// ConversationStore, in the style of the AI SDK's useChat. Given options, the hook owns its store
// (opened on mount, closed on unmount); given a store, it only reads it (its owner opens and closes it).
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { SessionCredentials } from './rest.js';
import { ConversationStore, type ChatSnapshot, type ConversationOptions } from './conversation-store.js';

export interface UseChat extends ChatSnapshot {
  /** Sends a message; false when it cannot go now (a reply in flight, a refusal's wait, no session). */
  send(text: string): boolean;
  /** Stops the reply in flight; it ends `cancelled`. */
  stop(): void;
  /** Asks for the last reply again (it is replaced as the new one streams); false when it cannot go now. */
  regenerate(): boolean;
  canRegenerate(now?: number): boolean;
  /** Sends again an unsent message (by its key) or the question of a failed reply. */
  retry(key: string): boolean;
  /** Reads the next older page of the history (when `history.hasMore`). */
  loadOlder(): Promise<void>;
  /** Leaves this session for a new one. */
  newSession(options?: { carryUnsent?: boolean }): Promise<SessionCredentials>;
  /** (Re)opens the conversation, e.g. after `failure`. */
  open(from?: Parameters<ConversationStore['open']>[0]): Promise<SessionCredentials>;
  canSend(now?: number): boolean;
  readonly store: ConversationStore;
}

export function useChat(source: ConversationStore | ConversationOptions = {}): UseChat {
  const [owned] = useState(() => (source instanceof ConversationStore ? undefined : new ConversationStore(source)));
  const store = owned ?? (source as ConversationStore);
  useEffect(() => {
    if (owned === undefined) return undefined;
    owned.open().catch(() => undefined); // shown as `failure`
    return () => owned.close();
  }, [owned]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const actions = useMemo(
    () => ({
      send: (text: string) => store.send(text),
      stop: () => store.stop(),
      retry: (key: string) => store.retry(key),
      regenerate: () => store.regenerate(),
      canRegenerate: (now?: number) => store.canRegenerate(now),
      loadOlder: () => store.loadOlder(),
      newSession: (options?: { carryUnsent?: boolean }) => store.newSession(options),
      open: (from?: Parameters<ConversationStore['open']>[0]) => store.open(from),
      canSend: (now?: number) => store.canSend(now),
      store,
    }),
    [store],
  );
  return useMemo(() => ({ ...snapshot, ...actions }), [snapshot, actions]);
}

export { ConversationStore, type ChatSnapshot, type ConversationOptions } from './conversation-store.js';
export type { AssistantMessage, ChatMessage, ReplyStatus, UserMessage, UserStatus } from './conversation.js';
