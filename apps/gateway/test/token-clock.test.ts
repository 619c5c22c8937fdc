import { describe, expect, it } from '@jest/globals';
import { TokenClock, type TokenHolder } from '../src/chat/token-clock.js';

interface Holder extends TokenHolder {
  name: string;
  firedAt: number | undefined;
}

function holder(name: string, fired: Holder[]): Holder {
  const h: Holder = {
    name,
    tokenDueAtMs: 0,
    tokenSlot: -1,
    firedAt: undefined,
    tokenExpired() {
      h.firedAt = Date.now();
      fired.push(h);
    },
  };
  return h;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `n` holders have expired (a busy machine may run timers late, never early), at most 5 s. */
async function untilFired(fired: Holder[], n: number): Promise<void> {
  for (let waited = 0; fired.length < n && waited < 5000; waited += 10) await sleep(10);
}

describe('TokenClock', () => {
  it('expires every holder once, never before its time, in the order of their times', async () => {
    const clock = new TokenClock();
    const fired: Holder[] = [];
    const start = Date.now();
    // Thirty holders added in a shuffled order of expiries 20..310 ms from now.
    const delays = Array.from({ length: 30 }, (_, i) => 20 + 10 * ((i * 7) % 30));
    const holders = delays.map((d, i) => {
      const h = holder(`h${i}`, fired);
      clock.add(h, start + d);
      return h;
    });
    expect(clock.size).toBe(30);
    await untilFired(fired, 30);
    expect(fired).toHaveLength(30);
    expect(new Set(fired).size).toBe(30);
    for (const h of holders) expect(h.firedAt!).toBeGreaterThanOrEqual(h.tokenDueAtMs);
    const dues = fired.map((h) => h.tokenDueAtMs);
    expect(dues).toEqual([...dues].sort((a, b) => a - b));
    expect(clock.size).toBe(0);
    for (const h of holders) expect(h.tokenSlot).toBe(-1);
  });

  it('never expires a removed holder, and a holder added again waits for its new time only', async () => {
    const clock = new TokenClock();
    const fired: Holder[] = [];
    const start = Date.now();
    const hs = Array.from({ length: 12 }, (_, i) => holder(`h${i}`, fired));
    hs.forEach((h, i) => clock.add(h, start + 30 + 15 * i));
    // Remove the first (the heap's root), one from the middle and the last.
    for (const i of [0, 5, 11]) clock.remove(hs[i]!);
    // Removing twice, or a holder never added, changes nothing.
    clock.remove(hs[0]!);
    clock.remove(holder('stranger', fired));
    // h3 moves later: it expires at its new time, once.
    clock.add(hs[3]!, start + 400);
    expect(clock.size).toBe(9);
    await untilFired(fired, 9);
    await sleep(50);
    expect(fired.map((h) => h.name)).toEqual(['h1', 'h2', 'h4', 'h6', 'h7', 'h8', 'h9', 'h10', 'h3']);
    expect(hs[3]!.firedAt!).toBeGreaterThanOrEqual(start + 400);
    expect(clock.size).toBe(0);
  });

  it('expires at once a holder whose time has passed, and one added from inside an expiry', async () => {
    const clock = new TokenClock();
    const fired: Holder[] = [];
    const late = holder('late', fired);
    const chained = holder('chained', fired);
    const first = holder('first', fired);
    first.tokenExpired = () => {
      fired.push(first);
      clock.add(chained, Date.now() + 20);
    };
    clock.add(late, Date.now() - 1000);
    clock.add(first, Date.now() + 10);
    await untilFired(fired, 3);
    expect(fired.map((h) => h.name)).toEqual(['late', 'first', 'chained']);
  });
});
