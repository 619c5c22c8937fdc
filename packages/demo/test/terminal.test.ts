import { expect, test } from '@jest/globals';
import { displayWidth, fitLine, printable, rowsBelow } from '../src/terminal.js';
import { formatTable, formatUptime } from '../src/text-table.js';

test('model text cannot move the cursor or recolour the terminal; newlines and tabs stay', () => {
  expect(printable('a\x1b[2J\x1b]0;title\x07b\r\nc\td\u009be')).toBe('a[2J]0;titleb\nc\tde');
});

test('display width: escapes take none, CJK and emoji two, combining marks none', () => {
  expect(displayWidth('\x1b[1mbold\x1b[22m')).toBe(4);
  expect(displayWidth('日本')).toBe(4);
  expect(displayWidth('ok 👍')).toBe(5);
  expect(displayWidth('e\u0301')).toBe(1);
});

test('rows below the start of a reply, for erasing it on reset', () => {
  expect(rowsBelow('bot › hello', 80)).toBe(0);
  expect(rowsBelow('x'.repeat(80), 80)).toBe(0); // the wrap waits for the next character
  expect(rowsBelow('x'.repeat(81), 80)).toBe(1);
  expect(rowsBelow('one\ntwo\n', 80)).toBe(2);
  expect(rowsBelow(`${'x'.repeat(80)}\nnext`, 80)).toBe(1);
  expect(rowsBelow('日'.repeat(41), 80)).toBe(1);
});

test('lines redrawn in place are cut to the width, colour codes kept', () => {
  expect(fitLine('short', 10)).toBe('short');
  const cut = fitLine('\x1b[32mabcdefghijkl\x1b[39m', 6);
  expect(displayWidth(cut)).toBe(6);
  expect(cut.startsWith('\x1b[32mabcde…')).toBe(true);
});

test('tables align columns; colour is applied after padding', () => {
  const lines = formatTable(
    [{ header: 'name' }, { header: 'n', align: 'right' }],
    [
      ['gateway-1', '12'],
      [{ text: 'w', paint: (s) => `<${s}>` }, '3'],
    ],
  );
  expect(lines).toEqual(['name        n', 'gateway-1  12', '<w        >   3']);
  expect([formatUptime(7), formatUptime(185), formatUptime(3723)]).toEqual(['0:07', '3:05', '1:02:03']);
});
