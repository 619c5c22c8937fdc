// When tokens expire: one timer for every connection of the process, armed for the earliest
// expiry, instead of a Timeout (with its closure) per connection; a gateway holding thousands of
// quiet sockets pays a heap slot per socket, not a timer.

/** setTimeout's longest delay; a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Something with a token that expires at `tokenDueAtMs` (epoch ms); `tokenSlot` is the clock's. */
export interface TokenHolder {
  tokenDueAtMs: number;
  /** Its index in the clock's heap; -1 when not waiting. */
  tokenSlot: number;
  tokenExpired(): void;
}

/** A min-heap of holders by expiry, and one unref'd timer for the first of them. */
export class TokenClock {
  private readonly heap: TokenHolder[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer is due (epoch ms). */
  private timerAtMs = Infinity;

  get size(): number {
    return this.heap.length;
  }

  /** Calls `holder.tokenExpired()` once `atMs` (epoch ms) has passed, unless removed before. */
  add(holder: TokenHolder, atMs: number): void {
    this.remove(holder);
    holder.tokenDueAtMs = atMs;
    holder.tokenSlot = this.heap.length;
    this.heap.push(holder);
    this.up(holder.tokenSlot);
    this.arm();
  }

  remove(holder: TokenHolder): void {
    const i = holder.tokenSlot;
    if (i < 0 || this.heap[i] !== holder) return;
    holder.tokenSlot = -1;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.tokenSlot = i;
      this.down(i);
      this.up(last.tokenSlot);
    }
    if (this.heap.length === 0) this.disarm();
  }

  private arm(): void {
    const first = this.heap[0];
    if (first === undefined) return this.disarm();
    // An armed timer due no later than the first expiry fires in time, and re-arms.
    if (this.timer !== undefined && this.timerAtMs <= first.tokenDueAtMs) return;
    this.disarm();
    const wait = Math.min(Math.max(first.tokenDueAtMs - Date.now(), 0), MAX_TIMER_MS);
    this.timerAtMs = Date.now() + wait;
    this.timer = setTimeout(() => this.fire(), wait);
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAtMs = Infinity;
    try {
      for (;;) {
        const first = this.heap[0];
        if (first === undefined || Date.now() < first.tokenDueAtMs) break;
        this.remove(first);
        first.tokenExpired();
      }
    } finally {
      this.arm();
    }
  }

  private up(i: number): void {
    const h = this.heap;
    const x = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.tokenDueAtMs <= x.tokenDueAtMs) break;
      h[i] = parent;
      parent.tokenSlot = i;
      i = p;
    }
    h[i] = x;
    x.tokenSlot = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const x = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1]!.tokenDueAtMs < h[c]!.tokenDueAtMs) c++;
      const child = h[c]!;
      if (child.tokenDueAtMs >= x.tokenDueAtMs) break;
      h[i] = child;
      child.tokenSlot = i;
      i = c;
    }
    h[i] = x;
    x.tokenSlot = i;
  }
}

/** The process's clock for connection tokens. */
export const tokenClock = new TokenClock();
