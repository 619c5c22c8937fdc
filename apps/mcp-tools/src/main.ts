// Composition root of the tools server process: config from the environment, then the server, its logger and signal handling.
import { loadOrExit } from '@chat-fleet/shared';
import { runServerProcess } from '@chat-fleet/shared/http';
import { loadToolsConfig } from './tools-config.js';
import { startToolsServer } from './tools-server.js';

const config = loadOrExit(() => loadToolsConfig(process.env));
await runServerProcess(
  { name: 'mcp-tools', level: config.LOG_LEVEL, port: config.MCP_TOOLS_PORT, host: config.HOST },
  (logger) => startToolsServer({ port: config.MCP_TOOLS_PORT, host: config.HOST, testTools: config.MCP_TOOLS_TEST, token: config.MCP_TOOLS_TOKEN, logger }),
  () => ({ testTools: config.MCP_TOOLS_TEST, auth: config.MCP_TOOLS_TOKEN === undefined ? 'none' : 'bearer' }),
);
