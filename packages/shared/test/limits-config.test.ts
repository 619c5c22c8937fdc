import { describe, expect, it } from '@jest/globals';
import { CLOSE_CODES, ConfigError, loadGatewayConfig, shouldReconnect } from '../src/index.js';

describe('abuse limits in the gateway config', () => {
  it('has sane defaults', () => {
    expect(loadGatewayConfig({})).toMatchObject({
      RATE_LIMIT_SESSIONS_PER_MIN: 30,
      MAX_SOCKETS_PER_SESSION: 8,
      MAX_SOCKETS_PER_ADDRESS: 200,
      WS_SOCKET_LEASE_MS: 30_000,
      WS_FRAMES_PER_SEC: 20,
      WS_FRAME_BURST: 40,
      MAX_SYSTEM_PROMPT_CHARS: 4000,
      MAX_METADATA_BYTES: 4096,
      REDIS_MEMORY_HIGH_WATER: 0.9,
    });
  });

  it.each([
    [{ REDIS_MEMORY_HIGH_WATER: '1.5' }, /REDIS_MEMORY_HIGH_WATER/],
    [{ WS_FRAMES_PER_SEC: '-1' }, /WS_FRAMES_PER_SEC/],
    [{ MAX_SOCKETS_PER_SESSION: 'many' }, /MAX_SOCKETS_PER_SESSION/],
    [{ WS_SOCKET_LEASE_MS: '10' }, /WS_SOCKET_LEASE_MS/],
  ])('names a bad value: %p', (env, message) => {
    expect(() => loadGatewayConfig(env)).toThrow(ConfigError);
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });

  it('closes a flooding socket with a terminal code', () => {
    expect(CLOSE_CODES.TOO_MANY_FRAMES).toBe(4103);
    expect(shouldReconnect(CLOSE_CODES.TOO_MANY_FRAMES)).toBe(false);
  });
});
