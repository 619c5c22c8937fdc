export { startToolsServer, DEFAULT_TOOLS_PORT, MCP_PATH, type ToolsServer, type ToolsServerOptions } from './tools-server.js';
export { ToolsConfigSchema, loadToolsConfig, type ToolsConfig } from './tools-config.js';
export { createToolsMcpServer, SERVER_INFO, type CallOutcome, type ToolsMcpServerOptions } from './tools-mcp-server.js';
export { CallLog, type ToolCall } from './call-log.js';
export { flightStatus, describeFlight, FlightStatusSchema, FLIGHT_NUMBER, type FlightStatus } from './tools/flight-status.js';
export { PolicyIndex, formatPassages, PolicySearchResultSchema, MIN_SCORE, type Passage, type PolicySearchResult } from './tools/policy-search.js';
export { POLICIES, type PolicyDocument } from './tools/policies.js';
export { checkTone, describeTone, ToneResultSchema, type ToneResult } from './tools/tone-check.js';
