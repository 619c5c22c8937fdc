// Identity (issue 14): who may create a session, as which userId, and who is an admin. Real
// gateways in AUTH_MODE=jwt verify user tokens against an HS256 secret or against a JWKS served
// over HTTP by this test (keys from jose's generateKeyPair), which rotates its keys mid-test; a
// gateway in anonymous mode shows today's behaviour plus API keys and the admin rate limit.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, decodeJwt, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { redisKeys, type RedisClient } from '@chat-fleet/shared';
import { http, type HttpAnswer, type Session } from '../support/chat-client.js';
import { testRedis } from '../support/test-redis.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'chat-fleet-api';
const USER_SECRET = 'the-product-login-hs256-secret-0123456789';
const API_KEY = `backend-${Math.random().toString(36).slice(2)}-0123456789abcdef`;

type Answer = HttpAnswer<Session & { error?: { code: string; message: string } }>;

const unique = (name: string): string => `${name}-${Math.random().toString(36).slice(2, 8)}`;
const now = (): number => Math.floor(Date.now() / 1000);

interface TokenSpec {
  sub?: string;
  plan?: string;
  roles?: string[];
  iss?: string;
  aud?: string;
  exp?: number | null;
  nbf?: number;
}

/** A user token as the product's login would issue it. */
async function userToken(key: CryptoKey | Uint8Array, header: { alg: string; kid?: string }, spec: TokenSpec = {}): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (spec.plan !== undefined) claims.plan = spec.plan;
  if (spec.roles !== undefined) claims.roles = spec.roles;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ ...header, typ: 'JWT' })
    .setSubject(spec.sub ?? unique('user'))
    .setIssuer(spec.iss ?? ISSUER)
    .setAudience(spec.aud ?? AUDIENCE)
    .setIssuedAt();
  if (spec.exp !== null) jwt.setExpirationTime(spec.exp ?? now() + 300);
  if (spec.nbf !== undefined) jwt.setNotBefore(spec.nbf);
  return jwt.sign(key);
}

/** `alg: none`: a token anyone can write. */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: ISSUER, aud: AUDIENCE, exp: now() + 300, ...claims })}.`;
}

function createSession(base: string, credential: string | undefined, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  return http(base, 'POST', '/chat/session', { body, headers, ...(credential === undefined ? {} : { token: credential }) });
}

async function mustCreate(base: string, credential: string | undefined, body: Record<string, unknown> = {}): Promise<Session> {
  const r = await createSession(base, credential, body);
  if (r.status !== 201) throw new Error(`POST /chat/session answered ${r.status}: ${r.text}`);
  return r.json;
}

const refusal = (r: Answer): [number, string | undefined] => [r.status, r.json?.error?.code];

let redis: RedisClient;
beforeAll(() => {
  redis = testRedis();
});
afterAll(() => {
  redis?.disconnect();
});

/** The session as Redis holds it for the worker. */
async function storedMeta(stack: TestStack, sessionId: string): Promise<Record<string, string>> {
  return redis.hgetall(redisKeys(stack.prefix).sessionMeta(sessionId));
}

describe('AUTH_MODE=jwt with an HS256 secret', () => {
  let stack: TestStack;
  const secret = new TextEncoder().encode(USER_SECRET);
  const hs = (spec: TokenSpec = {}): Promise<string> => userToken(secret, { alg: 'HS256' }, spec);

  beforeAll(async () => {
    stack = await startTestStack('identity-hs256', {
      workers: 1,
      gatewayEnv: {
        AUTH_MODE: 'jwt',
        USER_JWT_SECRET: USER_SECRET,
        USER_JWT_ISSUER: ISSUER,
        USER_JWT_AUDIENCE: `other-app,${AUDIENCE}`,
        CHAT_API_KEYS: `unused-key-0123456789abcdef,${API_KEY}`,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('a good user token opens a session for its sub, with its plan, usable on every gateway', async () => {
    const [A, B] = [stack.gateways[0]!.url, stack.gateways[1]!.url];
    const sub = unique('alice');
    const session = await mustCreate(A, await hs({ sub, plan: 'pro' }), { systemPrompt: 'Be brief.' });
    // The session token carries the identity the gateway established.
    expect(decodeJwt(session.token)).toMatchObject({ sub: session.sessionId, uid: sub, plan: 'pro', via: 'jwt' });
    // The worker reads the owner and the plan from the session.
    expect(await storedMeta(stack, session.sessionId)).toMatchObject({ userId: sub, plan: 'pro' });
    expect((await http(B, 'GET', `/chat/session/${session.sessionId}`, { token: session.token })).status).toBe(200);
    const message = await http<{ reply: string }>(B, 'POST', '/chat/message', { token: session.token, body: { sessionId: session.sessionId, content: 'hello' } });
    expect([message.status, message.json.reply.length > 0]).toEqual([200, true]);

    // Naming oneself in the body is fine; a token without a plan claim stores none.
    const same = await mustCreate(B, await hs({ sub }), { userId: sub });
    expect(decodeJwt(same.token)).toMatchObject({ uid: sub, via: 'jwt' });
    expect(decodeJwt(same.token).plan).toBeUndefined();
    expect((await storedMeta(stack, same.sessionId)).plan).toBeUndefined();
  });

  it('no token, a malformed one, or another user in the body is refused', async () => {
    const A = stack.gateways[0]!.url;
    expect(refusal(await createSession(A, undefined, { userId: 'mallory' }))).toEqual([401, 'unauthorized']);
    expect(refusal(await createSession(A, 'not-a-jwt'))).toEqual([401, 'unauthorized']);
    expect(refusal(await createSession(A, undefined, {}, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }))).toEqual([401, 'unauthorized']);
    expect(refusal(await createSession(A, await hs({ sub: 'alice' }), { userId: 'bob' }))).toEqual([403, 'forbidden']);
    // The plan comes from the login, never from the user's own request.
    expect(refusal(await createSession(A, await hs({ sub: 'alice' }), { plan: 'enterprise' }))).toEqual([403, 'forbidden']);
    // A credential is checked before the body: a bad body without one is still 401.
    expect(refusal(await http<Session & { error?: { code: string; message: string } }>(A, 'POST', '/chat/session', { body: '{nope' }))).toEqual([401, 'unauthorized']);
  });

  it('expired and not-yet-valid tokens are refused beyond the 30 s clock tolerance, accepted within it', async () => {
    const A = stack.gateways[0]!.url;
    const expired = await createSession(A, await hs({ exp: now() - 120 }));
    expect(refusal(expired)).toEqual([401, 'unauthorized']);
    expect(expired.json.error?.message).toMatch(/expired/);
    const early = await createSession(A, await hs({ nbf: now() + 120 }));
    expect(refusal(early)).toEqual([401, 'unauthorized']);
    expect(early.json.error?.message).toMatch(/not valid yet/);
    expect((await createSession(A, await hs({ exp: now() - 5 }))).status).toBe(201);
    expect((await createSession(A, await hs({ nbf: now() + 10 }))).status).toBe(201);
  });

  it('refuses a wrong issuer or audience, no expiry, alg none and another secret', async () => {
    const A = stack.gateways[0]!.url;
    const wrongIssuer = await createSession(A, await hs({ iss: 'https://evil.example.test/' }));
    expect([...refusal(wrongIssuer), wrongIssuer.json.error?.message]).toEqual([401, 'unauthorized', expect.stringMatching(/issuer/)]);
    const wrongAudience = await createSession(A, await hs({ aud: 'some-other-api' }));
    expect([...refusal(wrongAudience), wrongAudience.json.error?.message]).toEqual([401, 'unauthorized', expect.stringMatching(/audience/)]);
    expect(refusal(await createSession(A, await hs({ exp: null })))).toEqual([401, 'unauthorized']);
    expect(refusal(await createSession(A, unsignedToken({ sub: 'alice' })))).toEqual([401, 'unauthorized']);
    const other = await userToken(new TextEncoder().encode('another-secret-of-another-login-0123456789'), { alg: 'HS256' });
    expect(refusal(await createSession(A, other))).toEqual([401, 'unauthorized']);
  });

  it('an API key creates a session for the userId it names, with an optional plan; a wrong key is refused', async () => {
    const A = stack.gateways[0]!.url;
    const userId = unique('carol');
    const session = await mustCreate(A, API_KEY, { userId, plan: 'team' });
    expect(decodeJwt(session.token)).toMatchObject({ uid: userId, plan: 'team', via: 'api_key' });
    expect(await storedMeta(stack, session.sessionId)).toMatchObject({ userId, plan: 'team' });
    expect(refusal(await createSession(A, API_KEY, {}))).toEqual([400, 'bad_request']);
    expect(refusal(await createSession(A, `${API_KEY}x`, { userId }))).toEqual([401, 'unauthorized']);
    expect(refusal(await createSession(A, API_KEY, { userId, plan: 'no spaces allowed' }))).toEqual([400, 'bad_request']);
  });

  it('admin routes take ADMIN_API_KEY or an admin user token in a header, nothing else', async () => {
    const A = stack.gateways[0]!.url;
    const whoami = (headers: Record<string, string>): Promise<HttpAnswer<{ who?: string; error?: { code: string } }>> => http(A, 'GET', '/admin/whoami', { headers });
    const bearer = (credential: string): Record<string, string> => ({ authorization: `Bearer ${credential}` });

    const byKey = await whoami(bearer(stack.adminApiKey));
    expect([byKey.status, byKey.json.who, byKey.headers.get('cache-control')]).toEqual([200, 'admin-key', 'no-store']);
    expect([(await whoami({})).status, (await whoami({})).json.error?.code]).toEqual([401, 'unauthorized']);
    expect((await whoami(bearer(`${stack.adminApiKey}x`))).status).toBe(401);
    // Never a cookie: a browser would send one along with any page's request.
    expect((await whoami({ cookie: `admin=${stack.adminApiKey}; ADMIN_API_KEY=${stack.adminApiKey}` })).status).toBe(401);
    const user = await whoami(bearer(await hs({ sub: 'dave', roles: ['support'] })));
    expect([user.status, user.json.error?.code]).toEqual([403, 'forbidden']);
    expect((await whoami(bearer(API_KEY))).status).toBe(403);
    const admin = await whoami(bearer(await hs({ sub: 'erin', roles: ['support', 'admin'] })));
    expect([admin.status, admin.json.who]).toEqual([200, 'user:erin']);
    // An expired admin token is no credential at all.
    expect((await whoami(bearer(await hs({ sub: 'erin', roles: ['admin'], exp: now() - 120 })))).status).toBe(401);
  });
});

/** A product login's JWKS endpoint whose keys the test can change. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  private readonly server: Server = createServer((req, res) => {
    this.fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: this.keys }));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface SigningKey {
  alg: 'RS256' | 'ES256' | 'EdDSA';
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(alg: SigningKey['alg'], kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const signedBy = (key: SigningKey, spec: TokenSpec = {}): Promise<string> => userToken(key.privateKey, { alg: key.alg, kid: key.kid }, spec);

describe('AUTH_MODE=jwt with a JWKS (RS256, ES256, EdDSA)', () => {
  let stack: TestStack;
  const jwks = new JwksServer();
  let rsa: SigningKey;
  let ec: SigningKey;
  let ed: SigningKey;

  beforeAll(async () => {
    [rsa, ec, ed] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('ES256', 'ec-1'), signingKey('EdDSA', 'ed-1')]);
    jwks.keys = [rsa.jwk, ec.jwk, ed.jwk];
    const url = await jwks.start();
    stack = await startTestStack('identity-jwks', {
      workers: 0,
      useSimulator: false,
      gatewayEnv: { AUTH_MODE: 'jwt', USER_JWKS_URL: url, USER_JWT_ISSUER: ISSUER, USER_JWT_AUDIENCE: AUDIENCE, USER_JWKS_COOLDOWN_SECONDS: '1' },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await jwks.stop().catch(() => undefined);
  });

  it('accepts RS256, ES256 and EdDSA tokens from the login\'s keys; the userId is the sub', async () => {
    for (const key of [rsa, ec, ed]) {
      for (const g of stack.gateways) {
        const sub = unique(`user-${key.alg}`);
        const session = await mustCreate(g.url, await signedBy(key, { sub, plan: 'free' }));
        expect([key.alg, decodeJwt(session.token)]).toEqual([key.alg, expect.objectContaining({ uid: sub, plan: 'free', via: 'jwt' })]);
      }
    }
  });

  it('refuses alg none, an HS256 token keyed with the public key, and keys the login does not publish', async () => {
    const A = stack.gateways[0]!.url;
    const none = await createSession(A, unsignedToken({ sub: 'alice' }));
    expect([...refusal(none), none.json.error?.message]).toEqual([401, 'unauthorized', expect.stringMatching(/algorithm is not accepted/)]);
    // The classic confusion: the RSA public key (PEM, which anyone can fetch) used as an HMAC secret.
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const confused = await createSession(A, await userToken(pem, { alg: 'HS256', kid: rsa.kid }, { sub: 'alice' }));
    expect([...refusal(confused), confused.json.error?.message]).toEqual([401, 'unauthorized', expect.stringMatching(/algorithm is not accepted/)]);
    // Another issuer's keys: under its own kid (fetched again, still unknown) or under ours.
    const foreign = await signingKey('RS256', 'someone-elses-1');
    expect(refusal(await createSession(A, await signedBy(foreign, { sub: 'alice' })))).toEqual([401, 'unauthorized']);
    expect(refusal(await createSession(A, await userToken(foreign.privateKey, { alg: 'RS256', kid: rsa.kid }, { sub: 'alice' })))).toEqual([401, 'unauthorized']);
    expect(refusal(await createSession(A, await signedBy(rsa, { iss: 'https://evil.example.test/' })))).toEqual([401, 'unauthorized']);
    expect(refusal(await createSession(A, await signedBy(ec, { exp: now() - 120 })))).toEqual([401, 'unauthorized']);
  });

  it('follows a key rotation without a restart: the new key works, the removed one stops, made-up kids do not flood the login', async () => {
    const next = await signingKey('RS256', 'rsa-2');
    const oldToken = await signedBy(rsa, { sub: 'rotated' });
    expect((await createSession(stack.gateways[0]!.url, oldToken)).status).toBe(201);
    jwks.keys = [next.jwk, ec.jwk, ed.jwk];
    // Past the cooldown of the last fetch, an unknown kid makes each gateway fetch the set again.
    await new Promise((r) => setTimeout(r, 1100));
    for (const g of stack.gateways) {
      expect([g.instance, (await createSession(g.url, await signedBy(next, { sub: 'rotated' }))).status]).toEqual([g.instance, 201]);
      expect([g.instance, refusal(await createSession(g.url, oldToken))]).toEqual([g.instance, [401, 'unauthorized']]);
    }
    const before = jwks.fetches;
    const madeUp = await Promise.all(
      Array.from({ length: 20 }, (_, i) => userToken(next.privateKey, { alg: 'RS256', kid: `made-up-${i}` }).then((t) => createSession(stack.gateways[0]!.url, t))),
    );
    expect(madeUp.map((r) => r.status)).toEqual(Array(20).fill(401));
    // At most one fetch per cooldown (the first made-up kid may just have passed it).
    expect(jwks.fetches - before).toBeLessThanOrEqual(1);
  });

  it('while the login is unreachable, cached keys keep working and an unknown kid is `unavailable`, not `unauthorized`', async () => {
    await jwks.stop();
    await new Promise((r) => setTimeout(r, 1100));
    const A = stack.gateways[0]!.url;
    expect((await createSession(A, await signedBy(ec))).status).toBe(201);
    const unknown = await signingKey('ES256', 'ec-2');
    const r = await createSession(A, await signedBy(unknown));
    expect([...refusal(r), r.headers.get('retry-after')]).toEqual([503, 'unavailable', '5']);
  });
});

describe('AUTH_MODE=anonymous (the default)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack('identity-anonymous', {
      gateways: 1,
      workers: 0,
      useSimulator: false,
      gatewayEnv: { CHAT_API_KEYS: API_KEY, ADMIN_RATE_LIMIT_PER_MIN: '3', USER_JWT_SECRET: USER_SECRET },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('takes the body\'s userId as a label, as before; API keys work; user tokens and self-chosen plans do not', async () => {
    const A = stack.gateways[0]!.url;
    const label = await mustCreate(A, undefined, { userId: 'just-a-label' });
    expect(decodeJwt(label.token)).toMatchObject({ uid: 'just-a-label', via: 'anonymous' });
    const nobody = await mustCreate(A, undefined, {});
    expect(decodeJwt(nobody.token)).toMatchObject({ via: 'anonymous' });
    expect(decodeJwt(nobody.token).uid).toBeUndefined();
    expect(refusal(await createSession(A, undefined, { userId: 'x', plan: 'enterprise' }))).toEqual([403, 'forbidden']);

    const backend = await mustCreate(A, API_KEY, { userId: 'frank', plan: 'pro' });
    expect(decodeJwt(backend.token)).toMatchObject({ uid: 'frank', plan: 'pro', via: 'api_key' });
    expect(await storedMeta(stack, backend.sessionId)).toMatchObject({ userId: 'frank', plan: 'pro' });
    expect(refusal(await createSession(A, 'wrong-key-0123456789abcdef', { userId: 'frank' }))).toEqual([401, 'unauthorized']);
    // USER_JWT_SECRET is set here, but anonymous mode verifies no user tokens.
    const token = await userToken(new TextEncoder().encode(USER_SECRET), { alg: 'HS256' }, { sub: 'grace' });
    expect(refusal(await createSession(A, token))).toEqual([401, 'unauthorized']);
  });

  it('rate-limits admin requests per address, good credential or not', async () => {
    const A = stack.gateways[0]!.url;
    const statuses: number[] = [];
    let last: HttpAnswer | undefined;
    for (const credential of [stack.adminApiKey, 'guess-0123456789abcdef', stack.adminApiKey, stack.adminApiKey]) {
      last = await http(A, 'GET', '/admin/whoami', { token: credential });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 401, 200, 429]);
    expect((last?.json as { error: { code: string } }).error.code).toBe('rate_limited');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
