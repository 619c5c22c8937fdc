// A reply written as it streams: each token's text straight to the output, and its tool calls,
// tool results and sources as lines of their own (above the reply's line while no text has come).
// On a terminal a `reset` erases the attempt in place, those lines included; elsewhere it is
// marked and the reply starts over on a new line, so a log still reads top to bottom.
import type { ReplyDone, ReplyOutcome, Source, ToolCall } from '@chat-fleet/client';
import type { ReplyListener } from './chat-connection.js';
import { ansi, printable, rowsBelow, type Terminal } from './terminal.js';
import { formatMs } from './text-table.js';

const WAITING = '…';

export class ReplyView implements ReplyListener {
  /** Lines written above the prefix in this attempt, for counting rows to erase. */
  private above = '';
  /** What is on screen since the prefix, for counting rows to erase. */
  private shown = '';
  private waiting = false;
  /** The prefix is on screen (elsewhere than on a terminal it waits for the first token). */
  private prefixed = false;

  constructor(
    private readonly term: Terminal,
    /** Written before the reply, e.g. "bot › ". */
    private readonly prefix: string,
  ) {}

  start(): void {
    if (!this.term.tty) return;
    this.term.write(`${this.prefix}${this.term.style.dim(WAITING)}`);
    this.prefixed = true;
    this.waiting = true;
  }

  token(text: string): void {
    const safe = printable(text);
    if (this.waiting) {
      this.term.write(`\b \b`);
      this.waiting = false;
    }
    if (!this.prefixed) {
      this.term.write(this.prefix);
      this.prefixed = true;
    }
    this.shown += safe;
    this.term.write(safe);
  }

  toolCall(call: ToolCall): void {
    this.note(this.term.style.dim(`  → ${oneLine(call.name)} ${oneLine(argumentsText(call.arguments))}`.trimEnd()));
  }

  toolResult(call: ToolCall): void {
    const { style } = this.term;
    const summary = call.summary === undefined || call.summary === '' ? '' : `: ${oneLine(call.summary)}`;
    this.note(call.ok === true ? style.green(`  ✓ ${oneLine(call.name)}${summary}`) : style.red(`  ✗ ${oneLine(call.name)} failed${summary}`));
  }

  sources(added: Source[]): void {
    const list = added.map((s) => (s.url === undefined ? oneLine(s.title) : `${oneLine(s.title)} (${oneLine(s.url)})`));
    this.note(this.term.style.dim(`  sources: ${list.join(', ')}`));
  }

  reset(attempt: number): void {
    const note = this.term.style.yellow(`[the reply restarts: attempt ${attempt}]`);
    if (!this.term.tty) {
      this.term.write(this.prefixed ? `\n${note}\n` : `${note}\n`);
      this.prefixed = false;
      this.shown = '';
      return;
    }
    const rows = rowsBelow(`${this.above}${this.prefix}${this.waiting ? WAITING : ''}${this.shown}`, this.term.columns);
    if (rows >= this.term.rows - 1) {
      // The start has scrolled out of reach: leave it and start over below.
      this.term.write(`\n${note}\n${this.prefix}`);
    } else {
      this.term.write(`${ansi.up(rows)}${ansi.clearBelow}${this.prefix}`);
    }
    this.above = '';
    this.shown = '';
    this.waiting = false;
  }

  /** Ends the reply's line. */
  end(): void {
    if (this.waiting) {
      this.term.write(`\b \b`);
      this.waiting = false;
    }
    if (!this.prefixed) this.term.write(this.prefix);
    this.term.line();
  }

  /** A line of its own: above the reply's line while it has no text, else after the text so far. */
  private note(line: string): void {
    if (this.shown !== '') {
      this.term.write(`\n${line}\n`);
      this.shown += `\n${line}\n`;
      return;
    }
    // On a terminal the prefix (and the waiting mark) is redrawn under the line.
    if (this.prefixed) this.term.write(ansi.clearLine);
    this.term.line(line);
    this.above += `${line}\n`;
    if (this.prefixed) this.term.write(`${this.prefix}${this.waiting ? this.term.style.dim(WAITING) : ''}`);
  }
}

/** Tool and source text from elsewhere on one printable line. */
function oneLine(text: string): string {
  return printable(text).replace(/\s+/g, ' ').trim();
}

function argumentsText(args: unknown): string {
  return args === undefined ? '' : typeof args === 'string' ? args : JSON.stringify(args);
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
