import { describe, expect, it, jest } from '@jest/globals';
import { FrameClock, REPLIES_PER_WINDOW } from '../src/frame-batcher.js';

describe('FrameBatcher', () => {
  it('with a zero window emits every delta as its own frame', () => {
    const out: string[] = [];
    const b = new FrameClock(0).batcher((t) => out.push(t));
    for (const t of ['a', 'b', '', 'c']) b.push(t);
    expect(out).toEqual(['a', 'b', 'c']);
  });

  it('sends the first delta at once and joins the rest within the window, losing nothing', () => {
    jest.useFakeTimers();
    try {
      const out: string[] = [];
      const b = new FrameClock(10).batcher((t) => out.push(t));
      b.push('Hel');
      expect(out).toEqual(['Hel']);
      b.push('lo');
      b.push(', wor');
      expect(out).toEqual(['Hel']);
      jest.advanceTimersByTime(10);
      expect(out).toEqual(['Hel', 'lo, wor']);
      b.push('ld');
      b.flush();
      expect(out).toEqual(['Hel', 'lo, wor', 'ld']);
      expect(out.join('')).toBe('Hello, world');
      jest.advanceTimersByTime(100);
      expect(out).toHaveLength(3);
    } finally {
      jest.useRealTimers();
    }
  });

  it('sends deltas slower than the window at once, each in its own frame', () => {
    jest.useFakeTimers();
    try {
      let clock = 0;
      const out: Array<[number, string]> = [];
      const b = new FrameClock(10, () => clock).batcher((t) => out.push([clock, t]));
      // A 60 tokens/s model: a delta every 16.7 ms, never held back.
      for (const t of ['a', 'b', 'c', 'd']) {
        b.push(t);
        clock += 16.7;
        jest.advanceTimersByTime(16.7);
      }
      expect(out.map(([at]) => Math.round(at * 10) / 10)).toEqual([0, 16.7, 33.4, 50.1]);
      expect(out.map(([, t]) => t)).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('joins fast deltas into one frame per window, holding none longer than the window', () => {
    jest.useFakeTimers();
    try {
      let clock = 0;
      const out: Array<[number, string]> = [];
      const b = new FrameClock(10, () => clock).batcher((t) => out.push([clock, t]));
      // A 1000 tokens/s model for 40 ms.
      for (let i = 0; i < 40; i++) {
        b.push(String(i % 10));
        clock += 1;
        jest.advanceTimersByTime(1);
      }
      b.flush();
      expect(out.map(([, t]) => t).join('')).toBe('0123456789'.repeat(4));
      expect(out.length).toBeLessThanOrEqual(6);
      for (let i = 1; i < out.length - 1; i++) expect(out[i]![0] - out[i - 1]![0]).toBeGreaterThanOrEqual(10);
    } finally {
      jest.useRealTimers();
    }
  });

  it('discard drops pending text', () => {
    jest.useFakeTimers();
    try {
      const out: string[] = [];
      const b = new FrameClock(10).batcher((t) => out.push(t));
      b.push('a');
      b.push('b');
      b.discard();
      jest.advanceTimersByTime(50);
      expect(out).toEqual(['a']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('flushes the waiting frames of every reply on one clock tick, together', () => {
    jest.useFakeTimers();
    try {
      let clock = 0;
      const ticks: number[][] = [];
      const runs: Array<[number, string]> = [];
      const shared = new FrameClock(25, () => clock);
      const replies = [0, 1, 2].map((r) => shared.batcher((t) => runs.push([r, t])));
      // Each reply's first delta goes out at once; the next ones, a few ms later, wait.
      replies.forEach((b, r) => b.push(`${r}a`));
      clock += 5;
      replies.forEach((b, r) => b.push(`${r}b`));
      clock += 3;
      replies[1]!.push('1c');
      expect(runs).toEqual([[0, '0a'], [1, '1a'], [2, '2a']]);
      // One timer for all three: at its tick the three waiting frames go out in one synchronous run.
      expect(jest.getTimerCount()).toBe(1);
      const before = runs.length;
      clock += 17;
      jest.advanceTimersByTime(25);
      ticks.push(runs.slice(before).map(([r]) => r));
      expect(ticks).toEqual([[0, 1, 2]]);
      expect(runs.slice(before)).toEqual([[0, '0b'], [1, '1b1c'], [2, '2b']]);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('widens the window with the replies streaming beyond REPLIES_PER_WINDOW, up to the most, and narrows it again', () => {
    const clock = new FrameClock(25, () => 0, 100);
    const open = Array.from({ length: REPLIES_PER_WINDOW }, () => clock.batcher(() => undefined));
    expect(clock.windowMs).toBe(25);
    const more = Array.from({ length: REPLIES_PER_WINDOW }, () => clock.batcher(() => undefined));
    expect(clock.replies).toBe(2 * REPLIES_PER_WINDOW);
    expect(clock.windowMs).toBe(50);
    const many = Array.from({ length: 10 * REPLIES_PER_WINDOW }, () => clock.batcher(() => undefined));
    expect(clock.windowMs).toBe(100);
    for (const b of [...many, ...more]) b.close();
    more[0]!.close(); // twice: counted once
    expect(clock.replies).toBe(REPLIES_PER_WINDOW);
    expect(clock.windowMs).toBe(25);
    for (const b of open) b.close();
    // A fixed window when the most is not above the base.
    const fixed = new FrameClock(25);
    Array.from({ length: 100 }, () => fixed.batcher(() => undefined));
    expect(fixed.windowMs).toBe(25);
  });
});
