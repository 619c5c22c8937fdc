// The reader's conversations for the sidebar: pages of `GET /chat/sessions` (newest activity first),
// kept in step with what this page does (a new chat, a message accepted, a rename, a delete) without
// asking the server again each time. In anonymous mode the credential of the list is a token of any
// session this browser kept (they share its userId label): the one shown first, else the others, a
// refused one forgotten.
import { ChatApiError, type ChatApi, type SessionListItem } from '@chat-fleet/client';
import { forgetToken, saveToken, savedTokens, type SessionInfo } from './saved-session.js';

export interface ConversationListView {
  readonly items: readonly SessionListItem[];
  /** More pages remain on the server. */
  readonly hasMore: boolean;
  readonly loading: boolean;
  /** The last load failed (no credential worked, or no gateway answered). */
  readonly failed: boolean;
}

const PAGE_SIZE = 30;

/** `page` after the items known: each conversation once, where the server put it. */
export function withPage(items: readonly SessionListItem[], page: readonly SessionListItem[], first: boolean): SessionListItem[] {
  const fresh = new Set(page.map((s) => s.sessionId));
  const rest = items.filter((s) => !fresh.has(s.sessionId));
  // A first page read again replaces what it holds at the top; a later page goes at the end.
  return first ? [...page, ...rest] : [...rest, ...page];
}

/** `sessionId` had activity at `at`: it moves to the top (added if unknown, untitled). */
export function withActivity(items: readonly SessionListItem[], sessionId: string, at: string): SessionListItem[] {
  const known = items.find((s) => s.sessionId === sessionId);
  const moved: SessionListItem = known === undefined ? { sessionId, title: '', createdAt: at, updatedAt: at } : { ...known, updatedAt: at };
  return [moved, ...items.filter((s) => s.sessionId !== sessionId)];
}

/** The conversations whose title holds `query` (any case, in the reader's language); all of them for an empty query. */
export function matching(items: readonly SessionListItem[], query: string, locale: string): readonly SessionListItem[] {
  const q = query.trim().toLocaleLowerCase(locale);
  return q === '' ? items : items.filter((s) => s.title.toLocaleLowerCase(locale).includes(q));
}

export class ConversationList {
  private view: ConversationListView = { items: [], hasMore: false, loading: false, failed: false };
  private nextBefore: string | undefined;
  private generation = 0;
  private readonly watchers = new Set<() => void>();

  constructor(
    private readonly api: ChatApi,
    /** The session shown, whose token is tried first. */
    private readonly current: () => SessionInfo | undefined,
  ) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  };

  readonly getSnapshot = (): ConversationListView => this.view;

  /** Reads the first page again (titles the server set since, activity elsewhere). */
  async refresh(): Promise<void> {
    await this.load(true);
  }

  /** Reads the next page, when there is one. */
  async loadMore(): Promise<void> {
    if (!this.view.hasMore || this.view.loading) return;
    await this.load(false);
  }

  /** A message was accepted in `sessionId` (or it was just created): it goes to the top. */
  touched(sessionId: string, at = new Date().toISOString()): void {
    this.set({ items: withActivity(this.view.items, sessionId, at) });
  }

  /** Renames on the server; resolves with the title as stored (scrubbed), rejects with the ChatApiError. */
  async rename(sessionId: string, title: string): Promise<string> {
    const token = await this.tokenFor(sessionId);
    const renamed = await this.api.renameSession({ sessionId, token }, title);
    this.set({ items: this.view.items.map((s) => (s.sessionId === sessionId ? { ...s, title: renamed.title } : s)) });
    return renamed.title;
  }

  /** Deletes on the server (one already gone counts as deleted) and from the list. */
  async remove(sessionId: string): Promise<void> {
    try {
      await this.api.deleteSession({ sessionId, token: await this.tokenFor(sessionId) });
    } catch (err) {
      if (!(err instanceof ChatApiError && err.status === 404)) throw err;
    }
    forgetToken(sessionId);
    this.forget(sessionId);
  }

  /** Drops a conversation from the list (deleted, or found gone). */
  forget(sessionId: string): void {
    this.set({ items: this.view.items.filter((s) => s.sessionId !== sessionId) });
  }

  /** A token of `sessionId`: the one kept, else a fresh one from the server (then kept). */
  async tokenFor(sessionId: string): Promise<string> {
    const kept = savedTokens().get(sessionId);
    if (kept !== undefined) return kept.token;
    // Here a 404 is about `sessionId` (gone), not about the credential.
    const fresh = await this.withCredential((token) => this.api.sessionToken(sessionId, token), (err) => err.status === 401);
    saveToken({ sessionId, token: fresh.token, expiresAt: fresh.expiresAt });
    return fresh.token;
  }

  private async load(first: boolean): Promise<void> {
    const generation = ++this.generation;
    this.set({ loading: true, failed: false });
    try {
      const before = first || this.nextBefore === undefined ? {} : { before: this.nextBefore };
      const page = await this.withCredential((token) => this.api.listSessions(token, { limit: PAGE_SIZE, ...before }), (err) => err.sessionGone);
      if (generation !== this.generation) return;
      // A first page read again keeps the cursor of the pages after it.
      if (!first || this.view.items.length <= page.sessions.length) this.nextBefore = page.nextBefore;
      this.set({ items: withPage(this.view.items, page.sessions, first), hasMore: this.nextBefore !== undefined, loading: false });
    } catch {
      if (generation === this.generation) this.set({ loading: false, failed: true });
    }
  }

  /**
   * Runs `call` with the list's credential: the shown session's token, else each kept one in turn; a
   * token the gateway `refused` (its session gone or expired) is forgotten and the next one tried.
   */
  private async withCredential<T>(call: (token: string) => Promise<T>, refused: (err: ChatApiError) => boolean): Promise<T> {
    const shown = this.current();
    const candidates = [...(shown === undefined ? [] : [shown]), ...[...savedTokens().values()].filter((s) => s.sessionId !== shown?.sessionId)];
    let last: unknown = new ChatApiError(401, 'unauthorized', 'no session token is kept in this browser');
    for (const session of candidates) {
      try {
        return await call(session.token);
      } catch (err) {
        if (!(err instanceof ChatApiError && refused(err))) throw err;
        last = err;
        if (session.sessionId !== shown?.sessionId) forgetToken(session.sessionId);
      }
    }
    throw last;
  }

  private set(patch: Partial<ConversationListView>): void {
    this.view = { ...this.view, ...patch };
    for (const watcher of this.watchers) watcher();
  }
}
