// A reply as the demo prints it, tool calls and sources included, to a pipe and to a terminal.
import { expect, test } from '@jest/globals';
import type { ToolCall } from '@chat-fleet/client';
import { ReplyView } from '../src/reply-view.js';
import { ansi, type Style, type Terminal } from '../src/terminal.js';

const same = (s: string): string => s;
const PLAIN: Style = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same, magenta: same };

function terminal(tty: boolean): Terminal & { out: () => string } {
  let out = '';
  return { tty, columns: 80, rows: 24, style: PLAIN, write: (t) => void (out += t), line: (t = '') => void (out += `${t}\n`), out: () => out };
}

const flight: ToolCall = { callId: 'c1', name: 'flight_status', arguments: { flight: 'XY123' }, state: 'running' };
const policy: ToolCall = { callId: 'c2', name: 'policy_search', arguments: { query: 'rebooking' }, state: 'running' };

test('to a pipe: calls, answers and sources on lines of their own before the reply, the text on the bot line', () => {
  const term = terminal(false);
  const view = new ReplyView(term, 'bot › ');
  view.start();
  view.toolCall(flight);
  view.toolCall(policy);
  view.toolResult({ ...flight, ok: true, summary: 'on time,\ngate B12', state: 'done' });
  view.toolResult({ ...policy, ok: false, summary: 'timed out', state: 'failed' });
  view.sources([{ id: 'p1', title: 'Rebooking policy', url: 'https://example.com/rebooking' }, { id: 'p2', title: 'Baggage\x1b[2J' }]);
  view.token('Yes, ');
  view.token('on time.');
  view.end();
  expect(term.out()).toBe(
    [
      '  → flight_status {"flight":"XY123"}',
      '  → policy_search {"query":"rebooking"}',
      '  ✓ flight_status: on time, gate B12',
      '  ✗ policy_search failed: timed out',
      '  sources: Rebooking policy (https://example.com/rebooking), Baggage[2J',
      'bot › Yes, on time.',
      '',
    ].join('\n'),
  );
});

test('to a pipe: a call after some text goes on its own line; a reset is marked and the reply starts again', () => {
  const term = terminal(false);
  const view = new ReplyView(term, 'bot › ');
  view.start();
  view.token('Let me check.');
  view.toolCall({ ...flight, arguments: 'not json' });
  view.reset(2);
  view.toolCall(flight);
  view.token('On time.');
  view.end();
  expect(term.out()).toBe(['bot › Let me check.', '  → flight_status not json', '', '[the reply restarts: attempt 2]', '  → flight_status {"flight":"XY123"}', 'bot › On time.', ''].join('\n'));
});

test('a reply with nothing but an error still ends its bot line', () => {
  const term = terminal(false);
  const view = new ReplyView(term, 'bot › ');
  view.start();
  view.end();
  expect(term.out()).toBe('bot › \n');
});

test('on a terminal: the lines go above the waiting reply, and a reset erases them with it', () => {
  const term = terminal(true);
  const view = new ReplyView(term, 'bot › ');
  view.start();
  view.toolCall(flight);
  view.toolResult({ ...flight, ok: true, summary: 'on time', state: 'done' });
  expect(term.out()).toBe(`bot › …${ansi.clearLine}  → flight_status {"flight":"XY123"}\nbot › …${ansi.clearLine}  ✓ flight_status: on time\nbot › …`);
  view.token('On');
  const before = term.out().length;
  view.reset(2);
  // Up past the two lines to the first, cleared from there, the prefix written again.
  expect(term.out().slice(before)).toBe(`${ansi.up(2)}${ansi.clearBelow}bot › `);
});
