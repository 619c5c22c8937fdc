// Span names and attributes shared by the gateway and the worker, so a trace reads the same
// whichever process wrote a span.
import { context, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

export const TRACER_NAME = 'chat-fleet';

export function chatTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

export const SPANS = {
  /** Gateway: a message from receipt until its reply's terminal frame passes this gateway. */
  message: 'chat.message',
  /** Gateway: validation, scrubbing, limits, history and the queue add. */
  accept: 'chat.accept',
  /** Worker: from the queue add until a worker took the job (start time back-dated). */
  queueWait: 'chat.queue_wait',
  /** Worker: one job, from pickup to its terminal frame. */
  generate: 'chat.generate',
  /** Worker: one model call (retries inside), with a `first_token` event. */
  modelCall: 'llm.call',
} as const;

export const ATTR = {
  sessionId: 'chat.session_id',
  messageId: 'chat.message_id',
  transport: 'chat.transport',
  source: 'chat.source',
  cacheHit: 'chat.cache_hit',
  attempt: 'chat.attempt',
  frames: 'chat.frames',
  finishReason: 'chat.finish_reason',
  errorCode: 'chat.error_code',
  queueWaitMs: 'chat.queue_wait_ms',
  model: 'gen_ai.request.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  firstTokenMs: 'chat.first_token_ms',
} as const;

/**
 * Runs `fn` without tracing its Redis commands: per-token writes would add two spans per frame
 * to every trace. A no-op outside a recording span.
 */
export function untraced<T>(fn: () => T): T {
  if (trace.getActiveSpan() === undefined) return fn();
  return context.with(suppressTracing(context.active()), fn);
}

/** Marks a span failed with the error's message and ends nothing. */
export function recordFailure(span: Span, err: unknown, code?: string): void {
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code ?? (err instanceof Error ? err.message : String(err)) });
  if (code !== undefined) span.setAttribute(ATTR.errorCode, code);
}
