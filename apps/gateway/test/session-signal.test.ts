import { describe, expect, it } from '@jest/globals';
import { decodeEnvelope, encodeEnvelope } from '@chat-fleet/shared';
import { decodeSessionSignal, encodeSessionSignal, isSessionSignal } from '../src/relay/session-signal.js';

describe('session signals', () => {
  it('round-trip and are never taken for a frame envelope, nor an envelope for a signal', () => {
    for (const reason of ['deleted', 'expired'] as const) {
      const message = encodeSessionSignal({ type: 'ended', reason });
      expect(message).toBe(`!ended ${reason}`);
      expect(decodeSessionSignal(message)).toEqual({ type: 'ended', reason });
      expect(decodeEnvelope(message)).toBeUndefined();
    }
    const envelope = encodeEnvelope({ attempt: 1, seq: 3 }, '{"type":"token","text":"!ended deleted"}');
    expect(isSessionSignal(envelope)).toBe(false);
    expect(decodeSessionSignal(envelope)).toBeUndefined();
  });

  it('leaves signals of a newer version undecoded but recognisable', () => {
    expect(isSessionSignal('!renamed x')).toBe(true);
    expect(decodeSessionSignal('!renamed x')).toBeUndefined();
    expect(decodeSessionSignal('!ended someday')).toBeUndefined();
  });
});
