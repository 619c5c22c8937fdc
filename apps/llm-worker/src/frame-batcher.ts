// Coalesces token deltas into frames, only when they come fast. A delta arriving at least
// `windowMs` after its reply's last frame goes out at once, so a model slower than one token per
// window (most hosted models) pays no latency at all, and the first delta always goes out at once
// (first-token latency). Faster deltas wait for the worker's next clock tick, at most one window.
//
// One clock ticks for every reply of the worker: the frames that waited go out together in one
// synchronous run, so ioredis' auto-pipelining sends them as one write (one syscall, one pipeline)
// instead of one per reply per timer, which a per-reply timer cost at every token.
//
// Under load the window grows: up to REPLIES_PER_WINDOW replies streaming at once it is the base
// window; beyond, in proportion to them, up to `maxWindowMs`. Each frame costs a write in the
// worker, a script in Redis and a socket write per client in the gateways, so when the fleet is
// busiest fewer, larger frames keep it serving, while a lightly loaded fleet streams as finely as
// configured.

/** Replies streaming at once before the window starts to grow. */
export const REPLIES_PER_WINDOW = 32;

export class FrameClock {
  private readonly due = new Set<FrameBatcher>();
  private timer: NodeJS.Timeout | undefined;
  /** Replies streaming through this clock now. */
  private streaming = 0;

  constructor(
    readonly baseWindowMs: number,
    readonly now: () => number = () => performance.now(),
    readonly maxWindowMs: number = baseWindowMs,
  ) {}

  /** The window now: the base one, grown with the replies streaming beyond REPLIES_PER_WINDOW. */
  get windowMs(): number {
    if (this.streaming <= REPLIES_PER_WINDOW || this.maxWindowMs <= this.baseWindowMs) return this.baseWindowMs;
    return Math.min(this.maxWindowMs, (this.baseWindowMs * this.streaming) / REPLIES_PER_WINDOW);
  }

  get replies(): number {
    return this.streaming;
  }

  /** A batcher for one reply's deltas, emitting frames through `emit`; `close()` it when the reply ends. */
  batcher(emit: (text: string) => void): FrameBatcher {
    this.streaming++;
    return new FrameBatcher(this, emit);
  }

  /** @internal */
  closed(): void {
    this.streaming--;
  }

  /** @internal `b` has text waiting: flush it on the next tick. */
  schedule(b: FrameBatcher): void {
    this.due.add(b);
    this.timer ??= setTimeout(this.tick, this.windowMs);
  }

  /** @internal */
  unschedule(b: FrameBatcher): void {
    this.due.delete(b);
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const due = [...this.due];
    this.due.clear();
    for (const b of due) b.flush();
  };
}

export class FrameBatcher {
  private pending = '';
  private lastEmitAt = -Infinity;

  constructor(
    private readonly clock: FrameClock,
    private readonly emit: (text: string) => void,
  ) {}

  push(text: string): void {
    if (text === '') return;
    if (this.pending !== '') {
      this.pending += text;
      return;
    }
    const now = this.clock.now();
    if (now - this.lastEmitAt >= this.clock.windowMs) {
      this.lastEmitAt = now;
      this.emit(text);
      return;
    }
    this.pending = text;
    this.clock.schedule(this);
  }

  /** Emits whatever is pending now (call before `done`). */
  flush(): void {
    if (this.pending === '') return;
    this.clock.unschedule(this);
    const text = this.pending;
    this.pending = '';
    this.lastEmitAt = this.clock.now();
    this.emit(text);
  }

  /** Drops pending text without emitting it (the generation is being thrown away). */
  discard(): void {
    this.clock.unschedule(this);
    this.pending = '';
  }

  /** The reply's stream ended (after flush or discard): it no longer counts towards the load. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.discard();
    this.clock.closed();
  }

  private isClosed = false;
}
