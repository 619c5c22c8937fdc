// What "whole" means, in one place for the k6 scripts and the local runner: every token seq
// 1..n exactly once after the last reset, then done with seq n. No imports (k6 loads it as is).

export class ReplyCheck {
  /** The attempt being streamed; a reset starts the next one at seq 0. */
  attempt = 1;
  /** Last seq seen in order in this attempt. */
  lastSeq = 0;
  /** Why this attempt cannot be whole any more (a gap or a duplicate); cleared by reset. */
  private broken: 'gap' | 'duplicate' | undefined;

  token(seq: number): void {
    if (seq === this.lastSeq + 1) this.lastSeq = seq;
    else if (this.broken === undefined) this.broken = seq <= this.lastSeq ? 'duplicate' : 'gap';
  }

  reset(attempt: number): void {
    this.attempt = attempt;
    this.lastSeq = 0;
    this.broken = undefined;
  }

  /** The verdict on `done`: undefined when whole, else the failure code (`incomplete`, `cancelled`). */
  done(seq: number, finishReason: string | undefined): string | undefined {
    if (finishReason === 'cancelled') return 'cancelled';
    if (this.broken !== undefined || seq !== this.lastSeq) return 'incomplete';
    return undefined;
  }
}
