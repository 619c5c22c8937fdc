// `--load N`: a short load of N users (the load runner of @chat-fleet/loadgen, each user with its
// own session, userId and socket, every reply checked whole) with its counters redrawn in place,
// then the load table.
import type { LevelResult, LoadProgress } from '@chat-fleet/loadgen';
import { LiveBlock } from './live-block.js';
import type { Terminal } from './terminal.js';
import { formatTable, type Column } from './text-table.js';

export interface LoadRun {
  gateways: string[];
  users: number;
  durationS: number;
  signal: AbortSignal;
}

const COLUMNS: Column[] = [
  { header: 'elapsed', align: 'right' },
  { header: 'connected', align: 'right' },
  { header: 'in flight', align: 'right' },
  { header: 'messages', align: 'right' },
  { header: 'failures', align: 'right' },
  { header: 'msgs/s', align: 'right' },
];

/** Pause between a reply and the user's next message: a brisk chat, so a short run shows traffic. */
const THINK_MS = { min: 500, max: 2000 };
/** Messages per second over this much of the recent past. */
const RATE_WINDOW_S = 3;
/** Without a terminal, a new row this often. */
const PLAIN_EVERY_S = 2;

/** Messages per second over a sliding window of progress samples. */
export class RateMeter {
  private readonly samples: Array<{ t: number; n: number }> = [];

  constructor(private readonly windowS: number) {}

  add(t: number, n: number): number {
    this.samples.push({ t, n });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowS) this.samples.shift();
    const first = this.samples[0]!;
    return t > first.t ? (n - first.n) / (t - first.t) : 0;
  }
}

export async function runLoadView(run: LoadRun, term: Terminal): Promise<number> {
  // Loaded here, not at start-up: the chat and health views do not need the load runner.
  const { formatLoadTable, runLoad } = await import('@chat-fleet/loadgen');
  const { style } = term;
  // Hundreds of users start over a few seconds rather than at once (as the load runner does).
  const rampS = run.users < 200 ? 0 : Math.min(5, Math.round(run.users / 200));
  term.line(
    `load: ${run.users} user${run.users === 1 ? '' : 's'} on ${run.gateways.length} gateway${run.gateways.length === 1 ? '' : 's'} ` +
      `for ${run.durationS} s${rampS > 0 ? ` after a ${rampS} s ramp` : ''}, ${THINK_MS.min / 1000}–${THINK_MS.max / 1000} s between messages; Ctrl-C stops early`,
  );
  const total = rampS + run.durationS;
  const meter = new RateMeter(RATE_WINDOW_S);
  const block = new LiveBlock(term);
  let nextPlainS = 0;
  const cells = (p: LoadProgress, rate: number): string[] => [
    `${Math.min(Math.floor(p.elapsedS), Math.ceil(total))}/${Math.ceil(total)} s`,
    String(p.connected),
    String(p.inFlight),
    String(p.messages),
    String(p.failures),
    rate.toFixed(1),
  ];
  const onProgress = (p: LoadProgress): void => {
    const rate = meter.add(p.elapsedS, p.messages);
    const [header, row] = formatTable(COLUMNS, [cells(p, rate)]);
    if (term.tty) {
      const failed = p.failures > 0 ? style.red(row!) : row!;
      block.draw([style.bold(header!), failed]);
    } else if (p.elapsedS >= nextPlainS) {
      // No redraw in a log: the header once, then a row every few seconds.
      if (nextPlainS === 0) term.line(header);
      term.line(row);
      nextPlainS = Math.floor(p.elapsedS / PLAIN_EVERY_S) * PLAIN_EVERY_S + PLAIN_EVERY_S;
    }
  };

  let result: LevelResult;
  try {
    result = await runLoad({
      gateways: run.gateways,
      users: run.users,
      durationS: run.durationS,
      rampS,
      thinkMs: THINK_MS,
      level: `${run.users} users`,
      replyTimeoutMs: 30_000,
      signal: run.signal,
      onProgress,
    });
  } catch (err) {
    term.line(style.red(`the load did not run: ${err instanceof Error ? err.message : String(err)}`));
    return 1;
  }
  block.release();
  term.line();
  term.line(formatLoadTable([result]));
  term.line();
  term.line(
    `${result.messages} messages, ${result.failures} failed, ${result.cached} from the cache, ${result.reconnects} reconnects; ` +
      `${result.peakConnected} sockets at most; ${result.tokens} tokens in ${result.elapsedS} s`,
  );
  const codes = Object.entries(result.errors);
  if (codes.length > 0) term.line(style.red(`failures by code: ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}`));
  return result.failures === 0 && result.messages > 0 && !run.signal.aborted ? 0 : 1;
}
