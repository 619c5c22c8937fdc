// One pino logger per process: JSON lines for machines, pino-pretty for `npm start`.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name: string;
  instance: string;
  level: string;
  pretty: boolean;
}

/** Paths never written to logs: credentials and message text. */
export const LOG_REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'apiKey',
  '*.apiKey',
  'content',
  '*.content',
];

export function createLogger(options: LoggerOptions): Logger {
  return pino({
    name: options.name,
    level: options.level,
    base: { instance: options.instance, pid: process.pid },
    redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,instance,name' } } }
      : {}),
  });
}
