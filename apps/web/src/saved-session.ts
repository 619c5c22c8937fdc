// What survives a reload, in localStorage: the session shown and its token, the reply in flight so
// the new page resumes it at once instead of waiting for the gateway's resume grace, the token of
// every session this browser created or reopened (in anonymous mode one of them is the credential of
// the conversation list, and each reopens its own conversation), and the label this browser gives
// its sessions as their userId, so they all list together.
import { randomId, type CreateSessionResponse } from '@chat-fleet/client';

/** What the page keeps of a session. */
export type SessionInfo = Pick<CreateSessionResponse, 'sessionId' | 'token' | 'expiresAt'>;

const SESSION_KEY = 'chat-fleet:session';
const INFLIGHT_KEY = 'chat-fleet:inflight';
const TOKENS_KEY = 'chat-fleet:tokens';
const USER_KEY = 'chat-fleet:user';

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

/** Makes `session` the one shown after a reload (and keeps its token). */
export function saveSession(session: SessionInfo): void {
  write(SESSION_KEY, JSON.stringify({ sessionId: session.sessionId, token: session.token, expiresAt: session.expiresAt }));
  write(INFLIGHT_KEY, undefined);
  saveToken(session);
}

/** The tokens kept, by sessionId, those past their expiry left out. */
export function savedTokens(now = Date.now()): Map<string, SessionInfo> {
  const out = new Map<string, SessionInfo>();
  try {
    const all = JSON.parse(read(TOKENS_KEY) ?? '{}') as Record<string, Partial<SessionInfo>>;
    for (const [sessionId, s] of Object.entries(all)) {
      if (typeof s.token === 'string' && typeof s.expiresAt === 'string' && Date.parse(s.expiresAt) > now) out.set(sessionId, { sessionId, token: s.token, expiresAt: s.expiresAt });
    }
  } catch {
    // unreadable: as if none were kept
  }
  return out;
}

export function saveToken(session: SessionInfo): void {
  const all = savedTokens();
  all.set(session.sessionId, session);
  writeTokens(all);
}

/** Forgets a deleted session's token. */
export function forgetToken(sessionId: string): void {
  const all = savedTokens();
  if (all.delete(sessionId)) writeTokens(all);
}

function writeTokens(all: Map<string, SessionInfo>): void {
  write(TOKENS_KEY, JSON.stringify(Object.fromEntries([...all].map(([id, s]) => [id, { token: s.token, expiresAt: s.expiresAt }]))));
}

/** This browser's label for its sessions' userId (anonymous mode), made on first use. */
export function browserUserId(): string {
  const saved = read(USER_KEY);
  if (saved !== null && /^web-[a-z0-9]{20}$/.test(saved)) return saved;
  const made = `web-${randomId(20)}`;
  write(USER_KEY, made);
  return made;
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
