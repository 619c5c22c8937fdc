// The tools the model is offered: every tool of the configured MCP servers (Streamable HTTP,
// through the official SDK's client), listed at start and again when a server says its list
// changed or every minute, and called on the model's behalf. A call never fails the reply: a
// tool that is unknown, gets arguments its schema refuses, fails, times out or is unreachable
// gives the model an error result to answer from. Only a cancel (the caller's signal) throws.
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode as McpErrorCode, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';
import { SourceSchema, type Logger, type McpServerConfig, type Source } from '@chat-fleet/shared';
import { z } from 'zod';
import type { ModelTool, ModelToolCall } from '../model-client.js';
import { countTextTokens } from '../token-counter.js';

export interface ToolboxOptions {
  /** Bound on one call (TOOL_TIMEOUT_MS). */
  timeoutMs: number;
  /** A result longer than this many UTF-8 bytes is cut (TOOL_RESULT_MAX_BYTES). */
  maxResultBytes: number;
  /** How often every server's tool list is read again. Default 60 s. */
  refreshMs?: number;
  log: Logger;
}

/** What a call gave back, for the model, the client and the history. */
export interface ToolOutcome {
  ok: boolean;
  /** What the model is given: the result's text (cut to the cap), or `error: <why>`. */
  content: string;
  /** One short line for the client's `tool_result` frame. */
  summary: string;
  /** The sources the result names (`structuredContent.sources`). */
  sources: Source[];
  /** Retrieved passages (`structuredContent.passages`), for a tool used as context. */
  passages: Passage[];
}

export const PassageSchema = z.object({ id: z.string(), title: z.string(), url: z.string().optional(), text: z.string() });
export type Passage = z.infer<typeof PassageSchema>;

interface OfferedTool {
  server: ServerLink;
  /** The tool's own name on its server (the offered name may be cleaned up for the model). */
  remoteName: string;
  validate: JsonSchemaValidator<unknown>;
  definition: ModelTool;
}

const SUMMARY_CHARS = 160;
/** A server that could not be listed is tried again after this long. */
const RETRY_MS = 3000;
const validator = new AjvJsonSchemaValidator();

/** One MCP server: its client, connected on first use and again after a failure. */
class ServerLink {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  tools: Tool[] = [];

  constructor(
    readonly config: McpServerConfig,
    private readonly onListChanged: () => void,
  ) {}

  connected(): Promise<Client> {
    if (this.client !== undefined) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    const client = new Client(
      { name: 'chat-fleet-worker', version: '1.0.0' },
      { jsonSchemaValidator: validator, listChanged: { tools: { onChanged: () => this.onListChanged() } } },
    );
    // `mcp-client-id` lets a stateless server match a cancel to this client's request (ids are per client).
    const headers = { ...this.config.headers, 'mcp-client-id': randomUUID() };
    const transport = new StreamableHTTPClientTransport(new URL(this.config.url), { requestInit: { headers } });
    client.onclose = () => {
      if (this.client === client) this.client = undefined;
    };
    await client.connect(transport);
    this.client = client;
    return client;
  }

  /** Reads the server's whole tool list (every page). */
  async list(): Promise<Tool[]> {
    const client = await this.connected();
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    this.tools = tools;
    return tools;
  }

  /** Forgets the connection (a transport failure): the next call connects again. */
  drop(): void {
    const client = this.client;
    this.client = undefined;
    void client?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }
}

export class McpToolbox {
  private readonly links: ServerLink[];
  private offered = new Map<string, OfferedTool>();
  private definitions: readonly ModelTool[] = [];
  private fingerprint = '';
  private definitionTokens = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private started = false;

  constructor(
    servers: readonly McpServerConfig[],
    private readonly options: ToolboxOptions,
  ) {
    this.links = servers.map((config) => new ServerLink(config, () => void this.refresh()));
  }

  /** Lists every server's tools. A server that cannot be reached is logged and tried again at the next refresh. */
  async start(): Promise<void> {
    this.started = true;
    await this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 60_000);
    this.refreshTimer.unref();
  }

  /** The tools to offer the model now (OpenAI function tools); empty when there are none. */
  get tools(): readonly ModelTool[] {
    return this.definitions;
  }

  /** What offering the tools adds to a prompt, in tokens (models count the definitions as prompt). */
  get tokens(): number {
    return this.definitionTokens;
  }

  /** Identifies the tool set offered (names and schemas), for the response cache's key. */
  get toolset(): string {
    return this.fingerprint;
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.relist().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async relist(): Promise<void> {
    let unreachable = false;
    const listed = await Promise.all(
      this.links.map(async (link) => {
        try {
          return { link, tools: await link.list() };
        } catch (err) {
          link.drop();
          unreachable = true;
          this.options.log.warn({ err, server: link.config.name, url: link.config.url }, 'could not list the tools of an MCP server; its tools are not offered until it answers');
          return { link, tools: link.tools };
        }
      }),
    );
    const offered = new Map<string, OfferedTool>();
    for (const { link, tools } of listed) {
      for (const tool of tools) {
        const name = modelToolName(tool.name);
        if (offered.has(name)) {
          this.options.log.warn({ tool: tool.name, server: link.config.name }, 'two MCP servers offer a tool of the same name; the first one configured is used');
          continue;
        }
        const parameters = tool.inputSchema as Record<string, unknown>;
        offered.set(name, {
          server: link,
          remoteName: tool.name,
          validate: validator.getValidator(parameters),
          definition: { type: 'function', function: { name, ...(tool.description === undefined ? {} : { description: tool.description }), parameters } },
        });
      }
    }
    this.offered = offered;
    this.definitions = [...offered.values()].map((t) => t.definition);
    this.fingerprint = this.definitions.length === 0 ? '' : JSON.stringify(this.definitions);
    this.definitionTokens = this.fingerprint === '' ? 0 : countTextTokens(this.fingerprint);
    // A server that did not answer (not started yet, restarting) is asked again soon, not in a minute.
    if (unreachable && this.started) setTimeout(() => void this.refresh(), RETRY_MS).unref();
  }

  /**
   * Runs the model's call. Resolves with the outcome, failures included; rejects only when
   * `signal` aborts (the reply was cancelled or its attempt stopped), after telling the server.
   */
  async call(call: ModelToolCall, context: { signal: AbortSignal; idempotencyKey: string }): Promise<ToolOutcome> {
    const tool = this.offered.get(call.name);
    if (tool === undefined) return failed(`there is no tool named "${call.name}"`);
    let args: unknown;
    try {
      args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch {
      return failed('the arguments are not valid JSON');
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) return failed('the arguments must be a JSON object');
    const check = tool.validate(args);
    if (!check.valid) return failed(`invalid arguments: ${check.errorMessage}`);
    return this.run(tool.server, tool.remoteName, args as Record<string, unknown>, context);
  }

  /** Calls a tool by `server/tool` (a tool used as a context provider), whether or not it is offered to the model. */
  async callByRef(ref: string, args: Record<string, unknown>, context: { signal: AbortSignal; idempotencyKey: string }): Promise<ToolOutcome> {
    const slash = ref.indexOf('/');
    const link = this.links.find((l) => l.config.name === ref.slice(0, slash));
    if (slash < 0 || link === undefined) return failed(`no MCP server is configured for "${ref}"`);
    return this.run(link, ref.slice(slash + 1), args, context);
  }

  private async run(link: ServerLink, name: string, args: Record<string, unknown>, context: { signal: AbortSignal; idempotencyKey: string }): Promise<ToolOutcome> {
    const { signal, idempotencyKey } = context;
    signal.throwIfAborted();
    try {
      const client = await link.connected();
      // The key lets a tool with side effects recognise a call repeated by a restarted reply.
      const result = await client.callTool({ name, arguments: args, _meta: { idempotencyKey } }, undefined, { signal, timeout: this.options.timeoutMs });
      return this.outcome(result);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof McpError) {
        if (err.code === (McpErrorCode.RequestTimeout as number)) return failed(`the tool did not answer within ${this.options.timeoutMs} ms`);
        return failed(err.message);
      }
      // Not the tool's answer: the connection (a restarted server, a lost session). Connect anew next time.
      link.drop();
      return failed(`the tool's server could not be reached (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  private outcome(result: Awaited<ReturnType<Client['callTool']>>): ToolOutcome {
    const parts = Array.isArray(result.content) ? (result.content as Array<Record<string, unknown>>) : [];
    const text = parts.map(describePart).join('\n');
    const structured = (result.structuredContent ?? {}) as Record<string, unknown>;
    const sources = z.array(SourceSchema).safeParse(structured['sources']);
    const passages = z.array(PassageSchema).safeParse(structured['passages']);
    if (result.isError === true) return failed(text || 'the tool reported an error');
    const content = capBytes(text === '' && result.structuredContent !== undefined ? JSON.stringify(result.structuredContent) : text, this.options.maxResultBytes);
    return {
      ok: true,
      content: content.text,
      summary: content.cut ? `${oneLine(content.text)} (cut to ${this.options.maxResultBytes} bytes of ${content.bytes})` : oneLine(content.text),
      sources: sources.success ? sources.data : [],
      passages: passages.success ? passages.data : [],
    };
  }

  async close(): Promise<void> {
    this.started = false;
    clearInterval(this.refreshTimer);
    await Promise.all(this.links.map((link) => link.close()));
  }
}

function failed(why: string): ToolOutcome {
  return { ok: false, content: `error: ${why}`, summary: oneLine(why), sources: [], passages: [] };
}

/** OpenAI function names are `[A-Za-z0-9_-]{1,64}`; MCP tool names may hold more. */
function modelToolName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'tool';
}

function describePart(part: Record<string, unknown>): string {
  const text = (value: unknown, fallback: string): string => (typeof value === 'string' ? value : fallback);
  if (part['type'] === 'text') return text(part['text'], '');
  if (part['type'] === 'resource_link') return `[${text(part['name'], 'resource')}](${text(part['uri'], '')})`;
  if (part['type'] === 'resource') {
    const resource = (part['resource'] ?? {}) as Record<string, unknown>;
    return typeof resource['text'] === 'string' ? resource['text'] : `[resource ${text(resource['uri'], '')}]`;
  }
  return `[${text(part['type'], 'content')}]`;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= SUMMARY_CHARS ? line : `${line.slice(0, SUMMARY_CHARS - 1)}…`;
}

/** `text` cut to `max` UTF-8 bytes (on a character boundary), with a note for the model when cut. */
export function capBytes(text: string, max: number): { text: string; cut: boolean; bytes: number } {
  const bytes = Buffer.byteLength(text);
  if (bytes <= max) return { text, cut: false, bytes };
  // Decoding a cut buffer drops a split last character (replaced by U+FFFD, then trimmed off).
  const kept = Buffer.from(text).subarray(0, max).toString('utf8').replace(/\uFFFD$/, '');
  return { text: `${kept}\n[the tool's result was ${bytes} bytes; only the first ${max} are shown]`, cut: true, bytes };
}
