// The gateway's REST API with one error type. Any gateway serves any session, so a call that gets
// no answer (or 502/503) from one gateway is tried on the next before it fails.
import type { CreateSessionBody, CreateSessionResponse, ErrorCode, RenameSessionResponse, SessionList, SessionView, UsageReport, UsageTotals } from '@chat-fleet/protocol';

/** A refused or failed call: the HTTP status (0 when no answer came) and the error body's code. */
export class ChatApiError extends Error {
  constructor(
    readonly status: number,
    /** A protocol error code, or `network` when no gateway answered, `http_<status>` for a body without one. */
    readonly code: ErrorCode | 'network' | `http_${number}`,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChatApiError';
  }

  /** The session or its token is gone: only a new session helps. */
  get sessionGone(): boolean {
    return this.status === 401 || this.status === 404;
  }
}

/** A session's credentials, as `POST /chat/session` answers them. */
export type SessionCredentials = Pick<CreateSessionResponse, 'sessionId' | 'token'> & Partial<CreateSessionResponse>;

/** One period's usage as `GET /v1/usage` reports it (the protocol's UsageTotals). */
export type UsagePeriod = UsageTotals;
export type { UsageReport };

export interface SessionListPage {
  /** 1 to 100 (the gateway's default 20). */
  limit?: number;
  /** `nextBefore` of the previous page. */
  before?: string;
}

export interface HistoryPage {
  /** At most this many messages (the newest, or those before `before`). */
  limit?: number;
  /** A message id: the page ends before it (`nextBefore` of the previous page). */
  before?: string;
}

export interface ChatApiOptions {
  /** Gateway base URLs (`http://host:8088`); '' means this page's own origin. */
  gateways?: readonly string[];
  fetch?: typeof fetch;
  /** Per call, before it is tried on the next gateway (default 15 s). */
  timeoutMs?: number;
}

export class ChatApi {
  readonly gateways: readonly string[];
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  /** The gateway that answered last: tried first next time. */
  private preferred = 0;

  constructor(options: ChatApiOptions = {}) {
    this.gateways = (options.gateways ?? ['']).map((g) => g.replace(/\/+$/, ''));
    if (this.gateways.length === 0) throw new Error('ChatApi: no gateway');
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** The gateway calls go to first (the one that answered last). */
  get gateway(): string {
    return this.gateways[this.preferred]!;
  }

  /**
   * A new session. `authorization` is a user token (`AUTH_MODE=jwt`) or a backend's API key; in
   * `anonymous` mode `body.userId` is a label. `body.locale` (a BCP 47 tag) asks the model to answer in that language.
   */
  createSession(body: CreateSessionBody = {}, authorization?: string): Promise<CreateSessionResponse> {
    return this.call<CreateSessionResponse>('POST', '/chat/session', { body, token: authorization });
  }

  /** One page of the session's history, oldest first; 401/404 when the session or token is gone. */
  history(session: SessionCredentials, page: HistoryPage = {}): Promise<SessionView> {
    return this.call<SessionView>('GET', `/chat/session/${encodeURIComponent(session.sessionId)}${query({ limit: page.limit, before: page.before })}`, { token: session.token });
  }

  /**
   * The caller's conversations, newest activity first, one page at a time. `token`: in jwt mode the
   * user's token; in anonymous mode a token of any session of theirs (its `userId` is whose list).
   */
  listSessions(token: string, page: SessionListPage = {}): Promise<SessionList> {
    return this.call<SessionList>('GET', `/chat/sessions${query({ limit: page.limit, before: page.before })}`, { token });
  }

  /** Renames a conversation (1 to 120 characters; the gateway scrubs it like a message) and answers the title as stored. */
  renameSession(session: SessionCredentials, title: string): Promise<RenameSessionResponse> {
    return this.call<RenameSessionResponse>('PATCH', `/chat/session/${encodeURIComponent(session.sessionId)}`, { body: { title }, token: session.token });
  }

  /**
   * A fresh token for a session of the caller's, to reopen it from the list. `token`: the user's
   * (jwt mode) or a token of another session of the same user (anonymous mode).
   */
  sessionToken(sessionId: string, token: string): Promise<CreateSessionResponse> {
    return this.call<CreateSessionResponse>('POST', `/chat/session/${encodeURIComponent(sessionId)}/token`, { token });
  }

  /** Deletes the session: its sockets on every gateway close with 4100. */
  async deleteSession(session: SessionCredentials): Promise<void> {
    await this.call<unknown>('DELETE', `/chat/session/${encodeURIComponent(session.sessionId)}`, { token: session.token });
  }

  /** The caller's usage today and this month (a session token, or a user token in jwt mode). */
  usage(token: string): Promise<UsageReport> {
    return this.call<UsageReport>('GET', '/v1/usage', { token });
  }

  /** A gateway's `/health`. */
  health(gateway = this.gateway): Promise<unknown> {
    return this.call<unknown>('GET', '/health', { only: gateway });
  }

  /** The socket URL of a session on `gateway` (ws:// or wss:// from its http(s) base, or this page's origin). */
  socketUrl(gateway: string, session: SessionCredentials, clientId: string): string {
    const path = `/ws/${encodeURIComponent(session.sessionId)}/${encodeURIComponent(clientId)}?token=${encodeURIComponent(session.token)}`;
    if (gateway !== '') return `${gateway.replace(/^http/, 'ws')}${path}`;
    const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
    if (loc === undefined) throw new Error('ChatApi: a gateway URL is needed outside a browser');
    return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${path}`;
  }

  /**
   * One call, on the preferred gateway, then the others while no gateway answers (network, 502,
   * 503). Any other answer is final: another gateway would give the same.
   */
  async call<T>(method: string, path: string, options: { body?: unknown; token?: string | undefined; only?: string } = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const order = options.only !== undefined ? [options.only] : this.gateways.map((_, i) => this.gateways[(this.preferred + i) % this.gateways.length]!);
    let last: ChatApiError | undefined;
    for (const gateway of order) {
      try {
        const res = await this.fetchImpl(`${gateway}${path}`, {
          method,
          headers,
          body: options.body === undefined ? null : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const answer = await readAnswer<T>(res);
        if (options.only === undefined) this.preferred = this.gateways.indexOf(gateway);
        return answer;
      } catch (err) {
        last = err instanceof ChatApiError ? err : new ChatApiError(0, 'network', `cannot reach ${gateway === '' ? 'the server' : gateway}`);
        if (last.status !== 0 && last.status !== 502 && last.status !== 503) throw last;
      }
    }
    throw last ?? new ChatApiError(0, 'network', 'no gateway');
  }
}

/** `?a=1&b=x` of the parameters that are set, or ''. */
function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) q.set(name, String(value));
  return q.size > 0 ? `?${q.toString()}` : '';
}

async function readAnswer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.ok) return body as T;
  const error = (body as { error?: { code?: unknown; message?: unknown; retryAfterMs?: unknown } } | undefined)?.error;
  const header = Number(res.headers.get('retry-after'));
  const retryAfterMs = typeof error?.retryAfterMs === 'number' ? error.retryAfterMs : Number.isFinite(header) && header > 0 ? header * 1000 : undefined;
  throw new ChatApiError(
    res.status,
    typeof error?.code === 'string' ? (error.code as ErrorCode) : `http_${res.status}`,
    typeof error?.message === 'string' ? error.message : `the server answered ${res.status}`,
    retryAfterMs,
  );
}
