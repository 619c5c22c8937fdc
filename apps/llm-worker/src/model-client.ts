// The model, reached through the official openai SDK with streaming.
import { APIError, type OpenAI } from 'openai';
import { ChatError, type FinishReason } from '@chat-fleet/shared';

/** A tool call as the model made it: `arguments` is its JSON text, unparsed. */
export interface ModelToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** The messages of a chat completion request, in the OpenAI API's own shape. */
export type ModelMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> }
  | { role: 'tool'; tool_call_id: string; content: string };

/** A tool offered to the model (an OpenAI function tool). */
export interface ModelTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export interface StreamRequest {
  model: string;
  messages: readonly ModelMessage[];
  maxTokens: number;
  signal: AbortSignal;
  /** Offered to the model; absent or empty: none. */
  tools?: readonly ModelTool[];
}

export interface StreamResult {
  finishReason: FinishReason;
  /** The model said `stop`: the reply ended on its own (only such replies are cached). */
  natural: boolean;
  /** Undefined when the server does not report usage. */
  usage: { promptTokens: number; completionTokens: number } | undefined;
  /** The tools the model called in this turn (finish reason `tool_calls`), in index order; empty when none. */
  toolCalls: ModelToolCall[];
}

/** Streams a completion: calls `onDelta` for each piece of text, in order. */
export interface ModelClient {
  stream(request: StreamRequest, onDelta: (text: string) => void): Promise<StreamResult>;
}

/**
 * The model's answer broke off after it began: the body failed mid-stream (fetch's "terminated",
 * a reset socket) or ended without a finish reason. Code `upstream_error`, like any upstream
 * failure; the subclass lets a retry policy tell it from a final answer.
 */
export class UpstreamBrokenError extends ChatError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('upstream_error', message, options);
    this.name = 'UpstreamBrokenError';
  }
}

export class OpenAIModelClient implements ModelClient {
  constructor(private readonly client: OpenAI) {}

  async stream(request: StreamRequest, onDelta: (text: string) => void): Promise<StreamResult> {
    const tools = request.tools !== undefined && request.tools.length > 0 ? request.tools : undefined;
    const stream = await this.client.chat.completions.create(
      {
        model: request.model,
        messages: request.messages as ModelMessage[],
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: request.maxTokens,
        ...(tools === undefined ? {} : { tools: tools as ModelTool[] }),
      },
      { signal: request.signal },
    );
    let reason: string | null | undefined;
    let usage: StreamResult['usage'];
    // Tool calls arrive in pieces: the first delta of call i has its id and name, later ones
    // more of its arguments' text, all under `index: i` (parallel calls one after another).
    const toolCalls: ModelToolCall[] = [];
    try {
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        const delta = choice?.delta;
        const text = delta?.content;
        if (text) onDelta(text);
        if (delta?.tool_calls) {
          for (const piece of delta.tool_calls) {
            const call = (toolCalls[piece.index] ??= { id: '', name: '', arguments: '' });
            if (piece.id) call.id = piece.id;
            if (piece.function?.name) call.name += piece.function.name;
            if (piece.function?.arguments) call.arguments += piece.function.arguments;
          }
        }
        if (choice?.finish_reason) reason = choice.finish_reason;
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      }
    } catch (err) {
      // The body broke mid-stream (fetch's "terminated", a reset socket): not an API answer.
      if (err instanceof APIError || request.signal.aborted) throw err;
      throw new UpstreamBrokenError(`the connection to the model broke mid-reply (${err instanceof Error ? err.message : 'unknown error'})`, { cause: err });
    }
    if (reason === undefined || reason === null) {
      const message = 'the model stream ended without a finish reason (cut off)';
      // An abort ends the SDK's iteration quietly: the caller's doing, not a broken upstream.
      throw request.signal.aborted ? new ChatError('upstream_error', message) : new UpstreamBrokenError(message);
    }
    // A model may say `stop` with calls too (some servers do): the calls decide.
    const called = toolCalls.filter((call) => call !== undefined && call.name !== '');
    return { finishReason: reason === 'length' ? 'length' : 'stop', natural: reason === 'stop' && called.length === 0, usage, toolCalls: called };
  }
}
