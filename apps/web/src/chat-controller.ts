// The page's logic over the SDK's ConversationStore (which does the protocol and the conversation):
// the session kept across reloads with the reply in flight, the reader's other conversations (open,
// new, delete; the list in conversation-list.ts), the notices (what was replaced, refusals with a
// countdown, a chat that ended), the last reply's timings, and opening again with backoff while no
// gateway answers. Renders are scheduled once per animation frame.
import { ChatApiError, ConversationStore, randomId, type Refusal, type SessionCredentials, type SessionEnd } from '@chat-fleet/client';
import { ConversationList } from './conversation-list.js';
import { currentLocale, formatList, t } from './i18n.js';
import { renderScheduler } from './render-scheduler.js';
import { replyStats, type ReplyStats } from './reply-stats.js';
import { browserUserId, saveInflight, saveSession, savedInflight, savedSession, savedTokens, type SessionInfo } from './saved-session.js';

export interface Notice {
  readonly kind: 'error' | 'info';
  /** In the reader's language (or the gateway's own words); with `until`, the countdown follows it. */
  readonly text: string;
  /** When set, a countdown to this time (epoch ms) is shown; sending waits for it if `blocks`. */
  readonly until?: number | undefined;
  readonly blocks?: boolean | undefined;
}

/** What the page shows besides the conversation (which `useChat(controller.store)` gives). */
export interface PageView {
  readonly notice: Notice | undefined;
  readonly stats: ReplyStats | undefined;
}

const SCRUBBED_KINDS = ['EMAIL', 'PHONE', 'CARD', 'SSN', 'IBAN', 'NATIONAL_ID'] as const;

export class ChatController {
  readonly store = new ConversationStore({ clientId: `web-${randomId(10)}`, schedule: renderScheduler });
  readonly conversations = new ConversationList(this.store.api, () => this.shown);
  /** The session shown, as kept in localStorage. */
  private shown: SessionInfo | undefined;
  /** The list was asked for: once a session is open, since a first visit has no token to list with before. */
  private listed = false;
  private notice: Notice | undefined;
  private stats: ReplyStats | undefined;
  private bootAttempt = 0;
  private generation = 0;
  private noticeTimer: number | undefined;
  private savedInflightKey: string | undefined;
  private readonly watchers = new Set<() => void>();
  private readonly changed = renderScheduler(() => this.publish());
  private view: PageView = { notice: undefined, stats: undefined };

  constructor() {
    this.store.on('ack', (message) => {
      const found = message.scrubbed ?? {};
      const scrubbed = SCRUBBED_KINDS.flatMap((kind) => (found[kind] === undefined ? [] : [t(`scrubbed.${kind}`, { count: found[kind] })]));
      if (scrubbed.length > 0) this.setNotice({ kind: 'info', text: t('notice.scrubbed', { list: formatList(scrubbed) }) });
      const sessionId = this.store.getSnapshot().session?.sessionId;
      if (sessionId === undefined) return;
      // The first message gives the conversation its title (the gateway's, scrubbed): read it back.
      if (this.store.getSnapshot().messages.filter((m) => m.role === 'user').length === 1) void this.conversations.refresh();
      else this.conversations.touched(sessionId);
    });
    this.store.on('refused', (refusal) => this.onRefused(refusal));
    this.store.on('done', (message) => {
      this.stats = replyStats(message);
      this.changed();
    });
    this.store.on('ended', (end) => this.onEnded(end));
    // Connected again: an error without a countdown (a dropped connection's) is over.
    this.store.on('ready', () => {
      if (this.notice?.kind === 'error' && this.notice.until === undefined) this.setNotice(undefined);
    });
    this.store.subscribe(() => this.onStore());
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  };

  readonly getSnapshot = (): PageView => this.view;

  start(): void {
    void this.boot(savedSession());
  }

  /** The page sends only on a live socket (the SDK would hold the message until the next one). */
  canSend(now = Date.now()): boolean {
    return this.store.getSnapshot().connection === 'connected' && this.store.canSend(now);
  }

  send(text: string): boolean {
    if (!this.canSend() || !this.store.send(text)) return false;
    if (this.notice?.blocks !== true) this.setNotice(undefined);
    return true;
  }

  retry(key: string): void {
    if (this.canSend()) this.store.retry(key);
  }

  regenerate(): void {
    if (this.store.getSnapshot().connection === 'connected' && this.store.regenerate() && this.notice?.blocks !== true) this.setNotice(undefined);
  }

  /** Leaves this conversation (stopping its reply) and opens a new session. */
  newChat(): void {
    this.store.stop();
    void this.boot(undefined);
  }

  /** Shows another of the reader's conversations (a reply streaming in this one goes on on the server). */
  async openConversation(sessionId: string): Promise<void> {
    if (sessionId === this.shown?.sessionId) return;
    let session: SessionInfo;
    try {
      const token = await this.conversations.tokenFor(sessionId);
      session = savedTokens().get(sessionId) ?? { sessionId, token, expiresAt: '' };
    } catch (err) {
      if (err instanceof ChatApiError && err.status === 404) this.conversations.forget(sessionId);
      this.setNotice({ kind: 'error', text: describe(err) });
      return;
    }
    saveSession(session);
    void this.boot(session);
  }

  /** Deletes a conversation on the server; the one shown is left first, for the newest other one or a new chat. */
  async deleteConversation(sessionId: string): Promise<void> {
    if (sessionId === this.shown?.sessionId) {
      const next = this.conversations.getSnapshot().items.find((s) => s.sessionId !== sessionId);
      if (next === undefined) this.newChat();
      else await this.openConversation(next.sessionId);
    }
    await this.conversations.remove(sessionId);
  }

  /**
   * Opens the saved session (its history and the reply that was in flight), or a new one. While no
   * gateway answers it says so and tries again with backoff; `carry` holds messages not sent in a
   * session that ended, ready for Retry.
   */
  private async boot(saved: SessionInfo | undefined, notice?: Notice, carryUnsent = false): Promise<void> {
    const generation = ++this.generation;
    this.stats = undefined;
    this.setNotice(notice);
    const carry = carryUnsent ? this.store.unsent() : [];
    try {
      let session: SessionCredentials;
      try {
        const inflight = saved === undefined ? undefined : savedInflight(saved.sessionId);
        session = await this.store.open({ session: saved, follow: inflight === undefined ? [] : [inflight], carry, sessionBody: this.sessionBody() });
      } catch (err) {
        if (saved === undefined || !(err instanceof ChatApiError) || !err.sessionGone || generation !== this.generation) throw err;
        this.conversations.forget(saved.sessionId);
        this.setNotice({ kind: 'info', text: t('notice.expired') });
        session = await this.store.open({ session: undefined, carry, sessionBody: this.sessionBody() });
      }
      if (generation !== this.generation) return;
      this.bootAttempt = 0;
      if (session.sessionId === saved?.sessionId) this.shown = saved;
      else if (session.expiresAt !== undefined) {
        this.shown = { sessionId: session.sessionId, token: session.token, expiresAt: session.expiresAt };
        saveSession(this.shown);
        this.conversations.touched(session.sessionId);
      }
      if (!this.listed) {
        this.listed = true;
        void this.conversations.refresh();
      }
    } catch (err) {
      if (generation !== this.generation) return;
      // Nothing to chat with yet: say why and try again with backoff.
      const delay = Math.min(10_000, 1000 * 2 ** this.bootAttempt++);
      const retryAfter = err instanceof ChatApiError && err.retryAfterMs !== undefined ? err.retryAfterMs : delay;
      this.setNotice({ kind: 'error', text: t('notice.retrying', { reason: describe(err) }), until: Date.now() + retryAfter });
      window.setTimeout(() => {
        if (generation === this.generation) void this.boot(saved);
      }, retryAfter);
    }
  }

  /** New sessions are this browser's (listed together) and ask the model for the reader's language. */
  private sessionBody(): { userId: string; locale: string } {
    return { userId: browserUserId(), locale: currentLocale() };
  }

  /** A message or frame the gateway refused; a countdown when it says when to try again. */
  private onRefused(refusal: Refusal): void {
    const until = refusal.until;
    if (until === undefined) {
      this.setNotice({ kind: 'error', text: refusal.regenerate === true && refusal.code === 'bad_request' ? t('notice.noRegenerate') : refusal.message });
      return;
    }
    const text = refusal.code === 'rate_limited' ? t('notice.rateLimited') : t('notice.refusedUntil', { message: refusal.message });
    this.setNotice({ kind: 'error', text, until, blocks: true });
    window.clearTimeout(this.noticeTimer);
    this.noticeTimer = window.setTimeout(() => {
      if (this.notice?.until === until) this.setNotice(undefined);
    }, until - Date.now() + 50);
  }

  private onEnded(end: SessionEnd): void {
    if (end.reason === 'stop') {
      this.setNotice({ kind: 'error', text: t('notice.closed', { code: end.code, message: end.message }) });
      return;
    }
    // Deleted, expired or its token refused: move to a new session, keeping what was not sent.
    if (end.reason === 'session_ended' && this.shown !== undefined) this.conversations.forget(this.shown.sessionId);
    void this.boot(undefined, { kind: 'info', text: t('notice.ended') }, true);
  }

  private onStore(): void {
    const view = this.store.getSnapshot();
    // The reply in flight survives a reload: the next page follows it at once.
    if (view.session !== undefined && !view.loading && view.active?.key !== this.savedInflightKey) {
      this.savedInflightKey = view.active?.key;
      saveInflight(view.session.sessionId, this.savedInflightKey);
    }
  }

  private setNotice(notice: Notice | undefined): void {
    if (notice === this.notice) return;
    this.notice = notice;
    this.changed();
  }

  private publish(): void {
    this.view = { notice: this.notice, stats: this.stats };
    for (const watcher of this.watchers) watcher();
  }
}

function describe(err: unknown): string {
  if (err instanceof ChatApiError) return err.code === 'network' ? t('notice.unreachable') : err.message;
  return t('notice.failed');
}
