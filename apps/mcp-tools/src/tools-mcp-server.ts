// The MCP server of the fleet's tools: which tools exist and how a call's end is reported. A fresh
// one serves each HTTP request (see tools-server.ts); building it is cheap, the policy index is shared.
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, RequestId, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { registerFlightStatus } from './tools/flight-status.js';
import { registerPolicySearch, type PolicyIndex } from './tools/policy-search.js';
import { registerTestTools } from './tools/test-tools.js';
import { registerToneCheck } from './tools/tone-check.js';

export const SERVER_INFO = { name: 'chat-fleet-tools', version: '0.1.0' } as const;

const INSTRUCTIONS =
  'Tools of a fictional airline: flight_status for a flight number, policy_search for questions about its rules (cite the passages by id), tone_check to read the tone of a text.';

export interface CallOutcome {
  /** The request was cancelled (or its client went away) before the handler returned. */
  cancelled: boolean;
  /** The handler answered `isError: true` or threw. */
  isError: boolean;
}

export interface ToolsMcpServerOptions {
  policies: PolicyIndex;
  testTools: boolean;
  /** Called once per tool call that reached its handler, when the handler returns or throws. */
  onSettled?: (requestId: RequestId, outcome: CallOutcome) => void;
}

type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type ToolHandler = (args: unknown, extra: ToolExtra) => CallToolResult | Promise<CallToolResult>;

export function createToolsMcpServer(options: ToolsMcpServerOptions): McpServer {
  const server = new McpServer(SERVER_INFO, { instructions: INSTRUCTIONS });
  const tools = [
    registerFlightStatus(server),
    registerPolicySearch(server, options.policies),
    registerToneCheck(server),
    ...(options.testTools ? registerTestTools(server) : []),
  ];
  const onSettled = options.onSettled;
  if (onSettled !== undefined) for (const tool of tools) reportSettled(tool, onSettled);
  return server;
}

/** Wraps a tool's handler so its end is reported; every tool here takes arguments, so the handler is (args, extra). */
function reportSettled(tool: RegisteredTool, onSettled: (requestId: RequestId, outcome: CallOutcome) => void): void {
  const run = tool.handler as ToolHandler;
  const reported: ToolHandler = async (args, extra) => {
    let isError = true;
    try {
      const result = await run(args, extra);
      isError = result.isError === true;
      return result;
    } finally {
      onSettled(extra.requestId, { cancelled: extra.signal.aborted, isError });
    }
  };
  tool.update({ callback: reported });
}
