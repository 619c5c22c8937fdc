// The boot of a process that is one HTTP server (the simulator, the MCP tools server), for its main.ts.
import { createLogger, type Logger } from '../logger.js';

export interface ServerProcessOptions {
  /** The process's name: its logger's, and `<name>-<pid>` its instance. */
  name: string;
  level: string;
  /** Where it listens, for the line saying it could not. */
  port: number;
  host: string;
}

/**
 * Starts the server, or logs one line and exits 1 when it cannot listen (typically EADDRINUSE)
 * instead of an unhandled rejection's stack; logs where it listens (with `describe`'s fields);
 * on SIGTERM or SIGINT closes it and exits 0, or 1 when closing failed.
 */
export async function runServerProcess<S extends { url: string; close(): Promise<void> }>(
  options: ServerProcessOptions,
  start: (logger: Logger) => Promise<S>,
  describe: (server: S) => Record<string, unknown> = () => ({}),
): Promise<S> {
  const { name, port, host } = options;
  const logger = createLogger({ name, instance: `${name}-${process.pid}`, level: options.level, pretty: false });
  const server = await start(logger).catch((err: unknown) => {
    logger.fatal({ err, port, host }, `${name} could not listen`);
    process.exit(1);
  });
  logger.info({ url: server.url, ...describe(server) }, `${name} listening on ${server.url}`);

  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return server;
}
