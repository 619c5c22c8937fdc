// Writes one chat completion as OpenAI server-sent events, paced by due times computed from the start.
import type { ServerResponse } from 'node:http';

export interface StreamPlan {
  id: string;
  created: number;
  model: string;
  /** Content tokens to send, already cut to max_tokens. */
  tokens: readonly string[];
  finishReason: 'stop' | 'length';
  /** Sent as a final `choices: []` chunk when the client asked for include_usage. */
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  ttftMs: number;
  tokensPerSec: number;
  /** When set, send this many tokens and then drop the connection like a broken upstream. */
  breakAfterTokens: number | null;
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
} as const;

/**
 * Streams `plan` on `res`. Token i is due at start + ttftMs + i * interval; a late timer sends
 * every due token in one write, so pace never drifts and a busy loop costs one syscall per wake.
 */
export function streamCompletion(res: ServerResponse, plan: StreamPlan): void {
  const start = performance.now();
  const head = `data: {"id":${JSON.stringify(plan.id)},"object":"chat.completion.chunk","created":${plan.created},"model":${JSON.stringify(plan.model)},"choices":[`;
  const tokenPrefix = `${head}{"index":0,"delta":{"content":`;
  const tokenSuffix = '},"finish_reason":null}]}\n\n';
  const { tokens } = plan;
  const limit = plan.breakAfterTokens === null ? tokens.length : Math.min(plan.breakAfterTokens, tokens.length);
  const firstDue = start + plan.ttftMs;
  const interval = plan.tokensPerSec > 0 ? 1000 / plan.tokensPerSec : 0;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  res.on('close', () => {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
  });

  const finish = (): string => {
    let tail = `${head}{"index":0,"delta":{},"finish_reason":"${plan.finishReason}"}]}\n\n`;
    if (plan.usage !== null) tail += `${head}],"usage":${JSON.stringify(plan.usage)}}\n\n`;
    return `${tail}data: [DONE]\n\n`;
  };

  const tick = (pending: string): void => {
    timer = undefined;
    if (closed) return;
    const now = performance.now();
    let due = 0;
    if (now >= firstDue) due = interval === 0 ? limit : Math.min(limit, Math.floor((now - firstDue) / interval) + 1);
    let out = pending;
    while (sent < due) out += tokenPrefix + JSON.stringify(tokens[sent++]) + tokenSuffix;
    if (sent === limit) {
      if (plan.breakAfterTokens === null) {
        res.end(out + finish());
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
  const roleChunk = `${head}{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n`;
  if (plan.ttftMs <= 0) {
    tick(roleChunk);
  } else {
    // The role chunk goes out with the headers, so the client sees the stream open at once.
    res.write(roleChunk);
    timer = setTimeout(tick, plan.ttftMs, '');
  }
}
