// `--auto`: a scripted conversation of a few turns, each reply streamed in place, then every reply
// checked against the history the gateway stored. Exit status 0 only when each one is whole.
import type { ReplyOutcome } from '@chat-fleet/client';
import type { ChatConnection } from './chat-connection.js';
import { describeOutcome, ReplyView } from './reply-view.js';
import type { Terminal } from './terminal.js';

/** The turns; the first names the user, so each run's context (and the model's work) is new, not cached. */
export const autoScript = (name: string): string[] => [
  `Hello, I am ${name}. In two sentences, what is a chat fleet?`,
  'How does a reply survive a dropped connection?',
  'Thanks. Sum that up in one line.',
];

/** Typing speed of the scripted lines on a terminal (for a recording); instant elsewhere. */
const TYPE_MS_PER_CHAR = 25;

export async function runAuto(conn: ChatConnection, term: Terminal, script: readonly string[]): Promise<number> {
  const { style } = term;
  term.line(style.dim(`session ${conn.sessionId} on ${conn.instance} (${conn.gateway})`));
  const notices: string[] = [];
  conn.onNotice = (text) => notices.push(text);
  const outcomes: ReplyOutcome[] = [];
  for (const content of script) {
    term.write(style.bold(style.green('you › ')));
    await type(term, content);
    const view = new ReplyView(term, style.bold(style.cyan('bot › ')));
    view.start();
    const outcome = await conn.ask(content, view);
    view.end();
    const ok = outcome.status === 'done' && outcome.finishReason !== 'cancelled';
    const line = describeOutcome(outcome);
    term.line(ok ? style.dim(line) : style.red(line));
    for (const n of notices.splice(0)) term.line(style.dim(`· ${n}`));
    outcomes.push(outcome);
    if (!ok) break;
  }

  const failures: string[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === 'error') failures.push(`turn ${i + 1}: error ${o.error.code}`);
    else if (o.finishReason === 'cancelled') failures.push(`turn ${i + 1}: cancelled`);
  });
  if (outcomes.length < script.length) failures.push(`${script.length - outcomes.length} turn(s) not sent`);

  // The stored history is the reference: what streamed must be exactly what the worker stored.
  const credentials = conn.credentials;
  if (failures.length === 0 && credentials !== undefined) {
    const history = await conn.client.api.history(credentials);
    for (const [i, o] of outcomes.entries()) {
      if (o.status !== 'done') continue;
      const stored = history.messages.find((m) => m.id === o.messageId && m.role === 'assistant');
      if (stored === undefined) failures.push(`turn ${i + 1}: reply ${o.messageId} is not in the history`);
      else if (stored.content !== o.text) failures.push(`turn ${i + 1}: the streamed text differs from the stored reply`);
    }
  }

  term.line();
  if (failures.length === 0) {
    term.line(style.green(`${outcomes.length} of ${script.length} replies whole, each equal to the stored history`));
    return 0;
  }
  for (const f of failures) term.line(style.red(f));
  return 1;
}

async function type(term: Terminal, text: string): Promise<void> {
  if (!term.tty) {
    term.line(text);
    return;
  }
  for (const ch of text) {
    term.write(ch);
    await new Promise((r) => setTimeout(r, TYPE_MS_PER_CHAR));
  }
  term.line();
}
