// One reply: read the context, stream the model's answer into Redis frame by frame, store it
// in the history and end with `done` (or `error`). Every job ends in exactly one terminal frame.
import { APIError, APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import {
  ChatError,
  ChatJobSchema,
  type ErrorCode,
  type Logger,
  type SessionStore,
  type UserRateLimits,
} from '@chat-fleet/shared';
import type { ContextBuilder } from './context-builder.js';
import { FrameBatcher } from './frame-batcher.js';
import { countTextTokens } from './token-counter.js';
import type { ModelClient } from './model-client.js';
import type { ReplyPublisher } from './reply-publisher.js';
import type { WorkerMetrics } from './metrics.js';

export interface GenerationOptions {
  model: string;
  maxReplyTokens: number;
  frameBatchMs: number;
  upstreamTimeoutMs: number;
}

export interface GenerationJob {
  data: unknown;
}

export class Generation {
  constructor(
    private readonly sessions: SessionStore,
    private readonly context: ContextBuilder,
    private readonly model: ModelClient,
    private readonly publisher: ReplyPublisher,
    private readonly metrics: WorkerMetrics,
    private readonly limits: UserRateLimits,
    private readonly options: GenerationOptions,
    private readonly log: Logger,
  ) {}

  /** Runs a job to its terminal frame. Resolves on `done`; errors are published, then rethrown. */
  async run(job: GenerationJob): Promise<void> {
    const data = ChatJobSchema.parse(job.data);
    const log = this.log.child({ sessionId: data.sessionId, messageId: data.messageId });
    this.metrics.queueWait.observe(Math.max(0, Date.now() - data.enqueuedAt) / 1000);
    const writer = await this.publisher.begin(data.sessionId, data.messageId);
    if (writer.attempt > 1) writer.reset();

    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(new ChatError('upstream_error', 'the model did not finish in time')), this.options.upstreamTimeoutMs);
    this.metrics.activeGenerations.inc();
    const started = performance.now();
    let firstAt = 0;
    let text = '';
    const batcher = new FrameBatcher(this.options.frameBatchMs, (t) => writer.token(t));
    try {
      const { messages, tokens: promptEstimate } = await this.context.build(data.sessionId, data.userMessageId);
      const result = await this.model.stream(
        { model: data.model || this.options.model, messages, maxTokens: this.options.maxReplyTokens, signal: abort.signal },
        (delta) => {
          if (firstAt === 0) {
            firstAt = performance.now();
            this.metrics.llmFirstToken.observe((firstAt - started) / 1000);
          }
          text += delta;
          batcher.push(delta);
        },
      );
      batcher.flush();
      const usage = result.usage ?? {
        promptTokens: promptEstimate,
        completionTokens: countTextTokens(text),
      };
      this.metrics.llmDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      this.metrics.llmTokens.inc({ kind: 'prompt' }, usage.promptTokens);
      this.metrics.llmTokens.inc({ kind: 'completion' }, usage.completionTokens);
      await this.limits
        .chargeTokens(data.subject, usage.promptTokens + usage.completionTokens)
        .catch((err: unknown) => log.warn({ err }, 'could not charge tokens to the user limit'));

      // History first, then free the session, then `done`: a client that sees `done` can read
      // both turns and send its next message at once.
      await this.sessions.append(data.sessionId, { id: data.messageId, role: 'assistant', content: text, createdAt: new Date().toISOString() });
      await this.sessions.releaseInflight(data.sessionId, data.messageId);
      await writer.done(usage, result.finishReason, false);
      log.debug({ frames: writer.seq, ms: Math.round(performance.now() - started) }, 'reply done');
    } catch (err) {
      batcher.discard();
      const { code, message, kind } = classify(err, abort.signal);
      this.metrics.llmDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      this.metrics.upstreamErrors.inc({ kind });
      log.warn({ err, code }, 'reply failed');
      await this.sessions.releaseInflight(data.sessionId, data.messageId).catch(() => undefined);
      await writer.error(code, message).catch((e: unknown) => log.error({ err: e }, 'could not publish the error frame'));
      throw err;
    } finally {
      clearTimeout(timeout);
      this.metrics.activeGenerations.dec();
    }
  }
}

function classify(err: unknown, signal: AbortSignal): { code: ErrorCode; message: string; kind: string } {
  if (signal.aborted && signal.reason instanceof ChatError) return { code: signal.reason.code, message: signal.reason.message, kind: 'timeout' };
  if (err instanceof ChatError) return { code: err.code, message: err.message, kind: err.code };
  if (err instanceof APIConnectionTimeoutError) return { code: 'upstream_error', message: 'the model timed out', kind: 'timeout' };
  if (err instanceof APIUserAbortError) return { code: 'upstream_error', message: 'the model call was aborted', kind: 'aborted' };
  if (err instanceof APIError) {
    const status: number = typeof err.status === 'number' ? err.status : 0;
    return { code: 'upstream_error', message: `the model answered ${status || 'with an error'}: ${err.message}`, kind: status ? `http_${status}` : 'connection' };
  }
  return { code: 'internal', message: 'the reply failed', kind: 'internal' };
}
