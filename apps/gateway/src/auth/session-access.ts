// Who may act on a session beyond its own token: its owner, known by a user token (jwt mode) or
// by a token of another of their sessions. How the owner's userId was established is part of who
// they are: an anonymous label never reaches a session a login or a trusted backend vouched for,
// nor the other way round, though the userIds are equal.
import { decodeJwt } from 'jose';
import { ChatError, isValidId, type IdentitySource, type SessionStore } from '@chat-fleet/shared';
import type { TokenService } from './token-service.js';
import { bearerCredential, type UserAuth } from './user-auth.js';

/** Whose sessions a credential speaks for. */
export interface SessionsCaller {
  /** Undefined for a token of a session created without a userId: it owns that session only. */
  userId: string | undefined;
  /** The userId was vouched for (a user token or an API key), not a label the client chose. */
  trusted: boolean;
  /** The session the credential is a token of, when it is a session token. */
  sessionId?: string;
}

/** A session's owner as stored with it. */
export interface StoredOwner {
  userId: string | undefined;
  plan: string | undefined;
  via: IdentitySource | undefined;
}

/** Whether the session's userId was vouched for; a session stored without `via` counts as a label. */
export function isVouched(via: IdentitySource | undefined): boolean {
  return via === 'jwt' || via === 'api_key';
}

/** Whether `caller` is the owner `owner` names (not counting a session's own token). */
export function isOwner(caller: SessionsCaller, owner: { userId: string | undefined; via?: IdentitySource | undefined }): boolean {
  return caller.userId !== undefined && caller.userId === owner.userId && caller.trusted === isVouched(owner.via);
}

export class SessionAccess {
  constructor(
    private readonly tokens: TokenService,
    private readonly users: UserAuth,
    private readonly sessions: Pick<SessionStore, 'ownerOf'>,
  ) {}

  /**
   * The caller behind an Authorization header: a session token (either mode) or a user token (jwt
   * mode). Throws `unauthorized` for anything else; `unavailable` while user tokens cannot be checked.
   */
  async caller(authorization: string): Promise<SessionsCaller> {
    const credential = bearerCredential(authorization);
    if (credential === undefined) throw new ChatError('unauthorized', 'a session token or a user token is required (Authorization: Bearer <token>)');
    const sessionId = subjectOf(credential);
    if (sessionId !== undefined) {
      const verified = await this.tokens.verify(credential, sessionId).catch(() => undefined);
      if (verified !== undefined) return { userId: verified.claims.userId, trusted: isVouched(verified.claims.via), sessionId };
    }
    if (this.users.mode === 'jwt') {
      const user = await this.users.identify(authorization);
      if (user.via === 'jwt') return { userId: user.userId, trusted: true };
    }
    throw new ChatError('unauthorized', this.users.mode === 'jwt' ? 'the token is neither a valid session token nor a valid user token' : 'the token is not a valid session token');
  }

  /**
   * The owner of `sessionId` when the caller is that owner (or holds the session's own token).
   * Throws `unauthorized` (no or a bad credential), `not_found`, or `forbidden` (another user's session).
   */
  async requireOwner(authorization: string, sessionId: string): Promise<StoredOwner> {
    const caller = await this.caller(authorization);
    const owner = await this.sessions.ownerOf(sessionId);
    if (owner === undefined) throw new ChatError('not_found', `session ${sessionId} does not exist or has expired`);
    if (caller.sessionId !== sessionId && !isOwner(caller, owner)) throw new ChatError('forbidden', `session ${sessionId} belongs to another user`);
    return owner;
  }
}

/** The session a session token names (its `sub`), read before the signature is checked. */
function subjectOf(token: string): string | undefined {
  try {
    const { sub } = decodeJwt(token);
    return sub !== undefined && isValidId(sub) ? sub : undefined;
  } catch {
    return undefined;
  }
}
