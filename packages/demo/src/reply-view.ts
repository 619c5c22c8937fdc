// A reply written as it streams: each token's text straight to the output. On a terminal a
// `reset` erases the partial reply in place; elsewhere it is marked and the reply starts over on
// a new line, so a log still reads top to bottom.
import type { ReplyDone, ReplyOutcome } from '@chat-fleet/client';
import { ansi, printable, rowsBelow, type Terminal } from './terminal.js';
import { formatMs } from './text-table.js';

const WAITING = '…';

export class ReplyView {
  /** What is on screen since the prefix, for counting rows to erase. */
  private shown = '';
  private waiting = false;

  constructor(
    private readonly term: Terminal,
    /** Written before the reply, e.g. "bot › ". */
    private readonly prefix: string,
  ) {}

  start(): void {
    this.term.write(this.prefix);
    if (this.term.tty) {
      this.term.write(this.term.style.dim(WAITING));
      this.waiting = true;
    }
  }

  token(text: string): void {
    const safe = printable(text);
    if (this.waiting) {
      this.term.write(`\b \b`);
      this.waiting = false;
    }
    this.shown += safe;
    this.term.write(safe);
  }

  reset(attempt: number): void {
    const note = this.term.style.yellow(`[the reply restarts: attempt ${attempt}]`);
    if (!this.term.tty) {
      this.term.write(`\n${note}\n${this.prefix}`);
      this.shown = '';
      return;
    }
    const rows = rowsBelow(`${this.prefix}${this.waiting ? WAITING : ''}${this.shown}`, this.term.columns);
    if (rows >= this.term.rows - 1) {
      // The start has scrolled out of reach: leave it and start over below.
      this.term.write(`\n${note}\n${this.prefix}`);
    } else {
      this.term.write(`${ansi.up(rows)}${ansi.clearBelow}${this.prefix}`);
    }
    this.shown = '';
    this.waiting = false;
  }

  /** Ends the reply's line. */
  end(): void {
    if (this.waiting) {
      this.term.write(`\b \b`);
      this.waiting = false;
    }
    this.term.line();
  }
}

/** The line under a reply: timing, or the error with its code. */
export function describeOutcome(outcome: ReplyOutcome): string {
  if (outcome.status === 'error') {
    const { code, message, retryAfterMs } = outcome.error;
    const retry = retryAfterMs === undefined ? '' : ` (retry in ${formatMs(retryAfterMs)})`;
    return `error ${code}: ${message}${retry}`;
  }
  return describeDone(outcome);
}

/** Tokens after the first, per second from the first token to `done` (as the web page counts). */
function tokensPerSec(d: ReplyDone): number | undefined {
  const seconds = d.firstTokenMs === undefined ? 0 : (d.totalMs - d.firstTokenMs) / 1000;
  const tokens = d.usage.completionTokens;
  return tokens > 1 && seconds > 0 ? (tokens - 1) / seconds : undefined;
}

function describeDone(d: ReplyDone): string {
  const parts: string[] = [];
  const tokens = d.usage.completionTokens;
  const rate = tokensPerSec(d);
  if (d.finishReason === 'cancelled') parts.push(`stopped after ${tokens} token${tokens === 1 ? '' : 's'}`);
  if (d.firstTokenMs !== undefined) parts.push(`first token ${formatMs(d.firstTokenMs)}`);
  if (d.finishReason !== 'cancelled') parts.push(`${tokens} tokens`);
  if (rate !== undefined) parts.push(`${rate.toFixed(1)} tokens/s`);
  if (d.finishReason === 'length') parts.push('cut at the length limit');
  if (d.cached) parts.push('from the cache');
  if (d.coalesced) parts.push('shared with an identical request');
  if (d.resumes > 0) parts.push(`resumed after ${d.resumes === 1 ? 'a dropped connection' : `${d.resumes} dropped connections`}`);
  return parts.join(' · ');
}
