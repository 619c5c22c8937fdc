// The interactive chat: lines from stdin become messages, replies stream in place. Lines are
// handled in order (a message typed while a reply streams waits for it), except `/stop`, which
// acts at once; Ctrl-C stops a streaming reply, or leaves at the prompt.
import { createInterface } from 'node:readline';
import type { ChatConnection } from './chat-connection.js';
import type { Fleet } from './fleet-endpoints.js';
import { showHealth } from './health-view.js';
import { describeOutcome, ReplyView } from './reply-view.js';
import { ansi, type Terminal } from './terminal.js';

export interface ReplOptions {
  conn: ChatConnection;
  /** The instances /health shows, found again each time. */
  fleet: () => Promise<Fleet>;
  term: Terminal;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

const HELP = [
  'type a message and press Enter; the reply streams in as the model writes it',
  '  /new      a new session (an empty conversation)',
  '  /stop     stop the reply that is streaming (Ctrl-C does too)',
  '  /health   every gateway and worker, from their /health',
  '  /quit     leave (Ctrl-C or Ctrl-D at the prompt too)',
];

/** Resolves with the exit status when the person leaves or the input ends. */
export function runRepl({ conn, fleet, term, input, output }: ReplOptions): Promise<number> {
  const { style } = term;
  const rl = createInterface({ input, output, terminal: term.tty, prompt: term.tty ? style.bold(style.green('you › ')) : '' });
  const queue: string[] = [];
  let working = false;
  let inputEnded = false;
  let leaving = false;
  /** Notices that arrive while a reply streams wait under it, so the reply's text stays in one piece. */
  const heldNotices: string[] = [];

  const say = (text: string): void => term.line(text);
  const notice = (text: string): void => {
    if (conn.streaming || working) {
      heldNotices.push(text);
      return;
    }
    // At the prompt: print above it and redraw it with what was typed so far.
    if (term.tty) term.write(ansi.clearLine);
    say(style.dim(`· ${text}`));
    if (term.tty && !leaving) rl.prompt(true);
  };
  const flushNotices = (): void => {
    for (const n of heldNotices.splice(0)) say(style.dim(`· ${n}`));
  };

  return new Promise<number>((resolve) => {
    const leave = (status: number): void => {
      if (leaving) return;
      leaving = true;
      conn.close();
      rl.close();
      resolve(status);
    };

    const stop = (): void => void conn.cancel();

    const chat = async (content: string): Promise<void> => {
      if (!term.tty) say(`you › ${content}`);
      const view = new ReplyView(term, style.bold(style.cyan('bot › ')));
      view.start();
      const outcome = await conn.ask(content, view);
      view.end();
      const line = describeOutcome(outcome);
      say(outcome.status === 'error' ? style.red(line) : style.dim(line));
    };

    /** One queued line; true to leave. */
    const handle = async (raw: string): Promise<boolean> => {
      const line = raw.trim();
      if (line === '') return false;
      switch (line) {
        case '/quit':
        case '/exit':
          return true;
        case '/help':
          for (const l of HELP) say(l);
          return false;
        case '/stop':
          say(style.dim('nothing is streaming'));
          return false;
        case '/new':
          await conn.renew();
          say(style.dim(`new session ${conn.sessionId} on ${conn.instance}`));
          return false;
        case '/health':
          await showHealth(await fleet(), term);
          return false;
        default:
          if (/^\/\w+$/.test(line)) {
            say(style.dim(`unknown command ${line}; /help lists them`));
            return false;
          }
          await chat(raw);
          return false;
      }
    };

    const pump = async (): Promise<void> => {
      if (working || leaving) return;
      working = true;
      try {
        while (queue.length > 0 && !leaving) {
          if (await handle(queue.shift()!)) {
            leave(0);
            return;
          }
          flushNotices();
        }
      } catch (err) {
        say(style.red(`error: ${err instanceof Error ? err.message : String(err)}`));
      } finally {
        working = false;
      }
      if (queue.length > 0) void pump();
      else if (inputEnded) leave(0);
      else if (term.tty && !leaving) rl.prompt();
    };

    const interrupt = (): void => {
      if (conn.streaming) {
        stop();
        return;
      }
      if (term.tty) term.line();
      leave(0);
    };

    rl.on('line', (line) => {
      if (line.trim() === '/stop' && conn.streaming) {
        stop();
        return;
      }
      queue.push(line);
      void pump();
    });
    rl.on('close', () => {
      inputEnded = true;
      if (!working) leave(0);
    });
    rl.on('SIGINT', interrupt);
    process.on('SIGINT', interrupt);
    conn.onNotice = notice;

    say(style.dim(`session ${conn.sessionId} on ${conn.instance} (${conn.gateway}); /help lists the commands`));
    if (term.tty) rl.prompt();
  });
}
