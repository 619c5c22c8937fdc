// A block of lines redrawn in place on a terminal (the live load table, the watched health table).
import { ansi, fitLine, type Terminal } from './terminal.js';

export class LiveBlock {
  private height = 0;

  constructor(private readonly term: Terminal) {}

  /** On a TTY, replaces the lines drawn last; elsewhere, appends. */
  draw(lines: readonly string[]): void {
    if (!this.term.tty) {
      for (const l of lines) this.term.line(l);
      return;
    }
    // Lines are cut to the width so each takes one row and the next redraw knows how far to go up.
    const columns = this.term.columns;
    const body = lines.map((l) => `${fitLine(l, columns)}\n`).join('');
    this.term.write(`${ansi.up(this.height)}${ansi.clearBelow}${body}`);
    this.height = lines.length;
  }

  /** The block stays on screen as drawn; the next draw starts below it. */
  release(): void {
    this.height = 0;
  }
}
