// One pino logger per process: JSON lines for machines, pino-pretty for `npm start`.
import { pino, type Logger } from 'pino';
import { traceIdsOf } from './telemetry/trace-context.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name: string;
  instance: string;
  level: string;
  pretty: boolean;
}

/** Paths never written to logs: credentials and message text (scrubbed or not). */
export const LOG_REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'content',
  '*.content',
  'messages',
  '*.messages',
  'systemPrompt',
  '*.systemPrompt',
  'reply',
  '*.reply',
  'text',
  '*.text',
];

export function createLogger(options: LoggerOptions): Logger {
  return pino({
    name: options.name,
    level: options.level,
    base: { instance: options.instance, pid: process.pid },
    redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
    // Inside a traced message every line carries its trace, to jump from a log line to the trace.
    mixin: () => traceIdsOf(),
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,instance,name' } } }
      : {}),
  });
}
