// A conversation kept up to date by a ChatClient, for any view: `subscribe` and `getSnapshot` (the
// shape React's useSyncExternalStore wants) and the actions a chat view offers (send, stop, retry,
// load older history, a new session). The client does the protocol (acks, whole replies, resume,
// close codes); this store only turns what its replies do into messages with a status and a note,
// remembers refusals (with the time sending is allowed again) and pages through the history.
import type { CreateSessionBody, ErrorCode, ReadyFrame } from '@chat-fleet/protocol';
import { ChatClient, randomId, type ChatClientOptions, type SessionEnd } from './chat-client.js';
import type { ConnectionState } from './chat-socket.js';
import {
  EMPTY,
  acknowledge,
  activeReply,
  addUserMessage,
  expectReply,
  fromHistory,
  isFinal,
  markUnsent,
  pendingMessage,
  promptOf,
  removeMessage,
  replaceMessage,
  statusOfFinish,
  updateReply,
  withNewer,
  withOlder,
  type AssistantMessage,
  type ChatMessage,
  type Conversation,
  type ReplyOrigin,
  type UserMessage,
} from './conversation.js';
import { Emitter } from './emitter.js';
import type { Reply, ReplyError } from './reply.js';
import { ChatApi, ChatApiError, type SessionCredentials } from './rest.js';

export interface ConversationOptions extends ChatClientOptions {
  /** Messages per history page (default 50; the gateway allows 1 to 200). */
  pageSize?: number | undefined;
  /**
   * Coalesces change notices: given `publish`, returns the function the store calls on each change
   * (e.g. one publish per animation frame). Default: every change is published at once.
   */
  schedule?: ((publish: () => void) => () => void) | undefined;
}

/** A message or frame the gateway refused (rate limit, busy, too long, …). */
export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number | undefined;
  /** Epoch ms when sending is allowed again, for refusals with `retryAfterMs`. */
  readonly until?: number | undefined;
  /** The user message refused, when it was one. */
  readonly messageKey?: string | undefined;
  /** A regenerate was refused (`bad_request`: the gateway does not know it); the last reply stays. */
  readonly regenerate?: boolean | undefined;
}

export interface HistoryState {
  /** Older messages remain on the server: `loadOlder()` fetches the next page. */
  readonly hasMore: boolean;
  readonly loading: boolean;
  readonly error?: ChatApiError | undefined;
}

export interface ChatSnapshot {
  readonly messages: readonly ChatMessage[];
  readonly connection: ConnectionState;
  readonly session: SessionCredentials | undefined;
  /** True while the session is created or its first history page read. */
  readonly loading: boolean;
  /** Why the last `open()` failed (no gateway answered, the saved session is gone, …). */
  readonly failure: ChatApiError | undefined;
  /** The reply in flight (waiting for its first token or streaming). */
  readonly active: AssistantMessage | undefined;
  /** `stop()` was asked and the reply has not ended yet. */
  readonly stopping: boolean;
  /** The last refusal; cleared by the next send once its time has passed. */
  readonly refusal: Refusal | undefined;
  /** Sending is refused until this time (epoch ms); 0 when free. */
  readonly blockedUntil: number;
  readonly history: HistoryState;
  /** The session is over for this client (deleted, expired, token refused, or closed for good). */
  readonly ended: SessionEnd | undefined;
}

type StoreEvents = {
  /** The gateway accepted a message (its `scrubbed` says what it replaced). */
  ack: [message: UserMessage];
  refused: [refusal: Refusal];
  /** A reply ended with `done` (any finish reason) while this store followed it. */
  done: [message: AssistantMessage];
  ended: [end: SessionEnd];
  ready: [frame: ReadyFrame];
};

/** Codes of replies that ended on this side, not refused by the gateway. */
const CLIENT_CODES: ReadonlySet<string> = new Set(['socket_closed', 'session_gone', 'timeout', 'not_sent']);

export class ConversationStore extends Emitter<StoreEvents> {
  readonly api: ChatApi;
  private readonly pageSize: number;
  private chatClient: ChatClient | undefined;
  private conversation: Conversation = EMPTY;
  private connection: ConnectionState = 'closed';
  private session: SessionCredentials | undefined;
  private loading = false;
  private failure: ChatApiError | undefined;
  private stopping = false;
  private refusal: Refusal | undefined;
  private blockedUntil = 0;
  private blockTimer: ReturnType<typeof setTimeout> | undefined;
  private history: HistoryState = { hasMore: false, loading: false };
  private nextBefore: string | undefined;
  private ending: SessionEnd | undefined;
  private generation = 0;
  private checking = false;
  /** The Reply behind each message still open, by user key until its ack and by messageId after. */
  private readonly replies = new Map<string, Reply>();
  private readonly watchers = new Set<() => void>();
  private readonly changed: () => void;
  private snapshot: ChatSnapshot;

  constructor(private readonly options: ConversationOptions = {}) {
    super();
    this.api = new ChatApi(options);
    this.pageSize = options.pageSize ?? 50;
    this.changed = options.schedule?.(() => this.publish()) ?? (() => this.publish());
    this.snapshot = this.build();
  }

  /** The client of the current session (undefined before `open()`). */
  get client(): ChatClient | undefined {
    return this.chatClient;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  };

  readonly getSnapshot = (): ChatSnapshot => this.snapshot;

  /**
   * Opens a conversation: the given session's newest history page (or a new session), then its
   * socket. `follow` lists replies known to be in flight (saved before a reload); `carry` is put
   * after the history (messages not sent in a session that ended, for Retry). Rejects with a
   * ChatApiError when the history cannot be read (`sessionGone` when the session is gone) or no
   * session can be created.
   */
  async open(from: { session?: SessionCredentials | undefined; follow?: readonly string[]; carry?: readonly ChatMessage[]; sessionBody?: CreateSessionBody } = {}): Promise<SessionCredentials> {
    const generation = ++this.generation;
    this.shutdown();
    this.conversation = EMPTY;
    this.session = undefined;
    this.loading = true;
    this.failure = undefined;
    this.ending = undefined;
    this.history = { hasMore: false, loading: false };
    this.nextBefore = undefined;
    this.connection = 'connecting';
    this.changed();
    let session = 'session' in from ? from.session : this.options.session;
    try {
      let messages: ChatMessage[] = [];
      if (session !== undefined) {
        const page = await this.api.history(session, { limit: this.pageSize });
        messages = fromHistory(page.messages);
        this.history = { hasMore: page.hasMore === true, loading: false };
        this.nextBefore = page.nextBefore;
      } else {
        const auth = typeof this.options.authorization === 'function' ? await this.options.authorization() : this.options.authorization;
        session = await this.api.createSession(from.sessionBody ?? this.options.sessionBody ?? {}, auth);
      }
      if (generation !== this.generation) return session;
      this.session = session;
      this.conversation = withNewer({ messages }, from.carry ?? []);
      this.connect(session, generation, from.follow ?? []);
    } catch (err) {
      if (generation !== this.generation) throw err;
      this.failure = err instanceof ChatApiError ? err : new ChatApiError(0, 'network', String(err));
      this.connection = this.failure.status === 0 ? 'offline' : 'closed';
      throw this.failure;
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.changed();
      }
    }
    return session;
  }

  /** Leaves this session (its reply is cancelled) for a new one; `carryUnsent` keeps the messages not sent. */
  newSession(options: { carryUnsent?: boolean; sessionBody?: CreateSessionBody } = {}): Promise<SessionCredentials> {
    this.stop();
    const carry = options.carryUnsent === true ? this.unsent() : [];
    return this.open({ session: undefined, carry, ...(options.sessionBody !== undefined ? { sessionBody: options.sessionBody } : {}) });
  }

  /** True when `send` would take a message now: a session, no reply in flight, no refusal pending. */
  canSend(now = Date.now()): boolean {
    return (
      this.chatClient !== undefined &&
      !this.loading &&
      this.ending === undefined &&
      activeReply(this.conversation) === undefined &&
      pendingMessage(this.conversation) === undefined &&
      now >= this.blockedUntil
    );
  }

  /** Sends a message (it waits for the socket if it is down); false when it cannot go now (see canSend). */
  send(text: string): boolean {
    const content = text.trim();
    const client = this.chatClient;
    if (content === '' || client === undefined || !this.canSend()) return false;
    const key = randomId(16);
    this.conversation = addUserMessage(this.conversation, key, content);
    if (this.refusal !== undefined && (this.refusal.until ?? 0) <= Date.now()) this.refusal = undefined;
    this.watch(client.send(content, { id: key }), { userKey: key });
    this.changed();
    return true;
  }

  /** True when the last message is a reply that ended and `regenerate()` would ask for it again now. */
  canRegenerate(now = Date.now()): boolean {
    const last = this.conversation.messages.at(-1);
    return last?.role === 'assistant' && isFinal(last.status) && this.canSend(now);
  }

  /**
   * Asks for the last reply again: a new reply takes its place in the view at once and streams
   * there; if the gateway refuses before accepting it, the old reply comes back. False when it
   * cannot go now (see canRegenerate).
   */
  regenerate(): boolean {
    const client = this.chatClient;
    const last = this.conversation.messages.at(-1);
    if (client === undefined || last?.role !== 'assistant' || !this.canRegenerate()) return false;
    if (this.refusal !== undefined && (this.refusal.until ?? 0) <= Date.now()) this.refusal = undefined;
    const reply = client.regenerate();
    this.conversation = replaceMessage(this.conversation, last.key, { role: 'assistant', key: reply.id, text: '', status: 'waiting', origin: 'sent' });
    this.watch(reply, { replaces: last });
    this.changed();
    return true;
  }

  /** Stops the reply in flight (or the message waiting for its ack): it ends `cancelled`. */
  stop(): void {
    const active = activeReply(this.conversation) ?? pendingMessage(this.conversation);
    const reply = active === undefined ? undefined : this.replies.get(active.key);
    if (reply === undefined || this.stopping) return;
    reply.cancel();
    this.stopping = true;
    this.changed();
  }

  /** Sends again a message that was not sent, or the question of a reply that failed. */
  retry(key: string): boolean {
    const message = this.conversation.messages.find((m) => m.key === key);
    if (message === undefined || !this.canSend()) return false;
    if (message.role === 'user') {
      if (message.status !== 'unsent') return false;
      this.conversation = removeMessage(this.conversation, key);
      return this.send(message.text);
    }
    const prompt = promptOf(this.conversation, key);
    return prompt !== undefined && this.send(prompt.text);
  }

  /** Reads the next older page of the history and puts it before what is shown. */
  async loadOlder(): Promise<void> {
    const session = this.session;
    const generation = this.generation;
    if (session === undefined || !this.history.hasMore || this.history.loading || this.nextBefore === undefined) return;
    this.history = { ...this.history, loading: true, error: undefined };
    this.changed();
    try {
      const page = await this.api.history(session, { limit: this.pageSize, before: this.nextBefore });
      if (generation !== this.generation) return;
      this.conversation = withOlder(this.conversation, page.messages);
      this.history = { hasMore: page.hasMore === true, loading: false };
      this.nextBefore = page.nextBefore;
    } catch (err) {
      if (generation !== this.generation) return;
      this.history = { ...this.history, loading: false, error: err instanceof ChatApiError ? err : new ChatApiError(0, 'network', String(err)) };
      if (err instanceof ChatApiError && err.sessionGone) this.end({ reason: err.status === 404 ? 'session_ended' : 'unauthorized', code: err.status, message: err.message });
    }
    this.changed();
  }

  /** Closes the socket; open replies end. `open()` starts again. */
  close(): void {
    this.generation++;
    this.shutdown();
    this.connection = 'closed';
    this.changed();
  }

  // ---- the client's events ----

  private connect(session: SessionCredentials, generation: number, follow: readonly string[]): void {
    const client = new ChatClient({ ...this.options, session, keepText: true });
    this.chatClient = client;
    const current = (): boolean => this.chatClient === client && this.generation === generation;
    client.on('state', (state) => {
      if (!current()) return;
      this.connection = state;
      this.changed();
    });
    client.on('ready', (frame) => current() && this.emit('ready', frame));
    client.on('reply', (reply) => {
      if (!current()) return;
      this.conversation = expectReply(this.conversation, reply.messageId!, 'elsewhere');
      this.watch(reply, {});
      this.changed();
    });
    client.on('refused', (frame) => current() && this.refuse({ code: frame.code, message: frame.message, retryAfterMs: frame.retryAfterMs }));
    client.on('ended', (end) => current() && this.end(end));
    for (const messageId of follow) {
      if (this.conversation.messages.some((m) => m.key === messageId)) continue;
      this.conversation = expectReply(this.conversation, messageId, 'followed');
      this.watch(client.follow(messageId), {});
    }
    client.connect().catch(() => undefined); // an end is reported by `ended`
  }

  /**
   * Turns what a reply does into the messages' state. `userKey` is the message it answers, when sent
   * here; `replaces` the reply a regenerate stands in for (shown under the regenerate's own id until its ack).
   */
  private watch(reply: Reply, { userKey, replaces }: { userKey?: string; replaces?: AssistantMessage }): void {
    const generation = this.generation;
    const live = (): boolean => generation === this.generation;
    if (userKey !== undefined) this.replies.set(userKey, reply);
    if (replaces !== undefined) this.replies.set(reply.id, reply);
    if (reply.messageId !== undefined) this.replies.set(reply.messageId, reply);
    const offs = [
      reply.on('ack', (messageId, scrubbed) => {
        if (!live()) return;
        if (replaces !== undefined) {
          this.replies.set(messageId, reply);
          this.conversation = replaceMessage(this.conversation, reply.id, { role: 'assistant', key: messageId, text: '', status: 'waiting', origin: 'sent' });
          this.changed();
          return;
        }
        if (userKey === undefined) return;
        this.replies.set(messageId, reply);
        this.conversation = acknowledge(this.conversation, userKey, messageId, scrubbed);
        const message = this.conversation.messages.find((m) => m.key === userKey);
        if (message?.role === 'user') this.emit('ack', message);
        this.changed();
      }),
      reply.on('token', () => live() && this.patch(reply, { text: reply.text, status: 'streaming' })),
      reply.on('reset', () => live() && this.patch(reply, { text: '', status: 'waiting', toolCalls: reply.toolCalls, sources: reply.sources })),
      reply.on('tool_call', () => live() && this.patch(reply, { toolCalls: reply.toolCalls })),
      reply.on('tool_result', () => live() && this.patch(reply, { toolCalls: reply.toolCalls })),
      reply.on('sources', () => live() && this.patch(reply, { sources: reply.sources })),
    ];
    void reply.finished.then((outcome) => {
      for (const off of offs) off();
      this.replies.delete(reply.id);
      if (userKey !== undefined) this.replies.delete(userKey);
      if (reply.messageId !== undefined) this.replies.delete(reply.messageId);
      if (!live()) return;
      if (outcome.status === 'done' && reply.messageId !== undefined) {
        this.conversation = updateReply(this.conversation, reply.messageId, { text: outcome.text, status: statusOfFinish(outcome.finishReason), result: outcome });
      } else if (outcome.status === 'error' && replaces !== undefined && reply.messageId === undefined) {
        this.regenerateRefused(reply, replaces, outcome.error);
      } else if (outcome.status === 'error') {
        this.failed(reply, userKey, outcome.error);
      }
      if (activeReply(this.conversation) === undefined && pendingMessage(this.conversation) === undefined) this.stopping = false;
      this.changed();
      const message = outcome.status === 'done' ? this.conversation.messages.find((m) => m.key === outcome.messageId) : undefined;
      if (message?.role === 'assistant') this.emit('done', message);
    });
  }

  private patch(reply: Reply, patch: Parameters<typeof updateReply>[2]): void {
    if (reply.messageId === undefined) return;
    const next = updateReply(this.conversation, reply.messageId, patch);
    if (next === this.conversation) return;
    this.conversation = next;
    this.changed();
  }

  private failed(reply: Reply, userKey: string | undefined, error: ReplyError): void {
    const shown = reply.messageId !== undefined && this.conversation.messages.some((m) => m.role === 'assistant' && m.key === reply.messageId);
    if (shown) {
      this.conversation = updateReply(this.conversation, reply.messageId!, { status: 'error', note: error.message, error: error.code });
      return;
    }
    if (userKey === undefined) return;
    this.conversation = markUnsent(this.conversation, userKey, unsentNote(error));
    if (CLIENT_CODES.has(error.code)) return;
    this.refuse({ code: error.code as ErrorCode, message: error.message, retryAfterMs: error.retryAfterMs, messageKey: userKey });
    // The socket outlived its session (deleted or expired): find out.
    if (error.code === 'not_found' || error.code === 'unauthorized') this.checkSession();
  }

  /** A regenerate that never started: the reply it stood in for is shown again, and the refusal said. */
  private regenerateRefused(reply: Reply, previous: AssistantMessage, error: ReplyError): void {
    this.conversation = replaceMessage(this.conversation, reply.id, previous);
    if (!CLIENT_CODES.has(error.code)) this.refuse({ code: error.code as ErrorCode, message: error.message, retryAfterMs: error.retryAfterMs, regenerate: true });
  }

  private refuse(refusal: Refusal): void {
    const retryAfter = refusal.retryAfterMs;
    if (retryAfter !== undefined && retryAfter > 0) {
      const until = Date.now() + retryAfter;
      refusal = { ...refusal, until };
      this.blockedUntil = Math.max(this.blockedUntil, until);
      clearTimeout(this.blockTimer);
      // Published again when sending is allowed, so views enable it.
      this.blockTimer = setTimeout(() => this.changed(), this.blockedUntil - Date.now() + 20);
      (this.blockTimer as { unref?: () => void }).unref?.();
    }
    this.refusal = refusal;
    this.emit('refused', refusal);
    this.changed();
  }

  private end(end: SessionEnd): void {
    if (this.ending !== undefined) return;
    this.ending = end;
    this.changed();
    // After the replies the client failed with it have been marked (their `finished` settles first).
    queueMicrotask(() => this.ending === end && this.emit('ended', end));
  }

  /** A refusal saying the session is unknown: if the history agrees, the session has ended. */
  private checkSession(): void {
    const session = this.session;
    if (session === undefined || this.checking) return;
    this.checking = true;
    this.api.history(session, { limit: 1 }).then(
      () => {
        this.checking = false;
      },
      (err: unknown) => {
        this.checking = false;
        if (!(err instanceof ChatApiError) || !err.sessionGone || this.session !== session) return;
        this.chatClient?.close();
        this.end({ reason: err.status === 404 ? 'session_ended' : 'unauthorized', code: err.status, message: err.message });
      },
    );
  }

  /** The messages not sent (as they stand now, not as last published), to carry into a new session. */
  unsent(): ChatMessage[] {
    return this.conversation.messages.flatMap((m) =>
      m.role !== 'user' || m.status === 'sent' ? [] : m.status === 'sending' ? [{ ...m, status: 'unsent' as const, note: 'Not sent: the chat had ended.' }] : [m],
    );
  }

  private shutdown(): void {
    const client = this.chatClient;
    this.chatClient = undefined;
    this.replies.clear();
    this.stopping = false;
    client?.close();
  }

  private publish(): void {
    this.snapshot = this.build();
    for (const listener of this.watchers) listener();
  }

  private build(): ChatSnapshot {
    if (this.blockedUntil !== 0 && Date.now() >= this.blockedUntil) this.blockedUntil = 0;
    return {
      messages: this.conversation.messages,
      connection: this.connection,
      session: this.session,
      loading: this.loading,
      failure: this.failure,
      active: activeReply(this.conversation),
      stopping: this.stopping,
      refusal: this.refusal,
      blockedUntil: this.blockedUntil,
      history: this.history,
      ended: this.ending,
    };
  }
}

/** Why a message did not go out, as a note beside it (a countdown, when there is one, is shown live elsewhere). */
export function unsentNote(error: ReplyError): string {
  switch (error.code) {
    case 'rate_limited':
      return 'Not sent: rate limit reached.';
    case 'not_sent':
      return 'Not sent: the connection dropped.';
    case 'session_gone':
      return 'Not sent: the chat had ended.';
    default:
      return `Not sent: ${error.message}`;
  }
}

export type { ReplyOrigin };
