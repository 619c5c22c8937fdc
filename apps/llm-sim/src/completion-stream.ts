// Writes one chat completion as OpenAI server-sent events, paced by due times computed from the start.
import type { ServerResponse } from 'node:http';
import type { ToolCall } from './chat-request.js';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

interface Pacing {
  /** Sent as a final `choices: []` chunk when the client asked for include_usage. */
  usage: Usage | null;
  ttftMs: number;
  tokensPerSec: number;
  /** When set, send this many chunks after the opening and then drop the connection like a broken upstream. */
  breakAfterTokens: number | null;
}

export interface StreamPlan extends Pacing {
  id: string;
  created: number;
  model: string;
  /** Content tokens to send, already cut to max_tokens. */
  tokens: readonly string[];
  finishReason: 'stop' | 'length';
}

export interface ToolCallStreamPlan extends Pacing {
  id: string;
  created: number;
  model: string;
  calls: readonly ToolCall[];
  /** Each call's arguments in the pieces they stream in, one chunk each. */
  argumentPieces: readonly (readonly string[])[];
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
} as const;

/** Streams a text reply: the role chunk at once, then one content token per chunk from ttftMs on. */
export function streamCompletion(res: ServerResponse, plan: StreamPlan): void {
  const head = chunkHead(plan);
  const tokenPrefix = `${head}{"index":0,"delta":{"content":`;
  const tokenSuffix = '},"finish_reason":null}]}\n\n';
  const { tokens } = plan;
  pace(res, plan, {
    opening: `${head}{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n`,
    count: tokens.length,
    chunk: (i) => tokenPrefix + JSON.stringify(tokens[i]) + tokenSuffix,
    closing: closing(head, plan.finishReason, plan.usage),
  });
}

/**
 * Streams tool calls as OpenAI does: from ttftMs on, each call's first chunk (index, id, type,
 * name, empty arguments; the response's first also the role), then its arguments piece by
 * piece, call after call, then `finish_reason: "tool_calls"`.
 */
export function streamToolCalls(res: ServerResponse, plan: ToolCallStreamPlan): void {
  const head = chunkHead(plan);
  const chunks: string[] = [];
  plan.calls.forEach((call, index) => {
    const opening = { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } };
    const delta = index === 0 ? { role: 'assistant', content: null, tool_calls: [opening] } : { tool_calls: [opening] };
    chunks.push(`${head}{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":null}]}\n\n`);
    const piecePrefix = `${head}{"index":0,"delta":{"tool_calls":[{"index":${index},"function":{"arguments":`;
    for (const piece of plan.argumentPieces[index] ?? []) {
      chunks.push(`${piecePrefix}${JSON.stringify(piece)}}}]},"finish_reason":null}]}\n\n`);
    }
  });
  pace(res, plan, {
    opening: '',
    count: chunks.length,
    chunk: (i) => chunks[i] ?? '',
    closing: closing(head, 'tool_calls', plan.usage),
  });
}

interface Chunks {
  /** Sent with the headers, before the first-token delay. */
  opening: string;
  count: number;
  chunk: (i: number) => string;
  /** The finish chunk, the usage chunk if asked, and [DONE]. */
  closing: string;
}

function chunkHead(plan: { id: string; created: number; model: string }): string {
  return `data: {"id":${JSON.stringify(plan.id)},"object":"chat.completion.chunk","created":${plan.created},"model":${JSON.stringify(plan.model)},"choices":[`;
}

function closing(head: string, finishReason: string, usage: Usage | null): string {
  let tail = `${head}{"index":0,"delta":{},"finish_reason":"${finishReason}"}]}\n\n`;
  if (usage !== null) tail += `${head}],"usage":${JSON.stringify(usage)}}\n\n`;
  return `${tail}data: [DONE]\n\n`;
}

/**
 * Chunk i is due at start + ttftMs + i * interval; a late timer sends every due chunk in one
 * write, so pace never drifts and a busy loop costs one syscall per wake.
 */
function pace(res: ServerResponse, pacing: Pacing, chunks: Chunks): void {
  const start = performance.now();
  const { count } = chunks;
  const limit = pacing.breakAfterTokens === null ? count : Math.min(pacing.breakAfterTokens, count);
  const firstDue = start + pacing.ttftMs;
  const interval = pacing.tokensPerSec > 0 ? 1000 / pacing.tokensPerSec : 0;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  res.on('close', () => {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
  });

  const tick = (pending: string): void => {
    timer = undefined;
    if (closed) return;
    const now = performance.now();
    let due = 0;
    if (now >= firstDue) due = interval === 0 ? limit : Math.min(limit, Math.floor((now - firstDue) / interval) + 1);
    let out = pending;
    while (sent < due) out += chunks.chunk(sent++);
    if (sent === limit) {
      if (pacing.breakAfterTokens === null) {
        res.end(out + chunks.closing);
      } else {
        // Flush what was promised, then cut the socket mid-stream: no finish chunk, no [DONE].
        res.write(out, () => res.destroy());
      }
      return;
    }
    if (out.length > 0) res.write(out);
    const nextDue = firstDue + sent * interval;
    timer = setTimeout(tick, Math.max(0, Math.ceil(nextDue - performance.now())), '');
  };

  res.writeHead(200, SSE_HEADERS);
  if (pacing.ttftMs <= 0) {
    tick(chunks.opening);
  } else {
    // The stream opens at once (with the role chunk when there is one), so the client sees it before the first token.
    if (chunks.opening === '') res.flushHeaders();
    else res.write(chunks.opening);
    timer = setTimeout(tick, pacing.ttftMs, '');
  }
}
