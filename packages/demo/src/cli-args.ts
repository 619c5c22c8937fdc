// Command-line options of `npm run demo`, parsed and checked once.
import { baseUrlsOption, integerOption, numberOption, parseOptions, UsageError } from '@chat-fleet/stack';

export type Mode = { kind: 'chat' } | { kind: 'auto' } | { kind: 'load'; users: number; durationS: number } | { kind: 'health'; watch: boolean };

export interface CliArgs {
  mode: Mode;
  /** Undefined: the defaults of `npm start`. */
  gateways: string[] | undefined;
  workers: string[] | undefined;
  userId: string | undefined;
  /** Join this session instead of opening one. */
  session: { sessionId: string; token: string } | undefined;
  help: boolean;
}

export const USAGE = `npm run demo -- [options]

A terminal client for a running stack (start one with npm start in another terminal).

  (no mode)            interactive chat: type a message, the reply streams in place
                       /new a new session, /stop stop the reply (or Ctrl-C), /health, /quit
  --auto               a scripted conversation of a few turns, then exit; status 1 when a
                       reply was not whole or failed
  --load N             N users chatting for --duration S seconds (default 20) with live
                       counters, then the load table; status 1 when a message failed
  --health             every gateway's and worker's /health in one table
    --watch            refresh it every second until Ctrl-C

  --gateways URL,URL   gateways (default http://127.0.0.1:8088,http://127.0.0.1:8089)
  --workers URL,URL    workers' metrics URLs (default: ports 9464, 9465 and any next ones
                       that answer)
  --user ID            userId of the chat sessions (default: one per run)
  --session ID --token TOKEN
                       join an existing session instead of opening one (chat, --auto)

NO_COLOR=1 turns colour off; without a terminal the output is plain text.`;

export { UsageError };

export function parseCliArgs(argv: string[]): CliArgs {
  const values = parseOptions(argv, {
    auto: { type: 'boolean' },
    load: { type: 'string' },
    duration: { type: 'string' },
    health: { type: 'boolean' },
    watch: { type: 'boolean' },
    gateways: { type: 'string' },
    workers: { type: 'string' },
    user: { type: 'string' },
    session: { type: 'string' },
    token: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const modes = [values.auto === true && '--auto', values.load !== undefined && '--load', values.health === true && '--health'].filter(
    (m): m is string => m !== false,
  );
  if (modes.length > 1) throw new UsageError(`give one of ${modes.join(', ')}`);
  if (values.watch === true && values.health !== true) throw new UsageError('--watch goes with --health');
  if (values.duration !== undefined && values.load === undefined) throw new UsageError('--duration goes with --load');
  if ((values.session === undefined) !== (values.token === undefined)) throw new UsageError('--session and --token go together');
  if (values.session !== undefined && (values.load !== undefined || values.health === true)) {
    throw new UsageError('--session is for the chat and --auto');
  }
  if (values.user !== undefined && !/^.{1,128}$/.test(values.user)) throw new UsageError('--user: 1 to 128 characters');

  let mode: Mode = { kind: 'chat' };
  if (values.auto === true) mode = { kind: 'auto' };
  else if (values.load !== undefined) {
    mode = { kind: 'load', users: integerOption('load', values.load, 1) ?? 1, durationS: numberOption('duration', values.duration, 1) ?? 20 };
  } else if (values.health === true) mode = { kind: 'health', watch: values.watch === true };

  return {
    mode,
    gateways: baseUrlsOption('gateways', values.gateways),
    workers: baseUrlsOption('workers', values.workers),
    userId: values.user,
    session: values.session !== undefined && values.token !== undefined ? { sessionId: values.session, token: values.token } : undefined,
    help: values.help === true,
  };
}
