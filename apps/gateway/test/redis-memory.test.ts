import { describe, expect, it } from '@jest/globals';
import { ChatError } from '@chat-fleet/shared';
import { RedisMemoryWatch, parseMemoryInfo } from '../src/limits/redis-memory.js';

const info = (used: number, max: number): string => `# Memory\r\nused_memory:${used}\r\nused_memory_human:1M\r\nmaxmemory:${max}\r\nmaxmemory_policy:noeviction\r\n`;

describe('Redis memory high-water mark', () => {
  it('reads used_memory and maxmemory, and refuses at or past the mark', () => {
    expect(parseMemoryInfo(info(800, 1000), 0.9)).toEqual({ usedBytes: 800, maxBytes: 1000, ratio: 0.8, refusing: false });
    expect(parseMemoryInfo(info(900, 1000), 0.9)).toMatchObject({ ratio: 0.9, refusing: true });
  });

  it('never refuses without a maxmemory, or with the mark at 0', () => {
    expect(parseMemoryInfo(info(10 ** 12, 0), 0.9)).toEqual({ usedBytes: 10 ** 12, maxBytes: 0, ratio: null, refusing: false });
    expect(parseMemoryInfo(info(1000, 1000), 0).refusing).toBe(false);
  });

  it('throws unavailable with a retry hint while refusing, and keeps its reading when Redis does not answer', async () => {
    let answer: () => Promise<string> = () => Promise.resolve(info(950, 1000));
    const watch = new RedisMemoryWatch(() => answer(), 0.9);
    expect(() => watch.assertRoom('messages')).not.toThrow();
    await watch.poll();
    let caught: unknown;
    try {
      watch.assertRoom('messages');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ChatError);
    expect(caught).toMatchObject({ code: 'unavailable', status: 503 });
    expect((caught as ChatError).retryAfterMs).toBeGreaterThan(0);
    answer = () => Promise.reject(new Error('down'));
    await watch.poll();
    expect(watch.reading?.refusing).toBe(true);
    answer = () => Promise.resolve(info(100, 1000));
    await watch.poll();
    expect(() => watch.assertRoom('messages')).not.toThrow();
  });
});
