// Coalesces token deltas into frames, only when they come fast. A delta arriving at least
// `windowMs` after its reply's last frame goes out at once, so a model slower than one token per
// window (most hosted models) pays no latency at all, and the first delta always goes out at once
// (first-token latency). Faster deltas wait for the worker's next clock tick, at most one window.
//
// One clock ticks for every reply of the worker: the frames that waited go out together in one
// synchronous run, so ioredis' auto-pipelining sends them as one write (one syscall, one pipeline)
// instead of one per reply per timer, which a per-reply timer cost at every token.

export class FrameClock {
  private readonly due = new Set<FrameBatcher>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly windowMs: number,
    readonly now: () => number = () => performance.now(),
  ) {}

  /** A batcher for one reply's deltas, emitting frames through `emit`. */
  batcher(emit: (text: string) => void): FrameBatcher {
    return new FrameBatcher(this, emit);
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
}
