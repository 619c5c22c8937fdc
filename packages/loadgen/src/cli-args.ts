// Command-line options of `npm run loadtest`, parsed and checked once.
import { baseUrlsOption, integerOption, listOption, msRangeOption, numberOption, parseOptions, UsageError } from '@chat-fleet/stack';

export interface CliArgs {
  users: number | undefined;
  durationS: number | undefined;
  thinkMs: { min: number; max: number } | undefined;
  rampS: number | undefined;
  /** Scenario names from loadtest/scenarios.ts, or `stress`. */
  levels: string[];
  /** Gateways of a running stack; undefined: start one. */
  target: string[] | undefined;
  simUrl: string | undefined;
  replyTokens: number | undefined;
  simTtftMs: number | undefined;
  simTokensPerSec: number | undefined;
  procs: number;
  json: string | undefined;
  replyTimeoutS: number;
  stackGateways: number;
  stackWorkers: number;
  help: boolean;
}

export const USAGE = `npm run loadtest -- [options]

Runs load levels against a stack and prints the load table; writes JSON. Without --target it
starts its own stack (Redis: REDIS_URL if it answers, else a private redis-server; simulator,
2 gateways, 2 workers) with a private key prefix, and stops it at the end.

  --users N              concurrent users (each: own session and userId, one WebSocket)
  --duration S           seconds of full load after the ramp (default 60)
  --think MIN-MAX        pause after each reply before the next message, uniform; plain numbers
                         are ms, an "s" suffix means seconds: 3000-6000, 3s-6s, 25s (default 3s-6s)
  --ramp S               users start spread over S seconds (default: users/200, at most 30)
  --level NAME           run one scenario of loadtest/scenarios.ts (smoke, l10, l100, l500, l1000,
                         l10k, soak) or "stress" (steps up until replies stop being whole)
  --levels A,B,...       run several, in order (e.g. l10,l100,l500,l1000 for the old table)
                         --users/--duration/--think/--ramp override a scenario's values
  --target URL,URL       gateways of a running stack instead of starting one (alias --gateways)
  --sim-url URL          with --target: the simulator to configure (POST /_sim/config)
  --reply-tokens N       simulator reply length (SIM_REPLY_TOKENS)
  --sim-ttft MS          simulator first-token latency (SIM_TTFT_MS)
  --sim-tps N            simulator tokens per second (SIM_TOKENS_PER_SEC)
  --procs N              spread the users over N child processes (default 1)
  --reply-timeout S      a reply not ended after S seconds fails as "timeout" (default 60)
  --stack-gateways N     gateways of the started stack (default 2)
  --stack-workers N      workers of the started stack (default 2)
  --json FILE            where the JSON goes (default loadtest/results/loadtest-<time>.json)

Exit status 1 when any message failed (or none was sent), 2 on bad options.`;

export { UsageError };

export function parseCliArgs(argv: string[]): CliArgs {
  const values = parseOptions(argv, {
    users: { type: 'string' },
    duration: { type: 'string' },
    think: { type: 'string' },
    ramp: { type: 'string' },
    level: { type: 'string' },
    levels: { type: 'string' },
    target: { type: 'string' },
    gateways: { type: 'string' },
    'sim-url': { type: 'string' },
    'reply-tokens': { type: 'string' },
    'sim-ttft': { type: 'string' },
    'sim-tps': { type: 'string' },
    procs: { type: 'string' },
    json: { type: 'string' },
    'reply-timeout': { type: 'string' },
    'stack-gateways': { type: 'string' },
    'stack-workers': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.level !== undefined && values.levels !== undefined) throw new UsageError('give --level or --levels, not both');
  if (values.target !== undefined && values.gateways !== undefined) throw new UsageError('--gateways is an alias of --target; give one');
  const target = baseUrlsOption(values.gateways === undefined ? 'target' : 'gateways', values.target ?? values.gateways);
  const levels = listOption('levels', values.levels) ?? (values.level !== undefined ? [values.level] : []);
  const args: CliArgs = {
    users: integerOption('users', values.users, 1),
    durationS: numberOption('duration', values.duration, 1),
    thinkMs: values.think === undefined ? undefined : msRangeOption('think', values.think),
    rampS: numberOption('ramp', values.ramp, 0),
    levels,
    target,
    simUrl: values['sim-url'],
    replyTokens: integerOption('reply-tokens', values['reply-tokens'], 1),
    simTtftMs: integerOption('sim-ttft', values['sim-ttft'], 0),
    simTokensPerSec: numberOption('sim-tps', values['sim-tps'], 0),
    procs: integerOption('procs', values.procs, 1) ?? 1,
    json: values.json,
    replyTimeoutS: numberOption('reply-timeout', values['reply-timeout'], 1) ?? 60,
    stackGateways: integerOption('stack-gateways', values['stack-gateways'], 1) ?? 2,
    stackWorkers: integerOption('stack-workers', values['stack-workers'], 1) ?? 2,
    help: values.help === true,
  };
  const simChange = args.replyTokens !== undefined || args.simTtftMs !== undefined || args.simTokensPerSec !== undefined;
  if (target !== undefined && simChange && args.simUrl === undefined) {
    throw new UsageError('--reply-tokens/--sim-ttft/--sim-tps with --target need --sim-url (the simulator to configure)');
  }
  if (target === undefined && args.simUrl !== undefined) throw new UsageError('--sim-url only goes with --target');
  return args;
}
