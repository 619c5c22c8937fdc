import { describe, expect, it } from '@jest/globals';
import { FrameBucket } from '../src/limits/frame-bucket.js';

/** Sends `n` frames `gapMs` apart from `start`; the verdicts and the time after. */
function send(bucket: FrameBucket, n: number, start: number, gapMs: number) {
  const verdicts = Array.from({ length: n }, (_, i) => bucket.take(start + i * gapMs));
  return { verdicts, end: start + n * gapMs };
}

describe('FrameBucket', () => {
  it('lets a burst through at once, then the rate, and says when the next frame fits', () => {
    const bucket = new FrameBucket(10, 5, 0);
    const { verdicts } = send(bucket, 6, 0, 0);
    expect(verdicts.slice(0, 5).every((v) => v.ok)).toBe(true);
    expect(verdicts[5]).toEqual({ ok: false, retryAfterMs: 100, close: false });
    expect(bucket.take(100).ok).toBe(true);
  });

  it('never refuses a client at its rate, for a long time', () => {
    const bucket = new FrameBucket(10, 5, 0);
    expect(send(bucket, 10_000, 0, 100).verdicts.every((v) => v.ok)).toBe(true);
  });

  it('refuses but never closes a client a little over its rate (1.4x)', () => {
    const bucket = new FrameBucket(10, 5, 0);
    const { verdicts } = send(bucket, 14 * 60, 0, 1000 / 14);
    expect(verdicts.some((v) => !v.ok)).toBe(true);
    expect(verdicts.some((v) => !v.ok && v.close)).toBe(false);
  });

  it('closes a client that keeps sending twice its rate, after some seconds', () => {
    const bucket = new FrameBucket(10, 5, 0);
    const { verdicts } = send(bucket, 20 * 20, 0, 50);
    const closeAt = verdicts.findIndex((v) => !v.ok && v.close);
    expect(closeAt).toBeGreaterThan(20 * 4);
    expect(closeAt).toBeLessThan(20 * 10);
  });

  it('closes a flood at once: the burst, then three seconds of frames refused', () => {
    const bucket = new FrameBucket(10, 5, 0);
    const { verdicts } = send(bucket, 100, 0, 0);
    expect(verdicts.findIndex((v) => !v.ok && v.close)).toBe(5 + 30);
  });
});
