// Redis work as Redis counts it: `INFO commandstats` parsed, and the difference between two snapshots.

export interface CommandStat {
  readonly calls: number;
  /** Microseconds Redis spent executing the command, in total. */
  readonly usec: number;
}

/** Command name (lower case, `client|setname` style for subcommands) to its counters. */
export type CommandStats = ReadonlyMap<string, CommandStat>;

export interface CommandStatsDiff {
  readonly calls: number;
  readonly usec: number;
  /** Per command, most calls first; commands with no calls in between are left out. */
  readonly byCommand: ReadonlyArray<{ readonly command: string; readonly calls: number; readonly usec: number }>;
}

const LINE = /^cmdstat_([^:]+):(.*)$/;

/** Parses the text of `INFO commandstats`; lines that are not `cmdstat_…` are ignored. */
export function parseCommandStats(info: string): CommandStats {
  const stats = new Map<string, CommandStat>();
  for (const raw of info.split(/\r?\n/)) {
    const m = LINE.exec(raw.trim());
    if (m === null) continue;
    const fields = new Map<string, string>();
    for (const pair of (m[2] ?? '').split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const calls = Number(fields.get('calls'));
    const usec = Number(fields.get('usec') ?? 0);
    if (!Number.isFinite(calls)) continue;
    stats.set((m[1] ?? '').toLowerCase(), { calls, usec: Number.isFinite(usec) ? usec : 0 });
  }
  return stats;
}

/** What ran between `before` and `after`. A command whose count went down (stats reset) counts from zero. */
export function diffCommandStats(before: CommandStats, after: CommandStats): CommandStatsDiff {
  const byCommand: Array<{ command: string; calls: number; usec: number }> = [];
  for (const [command, a] of after) {
    const b = before.get(command);
    const reset = b !== undefined && a.calls < b.calls;
    const calls = b === undefined || reset ? a.calls : a.calls - b.calls;
    const usec = b === undefined || reset ? a.usec : Math.max(0, a.usec - b.usec);
    if (calls > 0) byCommand.push({ command, calls, usec });
  }
  byCommand.sort((x, y) => y.calls - x.calls || x.command.localeCompare(y.command));
  return {
    calls: byCommand.reduce((s, c) => s + c.calls, 0),
    usec: byCommand.reduce((s, c) => s + c.usec, 0),
    byCommand,
  };
}

/** Several servers' diffs as one, per command: a cluster's primaries together. */
export function sumDiffs(diffs: readonly CommandStatsDiff[]): CommandStatsDiff {
  const totals = new Map<string, { calls: number; usec: number }>();
  for (const diff of diffs) {
    for (const c of diff.byCommand) {
      const t = totals.get(c.command) ?? { calls: 0, usec: 0 };
      totals.set(c.command, { calls: t.calls + c.calls, usec: t.usec + c.usec });
    }
  }
  const byCommand = [...totals].map(([command, t]) => ({ command, ...t }));
  byCommand.sort((x, y) => y.calls - x.calls || x.command.localeCompare(y.command));
  return {
    calls: diffs.reduce((s, d) => s + d.calls, 0),
    usec: diffs.reduce((s, d) => s + d.usec, 0),
    byCommand,
  };
}
