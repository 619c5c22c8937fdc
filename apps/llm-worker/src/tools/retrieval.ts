// Retrieval context: before the model, the user's message is sent to a configured provider (an
// MCP tool marked as context, CONTEXT_TOOL=server/tool, or an HTTP endpoint, CONTEXT_URL); the
// passages it returns go into the prompt as a system message, as many as fit the passage
// budget, and the reply names them in a `sources` frame. A provider that fails or is slow costs
// the reply its context, never the reply.
import { z } from 'zod';
import type { Logger, Source } from '@chat-fleet/shared';
import type { ModelMessage } from '../model-client.js';
import { countMessageTokens, countTextTokens } from '../token-counter.js';
import { PassageSchema, type McpToolbox, type Passage } from './mcp-toolbox.js';

export type PassageSource = (query: string, context: { signal: AbortSignal; idempotencyKey: string }) => Promise<Passage[]>;

/** Passages from an MCP tool called with `{ query }` (its structuredContent.passages). */
export function toolPassages(toolbox: McpToolbox, ref: string): PassageSource {
  return async (query, context) => {
    const outcome = await toolbox.callByRef(ref, { query }, context);
    if (!outcome.ok) throw new Error(outcome.summary);
    return outcome.passages;
  };
}

const HttpAnswerSchema = z.object({ passages: z.array(PassageSchema) });

/** Passages from an HTTP endpoint: POST `{ query }` → `{ passages: [{ id, title, url?, text }] }`. */
export function httpPassages(url: string, fetchImpl: typeof fetch = fetch): PassageSource {
  return async (query, { signal, idempotencyKey }) => {
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify({ query }),
      signal,
    });
    if (!response.ok) throw new Error(`the context endpoint answered HTTP ${response.status}`);
    return HttpAnswerSchema.parse(await response.json()).passages;
  };
}

export interface RetrievedContext {
  /** The system message that carries the passages, to put before the conversation's turns. */
  message: ModelMessage;
  tokens: number;
  sources: Source[];
}

export class Retrieval {
  constructor(
    private readonly source: PassageSource,
    private readonly options: { timeoutMs: number; maxTokens: number; log: Logger },
  ) {}

  /** The passages for `query` that fit the budget, or undefined when there are none (or the provider failed). */
  async retrieve(query: string, signal: AbortSignal, messageId: string): Promise<RetrievedContext | undefined> {
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]);
    let passages: Passage[];
    try {
      passages = await this.source(query, { signal: bounded, idempotencyKey: `${messageId}:context` });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      this.options.log.warn({ err, messageId }, 'the context provider failed; answering without its passages');
      return undefined;
    }
    return fitPassages(passages, this.options.maxTokens);
  }
}

const PREAMBLE = 'Passages that may help answer the next message. Use them when they are relevant and cite them by their [id]; say so when they do not answer it.';

/** The passages, best first as given, that fit `maxTokens`, in one system message. */
export function fitPassages(passages: readonly Passage[], maxTokens: number): RetrievedContext | undefined {
  let text = PREAMBLE;
  let tokens = countTextTokens(text);
  const sources: Source[] = [];
  for (const p of passages) {
    const block = `\n\n[${p.id}] ${p.title}\n${p.text}`;
    const cost = countTextTokens(block);
    if (tokens + cost > maxTokens) break;
    text += block;
    tokens += cost;
    sources.push({ id: p.id, title: p.title, ...(p.url === undefined ? {} : { url: p.url }) });
  }
  if (sources.length === 0) return undefined;
  const message: ModelMessage = { role: 'system', content: text };
  return { message, tokens: countMessageTokens(message), sources };
}
