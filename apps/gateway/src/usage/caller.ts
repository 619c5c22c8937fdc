// Whose usage a request may read: the user of the session a session token opens (its userId,
// or `ip:<address>` for a session without one), or, when the gateway verifies user tokens, the
// user a user token names.
import { decodeJwt } from 'jose';
import { ChatError, isValidId, ledgerUserId, type SessionStore } from '@chat-fleet/shared';
import type { TokenService } from '../auth/token-service.js';
import { bearerToken } from '../transport/http-kit.js';
import type { CallerResolver } from './usage-api.js';

/** A verifier of the product's user tokens (jwt mode); resolves with the token's user. */
export type UserTokenCheck = (authorization: string) => Promise<{ userId: string }>;

export function usageCaller(tokens: TokenService, sessions: Pick<SessionStore, 'ownerOf'>, userToken: UserTokenCheck | undefined): CallerResolver {
  return async (authorization, remoteAddress) => {
    const token = bearerToken(authorization ?? '');
    if (token === undefined) throw new ChatError('unauthorized', 'a session token or a user token is required (Authorization: Bearer <token>)');
    let sessionId: string | undefined;
    try {
      sessionId = decodeJwt(token).sub;
    } catch {
      sessionId = undefined;
    }
    if (sessionId !== undefined && isValidId(sessionId)) {
      const session = await tokens.verify(token, sessionId).then(
        () => true,
        () => false,
      );
      if (session) {
        const owner = await sessions.ownerOf(sessionId);
        if (owner === undefined) throw new ChatError('not_found', `session ${sessionId} does not exist or has expired`);
        return ledgerUserId(owner.userId, remoteAddress);
      }
    }
    if (userToken !== undefined) return (await userToken(authorization ?? '')).userId;
    throw new ChatError('unauthorized', 'the token is not a valid session token');
  };
}
