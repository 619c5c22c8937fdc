import { expect, test } from '@jest/globals';
import { parseCliArgs, UsageError } from '../src/cli-args.js';

test('modes and their defaults', () => {
  expect(parseCliArgs([]).mode).toEqual({ kind: 'chat' });
  expect(parseCliArgs(['--auto']).mode).toEqual({ kind: 'auto' });
  expect(parseCliArgs(['--load', '50']).mode).toEqual({ kind: 'load', users: 50, durationS: 20 });
  expect(parseCliArgs(['--load', '5', '--duration', '2.5']).mode).toEqual({ kind: 'load', users: 5, durationS: 2.5 });
  expect(parseCliArgs(['--health', '--watch']).mode).toEqual({ kind: 'health', watch: true });
});

test('URL lists are trimmed and checked', () => {
  const args = parseCliArgs(['--gateways', 'http://127.0.0.1:8088/, http://10.0.0.2:8089', '--workers', 'http://127.0.0.1:9464']);
  expect(args.gateways).toEqual(['http://127.0.0.1:8088', 'http://10.0.0.2:8089']);
  expect(args.workers).toEqual(['http://127.0.0.1:9464']);
  expect(parseCliArgs([]).gateways).toBeUndefined();
  expect(() => parseCliArgs(['--gateways', 'ws://127.0.0.1:8088'])).toThrow(UsageError);
  expect(() => parseCliArgs(['--gateways', 'http://127.0.0.1:8088/chat'])).toThrow(/not an http\(s\) base URL/);
});

test('options that do not go together are refused', () => {
  for (const argv of [
    ['--auto', '--health'],
    ['--watch'],
    ['--duration', '5'],
    ['--session', 's1'],
    ['--load', '5', '--session', 's', '--token', 't'],
    ['--load', '0'],
    ['--load', '1.5'],
    ['--nope'],
  ]) {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
  }
  expect(parseCliArgs(['--session', 's1', '--token', 't']).session).toEqual({ sessionId: 's1', token: 't' });
});
