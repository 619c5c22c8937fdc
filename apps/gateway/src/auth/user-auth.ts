// Who a request comes from, by its Authorization header: a user token from the product's login
// (AUTH_MODE=jwt), a trusted backend's API key (CHAT_API_KEYS, either mode), or nobody.
import { ChatError } from '@chat-fleet/shared';
import type { ApiKeys } from './api-keys.js';
import type { UserTokens } from './user-tokens.js';

export type AuthMode = 'anonymous' | 'jwt';

/** The caller as its credential shows it, before any body is read. */
export type Caller =
  /** No credential, in anonymous mode: whatever userId it claims is a label. */
  | { via: 'anonymous' }
  /** A trusted backend: it authenticated the user itself and names them. */
  | { via: 'api_key' }
  | { via: 'jwt'; userId: string; plan: string | undefined; admin: boolean };

/** A user the gateway trusts. */
export interface AuthenticatedUser {
  userId: string;
  plan?: string;
  via: 'jwt' | 'api_key';
  admin: boolean;
}

/** The owner of a new session, as far as the gateway trusts it. */
export interface SessionOwner {
  userId: string | undefined;
  plan: string | undefined;
  /** How the userId was established; `anonymous`: a label the client chose. */
  via: 'jwt' | 'api_key' | 'anonymous';
}

/** What a request body may claim about its user. */
export interface ClaimedUser {
  userId?: string | undefined;
  plan?: string | undefined;
}

export interface UserAuthOptions {
  mode: AuthMode;
  /** The user-token verifier; needed in jwt mode, unused otherwise. */
  tokens: UserTokens | undefined;
  apiKeys: ApiKeys;
  /** A user token whose roles include this one is an admin credential. */
  adminRole: string;
}

/** `Bearer <credential>` → the credential; '' or no header → undefined; anything else is refused. */
export function bearerCredential(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.trim() === '') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (m?.[1] === undefined) throw new ChatError('unauthorized', 'the Authorization header must be "Bearer <credential>"');
  return m[1];
}

export class UserAuth {
  constructor(private readonly options: UserAuthOptions) {}

  get mode(): AuthMode {
    return this.options.mode;
  }

  /**
   * The caller behind an Authorization header. Throws `unauthorized` for a bad credential, and
   * for none in jwt mode; `unavailable` while user tokens cannot be checked (JWKS unreachable).
   */
  async identify(authorization: string | undefined): Promise<Caller> {
    const credential = bearerCredential(authorization);
    if (credential === undefined) {
      if (this.options.mode === 'jwt') throw new ChatError('unauthorized', 'a user token is required (Authorization: Bearer <token>)');
      return { via: 'anonymous' };
    }
    if (this.options.apiKeys.has(credential)) return { via: 'api_key' };
    if (this.options.mode !== 'jwt' || this.options.tokens === undefined) {
      throw new ChatError('unauthorized', 'the credential is not a known API key (user tokens are accepted with AUTH_MODE=jwt only)');
    }
    const claims = await this.options.tokens.verify(credential);
    return { via: 'jwt', userId: claims.userId, plan: claims.plan, admin: claims.roles.includes(this.options.adminRole) };
  }

  /**
   * The user behind a user token, or behind an API key acting for `claimed.userId`. Throws
   * `unauthorized` (no or bad credential), `forbidden` (a claim the credential does not allow),
   * `bad_request` (an API key without a userId).
   */
  async authenticate(authorization: string | undefined, claimed: ClaimedUser = {}): Promise<AuthenticatedUser> {
    const caller = await this.identify(authorization);
    if (caller.via === 'anonymous') throw new ChatError('unauthorized', 'a user token or an API key is required (Authorization: Bearer …)');
    const owner = this.ownerOf(caller, claimed);
    if (owner.userId === undefined) throw new ChatError('bad_request', 'an API key acts for a user: name the userId');
    return {
      userId: owner.userId,
      ...(owner.plan === undefined ? {} : { plan: owner.plan }),
      via: caller.via,
      admin: caller.via === 'jwt' && caller.admin,
    };
  }

  /**
   * Who owns a session `caller` creates with `body`: a user token's `sub` (a different body
   * userId is `forbidden`), the userId an API key names (`bad_request` without one), or the
   * anonymous caller's label. Only an API key may set `plan` (`forbidden` otherwise): a user's
   * plan comes from the login.
   */
  ownerOf(caller: Caller, body: ClaimedUser): SessionOwner {
    if (body.plan !== undefined && caller.via !== 'api_key') {
      throw new ChatError('forbidden', caller.via === 'jwt' ? 'plan comes from the user token, not the body' : 'only a trusted backend (an API key) may set plan');
    }
    switch (caller.via) {
      case 'anonymous':
        return { userId: body.userId, plan: undefined, via: 'anonymous' };
      case 'api_key':
        if (body.userId === undefined) throw new ChatError('bad_request', 'an API key creates a session for the userId named in the body');
        return { userId: body.userId, plan: body.plan, via: 'api_key' };
      case 'jwt':
        if (body.userId !== undefined && body.userId !== caller.userId) throw new ChatError('forbidden', 'userId differs from the user token\'s subject');
        return { userId: caller.userId, plan: caller.plan, via: 'jwt' };
    }
  }
}
