import { describe, expect, it } from '@jest/globals';
import { CLOSE_CODES, ClientFrameSchema, ERROR_CODES, ERROR_STATUS, ServerFrameSchema, shouldReconnect } from '../src/index.js';

describe('the wire protocol', () => {
  it('parses every server frame by its type and refuses a token without seq', () => {
    const token = { type: 'token', messageId: 'm1', seq: 1, text: 'hi' };
    expect(ServerFrameSchema.parse(token)).toEqual(token);
    expect(ServerFrameSchema.safeParse({ type: 'token', messageId: 'm1', text: 'hi' }).success).toBe(false);
    expect(ServerFrameSchema.safeParse({ type: 'error', code: 'quota_exceeded', message: 'spent', retryAfterMs: 10 }).success).toBe(true);
    expect(ServerFrameSchema.safeParse({ type: 'error', code: 'no_such_code', message: 'x' }).success).toBe(false);
  });

  it('keeps client ids URL-safe', () => {
    expect(ClientFrameSchema.safeParse({ type: 'resume', messageId: 'a/b', afterSeq: 0 }).success).toBe(false);
    expect(ClientFrameSchema.safeParse({ type: 'resume', messageId: 'ab-1', afterSeq: 0 }).success).toBe(true);
  });

  it('gives every error code an HTTP status', () => {
    for (const code of ERROR_CODES) expect(ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
  });

  it('reconnects after 4000-4099 and transport drops, never after 4100-4199', () => {
    expect(shouldReconnect(CLOSE_CODES.GOING_AWAY_RECONNECT)).toBe(true);
    expect(shouldReconnect(1006)).toBe(true);
    for (const code of [CLOSE_CODES.SESSION_ENDED, CLOSE_CODES.UNAUTHORIZED, CLOSE_CODES.PROTOCOL_ERROR, CLOSE_CODES.TOO_MANY_FRAMES, 1000]) {
      expect(shouldReconnect(code)).toBe(false);
    }
  });
});
