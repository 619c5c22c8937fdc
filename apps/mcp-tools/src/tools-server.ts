// The tools server's HTTP side: MCP over Streamable HTTP at /mcp, /health, the bearer check and,
// with the test tools, the call log at /_calls.
//
// Stateless, as the SDK's docs advise for a server behind a load balancer: no session ids, so any
// replica answers any request and a restarted one loses nothing, and the worker never has to open a
// session again. Each POST gets a fresh McpServer and transport (the SDK's stateless pattern; a
// stateless transport cannot be reused). The tools keep no state between calls, so nothing is lost.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, sendJson, startJsonServer } from '@chat-fleet/shared/http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, isJSONRPCRequest, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { CallLog, type ToolCall } from './call-log.js';
import { InFlightRequests } from './in-flight.js';
import { createToolsMcpServer, type CallOutcome } from './tools-mcp-server.js';
import { PolicyIndex } from './tools/policy-search.js';

export interface ToolsServerOptions {
  /** Default 8100; 0 takes any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Registers the test tools (slow, fail, explode, huge, strict) and GET /_calls, POST /_calls/reset. */
  testTools?: boolean;
  /** When set, every request but GET /health needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Defaults to a silent logger. */
  logger?: Logger;
}

export interface ToolsServer {
  /** The MCP endpoint, `http://<host>:<port>/mcp`. */
  url: string;
  /** The bound port (the real one when asked for 0). */
  port: number;
  /** Stops listening and drops every open connection, calls in progress included. */
  close(): Promise<void>;
}

export const DEFAULT_TOOLS_PORT = 8100;
export const MCP_PATH = '/mcp';

/** The SDK's own limit on a message it reads. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const RequestIdSchema = z.union([z.string(), z.number()]);

const ToolCallMessageSchema = z.object({
  id: RequestIdSchema,
  method: z.literal('tools/call'),
  params: z.looseObject({
    name: z.string(),
    arguments: z.unknown().optional(),
    // Where the SDK finds what it hands a tool handler as `extra._meta`.
    _meta: z.looseObject({ idempotencyKey: z.string().optional() }).optional(),
  }),
});

const CancelMessageSchema = z.object({
  method: z.literal('notifications/cancelled'),
  params: z.looseObject({ requestId: RequestIdSchema }),
});

interface Exchange {
  /** The tools/call requests of this POST, by JSON-RPC id. */
  calls: Map<RequestId, { name: string; startedAt: number; logged: ToolCall | undefined }>;
  /** Closed by a cancel, or its client went away, before the answer was written. */
  aborted: boolean;
}

export async function startToolsServer(options: ToolsServerOptions = {}): Promise<ToolsServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const testTools = options.testTools ?? false;
  const callLog = testTools ? new CallLog() : undefined;
  const policies = new PolicyIndex();
  const inFlight = new InFlightRequests();
  const checkToken = options.token === undefined || options.token === '' ? undefined : bearerCheck(options.token);

  const settle = (exchange: Exchange, id: RequestId, outcome: CallOutcome): void => {
    const call = exchange.calls.get(id);
    if (call === undefined) return;
    exchange.calls.delete(id);
    if (call.logged !== undefined) callLog?.end(call.logged, outcome.cancelled);
    logger.info({ tool: call.name, requestId: id, ms: Date.now() - call.startedAt, ...outcome }, 'tool call');
  };

  const handleMcp = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readJson(req, MAX_BODY_BYTES);
    const messages: unknown[] = Array.isArray(body) ? body : [body];
    // A cancel names its request by id, and each client numbers its requests from 0: the caller's
    // address, with the client id a client sends (the fleet's workers do), tells two callers apart.
    const clientId = req.headers['mcp-client-id'];
    const address = `${req.socket.remoteAddress ?? ''} ${typeof clientId === 'string' ? clientId : ''}`;
    for (const message of messages) {
      const cancel = CancelMessageSchema.safeParse(message);
      if (!cancel.success) continue;
      const outcome = inFlight.cancel(address, cancel.data.params.requestId);
      logger.debug({ requestId: cancel.data.params.requestId, outcome }, 'cancel notification');
    }

    const exchange: Exchange = { calls: new Map(), aborted: false };
    for (const message of messages) {
      const call = ToolCallMessageSchema.safeParse(message);
      if (!call.success) continue;
      const { name, arguments: args, _meta } = call.data.params;
      exchange.calls.set(call.data.id, { name, startedAt: Date.now(), logged: callLog?.start(name, args ?? {}, _meta?.idempotencyKey ?? null) });
    }

    const server = createToolsMcpServer({ policies, testTools, onSettled: (id, outcome) => settle(exchange, id, outcome) });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    // Closing the server closes its transport and aborts every handler still running, which is how
    // a cancel or a vanished client reaches a tool's `extra.signal`.
    const close = (): void => {
      server.close().catch((err: unknown) => logger.warn({ err }, 'closing an MCP server failed'));
    };
    const ids = messages.flatMap((m) => (isJSONRPCRequest(m) ? [m.id] : []));
    const unregister = inFlight.add(address, ids, () => {
      exchange.aborted = true;
      close();
    });
    res.on('close', () => {
      unregister();
      if (!res.writableFinished) exchange.aborted = true;
      // Calls that never reached a handler (refused arguments, unknown tool) end with their answer.
      for (const id of [...exchange.calls.keys()]) settle(exchange, id, { cancelled: exchange.aborted, isError: true });
      close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/health') {
      sendJson(res, 200, { status: 'ok', testTools });
      return;
    }
    if (checkToken !== undefined && !checkToken(req.headers.authorization)) {
      req.resume();
      sendJson(res, 401, rpcError(ErrorCode.InvalidRequest, 'Unauthorized: send Authorization: Bearer <token>'), {
        'WWW-Authenticate': 'Bearer realm="mcp-tools"',
      });
      return;
    }
    if (path === MCP_PATH) {
      if (method === 'POST') return handleMcp(req, res);
      // Stateless: no server-initiated stream (GET) and no session to end (DELETE). The SDK's client
      // takes a 405 on its GET as "this server has no such stream".
      req.resume();
      sendJson(res, 405, rpcError(ErrorCode.ConnectionClosed, 'Method not allowed: this server is stateless, POST only'), { Allow: 'POST' });
      return;
    }
    if (callLog !== undefined && method === 'GET' && path === '/_calls') {
      sendJson(res, 200, { calls: callLog.list() });
      return;
    }
    if (callLog !== undefined && method === 'POST' && path === '/_calls/reset') {
      req.resume();
      callLog.clear();
      sendJson(res, 200, { calls: [] });
      return;
    }
    req.resume();
    sendJson(res, 404, { error: `unknown route ${method} ${path}` });
  };

  const server = await startJsonServer(route, {
    port: options.port ?? DEFAULT_TOOLS_PORT,
    host: options.host ?? '127.0.0.1',
    logger,
    refusal: (err) => rpcError(err.status === 400 ? ErrorCode.ParseError : ErrorCode.InvalidRequest, err.message),
    internalError: rpcError(ErrorCode.InternalError, 'internal error'),
  });
  return { port: server.port, url: `${server.origin}${MCP_PATH}`, close: () => server.close() };
}

function rpcError(code: number, message: string): { jsonrpc: '2.0'; error: { code: number; message: string }; id: null } {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

/** Compares digests, so the time taken says nothing about the token. */
function bearerCheck(token: string): (header: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (header) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (match === null) return false;
    return timingSafeEqual(createHash('sha256').update(match[1]!).digest(), expected);
  };
}
