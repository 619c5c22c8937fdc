// The page's logic over the SDK's ConversationStore (which does the protocol and the conversation):
// the session kept across reloads with the reply in flight, the notices (what was replaced, refusals
// with a countdown, a chat that ended), the last reply's timings, and opening again with backoff
// while no gateway answers. Renders are scheduled once per animation frame.
import { ChatApiError, ConversationStore, randomId, type Refusal, type SessionCredentials, type SessionEnd } from '@chat-fleet/client';
import { renderScheduler } from './render-scheduler.js';
import { replyStats, type ReplyStats } from './reply-stats.js';
import { saveInflight, saveSession, savedInflight, savedSession, type SessionInfo } from './saved-session.js';

export interface Notice {
  readonly kind: 'error' | 'info';
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

const SCRUBBED_NAMES: Record<string, string> = { EMAIL: 'e-mail address', PHONE: 'phone number', CARD: 'card number', SSN: 'SSN', IBAN: 'IBAN', NATIONAL_ID: 'national ID number' };

export class ChatController {
  readonly store = new ConversationStore({ clientId: `web-${randomId(10)}`, schedule: renderScheduler });
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
      const scrubbed = Object.entries(message.scrubbed ?? {}).map(([kind, n]) => `${n} ${SCRUBBED_NAMES[kind] ?? kind}${n === 1 ? '' : 's'}`);
      if (scrubbed.length > 0) this.setNotice({ kind: 'info', text: `Replaced before sending: ${scrubbed.join(', ')}.` });
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

  /** Leaves this conversation (stopping its reply) and opens a new session. */
  newChat(): void {
    this.store.stop();
    void this.boot(undefined);
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
        session = await this.store.open({ session: saved, follow: inflight === undefined ? [] : [inflight], carry });
      } catch (err) {
        if (saved === undefined || !(err instanceof ChatApiError) || !err.sessionGone || generation !== this.generation) throw err;
        this.setNotice({ kind: 'info', text: 'The previous chat has expired; this is a new one.' });
        session = await this.store.open({ session: undefined, carry });
      }
      if (generation !== this.generation) return;
      this.bootAttempt = 0;
      if (session.sessionId !== saved?.sessionId && session.expiresAt !== undefined) {
        saveSession({ sessionId: session.sessionId, token: session.token, expiresAt: session.expiresAt });
      }
    } catch (err) {
      if (generation !== this.generation) return;
      // Nothing to chat with yet: say why and try again with backoff.
      const delay = Math.min(10_000, 1000 * 2 ** this.bootAttempt++);
      const retryAfter = err instanceof ChatApiError && err.retryAfterMs !== undefined ? err.retryAfterMs : delay;
      this.setNotice({ kind: 'error', text: `${describe(err)}. Trying again`, until: Date.now() + retryAfter });
      window.setTimeout(() => {
        if (generation === this.generation) void this.boot(saved);
      }, retryAfter);
    }
  }

  /** A message or frame the gateway refused; a countdown when it says when to try again. */
  private onRefused(refusal: Refusal): void {
    const until = refusal.until;
    if (until === undefined) {
      this.setNotice({ kind: 'error', text: refusal.message });
      return;
    }
    const what = refusal.code === 'rate_limited' ? 'Rate limit reached' : refusal.message;
    this.setNotice({ kind: 'error', text: `${what}. You can send again`, until, blocks: true });
    window.clearTimeout(this.noticeTimer);
    this.noticeTimer = window.setTimeout(() => {
      if (this.notice?.until === until) this.setNotice(undefined);
    }, until - Date.now() + 50);
  }

  private onEnded(end: SessionEnd): void {
    if (end.reason === 'stop') {
      this.setNotice({ kind: 'error', text: `The connection was closed (${end.code}: ${end.message}). Start a new chat to continue.` });
      return;
    }
    // Deleted, expired or its token refused: move to a new session, keeping what was not sent.
    void this.boot(undefined, { kind: 'info', text: 'The previous chat has ended; this is a new one.' }, true);
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
  if (err instanceof ChatApiError) return err.code === 'network' ? 'Cannot reach the server' : err.message;
  return 'Something went wrong';
}
