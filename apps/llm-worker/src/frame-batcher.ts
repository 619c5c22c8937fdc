// Coalesces token deltas into frames, only when they come fast. A delta arriving at least
// `windowMs` after the last frame goes out at once, so a model slower than one token per window
// (most hosted models) pays no latency at all; faster deltas are joined until the window since
// the last frame has passed, so a fast model costs at most one frame per window, not one per
// token. The first delta always goes out at once (first-token latency).

export class FrameBatcher {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private lastEmitAt = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly emit: (text: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(text: string): void {
    if (text === '') return;
    if (this.windowMs === 0) {
      this.emit(text);
      return;
    }
    if (this.timer !== undefined) {
      this.pending += text;
      return;
    }
    const now = this.now();
    const since = now - this.lastEmitAt;
    if (since >= this.windowMs) {
      this.lastEmitAt = now;
      this.emit(text);
      return;
    }
    this.pending = text;
    this.timer = setTimeout(() => this.flush(), this.windowMs - since);
  }

  /** Emits whatever is pending now (call before `done`). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.lastEmitAt = this.now();
    this.emit(text);
  }

  /** Drops pending text without emitting it (the generation is being thrown away). */
  discard(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = '';
  }
}
