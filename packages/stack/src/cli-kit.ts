// What every command-line tool of the repo (loadtest, bench, demo) needs to read its options:
// strict parsing whose failures are usage errors, and one way to report them.
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
