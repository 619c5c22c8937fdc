// Real HTTP against an in-process tools server, through the MCP SDK's own client, as the worker talks to it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolCall } from '../src/call-log.js';
import { startToolsServer, type ToolsServer } from '../src/tools-server.js';

const EXAMPLE_TOOLS = ['flight_status', 'policy_search', 'tone_check'];
const TEST_TOOLS = ['slow', 'fail', 'explode', 'huge', 'strict'];

let server: ToolsServer;
const clients: Client[] = [];

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'mcp-tools-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function text(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === 'text' ? first.text : '';
}

const base = (s: ToolsServer): string => s.url.replace(/\/mcp$/, '');

async function calls(): Promise<ToolCall[]> {
  const res = await fetch(`${base(server)}/_calls`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { calls: ToolCall[] }).calls;
}

/** Polls the call log until `check` holds; a cancel ends its call a moment after the client gives up. */
async function callsWhen(check: (calls: ToolCall[]) => boolean, timeoutMs = 5000): Promise<ToolCall[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await calls();
    if (check(now) || Date.now() > deadline) return now;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  server = await startToolsServer({ port: 0, testTools: true });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
});

beforeEach(async () => {
  const res = await fetch(`${base(server)}/_calls/reset`, { method: 'POST' });
  expect(res.status).toBe(200);
});

describe('the example tools', () => {
  it('lists every tool with a description and the JSON Schema of its arguments', async () => {
    const client = await connect(server.url);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([...EXAMPLE_TOOLS, ...TEST_TOOLS]);
    for (const tool of tools) expect(tool.description?.length).toBeGreaterThan(20);
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get('flight_status')?.inputSchema).toMatchObject({
      type: 'object',
      properties: { flight: { type: 'string', pattern: '^[A-Za-z0-9]{2}[0-9]{1,4}$' } },
      required: ['flight'],
    });
    expect(byName.get('policy_search')?.inputSchema).toMatchObject({
      properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 5, default: 3 } },
      required: ['query'],
    });
    expect(byName.get('tone_check')?.inputSchema).toMatchObject({ properties: { text: { type: 'string' } }, required: ['text'] });
    expect(byName.get('strict')?.inputSchema).toMatchObject({
      properties: { count: { type: 'integer', minimum: 1, maximum: 10 }, label: { type: 'string' } },
      required: ['count', 'label'],
      additionalProperties: false,
    });
    for (const name of ['flight_status', 'policy_search', 'tone_check']) expect(byName.get(name)?.outputSchema).toMatchObject({ type: 'object' });
  });

  it('flight_status: XY123 is on time, in a sentence and in structured fields', async () => {
    const client = await connect(server.url);
    const result = await call(client, 'flight_status', { flight: 'xy123' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ flight: 'XY123', status: 'on_time', delayMinutes: 0 });
    const s = result.structuredContent as Record<string, string>;
    expect(s.departureTime).toMatch(/^\d\d:\d\d$/);
    expect(s.departureAirport).not.toBe(s.arrivalAirport);
    expect(text(result)).toBe(
      `Flight XY123 from ${s.departureCity} (${s.departureAirport}) to ${s.arrivalCity} (${s.arrivalAirport}) is on time: it departs at ${s.departureTime} from gate ${s.gate} and arrives at ${s.arrivalTime}.`,
    );
  });

  it('policy_search: the rebooking question finds the rebooking policy first, with its source', async () => {
    const client = await connect(server.url);
    const result = await call(client, 'policy_search', { query: 'What is the rebooking policy?' });
    const { passages, sources } = result.structuredContent as {
      passages: { id: string; title: string; url: string; text: string; score: number }[];
      sources: { id: string; title: string; url: string }[];
    };
    expect(passages[0]).toMatchObject({ id: 'rebooking', title: 'Rebooking policy', url: 'https://example.com/policies/rebooking' });
    expect(passages[0]!.text).toMatch(/rebook/i);
    expect(passages.length).toBeLessThanOrEqual(3);
    // Exactly the shape the worker turns into a sources frame.
    expect(sources).toEqual(passages.map(({ id, title, url }) => ({ id, title, url })));
    expect(text(result).startsWith(`[rebooking] Rebooking policy\n${passages[0]!.text}`)).toBe(true);

    const one = await call(client, 'policy_search', { query: 'lost luggage', limit: 1 });
    expect((one.structuredContent as { sources: unknown[] }).sources).toEqual([
      { id: 'baggage', title: 'Baggage policy', url: 'https://example.com/policies/baggage' },
    ]);
    const none = await call(client, 'policy_search', { query: 'hello there' });
    expect(none.structuredContent).toEqual({ passages: [], sources: [] });
    expect(text(none)).toBe('No policy matches "hello there".');
  });

  it('tone_check: tells a rude message from a polite one', async () => {
    const client = await connect(server.url);
    const rude = await call(client, 'tone_check', { text: 'You are useless and this airline is a JOKE!!!' });
    expect(rude.structuredContent).toMatchObject({ tone: 'rude' });
    expect((rude.structuredContent as { sentiment: number }).sentiment).toBeLessThan(0);
    expect(text(rude)).toMatch(/^The tone is rude, the sentiment negative/);

    const polite = await call(client, 'tone_check', { text: 'Could you please help me rebook my flight? Thank you.' });
    expect(polite.structuredContent).toMatchObject({ tone: 'polite', notes: ['polite words: please, thank'] });
    expect((polite.structuredContent as { sentiment: number }).sentiment).toBeGreaterThan(0);
  });
});

describe('refusals', () => {
  // SDK 1.x's McpServer answers a call it refuses with a result, isError: true, not a JSON-RPC error.
  it('refuses arguments that do not match the schema with an isError result, before the handler runs', async () => {
    const client = await connect(server.url);
    const badFlight = await call(client, 'flight_status', { flight: 'not a flight' });
    expect(badFlight.isError).toBe(true);
    expect(text(badFlight)).toMatch(/^MCP error -32602: Input validation error: Invalid arguments for tool flight_status: .*flight number/);
    expect(badFlight.structuredContent).toBeUndefined();

    for (const args of [{ count: 11, label: 'x' }, { count: 2 }, { count: 1.5, label: 'x' }, { count: 2, label: 'x', extra: true }]) {
      const refused = await call(client, 'strict', args);
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/Input validation error: Invalid arguments for tool strict/);
    }
    const accepted = await call(client, 'strict', { count: 3, label: 'three' });
    expect(accepted.isError).toBeFalsy();
    expect(accepted.structuredContent).toEqual({ count: 3, label: 'three' });

    const unknown = await call(client, 'no_such_tool', {});
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toBe('MCP error -32602: Tool no_such_tool not found');

    // Refused calls are logged too, with the arguments as sent.
    const logged = await calls();
    expect(logged.map((c) => c.name)).toEqual(['flight_status', 'strict', 'strict', 'strict', 'strict', 'strict', 'no_such_tool']);
    expect(logged[4]!.arguments).toEqual({ count: 2, label: 'x', extra: true });
    expect(logged.every((c) => c.endedAt !== undefined && !c.cancelled)).toBe(true);
  });

  it('needs the bearer token when one is set, except on /health', async () => {
    const guarded = await startToolsServer({ port: 0, token: 'secret-token-123' });
    try {
      const bare = await fetch(guarded.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(bare.status).toBe(401);
      expect(bare.headers.get('www-authenticate')).toBe('Bearer realm="mcp-tools"');
      const wrong = await fetch(guarded.url, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '{}' });
      expect(wrong.status).toBe(401);
      expect((await fetch(`${base(guarded)}/health`)).status).toBe(200);

      const refused = await connect(guarded.url).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(StreamableHTTPError);
      expect((refused as StreamableHTTPError).code).toBe(401);

      const client = await connect(guarded.url, { Authorization: 'Bearer secret-token-123' });
      expect((await call(client, 'flight_status', { flight: 'XY123' })).isError).toBeFalsy();
    } finally {
      await guarded.close();
    }
  });
});

describe('the test tools and the call log', () => {
  it('slow: a call cancelled through an AbortSignal stops waiting and is logged as cancelled', async () => {
    const client = await connect(server.url);
    const abort = new AbortController();
    const started = Date.now();
    const pending = client.callTool({ name: 'slow', arguments: { ms: 30_000 } }, undefined, { signal: abort.signal });
    setTimeout(() => abort.abort(), 200);
    await expect(pending).rejects.toThrow(/AbortError|aborted/);
    const [slow] = await callsWhen((c) => c[0]?.endedAt !== undefined);
    expect(slow).toMatchObject({ name: 'slow', arguments: { ms: 30_000 }, cancelled: true });
    expect(Date.parse(slow!.endedAt!) - Date.parse(slow!.startedAt)).toBeLessThan(5000);
    expect(Date.now() - started).toBeLessThan(5000);

    expect(text(await call(client, 'slow', { ms: 50 }))).toBe('slept 50 ms');
    expect((await calls())[1]).toMatchObject({ name: 'slow', cancelled: false });
  });

  it('slow: a client that drops the connection cancels its call', async () => {
    const abort = new AbortController();
    // A bare JSON-RPC request: a stateless server answers without an initialize first.
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow', arguments: { ms: 30_000 } } }),
      signal: abort.signal,
    });
    // The answer's event stream is open; the call runs.
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await calls()).toHaveLength(1);
    abort.abort();
    const [slow] = await callsWhen((c) => c[0]?.endedAt !== undefined);
    expect(slow).toMatchObject({ name: 'slow', cancelled: true });
  });

  it('a cancel that names a request id two clients have in flight is ignored: both calls finish', async () => {
    // Each client counts its request ids from 0 (initialize), so both send this call as id 1.
    const [a, b] = await Promise.all([connect(server.url), connect(server.url)]);
    const abort = new AbortController();
    const cancelled = a.callTool({ name: 'slow', arguments: { ms: 600 } }, undefined, { signal: abort.signal });
    const kept = b.callTool({ name: 'slow', arguments: { ms: 600 } });
    await callsWhen((c) => c.length === 2);
    abort.abort();
    await expect(cancelled).rejects.toThrow();
    expect(text((await kept) as CallToolResult)).toBe('slept 600 ms');
    const logged = await callsWhen((c) => c.every((call) => call.endedAt !== undefined));
    expect(logged.map((c) => c.cancelled)).toEqual([false, false]);
  });

  it('a client id header (mcp-client-id, as the workers send) tells two clients apart: the cancel stops only its own call', async () => {
    const [a, b] = await Promise.all([connect(server.url, { 'mcp-client-id': 'worker-a' }), connect(server.url, { 'mcp-client-id': 'worker-b' })]);
    const abort = new AbortController();
    const cancelled = a.callTool({ name: 'slow', arguments: { ms: 2000 } }, undefined, { signal: abort.signal });
    const kept = b.callTool({ name: 'slow', arguments: { ms: 600 } });
    await callsWhen((c) => c.length === 2);
    abort.abort();
    await expect(cancelled).rejects.toThrow();
    expect(text((await kept) as CallToolResult)).toBe('slept 600 ms');
    const logged = await callsWhen((c) => c.every((call) => call.endedAt !== undefined));
    expect(logged.map((c) => [(c.arguments as { ms: number }).ms, c.cancelled])).toEqual([
      [2000, true],
      [600, false],
    ]);
  });

  it('records the idempotency key the caller sends in _meta', async () => {
    const client = await connect(server.url);
    await client.callTool({ name: 'tone_check', arguments: { text: 'fine' }, _meta: { idempotencyKey: 'msg-1:call-1' } });
    await client.callTool({ name: 'flight_status', arguments: { flight: 'AB12' } });
    const logged = await calls();
    expect(logged).toEqual([
      expect.objectContaining({ name: 'tone_check', arguments: { text: 'fine' }, idempotencyKey: 'msg-1:call-1', cancelled: false }),
      expect.objectContaining({ name: 'flight_status', arguments: { flight: 'AB12' }, idempotencyKey: null, cancelled: false }),
    ]);
    for (const c of logged) expect(Date.parse(c.endedAt!)).toBeGreaterThanOrEqual(Date.parse(c.startedAt));
  });

  it('huge answers with the size asked; fail and explode are errors', async () => {
    const client = await connect(server.url);
    const size = 5 * 1024 * 1024;
    expect(text(await call(client, 'huge', { bytes: size }))).toHaveLength(size);
    expect((await call(client, 'huge', { bytes: size + 1 })).isError).toBe(true);

    const failed = await call(client, 'fail', { message: 'no such booking' });
    expect(failed).toEqual({ content: [{ type: 'text', text: 'no such booking' }], isError: true });
    // SDK 1.x's McpServer turns a throw inside a handler into an isError result carrying its message.
    const exploded = await call(client, 'explode', {});
    expect(exploded).toEqual({ content: [{ type: 'text', text: 'explode: the handler threw' }], isError: true });
  });

  it('/_calls/reset empties the log; GET /mcp is refused, as a stateless server has no stream to offer', async () => {
    const client = await connect(server.url);
    await call(client, 'tone_check', { text: 'hello' });
    expect(await calls()).toHaveLength(1);
    expect(await (await fetch(`${base(server)}/_calls/reset`, { method: 'POST' })).json()).toEqual({ calls: [] });
    expect(await calls()).toEqual([]);
    const get = await fetch(server.url, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('without testTools: only the example tools, and no call log', async () => {
    const plain = await startToolsServer({ port: 0 });
    try {
      const client = await connect(plain.url);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(EXAMPLE_TOOLS);
      expect((await fetch(`${base(plain)}/_calls`)).status).toBe(404);
      expect(await (await fetch(`${base(plain)}/health`)).json()).toEqual({ status: 'ok', testTools: false });
    } finally {
      await plain.close();
    }
  });
});
