// Frames per socket: a token bucket in the gateway process (a socket lives on one gateway, so
// nothing needs sharing). Refused frames fill a second, leaking bucket; when a socket keeps
// sending well over its rate that one overflows and the socket is to be closed.

export type FrameVerdict = { ok: true } | { ok: false; retryAfterMs: number; close: boolean };

/** Seconds' worth of refused frames (at the full rate) a socket may pile up before it is closed. */
const EXCESS_SECONDS = 3;

export class FrameBucket {
  private tokens: number;
  private excess = 0;
  private last: number;

  /**
   * `ratePerSec` frames a second on average, `burst` at once. Refused frames leak away at half
   * the rate: sending twice the rate overflows in about 2 × EXCESS_SECONDS seconds, a dump of
   * burst + EXCESS_SECONDS × rate frames at once right away; under 1.5× the rate, never.
   */
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now = performance.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now = performance.now()): FrameVerdict {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerSec);
    this.excess = Math.max(0, this.excess - (elapsed * this.ratePerSec) / 2);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    this.excess += 1;
    return {
      ok: false,
      retryAfterMs: Math.max(1, Math.ceil(((1 - this.tokens) / this.ratePerSec) * 1000)),
      close: this.excess > EXCESS_SECONDS * this.ratePerSec,
    };
  }
}
