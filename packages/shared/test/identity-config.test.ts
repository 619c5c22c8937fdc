import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadGatewayConfig } from '../src/index.js';

const SECRET = 'a-user-jwt-secret-that-is-long-enough-0123';

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadGatewayConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('identity config', () => {
  it('defaults to anonymous mode with no keys, the contract names and sensible JWKS caching', () => {
    const g = loadGatewayConfig({});
    expect(g.AUTH_MODE).toBe('anonymous');
    expect(g.USER_JWT_SECRET).toBeUndefined();
    expect(g.USER_JWKS_URL).toBeUndefined();
    expect(g.USER_JWT_ISSUER).toBeUndefined();
    expect(g.USER_JWT_AUDIENCE).toBeUndefined();
    expect(g.USER_JWT_CLOCK_TOLERANCE_SECONDS).toBe(30);
    expect(g.USER_JWT_PLAN_CLAIM).toBe('plan');
    expect(g.USER_JWT_ROLES_CLAIM).toBe('roles');
    expect(g.USER_JWT_ADMIN_ROLE).toBe('admin');
    expect(g.USER_JWKS_COOLDOWN_SECONDS).toBe(30);
    expect(g.USER_JWKS_CACHE_SECONDS).toBe(600);
    expect(g.CHAT_API_KEYS).toEqual([]);
    expect(g.ADMIN_API_KEY).toBeUndefined();
    expect(g.ADMIN_RATE_LIMIT_PER_MIN).toBe(120);
  });

  it('parses jwt mode with a secret or a JWKS, audiences, claims and keys', () => {
    const hs = loadGatewayConfig({ AUTH_MODE: 'JWT', USER_JWT_SECRET: SECRET, USER_JWT_ISSUER: 'https://login.example.com/', USER_JWT_AUDIENCE: 'chat, chat-api' });
    expect(hs.AUTH_MODE).toBe('jwt');
    expect(hs.USER_JWT_SECRET).toBe(SECRET);
    expect(hs.USER_JWT_ISSUER).toBe('https://login.example.com/');
    expect(hs.USER_JWT_AUDIENCE).toEqual(['chat', 'chat-api']);
    const jwks = loadGatewayConfig({
      AUTH_MODE: 'jwt',
      USER_JWKS_URL: 'https://login.example.com/.well-known/jwks.json',
      USER_JWT_CLOCK_TOLERANCE_SECONDS: '0',
      USER_JWT_ROLES_CLAIM: 'realm_access.roles',
      USER_JWT_PLAN_CLAIM: 'https://example.com/plan',
      CHAT_API_KEYS: ' key-one-0123456789abcdef , key-two-0123456789abcdef ',
      ADMIN_API_KEY: 'admin-key-0123456789abcdef',
      ADMIN_RATE_LIMIT_PER_MIN: '0',
    });
    expect(jwks.USER_JWKS_URL).toBe('https://login.example.com/.well-known/jwks.json');
    expect(jwks.USER_JWT_CLOCK_TOLERANCE_SECONDS).toBe(0);
    expect(jwks.USER_JWT_ROLES_CLAIM).toBe('realm_access.roles');
    expect(jwks.USER_JWT_PLAN_CLAIM).toBe('https://example.com/plan');
    expect(jwks.CHAT_API_KEYS).toEqual(['key-one-0123456789abcdef', 'key-two-0123456789abcdef']);
    expect(jwks.ADMIN_API_KEY).toBe('admin-key-0123456789abcdef');
    expect(jwks.ADMIN_RATE_LIMIT_PER_MIN).toBe(0);
  });

  it.each([
    [{ AUTH_MODE: 'oauth' }, /^invalid environment variable AUTH_MODE: expected one of anonymous, jwt, got "oauth"$/],
    [{ AUTH_MODE: 'jwt' }, /^invalid environment variable AUTH_MODE: jwt needs USER_JWT_SECRET or USER_JWKS_URL/],
    [{ AUTH_MODE: 'jwt', USER_JWT_SECRET: SECRET, USER_JWKS_URL: 'https://login.example.com/jwks' }, /^invalid environment variable USER_JWKS_URL: set USER_JWT_SECRET or USER_JWKS_URL, not both$/],
    [{ USER_JWT_SECRET: 'short' }, /^invalid environment variable USER_JWT_SECRET: must be at least 32 characters/],
    [{ USER_JWKS_URL: 'not a url' }, /^invalid environment variable USER_JWKS_URL: expected a URL/],
    [{ USER_JWKS_URL: 'ftp://login.example.com/jwks' }, /^invalid environment variable USER_JWKS_URL: expected an http/],
    [{ USER_JWT_CLOCK_TOLERANCE_SECONDS: '-1' }, /^invalid environment variable USER_JWT_CLOCK_TOLERANCE_SECONDS: expected an integer from 0 to 3600/],
    [{ USER_JWKS_COOLDOWN_SECONDS: 'soon' }, /^invalid environment variable USER_JWKS_COOLDOWN_SECONDS/],
    [{ USER_JWT_ROLES_CLAIM: 'my roles' }, /^invalid environment variable USER_JWT_ROLES_CLAIM: expected a claim name without spaces/],
    [{ CHAT_API_KEYS: 'good-key-0123456789abcdef,short' }, /^invalid environment variable CHAT_API_KEYS: key 2 must be at least 16 characters without spaces \(value not shown\)$/],
    [{ ADMIN_API_KEY: '<openssl rand -base64 32>' }, /^invalid environment variable ADMIN_API_KEY: must be at least 16 characters without spaces \(value not shown\)$/],
    [{ ADMIN_RATE_LIMIT_PER_MIN: 'many' }, /^invalid environment variable ADMIN_RATE_LIMIT_PER_MIN/],
  ])('names the bad variable in one line: %p', (env, message) => {
    const err = refusal(env);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });

  it('never repeats a key in its error', () => {
    const key = 'short key';
    expect(refusal({ ADMIN_API_KEY: key }).message).not.toContain(key);
    expect(refusal({ CHAT_API_KEYS: `fine-key-0123456789abcdef,${key}` }).message).not.toContain(key);
    expect(refusal({ USER_JWT_SECRET: 'too-short-secret' }).message).not.toContain('too-short-secret');
  });
});
