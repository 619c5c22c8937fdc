import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import type { ChatError } from '@chat-fleet/shared';
import { TokenService } from '../src/auth/token-service.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

async function refusal(p: Promise<unknown>): Promise<ChatError> {
  try {
    await p;
  } catch (err) {
    return err as ChatError;
  }
  throw new Error('expected a refusal');
}

describe('TokenService', () => {
  const tokens = new TokenService(SECRET, 3600);

  it('issues a token that opens its own session only', async () => {
    const { token, expiresAt } = await tokens.issue('s1');
    // The socket that opens with it is closed at this moment.
    await expect(tokens.verify(token, 's1')).resolves.toEqual({
      expiresAtMs: new Date(expiresAt).getTime(),
      claims: { sessionId: 's1', userId: undefined, plan: undefined, via: undefined },
    });
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now() + 3500_000);
    const foreign = await refusal(tokens.verify(token, 's2'));
    expect(foreign.code).toBe('unauthorized');
    expect(foreign.message).toMatch(/does not open this session/);
  });

  it('refuses missing, tampered, wrongly signed and expired tokens', async () => {
    const { token } = await tokens.issue('s1');
    expect((await refusal(tokens.verify(undefined, 's1'))).code).toBe('unauthorized');
    expect((await refusal(tokens.verify('', 's1'))).code).toBe('unauthorized');

    const [h, p, sig] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 's2' })).toString('base64url')}.${sig}`;
    expect((await refusal(tokens.verify(forged, 's2'))).message).toMatch(/invalid/);

    const other = new TokenService('another-secret-that-is-long-enough-987654321', 3600);
    expect((await refusal(other.verify(token, 's1'))).message).toMatch(/invalid/);

    const expired = await new TokenService(SECRET, 60).issue('s1', {}, Date.now() - 3600_000);
    expect((await refusal(tokens.verify(expired.token, 's1'))).message).toMatch(/expired/);
  });

  it('carries the session owner the gateway established as claims', async () => {
    const { token } = await tokens.issue('s1', { userId: 'alice', plan: 'pro', via: 'jwt' });
    const { claims } = await tokens.verify(token, 's1');
    expect(claims).toEqual({ sessionId: 's1', userId: 'alice', plan: 'pro', via: 'jwt' });
    const anonymous = await tokens.issue('s2', { userId: 'label', via: 'anonymous' });
    expect((await tokens.verify(anonymous.token, 's2')).claims).toEqual({ sessionId: 's2', userId: 'label', plan: undefined, via: 'anonymous' });
  });

  it('refuses a token signed with alg none or without the issuer', async () => {
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 's1', iss: 'chat-fleet' })).toString('base64url')}.`;
    expect((await refusal(tokens.verify(unsigned, 's1'))).code).toBe('unauthorized');
    const noIssuer = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('s1').setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
    expect((await refusal(tokens.verify(noIssuer, 's1'))).code).toBe('unauthorized');
  });
});
