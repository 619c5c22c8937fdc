// Whether a reply arrived whole: after the last `reset`, every seq 1..n once and in order, and
// `done` naming n. A seq seen before (an overlap after resume) is dropped, never shown twice.

export type TokenVerdict = 'next' | 'duplicate' | 'gap';

export class ReplyCheck {
  /** The attempt the frames belong to (1 until a `reset`). */
  attempt = 1;
  /** The last seq shown of this attempt; what a `resume` asks to continue after. */
  lastSeq = 0;
  private problem: string | undefined;

  token(seq: number): TokenVerdict {
    if (seq <= this.lastSeq) return 'duplicate';
    const verdict = seq === this.lastSeq + 1 ? 'next' : 'gap';
    if (verdict === 'gap') this.problem ??= `seq ${this.lastSeq + 1}–${seq - 1} of attempt ${this.attempt} never arrived`;
    this.lastSeq = seq;
    return verdict;
  }

  reset(attempt: number): void {
    this.attempt = attempt;
    this.lastSeq = 0;
    this.problem = undefined;
  }

  /** What is wrong with the reply that `done` (with its seq) ends, or undefined when it is whole. */
  done(seq: number): string | undefined {
    if (this.problem !== undefined) return this.problem;
    if (seq !== this.lastSeq) return `done names seq ${seq}, but the last token was ${this.lastSeq}`;
    return undefined;
  }
}
