// One reply: read the context, then answer it from the first source that has it: the response
// cache, an identical request already generating (coalescing), or the model. The reply is
// streamed into Redis frame by frame, stored in the history, and ends with `done` (or `error`).
// Every job ends in exactly one terminal frame, except one put back in the queue by the fleet's
// model budget (it has written nothing yet) and one whose reply has already ended elsewhere (its
// deadline passed, it was cancelled while queued, its session was deleted, a newer attempt took
// it over): that one is dropped before the model hears of it, and writes nothing after.
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
  type Source,
  type SourcesFrame,
  type StoredToolCall,
  type ToolCallFrame,
  type ToolResultFrame,
  type Logger,
  type ReplyAttempt,
  type ReplyRef,
  type ReplyState,
  type TokenReservation,
  type Usage,
  type UsageEntry,
  type UsageLedger,
  type UserRateLimits,
  type BudgetPolicy,
  type Prices,
  AttemptStopped,
  isFinished,
  nanosToUsd,
  quotaExceeded,
} from '@chat-fleet/shared';
import { ReplyCancelled, type CancelWatch } from './cancel-watch.js';
import type { BuiltContext, ContextBuilder } from './context-builder.js';
import type { Coalescer } from './coalescer.js';
import { FrameClock } from './frame-batcher.js';
import type { ModelBudget } from './model-budget.js';
import type { ModelClient, ModelMessage, ModelToolCall } from './model-client.js';
import type { McpToolbox, ToolOutcome } from './tools/mcp-toolbox.js';
import type { Retrieval } from './tools/retrieval.js';
import { requestHash, type ReplyCache } from './reply-cache.js';
import { abortableSleep, isRetryableUpstreamError } from './retrying-model-client.js';
import { countMessageTokens, countTextTokens } from './token-counter.js';
import type { WorkerMetrics } from './metrics.js';

export interface GenerationOptions {
  model: string;
  maxReplyTokens: number;
  frameBatchMs: number;
  /** The most the frame window grows to under load (FRAME_BATCH_MAX_MS). */
  frameBatchMaxMs: number;
  upstreamTimeoutMs: number;
  coalesce: boolean;
  /** Times a reply whose model stream broke after text went out is started over (with `reset`). */
  maxRestarts: number;
  /** Model turns that may call tools in one reply (TOOL_MAX_STEPS); the next one answers without. */
  toolMaxSteps: number;
}

export interface GenerationParts {
  context: ContextBuilder;
  model: ModelClient;
  replies: ReplyState;
  /** Resolves once Redis answers again, or rejects after `ms` (a write failed mid-reply). */
  redisAnswers: (ms: number) => Promise<void>;
  metrics: WorkerMetrics;
  limits: UserRateLimits;
  cache: ReplyCache;
  coalescer: Coalescer;
  budget: ModelBudget;
  cancels: CancelWatch;
  /** The users' budgets (USER_DAILY_TOKENS, USER_MONTHLY_COST_USD, PLAN_BUDGETS) and their ledger. */
  budgets: BudgetPolicy;
  ledger: UsageLedger;
  prices: Prices;
  /** The MCP servers' tools, offered to the model; undefined when none are configured. */
  tools?: McpToolbox;
  /** The retrieval context provider (CONTEXT_TOOL, CONTEXT_URL), if one is configured. */
  retrieval?: Retrieval;
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
  /** Set: a reply that ended on its own, to be stored in the cache under this hash once finished. */
  cacheAs?: string;
}

/** What a reply that calls tools asks the model, and the tools it offers. */
type ModelRequest = { model: string; maxTokens: number; messages: readonly ModelMessage[] };

/** Times a reply whose frames Redis refused (down, failing over, full) is started over. */
const WRITE_RESTARTS = 5;

/** The reply must not run or go on: it ended elsewhere, or is unknown. Nothing more is written. */
class ReplyGoneError extends Error {
  constructor(readonly why: string) {
    super(`the reply ${why}`);
    this.name = 'ReplyGoneError';
  }
}

/** What one run holds on to until it ends: the user's reservations for the model call. */
interface RunLedger {
  /** From the user's per-minute token limit. */
  reservation: TokenReservation | undefined;
  /** The ledger user whose budgets hold a reservation for this reply, until the finish settles it. */
  budgetHeldFor: string | undefined;
}

/** One model request for one reply, as generate() and streamOnce() pass it along. */
interface ModelCall {
  data: ChatJob;
  context: BuiltContext;
  request: ModelRequest;
  out: ReplyOutput;
  signal: AbortSignal;
  /** Set: a reply that ends on its own is stored in the cache under it. */
  cacheHash: string | undefined;
  ledger: RunLedger;
}

/** Why a follower stops following and generates for itself. */
class LeaderLost extends Error {}

/**
 * The client-facing side of one reply: the current attempt and the text so far. When frames
 * already went out and the reply must start over, `restart()` opens a new attempt, which begins
 * with `reset`. `onStop` hears of an attempt stopped by a refused or failed write.
 */
class ReplyOutput {
  private attemptNow: ReplyAttempt | undefined;
  /** The current attempt's token frame texts, in order (what a cache entry stores). */
  readonly chunks: string[] = [];
  /** The current attempt's tool calls and what they returned, for the history. */
  readonly toolTurns: StoredToolCall[] = [];
  /** The sources the current attempt was given: the retrieved context's, then the tools'. */
  readonly sources: Source[] = [];
  /** The retrieved context's sources: every attempt begins by naming them. */
  contextSources: readonly Source[] = [];
  onStop: (stop: AttemptStopped) => void = () => undefined;

  constructor(
    private readonly replies: ReplyState,
    private readonly ref: ReplyRef,
  ) {}

  get current(): ReplyAttempt {
    if (this.attemptNow === undefined) throw new Error('reply output used before open()');
    return this.attemptNow;
  }

  get opened(): boolean {
    return this.attemptNow !== undefined;
  }

  /** Opens the first attempt (a no-op once open); throws ReplyGoneError for a reply that must not run. */
  async open(): Promise<void> {
    if (this.attemptNow !== undefined) return;
    await this.begin();
  }

  /** The current attempt's text so far. */
  get text(): string {
    return this.chunks.join('');
  }

  token(text: string): void {
    this.current.token(text);
    this.chunks.push(text);
  }

  /** A tool call or its result, in order with the tokens. */
  event(frame: ToolCallFrame | ToolResultFrame): void {
    this.current.event(frame);
  }

  /** Names sources not named yet in this attempt (one `sources` frame for the new ones). */
  addSources(sources: readonly Source[]): void {
    const fresh = sources.filter((s) => !this.sources.some((known) => known.id === s.id));
    if (fresh.length === 0) return;
    this.sources.push(...fresh);
    const frame: SourcesFrame = { type: 'sources', messageId: this.ref.messageId, sources: fresh };
    this.current.event(frame);
  }

  /** A new attempt when the current one wrote anything (or stopped); the client gets `reset`. */
  async restart(): Promise<void> {
    if (this.attemptNow === undefined) return;
    if (this.attemptNow.written === 0 && this.attemptNow.stopped === undefined) return;
    await this.attemptNow.settled().catch(() => undefined);
    await this.begin();
  }

  private async begin(): Promise<void> {
    const opened = await this.replies.begin(this.ref, (stop) => this.onStop(stop));
    if ('kind' in opened) throw new ReplyGoneError(opened.status === 'unknown' ? 'is unknown (expired, or its session was deleted)' : `has ended (${opened.status})`);
    this.attemptNow = opened;
    this.chunks.length = 0;
    this.toolTurns.length = 0;
    this.sources.length = 0;
    this.addSources(this.contextSources);
  }
}

export class Generation {
  /** One clock for every reply's frame batching: frames that waited go out together. */
  private readonly frameClock: FrameClock;

  constructor(
    private readonly parts: GenerationParts,
    private readonly options: GenerationOptions,
    private readonly log: Logger,
  ) {
    this.frameClock = new FrameClock(options.frameBatchMs, () => performance.now(), Math.max(options.frameBatchMs, options.frameBatchMaxMs));
  }

  private running = 0;
  /** A moving average of how long a model reply takes from pick to done (ms); 0 until one finished. */
  private typicalReplyMs = 0;

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
    const { metrics, replies } = this.parts;
    const log = this.log.child({ sessionId: data.sessionId, messageId: data.messageId });
    metrics.queueWait.observe(waitMs / 1000);
    const ref: ReplyRef = { sessionId: data.sessionId, messageId: data.messageId };
    if (data.deadlineAt !== undefined && Date.now() + this.typicalReplyMs >= data.deadlineAt) {
      // Nobody waits for it any more, or it would outlive its deadline (a reply takes about
      // typicalReplyMs here): end it now rather than spend the model on it. Under overload the
      // oldest jobs are the ones closest to their deadline; starting them would only waste capacity.
      await replies.end(ref, { kind: 'error', code: 'unavailable', message: 'the service is too busy to answer in time; try again' });
      this.dropped(span, log, Date.now() >= data.deadlineAt ? 'deadline' : 'late');
      return;
    }
    // Watching before reading: a cancel is either published after this or marked in the state.
    const abort = new AbortController();
    const unwatch = this.parts.cancels.watch(data.messageId, abort);
    // The reply's state and what its context is built from: one command, one round trip before the model.
    let read: Awaited<ReturnType<ContextBuilder['read']>>;
    try {
      read = await this.parts.context.read(data.sessionId, data.messageId, data.userMessageId);
    } catch (err) {
      unwatch();
      throw err;
    }
    const info = read.reply;
    if (info === undefined || isFinished(info.status)) {
      unwatch();
      this.dropped(span, log, info === undefined ? 'unknown' : 'ended');
      return;
    }
    if (info.cancelRequested) abort.abort(new ReplyCancelled());
    const timeout = setTimeout(() => abort.abort(new ChatError('upstream_error', 'the model did not finish in time')), this.options.upstreamTimeoutMs);
    const out = new ReplyOutput(replies, ref);
    const ledger: RunLedger = { reservation: undefined, budgetHeldFor: undefined };
    const started = performance.now();
    try {
      const built = await this.withRetrieval(read.context(), data, out, abort.signal);
      // The tools offered are part of the prompt: reserved for, and budgeted, like the rest of it.
      const context = this.parts.tools === undefined ? built : { ...built, tokens: built.tokens + this.parts.tools.tokens };
      for (let restarts = 0; ; restarts++) {
        // One try: a write that fails stops it (and its model call) and the reply starts over.
        const attempt = new AbortController();
        out.onStop = (stop) => attempt.abort(stop);
        const signal = AbortSignal.any([abort.signal, attempt.signal]);
        try {
          await this.runOnce(data, context, out, signal, ledger, span, log, { waitMs, started });
          return;
        } catch (err) {
          const stop = signal.reason instanceof AttemptStopped ? signal.reason : err instanceof AttemptStopped ? err : undefined;
          if (err instanceof ReplyGoneError || stop?.reason === 'fenced') {
            this.dropped(span, log, err instanceof ReplyGoneError ? 'ended' : 'fenced');
            return;
          }
          if (stop?.reason !== 'broken' || abort.signal.aborted) throw err;
          if (restarts >= WRITE_RESTARTS) {
            await replies.end(ref, { kind: 'error', code: 'unavailable', message: 'the reply could not be stored; try again' }).catch(() => undefined);
            throw err;
          }
          // Start over once Redis takes writes again: the client gets `reset` and the reply whole.
          log.warn({ err: stop.cause ?? stop, restarts: restarts + 1 }, 'a frame could not be written; restarting the reply');
          metrics.replyRestarts.inc();
          await this.reopen(out, Date.now() + 10_000);
        }
      }
    } catch (err) {
      if (err instanceof ReplyGoneError) {
        this.dropped(span, log, 'ended');
        return;
      }
      if (err instanceof BudgetExceededError) {
        metrics.budgetWaits.inc({ reason: err.reason });
        span.addEvent('budget_wait', { reason: err.reason, retry_after_ms: err.retryAfterMs });
        throw err;
      }
      if (abort.signal.reason instanceof ReplyCancelled) {
        // Cancelled, and its last write failed: end it as cancelled at the fence position.
        await replies.end(ref, { kind: 'cancelled' }).catch((e: unknown) => log.error({ err: e }, 'could not end a cancelled reply'));
        return;
      }
      const { code, message, retryAfterMs } = classify(err, abort.signal);
      log.warn({ err, code }, 'reply failed');
      recordFailure(span, err, code);
      const failed = async (): Promise<void> => {
        await out.open();
        try {
          await out.current.error(code, message, retryAfterMs);
        } catch (e) {
          if (!(e instanceof AttemptStopped) || e.reason === 'fenced') throw e;
          // The attempt has a gap: the error goes to the fence position instead.
          await replies.end(ref, { kind: 'error', code, message });
        }
      };
      await failed().catch((e: unknown) => {
        if (!(e instanceof ReplyGoneError) && !(e instanceof AttemptStopped)) log.error({ err: e }, 'could not publish the error frame');
      });
      throw err;
    } finally {
      clearTimeout(timeout);
      unwatch();
      // Reservations not settled by a finished reply are given back whole.
      if (ledger.reservation !== undefined) await this.parts.limits.settleTokens(ledger.reservation, 0).catch(() => undefined);
      if (ledger.budgetHeldFor !== undefined) await this.parts.ledger.release(ledger.budgetHeldFor, data.messageId).catch(() => undefined);
    }
  }

  /** Opens a new attempt, trying again while Redis refuses it (down, or out of memory) until `deadline`. */
  private async reopen(out: ReplyOutput, deadline: number): Promise<void> {
    for (;;) {
      try {
        await this.parts.redisAnswers(Math.max(0, deadline - Date.now()));
        await out.restart();
        return;
      } catch (err) {
        if (err instanceof ReplyGoneError || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** One try at the reply: answer it, then finish it (or, cancelled, end it with what was sent). */
  private async runOnce(
    data: ChatJob,
    context: BuiltContext,
    out: ReplyOutput,
    signal: AbortSignal,
    ledger: RunLedger,
    span: Span,
    log: Logger,
    timing: { waitMs: number; started: number },
  ): Promise<void> {
    const { metrics } = this.parts;
    let outcome: Outcome;
    try {
      outcome = await this.answer(data, context, out, signal, ledger, log);
    } catch (err) {
      if (!(signal.reason instanceof ReplyCancelled)) throw err;
      // The user stopped it: keep what was sent, marked as cancelled, and end with `done`.
      await out.open();
      const usage = { promptTokens: context.tokens, completionTokens: countTextTokens(out.text) };
      await this.finish(data, out, { usage, finishReason: 'cancelled', cached: false, coalesced: false }, ledger, 'cancelled');
      metrics.cancels.inc();
      span.setAttributes({ [ATTR.finishReason]: 'cancelled', [ATTR.frames]: out.current.seq, [ATTR.attempt]: out.current.attempt });
      span.addEvent('done');
      log.info({ frames: out.current.seq }, 'reply cancelled');
      return;
    }
    const source = outcome.cached ? 'cache' : outcome.coalesced ? 'coalesced' : 'model';
    await this.finish(data, out, outcome, ledger, undefined);
    if (source === 'model') {
      const ms = performance.now() - timing.started;
      this.typicalReplyMs = this.typicalReplyMs === 0 ? ms : this.typicalReplyMs * 0.9 + ms * 0.1;
    }
    metrics.replySources.inc({ source });
    span.setAttributes({
      [ATTR.source]: source,
      [ATTR.cacheHit]: outcome.cached,
      [ATTR.attempt]: out.current.attempt,
      [ATTR.frames]: out.current.seq,
      [ATTR.finishReason]: outcome.finishReason,
      [ATTR.inputTokens]: outcome.usage.promptTokens,
      [ATTR.outputTokens]: outcome.usage.completionTokens,
    });
    span.addEvent('done');
    log.info(
      { source, attempt: out.current.attempt, frames: out.current.seq, finishReason: outcome.finishReason, usage: outcome.usage, queueWaitMs: timing.waitMs, ms: Math.round(performance.now() - timing.started) },
      'reply done',
    );
  }

  /** A job whose reply must not run (any more): nothing was or will be written for it. */
  private dropped(span: Span, log: Logger, reason: 'deadline' | 'late' | 'ended' | 'unknown' | 'fenced'): void {
    this.parts.metrics.jobsDropped.inc({ reason });
    span.addEvent('dropped', { reason });
    log.info({ reason }, 'dropped a reply that has ended elsewhere');
  }

  /**
   * The history entry, the session's slot and `done`, in one write; then what a finished reply
   * leaves behind (the user's tokens, the cache). A reply ended elsewhere leaves nothing.
   */
  private async finish(data: ChatJob, out: ReplyOutput, outcome: Outcome, ledger: RunLedger, status: 'cancelled' | undefined): Promise<void> {
    const history = {
      id: data.messageId,
      role: 'assistant' as const,
      content: out.text,
      createdAt: new Date().toISOString(),
      ...(status === undefined ? {} : { status }),
      ...(out.toolTurns.length === 0 ? {} : { tools: [...out.toolTurns] }),
      ...(out.sources.length === 0 ? {} : { sources: [...out.sources] }),
    };
    const userId = data.userId ?? data.subject;
    const model = data.model || this.options.model;
    const served = outcome.cached || outcome.coalesced;
    const { promptTokens, completionTokens } = outcome.usage;
    // A reply served from the cache or another's call cost no model tokens: counted as cached.
    const usage: UsageEntry = served
      ? { userId, model, promptTokens: 0, completionTokens: 0, cachedTokens: completionTokens, costNanos: 0 }
      : { userId, model, promptTokens, completionTokens, cachedTokens: 0, costNanos: this.parts.prices.costNanos(model, promptTokens, completionTokens) };
    // Into the ledger first (once, however often this runs; it replaces the budget reservation),
    // so a client that reads its usage on `done` finds this reply in it. The tokens were spent
    // even if the reply is fenced out just now.
    if (await this.recordUsage(usage, data.messageId)) ledger.budgetHeldFor = undefined;
    await out.current.done(outcome.usage, outcome.finishReason, outcome, history, usage);
    const { metrics } = this.parts;
    metrics.usageTokens.inc({ model, kind: 'prompt' }, usage.promptTokens);
    metrics.usageTokens.inc({ model, kind: 'completion' }, usage.completionTokens);
    metrics.usageTokens.inc({ model, kind: 'cached' }, usage.cachedTokens);
    metrics.usageCost.inc({ model }, nanosToUsd(usage.costNanos));
    const { limits, cache } = this.parts;
    const reservation = ledger.reservation;
    ledger.reservation = undefined;
    const recorded = await Promise.allSettled([
      reservation === undefined ? undefined : limits.settleTokens(reservation, outcome.usage.promptTokens + outcome.usage.completionTokens),
      outcome.cacheAs === undefined ? undefined : cache.put(outcome.cacheAs, out.chunks, outcome.usage),
    ]);
    for (const r of recorded) if (r.status === 'rejected') this.log.warn({ err: r.reason as unknown, messageId: data.messageId }, 'could not record a finished reply (limits or cache)');
  }

  private async answer(data: ChatJob, context: BuiltContext, out: ReplyOutput, signal: AbortSignal, ledger: RunLedger, log: Logger): Promise<Outcome> {
    const { cache, coalescer } = this.parts;
    const request: ModelRequest = { model: data.model || this.options.model, maxTokens: this.options.maxReplyTokens, messages: context.messages };
    const hash = requestHash({ ...request, toolset: this.parts.tools?.toolset ?? '' });
    const call: ModelCall = { data, context, request, out, signal, cacheHash: undefined, ledger };
    // Another answer was asked for: the model's, stored in the cache in place of the one it replaces.
    if (data.fresh === true) return this.generate({ ...call, cacheHash: hash });
    if (!this.options.coalesce) {
      const hit = await cache.get(hash);
      return hit !== undefined ? this.replay(hit.chunks, hit.usage, out) : this.generate({ ...call, cacheHash: hash });
    }
    // One script: the coalescing lock, then the cache (read after the lock is taken, so a leader
    // that finished before it was ours is found there; on a hit the lock is let go in the script).
    // With no fleet budget to pass first, a leader's reservations and its attempt's opening go out
    // in the same round trip (the last one before the model); a hit or a follower gives the
    // reservations back. With one, admission comes first, and a reply refused by it stays unopened.
    const self = { messageId: data.messageId, sessionId: data.sessionId };
    const ready = this.parts.budget.enabled ? undefined : this.reserveAndOpen(call);
    let first: Awaited<ReturnType<typeof coalescer.claim>>;
    try {
      first = await coalescer.claim(hash, self, cache.enabled);
    } catch (err) {
      await ready; // its reservations are then on the ledger, for runTraced to give back
      throw err;
    }
    const cached = first.cached;
    let claim = first.claim;
    const hit = await cache.entry(hash, cached);
    if (hit !== undefined) {
      await this.giveBack(call, ready);
      return this.replay(hit.chunks, hit.usage, out);
    }
    // A corrupt entry (now removed) let the lock go with it: take it again, without the cache.
    if (cached !== undefined) ({ claim } = await coalescer.claim(hash, self));
    if (claim.role === 'leader') {
      try {
        return await this.generate({ ...call, cacheHash: hash }, ready);
      } finally {
        await claim.release().catch((err: unknown) => log.warn({ err }, 'could not release the coalescing lock'));
      }
    }

    await this.giveBack(call, ready);
    await out.open();
    try {
      const end = await coalescer.follow(
        hash,
        claim.leader,
        (frame) => {
          if (frame.type === 'token') out.token(frame.text);
          else if (frame.type === 'reset') throw new LeaderLost('the shared reply restarted');
          // What a tool says is live and may be the other user's own: a reply that calls one is not shared.
          else if (frame.type === 'tool_call') throw new LeaderLost('the shared reply calls tools');
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

  /**
   * The user's tokens (the prompt and the most the reply may use) from the per-minute limit and
   * from the user's budgets, and the attempt's opening: sent together, one round trip. Never
   * rejects: each part's outcome is in the result, and what was reserved is on `call.ledger`
   * (given back by runTraced unless a finished reply settles it).
   */
  private reserveAndOpen(call: ModelCall): Promise<Array<PromiseSettledResult<unknown>>> {
    const { ledger, data, context, request } = call;
    const reserving =
      ledger.reservation === undefined
        ? this.parts.limits.reserveTokens(data.subject, context.tokens + request.maxTokens).then((reservation) => {
            ledger.reservation = reservation;
          })
        : undefined;
    return Promise.allSettled([reserving, this.reserveBudget(call), call.out.open()]);
  }

  /**
   * A reply that will not call the model (a cache hit, a follower) gives back what reserveAndOpen
   * took for it, before it goes on: its user's other replies may need it now. A refusal is moot.
   */
  private async giveBack(call: ModelCall, ready: ReturnType<Generation['reserveAndOpen']> | undefined): Promise<void> {
    if (ready === undefined) return;
    await ready;
    const { ledger, data } = call;
    const { reservation, budgetHeldFor } = ledger;
    ledger.reservation = undefined;
    ledger.budgetHeldFor = undefined;
    const given = await Promise.allSettled([
      reservation === undefined ? undefined : this.parts.limits.settleTokens(reservation, 0),
      budgetHeldFor === undefined ? undefined : this.parts.ledger.release(budgetHeldFor, data.messageId),
    ]);
    for (const r of given) if (r.status === 'rejected') this.log.warn({ err: r.reason as unknown, messageId: data.messageId }, 'could not give back a reservation');
  }

  /**
   * Calls the model within the fleet's budget, restarting a reply broken mid-stream. `ready`: the
   * reservations and opening already sent (reserveAndOpen), else they are made here.
   */
  private async generate(call: ModelCall, ready?: ReturnType<Generation['reserveAndOpen']>): Promise<Outcome> {
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
    for (const r of await (ready ?? this.reserveAndOpen(call))) if (r.status === 'rejected') throw r.reason;
    for (let restarts = 0; ; restarts++) {
      try {
        return await this.streamOnce(call);
      } catch (err) {
        // Broke after text went out (the client wrapper retries only before the first token):
        // start the reply over with a `reset`, a bounded number of times.
        if (signal.aborted || out.current.written === 0 || restarts >= this.options.maxRestarts || !isRetryableUpstreamError(err)) throw err;
        this.log.info({ messageId: call.data.messageId, err: err instanceof Error ? err.message : String(err), restarts: restarts + 1 }, 'model stream broke mid-reply; restarting it');
        this.parts.metrics.replyRestarts.inc();
        await out.restart();
      }
    }
  }

  /**
   * Adds a finished reply's usage to the ledger, trying again for a few seconds if Redis is
   * away (the reply's own record stays in its meta). False when it could not.
   */
  private async recordUsage(usage: UsageEntry, messageId: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.parts.ledger.record(usage, messageId);
        return true;
      } catch (err) {
        if (attempt >= 5) {
          this.log.error({ err, messageId, userId: usage.userId }, 'could not add a reply to the usage ledger');
          return false;
        }
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  }

  /** Reserves the reply's worst case (tokens and cost) from the user's budgets, once per run. */
  private async reserveBudget(call: ModelCall): Promise<void> {
    const { budgets, ledger, prices } = this.parts;
    if (budgets.unlimited || call.ledger.budgetHeldFor !== undefined) return;
    const userId = call.data.userId ?? call.data.subject;
    const budget = budgets.budgetFor(call.data.plan);
    const { tokens } = call.context;
    const { maxTokens, model } = call.request;
    const expiresAt = Date.now() + this.options.upstreamTimeoutMs + 60_000;
    const refusal = await ledger.reserve(
      userId,
      call.data.messageId,
      { tokens: tokens + maxTokens, costNanos: prices.costNanos(model, tokens, maxTokens) },
      { tokens, costNanos: prices.costNanos(model, tokens, 0) },
      budget,
      expiresAt,
    );
    if (refusal !== undefined) throw quotaExceeded(refusal, budget);
    call.ledger.budgetHeldFor = userId;
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

  /**
   * The model's turns for one reply: it streams text, and may call tools; their results go back
   * to it for the next turn, up to TOOL_MAX_STEPS turns with tools, then one without. Every turn
   * streams into the same attempt: token seqs go on across turns, and the tool calls and results
   * go out as frames between the tokens.
   */
  private async streamOnceTraced({ data, context, request, out, signal, cacheHash }: ModelCall, span: Span): Promise<Outcome> {
    const { metrics, budget, model, tools } = this.parts;
    metrics.activeGenerations.inc();
    const started = performance.now();
    let firstAt = 0;
    const batcher = this.frameClock.batcher((t) => out.token(t));
    const offered = tools?.tools ?? [];
    let messages = request.messages;
    let promptNow = context.tokens;
    const usage = { promptTokens: 0, completionTokens: 0 };
    let calledTools = false;
    try {
      for (let step = 0; ; step++) {
        const offer = offered.length > 0 && step < this.options.toolMaxSteps;
        // This turn's text is what its deltas added to the reply's chunks: read once, not built per delta.
        const stepStart = out.chunks.length;
        const result = await model.stream({ ...request, messages, signal, ...(offer ? { tools: offered } : {}) }, (delta) => {
          if (firstAt === 0) {
            firstAt = performance.now();
            metrics.llmFirstToken.observe((firstAt - started) / 1000);
            span.addEvent('first_token', { [ATTR.firstTokenMs]: Math.round(firstAt - started) });
          }
          batcher.push(delta);
        });
        batcher.flush();
        const stepText = (): string => out.chunks.slice(stepStart).join('');
        const turn = result.usage ?? { promptTokens: promptNow, completionTokens: countTextTokens(stepText()) };
        usage.promptTokens += turn.promptTokens;
        usage.completionTokens += turn.completionTokens;
        if (!offer || result.toolCalls.length === 0) {
          metrics.llmDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
          metrics.llmTokens.inc({ kind: 'prompt' }, usage.promptTokens);
          metrics.llmTokens.inc({ kind: 'completion' }, usage.completionTokens);
          await budget.chargeCompletion(usage.completionTokens + Math.max(0, usage.promptTokens - context.tokens)).catch((err: unknown) => this.log.warn({ err }, 'could not charge the fleet budget'));
          // A reply that called a tool answered from live data: never cached.
          const cacheable = cacheHash !== undefined && result.natural && !calledTools;
          return { usage, finishReason: result.finishReason, cached: false, coalesced: false, ...(cacheable ? { cacheAs: cacheHash } : {}) };
        }
        // The text the model said before its calls went out (flushed) before them.
        calledTools = true;
        const said = stepText();
        const calls = result.toolCalls.map((call, i) => (call.id === '' ? { ...call, id: `call_${step}_${i}` } : call));
        const answered = await this.runTools(data, out, calls, step, signal);
        const turnMessages: ModelMessage[] = [
          { role: 'assistant', content: said === '' ? null : said, tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) },
          ...calls.map((c, i): ModelMessage => ({ role: 'tool', tool_call_id: c.id, content: answered[i]!.content })),
        ];
        for (const m of turnMessages) promptNow += countMessageTokens(m);
        messages = [...messages, ...turnMessages];
        span.addEvent('tool_step', { step, tools: calls.map((c) => c.name).join(',') });
      }
    } catch (err) {
      // Cancelled: what the model said so far goes out; otherwise it is thrown away.
      if (signal.reason instanceof ReplyCancelled) batcher.flush();
      else batcher.discard();
      metrics.llmDuration.observe({ outcome: signal.reason instanceof ReplyCancelled ? 'cancelled' : 'error' }, (performance.now() - started) / 1000);
      if (!(signal.reason instanceof ReplyCancelled) && !(signal.reason instanceof AttemptStopped)) metrics.upstreamErrors.inc({ kind: classify(err, signal).kind });
      throw err;
    } finally {
      batcher.close();
      metrics.activeGenerations.dec();
    }
  }

  /**
   * Runs one turn's tool calls at once, each announced with `tool_call` and answered with
   * `tool_result` as it finishes; the sources they name follow. Resolves with each call's
   * outcome in call order; rejects only when `signal` aborts (cancel, or the attempt stopped).
   */
  private async runTools(data: ChatJob, out: ReplyOutput, calls: readonly ModelToolCall[], step: number, signal: AbortSignal): Promise<ToolOutcome[]> {
    const { tools, metrics } = this.parts;
    const { messageId } = data;
    for (const call of calls) out.event({ type: 'tool_call', messageId, callId: call.id, name: call.name, arguments: parsedArguments(call.arguments) });
    const outcomes = await Promise.all(
      calls.map(async (call) => {
        const started = performance.now();
        // A restarted reply (a worker died mid-call) calls again with the same key.
        const outcome = await tools!.call(call, { signal, idempotencyKey: `${messageId}:${call.id}` });
        metrics.toolDuration.observe({ tool: call.name }, (performance.now() - started) / 1000);
        metrics.toolCalls.inc({ tool: call.name, outcome: outcome.ok ? 'ok' : 'error' });
        out.event({ type: 'tool_result', messageId, callId: call.id, name: call.name, ok: outcome.ok, ...(outcome.summary === '' ? {} : { summary: outcome.summary }) });
        return outcome;
      }),
    );
    calls.forEach((call, i) => {
      const outcome = outcomes[i]!;
      out.toolTurns.push({ step, callId: call.id, name: call.name, arguments: call.arguments, ok: outcome.ok, result: capForHistory(outcome.content) });
    });
    out.addSources(outcomes.flatMap((o) => o.sources));
    return outcomes;
  }

  /** The context with the retrieved passages before the user's message, when a provider is configured and found some. */
  private async withRetrieval(context: BuiltContext, data: ChatJob, out: ReplyOutput, signal: AbortSignal): Promise<BuiltContext> {
    const { retrieval } = this.parts;
    const last = context.messages.at(-1);
    if (retrieval === undefined || last === undefined || last.role !== 'user') return context;
    const found = await retrieval.retrieve(last.content, signal, data.messageId);
    this.parts.metrics.retrievals.inc({ outcome: found === undefined ? 'none' : 'passages' });
    if (found === undefined) return context;
    out.contextSources = found.sources;
    return { ...context, messages: [...context.messages.slice(0, -1), found.message, last], tokens: context.tokens + found.tokens };
  }
}

/** A history entry keeps this much of each tool result (the model had it whole, up to TOOL_RESULT_MAX_BYTES). */
const HISTORY_RESULT_CHARS = 4000;

function capForHistory(content: string): string {
  return content.length <= HISTORY_RESULT_CHARS ? content : `${content.slice(0, HISTORY_RESULT_CHARS)}\n[cut]`;
}

/** The arguments as the `tool_call` frame shows them: parsed JSON, or the raw text when it is not JSON. */
function parsedArguments(text: string): unknown {
  try {
    return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
}

/**
 * What the client is told about a failure: a stable message and, for the model, its status. The
 * provider's own words can carry an organization id or a masked key, so they go to the log only.
 */
function classify(err: unknown, signal: AbortSignal): { code: ErrorCode; message: string; kind: string; retryAfterMs?: number } {
  if (signal.aborted && signal.reason instanceof ChatError) return { code: signal.reason.code, message: signal.reason.message, kind: 'timeout' };
  if (err instanceof ChatError) return { code: err.code, message: err.message, kind: err.code, ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }) };
  if (err instanceof APIConnectionTimeoutError) return { code: 'upstream_error', message: 'the model timed out', kind: 'timeout' };
  if (err instanceof APIUserAbortError) return { code: 'upstream_error', message: 'the model call was aborted', kind: 'aborted' };
  if (err instanceof APIError) {
    const status: number = typeof err.status === 'number' ? err.status : 0;
    return {
      code: 'upstream_error',
      message: status ? `the model answered with HTTP ${status}; try again or rephrase` : 'the model could not be reached; try again',
      kind: status ? `http_${status}` : 'connection',
    };
  }
  return { code: 'internal', message: 'the reply failed', kind: 'internal' };
}
