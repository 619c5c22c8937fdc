// Composition root of the tools server process: config from the environment, logger, server, signal handling.
import { createLogger, loadOrExit } from '@chat-fleet/shared';
import { loadToolsConfig } from './tools-config.js';
import { startToolsServer } from './tools-server.js';

const config = loadOrExit(() => loadToolsConfig(process.env));
const logger = createLogger({ name: 'mcp-tools', instance: `mcp-tools-${process.pid}`, level: config.LOG_LEVEL, pretty: false });
const tools = await startToolsServer({
  port: config.MCP_TOOLS_PORT,
  host: config.HOST,
  testTools: config.MCP_TOOLS_TEST,
  token: config.MCP_TOOLS_TOKEN,
  logger,
}).catch((err: unknown) => {
  // Typically EADDRINUSE: one line and a non-zero exit instead of an unhandled rejection's stack.
  logger.fatal({ err, port: config.MCP_TOOLS_PORT, host: config.HOST }, 'mcp-tools could not listen');
  process.exit(1);
});
logger.info({ url: tools.url, testTools: config.MCP_TOOLS_TEST, auth: config.MCP_TOOLS_TOKEN === undefined ? 'none' : 'bearer' }, `mcp-tools listening on ${tools.url}`);

const shutdown = (signal: NodeJS.Signals): void => {
  logger.info({ signal }, 'shutting down');
  tools.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'close failed');
      process.exit(1);
    },
  );
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
