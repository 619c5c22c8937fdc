// Tools for the fleet's integration tests (MCP_TOOLS_TEST=1 / testTools: true), one per way a
// tool call can go: slow (and cancelled), failed, thrown, huge, and strict about its arguments.
import { setTimeout as sleep } from 'node:timers/promises';
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

export const MAX_SLOW_MS = 120_000;
export const MAX_HUGE_BYTES = 5 * 1024 * 1024;

export function registerTestTools(server: McpServer): RegisteredTool[] {
  return [
    server.registerTool(
      'slow',
      {
        description: 'Test tool: waits `ms` milliseconds, then answers "slept N ms". Stops waiting when the call is cancelled.',
        inputSchema: { ms: z.number().int().min(0).max(MAX_SLOW_MS).describe('How long to wait, in milliseconds') },
      },
      async ({ ms }, extra) => {
        const started = Date.now();
        try {
          await sleep(ms, undefined, { signal: extra.signal });
        } catch (err) {
          if (!extra.signal.aborted) throw err;
          // Nobody reads this answer (the SDK drops replies to cancelled requests); the call log records the cancel.
          return { content: [{ type: 'text', text: `cancelled after ${Date.now() - started} ms` }], isError: true };
        }
        return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
      },
    ),
    server.registerTool(
      'fail',
      {
        description: 'Test tool: always fails the way a tool reports failure, with `isError: true` and a message.',
        inputSchema: { message: z.string().max(1000).optional().describe('The error text to answer with') },
      },
      ({ message }) => ({ content: [{ type: 'text', text: message ?? 'fail: this tool always fails' }], isError: true }),
    ),
    server.registerTool(
      'explode',
      {
        description: 'Test tool: throws inside its handler.',
        inputSchema: {},
      },
      () => {
        throw new Error('explode: the handler threw');
      },
    ),
    server.registerTool(
      'huge',
      {
        description: `Test tool: answers with a text of exactly \`bytes\` characters (at most ${MAX_HUGE_BYTES}).`,
        inputSchema: { bytes: z.number().int().min(0).max(MAX_HUGE_BYTES).describe('Length of the answer in characters') },
      },
      ({ bytes }) => ({ content: [{ type: 'text', text: 'x'.repeat(bytes) }] }),
    ),
    server.registerTool(
      'strict',
      {
        description: 'Test tool: takes exactly a whole `count` from 1 to 10 and a `label`, and echoes them.',
        // A strict object: an argument it does not know is refused too.
        inputSchema: z.strictObject({
          count: z.number().int().min(1).max(10).describe('A whole number from 1 to 10'),
          label: z.string().describe('Any text'),
        }),
        outputSchema: { count: z.number().int(), label: z.string() },
      },
      ({ count, label }) => ({ content: [{ type: 'text', text: `count ${count}, label ${label}` }], structuredContent: { count, label } }),
    ),
  ];
}
