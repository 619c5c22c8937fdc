import { describe, expect, it } from '@jest/globals';
import { redisKeys, sanitizeText } from '../src/index.js';

describe('redisKeys', () => {
  it('puts every key of a session in one cluster slot and namespaces by prefix', () => {
    const k = redisKeys('t1');
    const tag = (key: string): string | undefined => /\{([^}]+)\}/.exec(key)?.[1];
    for (const key of [k.sessionMeta('abc'), k.sessionHistory('abc'), k.sessionInflight('abc'), k.sessionChannel('abc')]) {
      expect(key.startsWith('t1:')).toBe(true);
      expect(tag(key)).toBe('abc');
    }
    expect(tag(k.replyFrames('abc', 'm1'))).toBe('abc');
    expect(tag(k.replyMeta('abc', 'm1'))).toBe('abc');
    expect(k.replyMeta('abc', 'm1')).not.toBe(k.replyMeta('abc', 'm2'));
    expect(new Set([k.sessionMeta('a'), k.sessionHistory('a'), k.sessionInflight('a'), k.sessionChannel('a')]).size).toBe(4);
    expect(redisKeys().prefix).toBe('chat');
  });

  it('keeps the keys read or written together in one slot: a user\'s, the fleet\'s, the series\', the admin\'s', () => {
    const k = redisKeys('t1');
    const tag = (key: string): string | undefined => /\{([^}]+)\}/.exec(key)?.[1];
    expect(tag(k.userSessions('alice'))).toBe('alice');
    expect(tag(k.userSessions('alice'))).toBe(tag(k.userUsage('alice', '20260101')));
    expect([k.fleetHeartbeats, k.fleetSeen].map(tag)).toEqual(['fleet', 'fleet']);
    expect([k.replySeries(0), k.replySeries(10_000)].map(tag)).toEqual(['series', 'series']);
    expect([k.blockedUsers, k.blockedUsersVersion, k.adminAudit].map(tag)).toEqual(['admin', 'admin', 'admin']);
    for (const key of [k.fleetHeartbeats, k.replySeries(0), k.blockedUsers, k.adminAudit, k.userSessions('a')]) expect(key.startsWith('t1:')).toBe(true);
  });

  it('maps session channels back to their session and matches them with one pattern', () => {
    const k = redisKeys('t1');
    expect(k.sessionOfChannel(k.sessionChannel('abc-1'))).toBe('abc-1');
    expect(k.sessionOfChannel('t1:cancel')).toBeUndefined();
    expect(k.sessionOfChannel('t2:s:{abc}:events')).toBeUndefined();
    expect(k.sessionOfChannel('t1:s:{}:events')).toBeUndefined();
    expect(k.sessionChannelPattern).toBe('t1:s:{*}:events');
    expect(redisKeys('a*b').sessionChannelPattern).toBe('a\\*b:s:{*}:events');
  });
});

describe('sanitizeText', () => {
  it('strips control and invisible characters but keeps newlines and tabs', () => {
    expect(sanitizeText('a\u0000b\u0007c\td\ne')).toBe('abc\td\ne');
    expect(sanitizeText('x\u202Ey\u200Bz')).toBe('xyz');
    expect(sanitizeText('line1\r\nline2\rline3')).toBe('line1\nline2\nline3');
  });

  it('normalizes to NFC', () => {
    expect(sanitizeText('e\u0301')).toBe('\u00e9');
  });
});
