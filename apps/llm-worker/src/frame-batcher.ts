// Coalesces token deltas into frames: the first delta goes out at once (first-token latency),
// later ones are joined over `windowMs` so a fast model does not cost one frame per token.

export class FrameBatcher {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private sentFirst = false;

  constructor(
    private readonly windowMs: number,
    private readonly emit: (text: string) => void,
  ) {}

  push(text: string): void {
    if (text === '') return;
    if (this.windowMs === 0 || !this.sentFirst) {
      this.sentFirst = true;
      this.emit(text);
      return;
    }
    this.pending += text;
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
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
    this.emit(text);
  }

  /** Drops pending text without emitting it (the generation is being thrown away). */
  discard(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = '';
  }
}
