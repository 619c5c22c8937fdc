// The one command-line kit of the repo's tools (loadtest, bench, demo, trace): strict parsing
// whose failures are usage errors, one way to report them, and the parsers of option values
// (numbers, lists, base URLs, times and time ranges).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type StrictConfig<O extends OptionsConfig> = { args: string[]; strict: true; allowPositionals: false; options: O };
export type ParsedOptions<O extends OptionsConfig> = ReturnType<typeof parseArgs<StrictConfig<O>>>['values'];

/** A bad command line: the tool prints the message and its usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `parseArgs` with no positionals and no unknown options; its complaints become UsageErrors. */
export function parseOptions<const O extends OptionsConfig>(argv: readonly string[], options: O): ParsedOptions<O> {
  try {
    const config: StrictConfig<O> = { args: [...argv], strict: true, allowPositionals: false, options };
    return parseArgs(config).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Reads the process's options with `parse`: `--help` prints `usage` and exits 0, a UsageError
 * prints its message and `usage` and exits 2.
 */
export function readCliArgs<T>(parse: (argv: string[]) => T, usage: string, wantsHelp: (args: T) => boolean): T {
  try {
    const args = parse(process.argv.slice(2));
    if (wantsHelp(args)) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return args;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${usage}\n`);
      process.exit(2);
    }
    throw err;
  }
}

// Values of options, each checked once; a bad one is a UsageError naming its option (`--name`).
// Undefined in, undefined out, so a caller writes `integerOption('users', v.users, 1) ?? default`.

/** A whole number (digits only: no sign, point or exponent) from `min` to `max`. */
export function integerOption(name: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected a whole number ${range(min, max)}, got "${raw}"`);
  }
  return n;
}

/** A finite number from `min` to `max`. */
export function numberOption(name: string, raw: string | undefined, min: number, max = Number.MAX_VALUE): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected a number ${range(min, max)}, got "${raw}"`);
  }
  return n;
}

const range = (min: number, max: number): string => (max >= Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`);

/** `a,b,c`: trimmed, empty items dropped; given but empty is an error. */
export function listOption(name: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--${name}: expected a comma-separated list, got "${raw}"`);
  return items;
}

/** `URL,URL`: http(s) base URLs (scheme, host and port, no path), trailing slashes dropped. */
export function baseUrlsOption(name: string, raw: string | undefined): string[] | undefined {
  const urls = listOption(name, raw)?.map((url) => url.replace(/\/+$/, ''));
  for (const url of urls ?? []) {
    if (!/^https?:\/\/[^/]+$/.test(url)) throw new UsageError(`--${name}: "${url}" is not an http(s) base URL like http://127.0.0.1:8088`);
  }
  return urls;
}

/** A time in ms: `3000` and `250ms` are ms, `3s` and `1.5s` seconds. */
export function msOption(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw.trim());
  if (m === null) throw new UsageError(`--${name}: "${raw}" is not a time (e.g. 3000, 250ms, 3s)`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** A range of times in ms, `MIN-MAX` or one value: `3000-6000`, `3s-6s`, `3-6s` (the max's unit applies to a bare min), `25s`. */
export function msRangeOption(name: string, raw: string): { min: number; max: number } {
  const [a, b, ...rest] = raw.split('-');
  if (a === undefined || rest.length > 0) throw new UsageError(`--${name}: expected MIN-MAX, got "${raw}"`);
  if (b === undefined) {
    const v = msOption(name, a);
    return { min: v, max: v };
  }
  const maxInSeconds = /s$/.test(b.trim()) && !/ms$/.test(b.trim());
  const min = /^\s*\d+(\.\d+)?\s*$/.test(a) && maxInSeconds ? msOption(name, `${a.trim()}s`) : msOption(name, a);
  const max = msOption(name, b);
  if (max < min) throw new UsageError(`--${name}: MAX is below MIN in "${raw}"`);
  return { min, max };
}

/** One of `choices`. */
export function choiceOption<const C extends readonly string[]>(name: string, raw: string | undefined, choices: C): C[number] | undefined {
  if (raw === undefined) return undefined;
  if (!choices.includes(raw)) throw new UsageError(`--${name}: expected ${choices.join(', ')}, got "${raw}"`);
  return raw;
}
