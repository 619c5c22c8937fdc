// Session tokens: HS256 JWTs whose subject is the one session they open. They also carry the
// session's owner as the gateway established it (claims `uid`, `plan`, `via`), so a limit can
// key on an identity the gateway trusts without reading the session.
import { webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify, errors, type JWTPayload } from 'jose';
import { ChatError, type IdentitySource } from '@chat-fleet/shared';

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

/** The owner written into a session token. */
export interface SessionIdentity {
  userId?: string | undefined;
  plan?: string | undefined;
  via?: IdentitySource | undefined;
}

/** A verified session token's claims; tokens issued before identities existed carry only the session. */
export interface SessionClaims {
  sessionId: string;
  userId: string | undefined;
  plan: string | undefined;
  via: IdentitySource | undefined;
}

export interface VerifiedToken {
  /** When the token stops being valid (epoch ms); undefined for a token without `exp`. */
  expiresAtMs: number | undefined;
  claims: SessionClaims;
}

export class TokenService {
  private readonly key: Uint8Array;
  /**
   * The key as a verify-only CryptoKey, imported once: given the bytes, jose imports a CryptoKey
   * on every verify, and at a socket upgrade each that garbage outlived the young generation.
   * The bytes themselves if the import fails (jose then reports the same as before).
   */
  private verifyKey: Promise<webcrypto.CryptoKey | Uint8Array> | undefined;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly issuer = 'chat-fleet',
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(sessionId: string, identity: SessionIdentity = {}, now = Date.now()): Promise<IssuedToken> {
    const iat = Math.floor(now / 1000);
    const exp = iat + this.ttlSeconds;
    const claims: JWTPayload = {};
    if (identity.userId !== undefined) claims.uid = identity.userId;
    if (identity.plan !== undefined) claims.plan = identity.plan;
    if (identity.via !== undefined) claims.via = identity.via;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sessionId)
      .setIssuer(this.issuer)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** Resolves with the token's claims when `token` is valid and opens `sessionId`; else throws `unauthorized`. */
  async verify(token: string | undefined, sessionId: string): Promise<VerifiedToken> {
    if (token === undefined || token === '') {
      throw new ChatError('unauthorized', 'a session token is required (Authorization: Bearer <token> or ?token=)');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keyForVerify(), { issuer: this.issuer, algorithms: ['HS256'] }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new ChatError('unauthorized', 'the session token has expired');
      throw new ChatError('unauthorized', 'the session token is invalid');
    }
    if (payload.sub !== sessionId) throw new ChatError('unauthorized', 'the session token does not open this session');
    const via = payload.via === 'jwt' || payload.via === 'api_key' || payload.via === 'anonymous' ? payload.via : undefined;
    return {
      expiresAtMs: payload.exp === undefined ? undefined : payload.exp * 1000,
      claims: { sessionId, userId: stringOrUndefined(payload.uid), plan: stringOrUndefined(payload.plan), via },
    };
  }

  private keyForVerify(): Promise<webcrypto.CryptoKey | Uint8Array> {
    this.verifyKey ??= webcrypto.subtle
      .importKey('raw', this.key, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
      .catch(() => this.key);
    return this.verifyKey;
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
