import { describe, expect, it, jest } from '@jest/globals';
import { FrameBatcher } from '../src/frame-batcher.js';

describe('FrameBatcher', () => {
  it('with a zero window emits every delta as its own frame', () => {
    const out: string[] = [];
    const b = new FrameBatcher(0, (t) => out.push(t));
    for (const t of ['a', 'b', '', 'c']) b.push(t);
    expect(out).toEqual(['a', 'b', 'c']);
  });

  it('sends the first delta at once and joins the rest within the window, losing nothing', () => {
    jest.useFakeTimers();
    try {
      const out: string[] = [];
      const b = new FrameBatcher(10, (t) => out.push(t));
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

  it('discard drops pending text', () => {
    jest.useFakeTimers();
    try {
      const out: string[] = [];
      const b = new FrameBatcher(10, (t) => out.push(t));
      b.push('a');
      b.push('b');
      b.discard();
      jest.advanceTimersByTime(50);
      expect(out).toEqual(['a']);
    } finally {
      jest.useRealTimers();
    }
  });
});
