#!/usr/bin/env node
// `npm run demo`: composition root of the terminal demo. Reads the options, finds the running
// stack and hands over to the chat, the scripted conversation, the load or the health view.
import { randomBytes } from 'node:crypto';
import { autoScript, runAuto } from './auto-chat.js';
import { ChatConnection } from './chat-connection.js';
import { runRepl } from './chat-repl.js';
import { readCliArgs } from '@chat-fleet/stack';
import { parseCliArgs, USAGE, type CliArgs } from './cli-args.js';
import { answeringGateways, DEFAULT_GATEWAYS, findWorkers, NoStackError } from './fleet-endpoints.js';
import { showHealth, watchHealth } from './health-view.js';
import { runLoadView } from './load-view.js';
import { ansi, terminalOf, type Terminal } from './terminal.js';

const complain = (line: string): void => void process.stderr.write(`${line}\n`);

function readArgs(): CliArgs {
  return readCliArgs(parseCliArgs, USAGE, (args) => args.help);
}

/** Answering gateways first; the silent ones stay on the list, to fail over to if they come back. */
async function reachGateways(gateways: readonly string[]): Promise<string[]> {
  const live = await answeringGateways(gateways);
  if (live.length === 0) throw new NoStackError(gateways);
  return [...live, ...gateways.filter((g) => !live.includes(g))];
}

/** Ctrl-C (or SIGTERM) aborts once; a second one leaves at once. */
function abortOnSignal(): AbortSignal {
  const abort = new AbortController();
  const onSignal = (): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return abort.signal;
}

async function chat(args: CliArgs, term: Terminal, gateways: readonly string[], scripted: boolean): Promise<number> {
  const userId = args.userId ?? `demo-${randomBytes(3).toString('hex')}`;
  const conn = new ChatConnection({ gateways: await reachGateways(gateways), userId, session: args.session });
  try {
    await conn.start();
  } catch (err) {
    complain(`could not open a chat session: ${err instanceof Error ? err.message : String(err)}`);
    conn.close();
    return 1;
  }
  if (scripted) {
    process.once('SIGINT', () => {
      conn.close();
      process.exit(130);
    });
    try {
      return await runAuto(conn, term, autoScript(userId));
    } finally {
      conn.close();
    }
  }
  return runRepl({
    conn,
    term,
    fleet: async () => ({ gateways: [...gateways], workers: await findWorkers(args.workers) }),
    input: process.stdin,
    output: process.stdout,
  });
}

async function main(): Promise<number> {
  const args = readArgs();
  const term = terminalOf(process.stdout);
  const gateways = args.gateways ?? [...DEFAULT_GATEWAYS];
  const { mode } = args;
  switch (mode.kind) {
    case 'health': {
      const fleet = { gateways, workers: await findWorkers(args.workers) };
      if (!mode.watch) return (await showHealth(fleet, term)) ? 0 : 1;
      const signal = abortOnSignal();
      if (term.tty) term.write(ansi.hideCursor);
      try {
        await watchHealth(fleet, term, signal);
      } finally {
        if (term.tty) term.write(ansi.showCursor);
      }
      return 0;
    }
    case 'load':
      return runLoadView({ gateways: await reachGateways(gateways), users: mode.users, durationS: mode.durationS, signal: abortOnSignal() }, term);
    case 'auto':
      return chat(args, term, gateways, true);
    case 'chat':
      return chat(args, term, gateways, false);
  }
}

main().then(
  (status) => process.exit(status),
  (err: unknown) => {
    complain(err instanceof NoStackError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
