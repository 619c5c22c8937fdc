// What one process's share of a load run has counted so far, and what its users share.
import { LatencyHistogram } from './latency-histogram.js';

export class ShardStats {
  messages = 0;
  failures = 0;
  successes = 0;
  tokens = 0;
  frames = 0;
  reconnects = 0;
  cached = 0;
  connected = 0;
  peakConnected = 0;
  inFlight = 0;
  /** performance.now() of the last message end. */
  lastEndAt = 0;
  readonly errors: Record<string, number> = {};
  readonly ttft = new LatencyHistogram();
  readonly response = new LatencyHistogram();
  /** POST /chat/session → socket `ready`. */
  readonly connect = new LatencyHistogram();

  socketOpened(): void {
    this.connected++;
    if (this.connected > this.peakConnected) this.peakConnected = this.connected;
  }

  fail(code: string, at: number): void {
    this.messages++;
    this.failures++;
    this.errors[code] = (this.errors[code] ?? 0) + 1;
    this.lastEndAt = Math.max(this.lastEndAt, at);
  }

  succeed(ttftMs: number, responseMs: number, tokens: number, cached: boolean, at: number): void {
    this.messages++;
    this.successes++;
    this.tokens += tokens;
    if (cached) this.cached++;
    this.ttft.recordMs(ttftMs);
    this.response.recordMs(responseMs);
    this.lastEndAt = Math.max(this.lastEndAt, at);
  }
}

/** At most `limit` tasks at once; the rest wait in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Sleeps that end early when the run is stopped. */
export class StopClock {
  private stoppedFlag = false;
  private readonly sleepers = new Set<() => void>();

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  stop(): void {
    this.stoppedFlag = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  async sleep(ms: number): Promise<void> {
    if (this.stoppedFlag || ms <= 0) return;
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
