// User tokens from the product's login, verified with jose against one HS256 secret or one JWKS.
// The accepted algorithms are pinned per kind of key, so `alg: none`, and an HS256 token "signed"
// with a public key, are refused before any key is used.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { ChatError, PlanSchema, UserIdSchema, type Logger } from '@chat-fleet/shared';

/** What a verified user token says about its user. */
export interface UserClaims {
  /** The token's `sub`. */
  userId: string;
  /** The plan claim, when the token has one. */
  plan: string | undefined;
  /** The roles claim: an array of strings, or a space-separated string; [] when absent. */
  roles: string[];
}

/** Checks user tokens. Refuses with `unauthorized`, or `unavailable` while the JWKS cannot be fetched. */
export interface UserTokens {
  verify(token: string): Promise<UserClaims>;
}

export interface UserTokenOptions {
  /** One of secret (HS256) or jwksUrl (RS256, ES256, EdDSA). */
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  /** The token's `aud` must name one of these, when given. */
  audience?: readonly string[];
  clockToleranceSeconds: number;
  planClaim: string;
  rolesClaim: string;
  /** Least time between two JWKS fetches caused by an unknown `kid`. */
  jwksCooldownMs: number;
  /** How long a fetched JWKS is used before it is fetched again. */
  jwksCacheMaxAgeMs: number;
}

export const SECRET_ALGORITHMS = ['HS256'];
export const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

/** Failures that say something about the token itself; anything else on the JWKS path is the login being unreachable. */
const TOKEN_FAULTS = [
  errors.JWTExpired,
  errors.JWTClaimValidationFailed,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
];

export class UserTokenVerifier implements UserTokens {
  private readonly check: (token: string) => Promise<JWTPayload>;

  constructor(
    private readonly options: UserTokenOptions,
    private readonly log: Logger,
  ) {
    const verifyOptions: JWTVerifyOptions = {
      clockTolerance: options.clockToleranceSeconds,
      // A token without an expiry would be valid forever.
      requiredClaims: ['sub', 'exp'],
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      ...(options.audience === undefined ? {} : { audience: [...options.audience] }),
    };
    if (options.secret !== undefined) {
      const key = new TextEncoder().encode(options.secret);
      const opts = { ...verifyOptions, algorithms: SECRET_ALGORITHMS };
      this.check = async (token) => (await jwtVerify(token, key, opts)).payload;
    } else if (options.jwksUrl !== undefined) {
      // jose keeps the set in memory, refetches it when a token names an unknown `kid` (at most
      // once per cooldown, so made-up kids cannot flood the login) and after cacheMaxAge.
      const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
        cooldownDuration: options.jwksCooldownMs,
        cacheMaxAge: options.jwksCacheMaxAgeMs,
        timeoutDuration: 5000,
      });
      const opts = { ...verifyOptions, algorithms: JWKS_ALGORITHMS };
      this.check = async (token) => (await jwtVerify(token, jwks, opts)).payload;
    } else {
      throw new Error('UserTokenVerifier needs a secret or a JWKS URL');
    }
  }

  async verify(token: string): Promise<UserClaims> {
    let payload: JWTPayload;
    try {
      payload = await this.check(token);
    } catch (err) {
      throw this.refusal(err);
    }
    const userId = UserIdSchema.safeParse(payload.sub);
    if (!userId.success) throw new ChatError('unauthorized', 'the user token\'s sub must be 1-128 characters');
    const rawPlan = claimAt(payload, this.options.planClaim);
    let plan: string | undefined;
    if (rawPlan !== undefined && rawPlan !== null) {
      const parsed = PlanSchema.safeParse(rawPlan);
      if (!parsed.success) throw new ChatError('unauthorized', `the user token's ${this.options.planClaim} claim must be 1-64 characters of A-Z, a-z, 0-9, _, ., : or -`);
      plan = parsed.data;
    }
    return { userId: userId.data, plan, roles: rolesOf(claimAt(payload, this.options.rolesClaim)) };
  }

  private refusal(err: unknown): ChatError {
    if (err instanceof errors.JWTExpired) return new ChatError('unauthorized', 'the user token has expired');
    if (err instanceof errors.JWTClaimValidationFailed) {
      const what = err.claim === 'nbf' ? 'is not valid yet' : err.claim === 'iss' ? 'has an issuer that is not accepted' : err.claim === 'aud' ? 'has an audience that is not accepted' : `is missing or has a bad ${err.claim} claim`;
      return new ChatError('unauthorized', `the user token ${what}`);
    }
    if (err instanceof errors.JOSEAlgNotAllowed) return new ChatError('unauthorized', 'the user token\'s algorithm is not accepted');
    if (err instanceof errors.JWKSNoMatchingKey) return new ChatError('unauthorized', 'the user token is signed by a key the login does not publish');
    if (this.options.jwksUrl !== undefined && !TOKEN_FAULTS.some((fault) => err instanceof fault)) {
      this.log.warn({ err, jwksUrl: this.options.jwksUrl }, 'cannot fetch the JWKS of user tokens');
      return new ChatError('unavailable', 'user tokens cannot be checked right now; try again shortly', { retryAfterMs: 5000, cause: err });
    }
    return new ChatError('unauthorized', 'the user token is invalid');
  }
}

/** A claim by its name, or by a dotted path into nested objects (Keycloak's `realm_access.roles`). */
export function claimAt(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let at: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof at !== 'object' || at === null || !(part in at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function rolesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(/\s+/).filter(Boolean);
  if (Array.isArray(claim)) return claim.filter((r): r is string => typeof r === 'string');
  return [];
}
