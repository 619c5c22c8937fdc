import { describe, expect, it } from '@jest/globals';
import {
  baseUrlsOption,
  choiceOption,
  integerOption,
  listOption,
  msOption,
  msRangeOption,
  numberOption,
  parseOptions,
  UsageError,
} from '../src/cli-kit.js';

describe('cli kit', () => {
  it('refuses unknown options and positionals as usage errors', () => {
    expect(parseOptions(['--n', '3'], { n: { type: 'string' } })).toEqual({ n: '3' });
    expect(parseOptions(['--n=3'], { n: { type: 'string' } })).toEqual({ n: '3' });
    expect(() => parseOptions(['--bogus'], { n: { type: 'string' } })).toThrow(UsageError);
    expect(() => parseOptions(['stray'], { n: { type: 'string' } })).toThrow(UsageError);
  });

  it('reads whole numbers and numbers within bounds, naming the option', () => {
    expect(integerOption('users', undefined, 1)).toBeUndefined();
    expect(integerOption('users', ' 200 ', 1, 1000)).toBe(200);
    for (const bad of ['0', '1e3', '1.5', '-2', '', 'ten', '1001']) expect(() => integerOption('users', bad, 1, 1000)).toThrow(UsageError);
    expect(() => integerOption('users', '0', 1)).toThrow(/^--users: expected a whole number ≥ 1, got "0"$/);
    expect(() => integerOption('users', '0', 1, 10)).toThrow(/^--users: expected a whole number from 1 to 10, got "0"$/);
    expect(numberOption('duration', '2.5', 1)).toBe(2.5);
    for (const bad of ['0.5', '', 'x', 'Infinity']) expect(() => numberOption('duration', bad, 1)).toThrow(/--duration/);
  });

  it('reads lists, base URLs and choices', () => {
    expect(listOption('levels', 'l10, l100,,')).toEqual(['l10', 'l100']);
    expect(() => listOption('levels', ' , ')).toThrow(UsageError);
    expect(baseUrlsOption('gateways', 'http://127.0.0.1:8088/, https://b.example')).toEqual(['http://127.0.0.1:8088', 'https://b.example']);
    expect(() => baseUrlsOption('gateways', 'ws://127.0.0.1:8088')).toThrow(UsageError);
    expect(() => baseUrlsOption('gateways', 'http://127.0.0.1:8088/chat')).toThrow(/not an http\(s\) base URL/);
    expect(() => baseUrlsOption('gateways', 'localhost:8088')).toThrow(UsageError);
    expect(choiceOption('redis', 'cluster', ['single', 'cluster'] as const)).toBe('cluster');
    expect(() => choiceOption('redis', 'shards', ['single', 'cluster'] as const)).toThrow(/^--redis: expected single, cluster, got "shards"$/);
  });

  it('reads times and time ranges in ms or seconds', () => {
    expect(msOption('t', '250ms')).toBe(250);
    expect(msOption('t', '1.5s')).toBe(1500);
    expect(msRangeOption('think', '3000-6000')).toEqual({ min: 3000, max: 6000 });
    expect(msRangeOption('think', '3s-6s')).toEqual({ min: 3000, max: 6000 });
    expect(msRangeOption('think', '20-30s')).toEqual({ min: 20_000, max: 30_000 });
    expect(msRangeOption('think', '500ms-2s')).toEqual({ min: 500, max: 2000 });
    expect(msRangeOption('think', '25s')).toEqual({ min: 25_000, max: 25_000 });
    expect(() => msRangeOption('think', '6s-3s')).toThrow(/below/);
    expect(() => msRangeOption('think', 'soon')).toThrow(UsageError);
    expect(() => msRangeOption('think', '1-2-3')).toThrow(UsageError);
  });
});
