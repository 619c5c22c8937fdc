// The gateway's REST calls the demo makes: open a session, read its history.
import { CreateSessionResponseSchema, ErrorBodySchema, SessionViewSchema, type SessionView } from '@chat-fleet/shared';
import { describeFetchError } from './health-probe.js';

export interface SessionCredentials {
  sessionId: string;
  token: string;
}

/** A refused or failed REST call; `code` is the protocol's error code, or `unreachable`. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | undefined,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 10_000;

async function call(gateway: string, path: string, init: RequestInit): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${gateway}${path}`, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new ApiError('unreachable', `${gateway}: ${describeFetchError(err)}`, undefined);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.ok) return body;
  const error = ErrorBodySchema.safeParse(body);
  const retryAfter = Number(res.headers.get('retry-after'));
  throw new ApiError(
    error.success ? error.data.error.code : `http_${res.status}`,
    error.success ? error.data.error.message : `${path} answered ${res.status}`,
    res.status,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  );
}

export async function createSession(gateway: string, userId: string): Promise<SessionCredentials> {
  const body = await call(gateway, '/chat/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, metadata: { client: 'terminal-demo' } }),
  });
  const parsed = CreateSessionResponseSchema.safeParse(body);
  if (!parsed.success) throw new ApiError('bad_response', `${gateway}: POST /chat/session answered an unexpected body`, 201);
  return { sessionId: parsed.data.sessionId, token: parsed.data.token };
}

export async function fetchHistory(gateway: string, session: SessionCredentials): Promise<SessionView> {
  const body = await call(gateway, `/chat/session/${encodeURIComponent(session.sessionId)}`, {
    headers: { authorization: `Bearer ${session.token}` },
  });
  const parsed = SessionViewSchema.safeParse(body);
  if (!parsed.success) throw new ApiError('bad_response', `${gateway}: GET /chat/session answered an unexpected body`, 200);
  return parsed.data;
}
