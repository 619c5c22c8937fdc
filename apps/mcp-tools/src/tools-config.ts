// The tools server's configuration: parsed once from the environment at boot, frozen, passed down.
// The variable readers and the one-line errors are the fleet's own (@chat-fleet/shared's config).
import { z } from 'zod';
import { envVar, parseEnv } from '@chat-fleet/shared';
import { DEFAULT_TOOLS_PORT } from './tools-server.js';

const { int, str, bool, optionalStr, logLevel } = envVar;

export const ToolsConfigSchema = z.object({
  MCP_TOOLS_PORT: int(DEFAULT_TOOLS_PORT, 0, 65535),
  HOST: str('127.0.0.1'),
  LOG_LEVEL: logLevel,
  /** When set, every request but /health needs `Authorization: Bearer <token>`. */
  MCP_TOOLS_TOKEN: optionalStr(),
  /** Registers the test tools and the /_calls routes; for the fleet's integration tests only. */
  MCP_TOOLS_TEST: bool(false),
});

export type ToolsConfig = Readonly<z.infer<typeof ToolsConfigSchema>>;

export function loadToolsConfig(env: Record<string, string | undefined> = process.env): ToolsConfig {
  return parseEnv(ToolsConfigSchema, env);
}
