// What survives a reload, in localStorage: the session and its token, and the reply in flight so
// the new page resumes it at once instead of waiting for the gateway's resume grace.
import type { CreateSessionResponse } from '@chat-fleet/client';

/** What the page keeps of a session. */
export type SessionInfo = Pick<CreateSessionResponse, 'sessionId' | 'token' | 'expiresAt'>;

const SESSION_KEY = 'chat-fleet:session';
const INFLIGHT_KEY = 'chat-fleet:inflight';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled: the chat still works, it just does not survive a reload
  }
}

function write(key: string, value: string | undefined): void {
  try {
    if (value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // as above
  }
}

/** The saved session, unless missing, malformed or past its token's expiry. */
export function savedSession(now = Date.now()): SessionInfo | undefined {
  const raw = read(SESSION_KEY);
  if (raw === null) return undefined;
  try {
    const s = JSON.parse(raw) as Partial<SessionInfo>;
    if (typeof s.sessionId !== 'string' || typeof s.token !== 'string' || typeof s.expiresAt !== 'string') return undefined;
    if (Date.parse(s.expiresAt) <= now) return undefined;
    return { sessionId: s.sessionId, token: s.token, expiresAt: s.expiresAt };
  } catch {
    return undefined;
  }
}

export function saveSession(session: SessionInfo): void {
  write(SESSION_KEY, JSON.stringify({ sessionId: session.sessionId, token: session.token, expiresAt: session.expiresAt }));
  write(INFLIGHT_KEY, undefined);
}

/** The messageId of the reply streaming when the page was left, if it was in this session. */
export function savedInflight(sessionId: string): string | undefined {
  const raw = read(INFLIGHT_KEY);
  if (raw === null) return undefined;
  const [sid, messageId] = raw.split(' ');
  return sid === sessionId && messageId ? messageId : undefined;
}

export function saveInflight(sessionId: string, messageId: string | undefined): void {
  write(INFLIGHT_KEY, messageId === undefined ? undefined : `${sessionId} ${messageId}`);
}
