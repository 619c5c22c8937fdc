// Where a child's output goes: onto our terminal behind its name, nowhere, or appended to a file.
// The last lines are always kept, so a failed start can say why.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** `{ file }` appends to that file (created with its directory), so a failed test can be inspected. */
export type OutputMode = 'inherit-prefixed' | 'silent' | { file: string };

export const TAIL_LINES = 20;

const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];

// eslint-disable-next-line no-control-regex -- matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** A stable colour per name, so gateway-1 keeps its colour across restarts. */
export function colorFor(name: string): number {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length] ?? 36;
}

export interface OutputSinkOptions {
  /** Width the name is padded to in `inherit-prefixed` mode. */
  nameWidth?: number;
  /** ANSI colour code for the name; derived from the name when absent. */
  color?: number;
}

export class OutputSink {
  private readonly lines: string[] = [];
  private readonly file: WriteStream | undefined;
  private readonly prefix: string;
  private readonly pending: Promise<void>[] = [];

  constructor(
    name: string,
    private readonly mode: OutputMode,
    options: OutputSinkOptions = {},
  ) {
    const label = name.padEnd(Math.max(options.nameWidth ?? 10, name.length));
    const colored = process.stdout.isTTY && process.stdout.hasColors();
    this.prefix = colored ? `\u001b[${options.color ?? colorFor(name)}m${label}\u001b[0m │ ` : `${label} │ `;
    if (typeof mode === 'object') {
      mkdirSync(dirname(mode.file), { recursive: true });
      this.file = createWriteStream(mode.file, { flags: 'a' });
      // A write error must not crash the launcher; the tail still has the lines.
      this.file.on('error', () => undefined);
    }
  }

  /** Writes a line of our own (start, restart) where the child's lines go. */
  note(line: string): void {
    this.file?.write(`--- ${line}\n`);
  }

  attach(stream: Readable, target: 'stdout' | 'stderr'): void {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    // A destroyed stream ends without 'end', so its 'close' counts too.
    this.pending.push(
      new Promise((resolve) => {
        rl.once('close', resolve);
        stream.once('close', resolve);
      }),
    );
    rl.on('line', (line) => this.line(line, target));
  }

  /** The last lines the child wrote, colours removed. */
  tail(): string[] {
    return [...this.lines];
  }

  /** Resolves once every attached stream has ended and the file is flushed. */
  async close(): Promise<void> {
    await Promise.all(this.pending);
    const file = this.file;
    if (file !== undefined && !file.closed) await new Promise<void>((resolve) => file.end(resolve));
  }

  private line(line: string, target: 'stdout' | 'stderr'): void {
    this.lines.push(line.replace(ANSI, ''));
    if (this.lines.length > TAIL_LINES) this.lines.shift();
    if (this.mode === 'inherit-prefixed') process[target].write(`${this.prefix}${line}\n`);
    else this.file?.write(`${line}\n`);
  }
}
