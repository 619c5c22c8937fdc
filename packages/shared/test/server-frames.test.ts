import { describe, expect, it } from '@jest/globals';
import { ServerFrameSchema, ReplyFrameSchema, ERROR_STATUS, ChatError, toChatError } from '../src/index.js';

describe('server frames', () => {
  it('accepts every frame of the contract', () => {
    const frames = [
      { type: 'ready', sessionId: 's', clientId: 'c', instance: 'gw' },
      { type: 'ack', id: 'c1', messageId: 'm' },
      { type: 'token', messageId: 'm', seq: 1, text: 'Hi' },
      { type: 'done', messageId: 'm', seq: 3, cached: false, usage: { promptTokens: 4, completionTokens: 3 }, finishReason: 'stop' },
      { type: 'reset', messageId: 'm', attempt: 2 },
      { type: 'error', code: 'rate_limited', message: 'slow down', retryAfterMs: 1000 },
      { type: 'pong' },
    ];
    for (const f of frames) expect(ServerFrameSchema.parse(f)).toEqual(f);
  });

  it('refuses a token frame with seq 0 and an unknown finish reason', () => {
    expect(ServerFrameSchema.safeParse({ type: 'token', messageId: 'm', seq: 0, text: '' }).success).toBe(false);
    expect(
      ServerFrameSchema.safeParse({ type: 'done', messageId: 'm', seq: 1, cached: false, usage: { promptTokens: 1, completionTokens: 1 }, finishReason: 'eof' }).success,
    ).toBe(false);
  });

  it('requires a messageId on reply errors', () => {
    expect(ReplyFrameSchema.safeParse({ type: 'error', code: 'internal', message: 'x' }).success).toBe(false);
    expect(ReplyFrameSchema.safeParse({ type: 'error', code: 'internal', message: 'x', messageId: 'm' }).success).toBe(true);
  });
});

describe('errors', () => {
  it('maps codes to the contract statuses', () => {
    expect(ERROR_STATUS).toMatchObject({ bad_request: 400, unauthorized: 401, not_found: 404, busy: 409, too_large: 413, rate_limited: 429, unavailable: 503 });
    expect(new ChatError('busy', 'x').status).toBe(409);
  });

  it('hides internals of unknown errors', () => {
    const e = toChatError(new Error('ECONNRESET at 10.0.0.3'));
    expect(e.code).toBe('internal');
    expect(e.message).not.toMatch(/10\.0\.0\.3/);
  });
});
