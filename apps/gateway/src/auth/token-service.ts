// Session tokens: HS256 JWTs whose subject is the one session they open.
import { SignJWT, jwtVerify, errors } from 'jose';
import { ChatError } from '@chat-fleet/shared';

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

export interface VerifiedToken {
  /** When the token stops being valid (epoch ms); undefined for a token without `exp`. */
  expiresAtMs: number | undefined;
}

export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly issuer = 'chat-fleet',
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(sessionId: string, now = Date.now()): Promise<IssuedToken> {
    const iat = Math.floor(now / 1000);
    const exp = iat + this.ttlSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sessionId)
      .setIssuer(this.issuer)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** Resolves when `token` is valid and opens `sessionId`; else throws `unauthorized`. */
  async verify(token: string | undefined, sessionId: string): Promise<VerifiedToken> {
    if (token === undefined || token === '') {
      throw new ChatError('unauthorized', 'a session token is required (Authorization: Bearer <token> or ?token=)');
    }
    let subject: string | undefined;
    let exp: number | undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: this.issuer, algorithms: ['HS256'] });
      subject = payload.sub;
      exp = payload.exp;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new ChatError('unauthorized', 'the session token has expired');
      throw new ChatError('unauthorized', 'the session token is invalid');
    }
    if (subject !== sessionId) throw new ChatError('unauthorized', 'the session token does not open this session');
    return { expiresAtMs: exp === undefined ? undefined : exp * 1000 };
  }
}
