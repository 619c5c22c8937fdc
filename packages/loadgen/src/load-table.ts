// The contract's load table as markdown.
import type { LevelResult } from './load-options.js';

const HEADER = [
  'Load level',
  'Users',
  'Duration',
  'Success rate',
  'Avg response',
  'p50 / p95 / p99 first token',
  'p95 response',
  'tokens/s',
];

export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

function row(r: LevelResult): string[] {
  const none = r.messages - r.failures === 0;
  const ms = (v: number): string => (none ? '–' : formatMs(v));
  return [
    r.level,
    r.users.toLocaleString('en-US'),
    `${r.durationS} s`,
    `${r.successRate.toFixed(2)}%`,
    ms(r.avgResponseMs),
    none ? '–' : `${ms(r.ttftMs.p50)} / ${ms(r.ttftMs.p95)} / ${ms(r.ttftMs.p99)}`,
    ms(r.responseMs.p95),
    Math.round(r.tokensPerSec).toLocaleString('en-US'),
  ];
}

/** A markdown table, one row per level, columns as in the contract's "Load table". */
export function formatLoadTable(rows: LevelResult[]): string {
  const cells = [HEADER, ...rows.map(row)];
  const widths = HEADER.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]): string => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(HEADER), rule, ...rows.map((r) => line(row(r)))].join('\n');
}
