// Aligned plain-text columns for the terminal; colour is applied after padding so widths hold.
import { displayWidth } from './terminal.js';

export interface Cell {
  text: string;
  /** Applied to the padded text (colour). */
  paint?: (s: string) => string;
}

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

export function formatTable(columns: readonly Column[], rows: ReadonlyArray<ReadonlyArray<Cell | string>>, paintHeader: (s: string) => string = (s) => s): string[] {
  const cells = rows.map((r) => r.map((c): Cell => (typeof c === 'string' ? { text: c } : c)));
  const widths = columns.map((col, i) => Math.max(displayWidth(col.header), ...cells.map((r) => displayWidth(r[i]?.text ?? ''))));
  const pad = (text: string, i: number): string => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - displayWidth(text)));
    return columns[i]!.align === 'right' ? fill + text : text + fill;
  };
  const header = columns.map((c, i) => pad(c.header, i)).join('  ').trimEnd();
  const body = cells.map((r) =>
    columns
      .map((_, i) => {
        const cell = r[i] ?? { text: '' };
        const padded = pad(cell.text, i);
        return cell.paint === undefined ? padded : cell.paint(padded);
      })
      .join('  ')
      .trimEnd(),
  );
  return [paintHeader(header), ...body];
}

/** 0:07, 3:05, 1:02:03 (hours:minutes:seconds). */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** 12 ms, 1.25 s. */
export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}
