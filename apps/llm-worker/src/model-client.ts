// The model, reached through the official openai SDK with streaming.
import { APIError, type OpenAI } from 'openai';
import { ChatError, type FinishReason } from '@chat-fleet/shared';

export interface ModelMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface StreamRequest {
  model: string;
  messages: ModelMessage[];
  maxTokens: number;
  signal: AbortSignal;
}

export interface StreamResult {
  finishReason: FinishReason;
  /** The model said `stop`: the reply ended on its own (only such replies are cached). */
  natural: boolean;
  /** Undefined when the server does not report usage. */
  usage: { promptTokens: number; completionTokens: number } | undefined;
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
    const stream = await this.client.chat.completions.create(
      {
        model: request.model,
        messages: request.messages,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: request.maxTokens,
      },
      { signal: request.signal },
    );
    let reason: string | null | undefined;
    let usage: StreamResult['usage'];
    try {
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        const text = choice?.delta?.content;
        if (text) onDelta(text);
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
    return { finishReason: reason === 'length' ? 'length' : 'stop', natural: reason === 'stop', usage };
  }
}
