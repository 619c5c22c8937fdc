// The gateway's REST calls the page makes, on the page's own origin.
import type { SessionInfo, SessionView } from './protocol.js';

/** A refused call: the HTTP status and the error body's code (`network` when no answer came). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function call<T>(path: string, init: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'cannot reach the server');
  }
  const body = (await res.json().catch(() => undefined)) as unknown;
  if (res.ok) return body as T;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const retryAfter = Number(res.headers.get('retry-after'));
  throw new ApiError(
    res.status,
    typeof error?.code === 'string' ? error.code : `http_${res.status}`,
    typeof error?.message === 'string' ? error.message : `the server answered ${res.status}`,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  );
}

export function createSession(): Promise<SessionInfo> {
  return call<SessionInfo>('/chat/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
}

/** The session's history; ApiError 401 or 404 when the session or its token is gone. */
export function loadSession(session: SessionInfo): Promise<SessionView> {
  return call<SessionView>(`/chat/session/${encodeURIComponent(session.sessionId)}`, {
    headers: { authorization: `Bearer ${session.token}` },
  });
}

export function socketUrl(session: SessionInfo, clientId: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws/${encodeURIComponent(session.sessionId)}/${clientId}?token=${encodeURIComponent(session.token)}`;
}
