// Commands clients sent versus commands Redis executed. INFO commandstats (and total_commands_processed)
// count every command a Lua script runs as well as the EVALSHA that ran it, and Redis 7.0 keeps no
// per-client command count. MONITOR does tell them apart: a command a script ran is listed with the
// source `lua`, one a client sent with its address. The census watches MONITOR over a short load of
// its own (outside the metered runs: feeding a monitor costs Redis CPU) and learns, per command, what
// share of its executions came from scripts; applied to a metered run's commandstats that gives the
// commands clients sent there, each EVALSHA counted once.

export interface CensusCount {
  /** Sent by a client (in a MULTI or not). */
  readonly client: number;
  /** Run by a Lua script or function. */
  readonly script: number;
}

/** What MONITOR showed, per command name (lower case, without subcommand). */
export class CommandCensus {
  private readonly counts = new Map<string, { client: number; script: number }>();

  add(command: string, fromScript: boolean): void {
    const name = command.toLowerCase();
    const c = this.counts.get(name) ?? { client: 0, script: 0 };
    if (fromScript) c.script++;
    else c.client++;
    this.counts.set(name, c);
  }

  /** MONITOR's source field: `lua` for a script's own commands, an address (or unix socket) for a client. */
  addMonitorLine(args: readonly string[], source: string): void {
    const [command] = args;
    if (command !== undefined) this.add(command, source === 'lua');
  }

  byCommand(): ReadonlyMap<string, CensusCount> {
    return this.counts;
  }

  totals(): CensusCount {
    let client = 0;
    let script = 0;
    for (const c of this.counts.values()) {
      client += c.client;
      script += c.script;
    }
    return { client, script };
  }
}

/**
 * The commands clients sent among `executed` (INFO commandstats calls per command, `cmd|sub` names
 * included): each command's calls times the share of its executions the census saw come from a
 * client. A command the census never saw counts as sent by a client (scripts run a fixed few).
 */
export function clientSentCommands(executed: ReadonlyArray<{ readonly command: string; readonly calls: number }>, census: ReadonlyMap<string, CensusCount>): number {
  let sent = 0;
  for (const { command, calls } of executed) {
    const seen = census.get(command.split('|')[0] ?? command);
    const total = seen === undefined ? 0 : seen.client + seen.script;
    sent += total === 0 ? calls : (calls * (seen?.client ?? 0)) / total;
  }
  return sent;
}
