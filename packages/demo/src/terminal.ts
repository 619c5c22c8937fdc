// The output side of the demo: colour and cursor moves on a terminal, plain text anywhere else
// (a pipe, a file, CI), and model text made safe to print.

export interface Terminal {
  /** True on an interactive terminal: in-place redraws and colour are allowed. */
  readonly tty: boolean;
  readonly columns: number;
  readonly rows: number;
  write(text: string): void;
  line(text?: string): void;
  readonly style: Style;
}

export interface Style {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
  readonly magenta: (s: string) => string;
}

const wrap =
  (open: number, close: number) =>
  (s: string): string =>
    `\x1b[${open}m${s}\x1b[${close}m`;

const COLOURS: Style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
  magenta: wrap(35, 39),
};

const same = (s: string): string => s;
const PLAIN: Style = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same, magenta: same };

/** Wraps a stream; colour on a TTY unless NO_COLOR is set (https://no-color.org). */
export function terminalOf(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Terminal {
  const tty = stream.isTTY === true;
  const colour = tty && (env.NO_COLOR === undefined || env.NO_COLOR === '');
  return {
    tty,
    get columns() {
      return tty && stream.columns > 0 ? stream.columns : 80;
    },
    get rows() {
      return tty && stream.rows > 0 ? stream.rows : 24;
    },
    write: (text) => void stream.write(text),
    line: (text = '') => void stream.write(`${text}\n`),
    style: colour ? COLOURS : PLAIN,
  };
}

export const ansi = {
  /** Cursor up n rows (nothing for 0). */
  up: (n: number): string => (n > 0 ? `\x1b[${n}A` : ''),
  /** Carriage return and erase from the cursor to the end of the screen. */
  clearBelow: '\r\x1b[J',
  clearLine: '\r\x1b[2K',
  hideCursor: '\x1b[?25l',
  showCursor: '\x1b[?25h',
};

// C0 controls but newline and tab, DEL, C1 controls: a model must not move the cursor, change
// colours or retitle the window of the person reading its reply.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g; // eslint-disable-line no-control-regex

export function printable(text: string): string {
  return text.replace(UNSAFE, '');
}

const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g; // eslint-disable-line no-control-regex

/** Columns a code point takes: 2 for East Asian wide and most emoji, 0 for combining marks. */
function cellWidth(cp: number): number {
  if (cp < 0x300) return 1;
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Display width of a single line, ANSI escapes excluded. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text.replace(ESCAPES, '')) width += ch === '\t' ? 8 - (width % 8) : cellWidth(ch.codePointAt(0)!);
  return width;
}

/**
 * Rows the cursor has moved down while `text` was written from column 0 on a terminal `columns`
 * wide: 0 when everything stayed on the first row. A row filled exactly does not wrap until the
 * next character (terminals defer the wrap), so it counts as one.
 */
export function rowsBelow(text: string, columns: number): number {
  const lines = text.split('\n');
  let rows = 0;
  lines.forEach((line, i) => {
    const width = displayWidth(line);
    const used = Math.max(1, Math.ceil(width / columns));
    rows += i === lines.length - 1 ? used - 1 : used;
  });
  return rows;
}

/** Cuts a line to `columns` display cells (for blocks redrawn in place, which must not wrap). */
export function fitLine(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  let out = '';
  let width = 0;
  // Walk escapes and characters alike, so colour codes survive the cut.
  for (const part of text.split(/(\x1b\[[0-9;?]*[A-Za-z])/)) { // eslint-disable-line no-control-regex
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    for (const ch of part) {
      const w = cellWidth(ch.codePointAt(0)!);
      if (width + w > columns - 1) return `${out}…\x1b[0m`;
      out += ch;
      width += w;
    }
  }
  return out;
}
