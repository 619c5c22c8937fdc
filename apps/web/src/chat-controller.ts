// The page's chat logic: the session (kept across reloads), one socket, the conversation, notices
// and timings. It changes its state at once as frames arrive and publishes a view at most once per
// animation frame, so a fast stream costs one render per frame, not one per token.
import { ApiError, createSession, loadSession, socketUrl } from './api.js';
import { ChatSocket, type ConnectionState } from './chat-socket.js';
import {
  EMPTY,
  activeReply,
  addUserMessage,
  applyReplyFrame,
  expectReply,
  fromHistory,
  markUnsent,
  openReplies,
  promptOf,
  removeMessage,
  type AssistantMessage,
  type ChatMessage,
  type Conversation,
} from './conversation.js';
import { frameBatcher } from './frame-batcher.js';
import { isReplyFrame, type ErrorFrame, type ReadyFrame, type ServerFrame, type SessionInfo } from './protocol.js';
import { ReplyTimer, type ReplyStats } from './reply-stats.js';
import { saveInflight, saveSession, savedInflight, savedSession } from './saved-session.js';

export interface Notice {
  readonly kind: 'error' | 'info';
  readonly text: string;
  /** When set, a countdown to this time (epoch ms) is shown; sending waits for it if `blocks`. */
  readonly until?: number | undefined;
  readonly blocks?: boolean | undefined;
}

export interface ChatView {
  readonly connection: ConnectionState;
  readonly conversation: Conversation;
  /** The reply streaming or waiting for its first token. */
  readonly active: AssistantMessage | undefined;
  readonly stopping: boolean;
  readonly notice: Notice | undefined;
  /** Sending is refused (rate limit, unavailable) until this time, epoch ms; 0 when free. */
  readonly blockedUntil: number;
  readonly stats: ReplyStats | undefined;
  /** True until the session and its history are loaded. */
  readonly loading: boolean;
}

const SCRUBBED_NAMES: Record<string, string> = { EMAIL: 'e-mail address', PHONE: 'phone number', CARD: 'card number', SSN: 'SSN', IBAN: 'IBAN', NATIONAL_ID: 'national ID number' };

export class ChatController {
  private session: SessionInfo | undefined;
  private socket: ChatSocket | undefined;
  private conversation: Conversation = EMPTY;
  private connection: ConnectionState = 'connecting';
  private notice: Notice | undefined;
  private blockedUntil = 0;
  private stopping = false;
  private stats: ReplyStats | undefined;
  private loading = true;
  private checkingSession = false;
  private bootAttempt = 0;
  private generation = 0;
  private blockTimer: number | undefined;
  private readonly timer = new ReplyTimer();
  private readonly listeners = new Set<(view: ChatView) => void>();
  private readonly clientId = `web-${randomId(10)}`;
  private readonly publish = frameBatcher(() => this.flush());
  private view: ChatView = this.snapshot();

  get current(): ChatView {
    return this.view;
  }

  subscribe(listener: (view: ChatView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    void this.boot(savedSession());
  }

  /** Sends a message; false when it cannot go now (not connected, a reply streaming, rate limited). */
  send(text: string): boolean {
    const content = text.trim();
    if (content === '' || !this.canSend()) return false;
    const id = randomId(16);
    const sent = this.socket?.send({ type: 'chat', id, content }) ?? false;
    if (!sent) return false;
    this.timer.sent(id, performance.now());
    this.conversation = addUserMessage(this.conversation, id, content);
    if (this.notice?.blocks !== true) this.notice = undefined;
    this.changed();
    return true;
  }

  canSend(now = Date.now()): boolean {
    return this.connection === 'connected' && activeReply(this.conversation) === undefined && now >= this.blockedUntil && !this.loading;
  }

  /** Stops the reply in flight; the gateway ends it with `done` `cancelled`. */
  stop(): void {
    const active = activeReply(this.conversation);
    if (active === undefined || this.stopping) return;
    if (this.socket?.send({ type: 'cancel', messageId: active.key }) === true) {
      this.stopping = true;
      this.changed();
    }
  }

  /** Sends again an unsent message, or the question of a failed reply. */
  retry(key: string): void {
    const message = this.conversation.messages.find((m) => m.key === key);
    if (message === undefined || !this.canSend()) return;
    if (message.role === 'user') {
      this.conversation = removeMessage(this.conversation, key);
      this.send(message.text);
    } else {
      const prompt = promptOf(this.conversation, key);
      if (prompt !== undefined) this.send(prompt.text);
    }
    this.changed();
  }

  /** Leaves this conversation (stopping its reply) and opens a new session. */
  newChat(): void {
    const active = activeReply(this.conversation);
    if (active !== undefined) this.socket?.send({ type: 'cancel', messageId: active.key });
    void this.boot(undefined);
  }

  /**
   * Loads the saved session's history, or opens a new session, then connects. `carry` holds
   * messages refused because the old session was gone: they stay, unsent, ready for Retry.
   */
  private async boot(saved: SessionInfo | undefined, notice?: Notice, carry: readonly ChatMessage[] = []): Promise<void> {
    const generation = ++this.generation;
    this.socket?.stop();
    this.socket = undefined;
    this.loading = true;
    this.conversation = EMPTY;
    this.stats = undefined;
    this.stopping = false;
    this.notice = notice;
    this.connection = 'connecting';
    this.changed();
    try {
      let session = saved;
      let conversation = EMPTY;
      if (session !== undefined) {
        try {
          conversation = fromHistory((await loadSession(session)).messages);
          const inflight = savedInflight(session.sessionId);
          if (inflight !== undefined && !conversation.messages.some((m) => m.key === inflight)) {
            conversation = expectReply(conversation, inflight);
          }
        } catch (err) {
          if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 404)) throw err;
          session = undefined;
          this.notice = { kind: 'info', text: 'The previous chat has expired; this is a new one.' };
        }
      }
      if (session === undefined) {
        session = await createSession();
        saveSession(session);
      }
      if (generation !== this.generation) return;
      this.session = session;
      this.conversation = { messages: [...conversation.messages, ...carry] };
      this.loading = false;
      this.bootAttempt = 0;
      this.openSocket(session, generation);
      this.changed();
    } catch (err) {
      if (generation !== this.generation) return;
      // Nothing to chat with yet: say why and try again with backoff.
      const delay = Math.min(10_000, 1000 * 2 ** this.bootAttempt++);
      const retryAfter = err instanceof ApiError && err.retryAfterMs !== undefined ? err.retryAfterMs : delay;
      this.connection = 'offline';
      this.notice = { kind: 'error', text: `${describe(err)}. Trying again`, until: Date.now() + retryAfter };
      this.changed();
      window.setTimeout(() => {
        if (generation === this.generation) void this.boot(saved);
      }, retryAfter);
    }
  }

  private openSocket(session: SessionInfo, generation: number): void {
    const current = (): boolean => generation === this.generation;
    const socket = new ChatSocket(() => socketUrl(session, this.clientId), {
      ready: (frame) => current() && this.onReady(frame),
      frame: (frame) => current() && this.onFrame(frame),
      state: (state) => {
        if (!current()) return;
        this.connection = state;
        this.changed();
      },
      terminal: (code, reason) => current() && this.onTerminal(code, reason),
      failed: (attempt) => current() && this.onConnectFailed(attempt),
    });
    this.socket = socket;
    socket.start();
  }

  private onReady(_frame: ReadyFrame): void {
    // Every reply that was streaming resumes after its last seq: the missed frames, then live ones.
    for (const point of openReplies(this.conversation)) this.socket?.send({ type: 'resume', ...point });
    // A message sent on the socket that dropped, with no ack: it may or may not have been accepted.
    if (this.conversation.messages.some((m) => m.role === 'user' && m.status === 'sending')) void this.reconcileUnacked();
    if (this.notice?.kind === 'error' && this.notice.until === undefined) this.notice = undefined;
    this.changed();
  }

  private onFrame(frame: ServerFrame): void {
    const now = performance.now();
    if (frame.type === 'ack') {
      this.timer.accepted(frame.id, frame.messageId);
      this.conversation = expectReply(this.conversation, frame.messageId, frame.id);
      const scrubbed = Object.entries(frame.scrubbed ?? {}).map(([kind, n]) => `${n} ${SCRUBBED_NAMES[kind] ?? kind}${n === 1 ? '' : 's'}`);
      if (scrubbed.length > 0) this.notice = { kind: 'info', text: `Replaced before sending: ${scrubbed.join(', ')}.` };
    } else if (isReplyFrame(frame)) {
      if (frame.type === 'token') this.timer.token(frame.messageId, now);
      else if (frame.type === 'reset') this.timer.reset(frame.messageId);
      const { conversation, resume } = applyReplyFrame(this.conversation, frame);
      this.conversation = conversation;
      if (resume !== undefined) this.socket?.send({ type: 'resume', ...resume });
      else if (frame.type === 'done') this.stats = this.timer.done(frame, now);
      else if (frame.type === 'error') this.timer.forget(frame.messageId);
      if (activeReply(this.conversation) === undefined) this.stopping = false;
    } else if (frame.type === 'error') {
      this.onRefused(frame);
    }
    this.changed();
  }

  /** A frame the gateway refused: a chat (`id`), or something else this page sent. */
  private onRefused(frame: ErrorFrame): void {
    const retryAfter = frame.retryAfterMs;
    if (frame.id !== undefined) {
      // The countdown is shown live beside it; the server's text would hold a number going stale.
      const note = frame.code === 'rate_limited' ? 'Not sent: rate limit reached.' : `Not sent: ${frame.message}`;
      this.conversation = markUnsent(this.conversation, frame.id, note);
      // The socket outlived its session (deleted or expired): find out, and move to a new one.
      if (frame.code === 'not_found' || frame.code === 'unauthorized') this.checkSession();
    }
    if (retryAfter !== undefined && retryAfter > 0) {
      const until = Date.now() + retryAfter;
      this.blockedUntil = until;
      window.clearTimeout(this.blockTimer);
      this.blockTimer = window.setTimeout(() => {
        if (this.notice?.until === until) this.notice = undefined;
        this.changed();
      }, retryAfter + 50);
      const what = frame.code === 'rate_limited' ? 'Rate limit reached' : frame.message;
      this.notice = { kind: 'error', text: `${what}. You can send again`, until, blocks: true };
    } else {
      this.notice = { kind: 'error', text: frame.message };
    }
  }

  private onTerminal(code: number, reason: string): void {
    if (code === 4100 || code === 4101) {
      this.sessionGone();
      return;
    }
    this.notice = { kind: 'error', text: `The connection was closed (${code}${reason ? `: ${reason}` : ''}). Start a new chat to continue.` };
    this.changed();
  }

  /** Sockets keep failing to open: the session itself may be gone. */
  private onConnectFailed(attempt: number): void {
    if (attempt === 1 || attempt % 3 === 0) this.checkSession();
  }

  /** Starts a new session if the current one is gone (deleted, expired, token refused). */
  private checkSession(): void {
    const session = this.session;
    if (session === undefined || this.checkingSession) return;
    this.checkingSession = true;
    loadSession(session).then(
      () => {
        this.checkingSession = false;
      },
      (err: unknown) => {
        this.checkingSession = false;
        if (err instanceof ApiError && (err.status === 401 || err.status === 404) && this.session === session) this.sessionGone();
      },
    );
  }

  private sessionGone(): void {
    const unsent = this.conversation.messages.filter((m) => m.role === 'user' && m.status === 'unsent');
    const carry = unsent.map((m) => ({ ...m, note: 'Not sent: the chat had ended.' }));
    void this.boot(undefined, { kind: 'info', text: 'The previous chat has ended; this is a new one.' }, carry);
  }

  /**
   * Decides for each unacknowledged message from the stored history: a user turn the page does not
   * hold was accepted (its reply follows on this socket); otherwise it was lost and can be retried.
   */
  private async reconcileUnacked(): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    let stored: number;
    try {
      stored = (await loadSession(session)).messages.filter((m) => m.role === 'user').length;
    } catch {
      return;
    }
    if (this.session !== session) return;
    let known = this.conversation.messages.filter((m) => m.role === 'user' && m.status === 'sent').length;
    for (const m of this.conversation.messages) {
      if (m.role !== 'user' || m.status !== 'sending') continue;
      if (known < stored) known++;
      else this.conversation = markUnsent(this.conversation, m.key, 'Not sent: the connection dropped.');
    }
    this.changed();
  }

  private changed(): void {
    this.publish();
  }

  private flush(): void {
    const active = activeReply(this.conversation);
    if (this.session !== undefined && !this.loading) saveInflight(this.session.sessionId, active?.key);
    if (Date.now() >= this.blockedUntil) this.blockedUntil = 0;
    this.view = this.snapshot();
    for (const listener of this.listeners) listener(this.view);
  }

  private snapshot(): ChatView {
    return {
      connection: this.connection,
      conversation: this.conversation,
      active: activeReply(this.conversation),
      stopping: this.stopping,
      notice: this.notice,
      blockedUntil: this.blockedUntil,
      stats: this.stats,
      loading: this.loading,
    };
  }
}

function describe(err: unknown): string {
  if (err instanceof ApiError) return err.code === 'network' ? 'Cannot reach the server' : err.message;
  return 'Something went wrong';
}

/** Ids from crypto.getRandomValues, which (unlike randomUUID) also works on plain-http LAN addresses. */
function randomId(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}
