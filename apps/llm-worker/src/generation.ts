// One reply: read the context, then answer it from the first source that has it: the response
// cache, an identical request already generating (coalescing), or the model. The reply is
// streamed into Redis frame by frame, stored in the history, and ends with `done` (or `error`).
// Every job ends in exactly one terminal frame, except one put back in the queue by the fleet's
// model budget, which has written nothing yet.
import { SpanKind, type Span } from '@opentelemetry/api';
import { APIError, APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import {
  ATTR,
  ChatError,
  SPANS,
  chatTracer,
  extractTraceContext,
  recordFailure,
  ChatJobSchema,
  type ChatJob,
  type ErrorCode,
  type FinishReason,
  type Logger,
  type ModelBudget,
  type SessionStore,
  type Usage,
  type UserRateLimits,
} from '@chat-fleet/shared';
import { ReplyCancelled, type CancelWatch } from './cancel-watch.js';
import type { BuiltContext, ContextBuilder } from './context-builder.js';
import type { Coalescer } from './coalescer.js';
import { FrameBatcher } from './frame-batcher.js';
import type { ModelClient } from './model-client.js';
import { requestHash, type ReplyCache } from './reply-cache.js';
import { abortableSleep, isRetryableUpstreamError } from './retrying-model-client.js';
import type { ReplyPublisher, ReplyWriter } from './reply-publisher.js';
import { countTextTokens } from './token-counter.js';
import type { WorkerMetrics } from './metrics.js';

export interface GenerationOptions {
  model: string;
  maxReplyTokens: number;
  frameBatchMs: number;
  upstreamTimeoutMs: number;
  coalesce: boolean;
  /** Times a reply whose model stream broke after text went out is started over (with `reset`). */
  maxRestarts: number;
}

export interface GenerationParts {
  sessions: SessionStore;
  context: ContextBuilder;
  model: ModelClient;
  publisher: ReplyPublisher;
  metrics: WorkerMetrics;
  limits: UserRateLimits;
  cache: ReplyCache;
  coalescer: Coalescer;
  budget: ModelBudget;
  cancels: CancelWatch;
}

export interface GenerationJob {
  data: unknown;
}

/** The fleet's model budget is spent: put the job back and try again after `retryAfterMs`. */
export class BudgetExceededError extends Error {
  constructor(
    readonly retryAfterMs: number,
    readonly reason: 'rpm' | 'tpm',
  ) {
    super(`the fleet's model budget (${reason}) is spent; retry in ${retryAfterMs} ms`);
    this.name = 'BudgetExceededError';
  }
}

/** A finished reply's facts, whatever its source. */
interface Outcome {
  usage: Usage;
  finishReason: FinishReason;
  cached: boolean;
  coalesced: boolean;
}

/** The abort reason of an attempt whose stream refused its frames: a newer attempt writes the reply. */
class Superseded extends Error {
  constructor() {
    super('a newer attempt took this reply over');
    this.name = 'Superseded';
  }
}

/** One model request for one reply, as generate() and streamOnce() pass it along. */
interface ModelCall {
  data: ChatJob;
  context: BuiltContext;
  request: { model: string; maxTokens: number; messages: BuiltContext['messages'] };
  out: ReplyOutput;
  signal: AbortSignal;
  /** Set: a reply that ends on its own is stored in the cache under it. */
  cacheHash: string | undefined;
}

/** Why a follower stops following and generates for itself. */
class LeaderLost extends Error {}

/**
 * The client-facing side of one reply: the current attempt's writer and the text so far. When
 * frames already went out and the reply must start over, `restart()` opens a new attempt that
 * begins with `reset`.
 */
class ReplyOutput {
  private writer: ReplyWriter | undefined;
  /** The current attempt's token frame texts, in order (what a cache entry stores). */
  readonly chunks: string[] = [];

  constructor(
    private readonly publisher: ReplyPublisher,
    private readonly sessionId: string,
    private readonly messageId: string,
    private readonly onFenced: () => void,
  ) {}

  get current(): ReplyWriter {
    if (this.writer === undefined) throw new Error('reply output used before open()');
    return this.writer;
  }

  get opened(): boolean {
    return this.writer !== undefined;
  }

  async open(): Promise<void> {
    if (this.writer !== undefined) return;
    this.writer = await this.publisher.begin(this.sessionId, this.messageId, this.onFenced);
    // A job taken over after a crash: the client drops what the lost attempt sent.
    if (this.writer.attempt > 1) this.writer.reset();
  }

  /** The current attempt's text so far. */
  get text(): string {
    return this.chunks.join('');
  }

  token(text: string): void {
    this.current.token(text);
    this.chunks.push(text);
  }

  async restart(): Promise<void> {
    if (this.writer === undefined || this.writer.seq === 0) return;
    await this.writer.settled();
    this.writer = await this.publisher.begin(this.sessionId, this.messageId, this.onFenced);
    this.writer.reset();
    this.chunks.length = 0;
  }
}

export class Generation {
  constructor(
    private readonly parts: GenerationParts,
    private readonly options: GenerationOptions,
    private readonly log: Logger,
  ) {}

  private running = 0;

  /** Jobs this worker is running now (generating, replaying or following). */
  get active(): number {
    return this.running;
  }

  /** Runs a job to its terminal frame. Resolves on `done`; errors are published, then rethrown. */
  async run(job: GenerationJob): Promise<void> {
    const data = ChatJobSchema.parse(job.data);
    // The gateway's trace continues here: the wait in the queue, then this job.
    const parent = extractTraceContext(data.trace);
    const tracer = chatTracer();
    const pickedAt = Date.now();
    const waitMs = Math.max(0, pickedAt - data.enqueuedAt);
    tracer.startSpan(SPANS.queueWait, { kind: SpanKind.CONSUMER, startTime: Math.min(data.enqueuedAt, pickedAt), attributes: { [ATTR.messageId]: data.messageId } }, parent).end();
    const attributes = { [ATTR.messageId]: data.messageId, [ATTR.sessionId]: data.sessionId, [ATTR.queueWaitMs]: waitMs, [ATTR.model]: data.model || this.options.model };
    return tracer.startActiveSpan(SPANS.generate, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
      this.running++;
      try {
        await this.runTraced(data, span, waitMs);
      } finally {
        this.running--;
        span.end();
      }
    });
  }

  private async runTraced(data: ChatJob, span: Span, waitMs: number): Promise<void> {
    const { sessions, metrics, publisher } = this.parts;
    const log = this.log.child({ sessionId: data.sessionId, messageId: data.messageId });
    metrics.queueWait.observe(waitMs / 1000);
    const abort = new AbortController();
    const out = new ReplyOutput(publisher, data.sessionId, data.messageId, () => abort.abort(new Superseded()));
    const timeout = setTimeout(() => abort.abort(new ChatError('upstream_error', 'the model did not finish in time')), this.options.upstreamTimeoutMs);
    // The cancel mark and the context are read in parallel: one round trip less before the model.
    const building = this.parts.context.build(data.sessionId, data.userMessageId);
    building.catch(() => undefined);
    const unwatch = await this.parts.cancels.watch(data.messageId, abort).catch((err: unknown) => {
      clearTimeout(timeout);
      throw err;
    });
    const started = performance.now();
    let context: BuiltContext | undefined;
    try {
      context = await building;
      const outcome = await this.answer(data, context, out, abort.signal, log);
      const source = outcome.cached ? 'cache' : outcome.coalesced ? 'coalesced' : 'model';
      metrics.replySources.inc({ source });
      await this.finish(data, out, outcome, undefined);
      const facts = {
        [ATTR.source]: source,
        [ATTR.cacheHit]: outcome.cached,
        [ATTR.attempt]: out.current.attempt,
        [ATTR.frames]: out.current.seq,
        [ATTR.finishReason]: outcome.finishReason,
        [ATTR.inputTokens]: outcome.usage.promptTokens,
        [ATTR.outputTokens]: outcome.usage.completionTokens,
      };
      span.setAttributes(facts);
      span.addEvent('done');
      log.info(
        { source, attempt: out.current.attempt, frames: out.current.seq, finishReason: outcome.finishReason, usage: outcome.usage, queueWaitMs: waitMs, ms: Math.round(performance.now() - started) },
        'reply done',
      );
    } catch (err) {
      if (abort.signal.reason instanceof Superseded) {
        // Another worker runs this reply now (our lock expired): leave everything to it.
        log.warn('stopped: a newer attempt took this reply over');
        recordFailure(span, err, 'superseded');
        throw err;
      }
      if (abort.signal.reason instanceof ReplyCancelled) {
        // The user stopped it: keep what was sent, marked as cancelled, and end with `done`.
        const usage = { promptTokens: context?.tokens ?? 0, completionTokens: countTextTokens(out.text) };
        await out.open();
        await this.finish(data, out, { usage, finishReason: 'cancelled', cached: false, coalesced: false }, 'cancelled');
        metrics.cancels.inc();
        span.setAttributes({ [ATTR.finishReason]: 'cancelled', [ATTR.frames]: out.current.seq, [ATTR.attempt]: out.current.attempt });
        span.addEvent('done');
        log.info({ frames: out.current.seq }, 'reply cancelled');
        return;
      }
      if (err instanceof BudgetExceededError) {
        metrics.budgetWaits.inc({ reason: err.reason });
        span.addEvent('budget_wait', { reason: err.reason, retry_after_ms: err.retryAfterMs });
        throw err;
      }
      const { code, message } = classify(err, abort.signal);
      log.warn({ err, code }, 'reply failed');
      recordFailure(span, err, code);
      await sessions.releaseInflight(data.sessionId, data.messageId).catch(() => undefined);
      const failed = async (): Promise<void> => {
        await out.open();
        await out.current.error(code, message);
      };
      await failed().catch((e: unknown) => log.error({ err: e }, 'could not publish the error frame'));
      throw err;
    } finally {
      clearTimeout(timeout);
      unwatch();
    }
  }

  /**
   * History first, then free the session, then `done`: a client that sees `done` can read both
   * turns and send its next message at once.
   */
  private async finish(data: ChatJob, out: ReplyOutput, outcome: Outcome, status: 'cancelled' | undefined): Promise<void> {
    const { sessions } = this.parts;
    await sessions.append(data.sessionId, {
      id: data.messageId,
      role: 'assistant',
      content: out.text,
      createdAt: new Date().toISOString(),
      ...(status === undefined ? {} : { status }),
    });
    await sessions.releaseInflight(data.sessionId, data.messageId);
    await out.current.done(outcome.usage, outcome.finishReason, outcome);
  }

  private async answer(data: ChatJob, context: BuiltContext, out: ReplyOutput, signal: AbortSignal, log: Logger): Promise<Outcome> {
    const { cache, coalescer } = this.parts;
    const request = { model: data.model || this.options.model, maxTokens: this.options.maxReplyTokens, messages: context.messages };
    const hash = requestHash(request);
    const hit = await cache.get(hash);
    if (hit !== undefined) return this.replay(hit.chunks, hit.usage, out);
    const call: ModelCall = { data, context, request, out, signal, cacheHash: undefined };
    if (!this.options.coalesce) return this.generate(call);

    const claim = await coalescer.claim(hash, { messageId: data.messageId, sessionId: data.sessionId });
    if (claim.role === 'leader') {
      try {
        // The previous leader may have finished between our cache miss and our lock.
        const late = await cache.get(hash);
        if (late !== undefined) return this.replay(late.chunks, late.usage, out);
        return await this.generate({ ...call, cacheHash: hash });
      } finally {
        await claim.release().catch((err: unknown) => log.warn({ err }, 'could not release the coalescing lock'));
      }
    }

    await out.open();
    try {
      const end = await coalescer.follow(
        hash,
        claim.leader,
        (frame) => {
          if (frame.type === 'token') out.token(frame.text);
          else if (frame.type === 'reset') throw new LeaderLost('the shared reply restarted');
        },
        signal,
      );
      if (end.type === 'done' && end.finishReason !== 'cancelled') {
        return { usage: end.usage, finishReason: end.finishReason, cached: false, coalesced: true };
      }
      throw new LeaderLost(end.type === 'error' ? `the shared reply failed (${end.code})` : 'the shared reply was cancelled');
    } catch (err) {
      if (signal.aborted) throw err;
      // The reply we followed did not end well for us: answer on our own, from a clean attempt.
      log.info({ leader: claim.leader.messageId, reason: err instanceof Error ? err.message : String(err) }, 'generating alone after following failed');
      await out.restart();
      return this.generate(call);
    }
  }

  private async replay(chunks: readonly string[], usage: Usage, out: ReplyOutput): Promise<Outcome> {
    await out.open();
    for (const chunk of chunks) out.token(chunk);
    return { usage, finishReason: 'stop', cached: true, coalesced: false };
  }

  /** Calls the model within the fleet's budget, restarting a reply broken mid-stream. */
  private async generate(call: ModelCall): Promise<Outcome> {
    const { out, signal } = call;
    const admission = await this.parts.budget.admit(call.context.tokens);
    if (!admission.admitted) {
      if (out.opened) {
        // Frames already went out (a follower whose leader failed): the client is waiting on
        // this attempt, so the wait happens here rather than in the queue.
        await abortableSleep(admission.retryAfterMs, signal);
        return this.generate(call);
      }
      throw new BudgetExceededError(admission.retryAfterMs, admission.reason);
    }
    await out.open();
    for (let restarts = 0; ; restarts++) {
      try {
        return await this.streamOnce(call);
      } catch (err) {
        // Broke after text went out (the client wrapper retries only before the first token):
        // start the reply over with a `reset`, a bounded number of times.
        if (signal.aborted || out.current.seq === 0 || restarts >= this.options.maxRestarts || !isRetryableUpstreamError(err)) throw err;
        this.log.info({ messageId: call.data.messageId, err: err instanceof Error ? err.message : String(err), restarts: restarts + 1 }, 'model stream broke mid-reply; restarting it');
        this.parts.metrics.replyRestarts.inc();
        await out.restart();
      }
    }
  }

  /** One model call as a span: the HTTP request (instrumented fetch) is its child. */
  private streamOnce(call: ModelCall): Promise<Outcome> {
    const attributes = { [ATTR.model]: call.request.model, [ATTR.attempt]: call.out.current.attempt };
    return chatTracer().startActiveSpan(SPANS.modelCall, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        const outcome = await this.streamOnceTraced(call, span);
        span.setAttributes({
          [ATTR.finishReason]: outcome.finishReason,
          [ATTR.inputTokens]: outcome.usage.promptTokens,
          [ATTR.outputTokens]: outcome.usage.completionTokens,
        });
        return outcome;
      } catch (err) {
        if (call.signal.reason instanceof ReplyCancelled) span.addEvent('cancelled');
        else recordFailure(span, err, classify(err, call.signal).kind);
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private async streamOnceTraced({ data, context, request, out, signal, cacheHash }: ModelCall, span: Span): Promise<Outcome> {
    const { metrics, budget, model, cache, limits } = this.parts;
    metrics.activeGenerations.inc();
    const started = performance.now();
    let firstAt = 0;
    const batcher = new FrameBatcher(this.options.frameBatchMs, (t) => out.token(t));
    try {
      const result = await model.stream({ ...request, signal }, (delta) => {
        if (firstAt === 0) {
          firstAt = performance.now();
          metrics.llmFirstToken.observe((firstAt - started) / 1000);
          span.addEvent('first_token', { [ATTR.firstTokenMs]: Math.round(firstAt - started) });
        }
        batcher.push(delta);
      });
      batcher.flush();
      const usage = result.usage ?? { promptTokens: context.tokens, completionTokens: countTextTokens(out.text) };
      metrics.llmDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      metrics.llmTokens.inc({ kind: 'prompt' }, usage.promptTokens);
      metrics.llmTokens.inc({ kind: 'completion' }, usage.completionTokens);
      const charged = await Promise.allSettled([
        limits.chargeTokens(data.subject, usage.promptTokens + usage.completionTokens),
        budget.chargeCompletion(usage.completionTokens + Math.max(0, usage.promptTokens - context.tokens)),
        cacheHash !== undefined && result.natural ? cache.put(cacheHash, out.chunks, usage) : undefined,
      ]);
      for (const c of charged) if (c.status === 'rejected') this.log.warn({ err: c.reason as unknown, messageId: data.messageId }, 'could not record a finished reply (limits or cache)');
      return { usage, finishReason: result.finishReason, cached: false, coalesced: false };
    } catch (err) {
      // Cancelled: what the model said so far goes out; otherwise it is thrown away.
      if (signal.reason instanceof ReplyCancelled) batcher.flush();
      else batcher.discard();
      metrics.llmDuration.observe({ outcome: signal.reason instanceof ReplyCancelled ? 'cancelled' : 'error' }, (performance.now() - started) / 1000);
      if (!(signal.reason instanceof ReplyCancelled)) metrics.upstreamErrors.inc({ kind: classify(err, signal).kind });
      throw err;
    } finally {
      metrics.activeGenerations.dec();
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
