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
      throw new ChatError('upstream_error', `the connection to the model broke mid-reply (${err instanceof Error ? err.message : 'unknown error'})`);
    }
    if (reason === undefined || reason === null) {
      throw new ChatError('upstream_error', 'the model stream ended without a finish reason (cut off)');
    }
    return { finishReason: reason === 'length' ? 'length' : 'stop', natural: reason === 'stop', usage };
  }
}
