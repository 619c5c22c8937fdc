// One reply as the SDK hands it out: its frames assembled whole (reply-assembler.ts), as events or
// an async iterator, with `finished` resolving once however the reply ends, and `cancel()`. Its
// tool calls and sources (reply-events.ts) are events and getters beside the text; the iterator
// stays the text's.
import type { AckFrame, ErrorCode, FinishReason, Source, Usage } from '@chat-fleet/protocol';
import { Emitter } from './emitter.js';
import type { ReplyEventFrame } from './frames.js';
import { ReplyAssembler, type AssembleStep, type ReplyFrameLike } from './reply-assembler.js';
import { NO_SOURCES, NO_TOOL_CALLS, addedSources, withSources, withToolCall, withToolResult, type ToolCall } from './reply-events.js';

/** Codes of a reply that ended without `done`: the protocol's, or the client's own. */
export type ReplyErrorCode =
  | ErrorCode
  /** The socket closed for good (or the client was closed) before the reply ended. */
  | 'socket_closed'
  /** The session was deleted or expired, or its token refused: only a new session helps. */
  | 'session_gone'
  /** Nothing ended the reply within the client's `replyTimeoutMs`. */
  | 'timeout'
  /** The socket dropped before the gateway acknowledged the message, and no reply followed: it was not sent. */
  | 'not_sent';

export class ReplyError extends Error {
  constructor(
    readonly code: ReplyErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ReplyError';
  }
}

export interface ReplyDone {
  readonly status: 'done';
  readonly messageId: string;
  readonly text: string;
  readonly finishReason: FinishReason;
  readonly usage: Usage;
  readonly cached: boolean;
  readonly coalesced: boolean;
  /** Sockets reopened (and the reply resumed) while it streamed. */
  readonly resumes: number;
  /** Send to first token of the attempt that ended, ms; undefined when no token came. */
  readonly firstTokenMs: number | undefined;
  /** Send to done, ms. */
  readonly totalMs: number;
  /** Frames dropped as duplicates or past a gap (a healthy fleet sends none). */
  readonly duplicates: number;
  readonly gaps: number;
  /** Why the reply is not whole by the rule (`done` naming another seq than the last token), else undefined. */
  readonly problem: string | undefined;
}

export interface ReplyFailed {
  readonly status: 'error';
  readonly messageId: string | undefined;
  readonly error: ReplyError;
  /** What had been shown. */
  readonly text: string;
  readonly resumes: number;
}

export type ReplyOutcome = ReplyDone | ReplyFailed;

export type ReplyEvent =
  | { readonly type: 'ack'; readonly messageId: string; readonly scrubbed: AckFrame['scrubbed'] }
  | { readonly type: 'token'; readonly text: string; readonly seq: number }
  /** The reply starts over (its worker failed and another took it): drop what was shown. */
  | { readonly type: 'reset'; readonly attempt: number }
  | { readonly type: 'done'; readonly result: ReplyDone }
  | { readonly type: 'error'; readonly result: ReplyFailed };

type ReplyEvents = {
  ack: [messageId: string, scrubbed: AckFrame['scrubbed']];
  token: [text: string, seq: number];
  reset: [attempt: number];
  /** The model called a tool (each call once, resumed or not). */
  tool_call: [call: ToolCall];
  /** A tool answered: the call with its `ok`, `summary` and state. */
  tool_result: [call: ToolCall];
  /** Sources the reply was given, new or changed since the last `sources` event. */
  sources: [added: Source[]];
  done: [result: ReplyDone];
  error: [result: ReplyFailed];
};

/** What the client does for a reply: send its cancel, ask for missed frames. */
export interface ReplyHost {
  cancel(reply: Reply): void;
  resume(reply: Reply): void;
}

export class Reply extends Emitter<ReplyEvents> implements AsyncIterable<ReplyEvent> {
  /** The gateway's id for the reply, from `ack` (or known in advance when following one). */
  messageId: string | undefined;
  /** performance.now() when the chat frame went out (or the reply was followed). */
  sentAt: number;
  firstTokenAt: number | undefined;
  resumes = 0;
  cancelRequested = false;
  /** The frame the client sent it as went out on a socket (vs waiting for one). */
  sent = false;
  readonly finished: Promise<ReplyOutcome>;
  private settle!: (outcome: ReplyOutcome) => void;
  private outcome: ReplyOutcome | undefined;
  private readonly assembler: ReplyAssembler;
  private calls = NO_TOOL_CALLS;
  private sourceList = NO_SOURCES;
  private queues: Array<ReplyEvent[] & { wake?: () => void }> = [];

  /** Asked for with a `regenerate` frame (a new answer to the last message) rather than a `chat`. */
  readonly regenerate: boolean;

  constructor(
    /** The `chat` (or `regenerate`) frame's id (the client's), or the messageId of a reply followed. */
    readonly id: string,
    readonly content: string,
    private readonly host: ReplyHost,
    options: { keepText?: boolean; messageId?: string; afterSeq?: number; attempt?: number; regenerate?: boolean } = {},
  ) {
    super();
    this.regenerate = options.regenerate === true;
    this.sentAt = performance.now();
    this.assembler = new ReplyAssembler({ keepText: options.keepText !== false });
    this.messageId = options.messageId;
    if (options.attempt !== undefined) this.assembler.attempt = options.attempt;
    if (options.afterSeq !== undefined) this.assembler.lastSeq = options.afterSeq;
    this.finished = new Promise((resolve) => (this.settle = resolve));
  }

  /** The text so far (of the current attempt). */
  get text(): string {
    return this.assembler.text;
  }

  get lastSeq(): number {
    return this.assembler.lastSeq;
  }

  get attempt(): number {
    return this.assembler.attempt;
  }

  /** The tool calls of the current attempt, in call order, each with its answer once it came. */
  get toolCalls(): readonly ToolCall[] {
    return this.calls;
  }

  /** The sources of the current attempt, each once (by `id`). */
  get sources(): readonly Source[] {
    return this.sourceList;
  }

  get ended(): boolean {
    return this.outcome !== undefined;
  }

  get result(): ReplyOutcome | undefined {
    return this.outcome;
  }

  /** Stops the reply: it ends with `done` and finishReason `cancelled` (sent after `ack` if need be). */
  cancel(): void {
    if (this.ended || this.cancelRequested) return;
    this.cancelRequested = true;
    this.host.cancel(this);
  }

  /** Resolves when the reply ends with `done`; rejects with its ReplyError otherwise. */
  async done(): Promise<ReplyDone> {
    const outcome = await this.finished;
    if (outcome.status === 'error') throw outcome.error;
    return outcome;
  }

  [Symbol.asyncIterator](): AsyncIterator<ReplyEvent> {
    const queue: ReplyEvent[] & { wake?: () => void } = [];
    // Late iteration starts from what is known: the text so far as one token.
    if (this.messageId !== undefined) queue.push({ type: 'ack', messageId: this.messageId, scrubbed: undefined });
    if (this.assembler.lastSeq > 0) queue.push({ type: 'token', text: this.assembler.text, seq: this.assembler.lastSeq });
    if (this.outcome !== undefined) queue.push(this.outcomeEvent(this.outcome));
    else this.queues.push(queue);
    let over = false;
    return {
      next: async (): Promise<IteratorResult<ReplyEvent>> => {
        for (;;) {
          const event = queue.shift();
          if (event !== undefined) {
            if (event.type === 'done' || event.type === 'error') over = true;
            return { value: event, done: false };
          }
          if (over) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (queue.wake = resolve));
        }
      },
      return: (): Promise<IteratorResult<ReplyEvent>> => {
        over = true;
        queue.length = 0;
        this.queues = this.queues.filter((q) => q !== queue);
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  // ---- driven by the client ----

  /** @internal The gateway acknowledged the chat. */
  acked(messageId: string, scrubbed: AckFrame['scrubbed']): void {
    this.messageId = messageId;
    this.emit('ack', messageId, scrubbed);
    this.push({ type: 'ack', messageId, scrubbed });
  }

  /** @internal One frame of this reply; the step tells the client whether to resume. */
  frame(frame: ReplyFrameLike): AssembleStep {
    const step = this.assembler.apply(frame);
    switch (step) {
      case 'token':
        if (frame.type !== 'token') break;
        this.firstTokenAt ??= performance.now();
        if (this.hasListeners('token')) this.emit('token', frame.text, frame.seq);
        if (this.queues.length > 0) this.push({ type: 'token', text: frame.text, seq: frame.seq });
        break;
      case 'reset':
        this.firstTokenAt = undefined;
        // The new attempt sends its own tool calls and sources.
        this.calls = NO_TOOL_CALLS;
        this.sourceList = NO_SOURCES;
        this.emit('reset', this.assembler.attempt);
        this.push({ type: 'reset', attempt: this.assembler.attempt });
        break;
      case 'done':
        this.end(this.doneOutcome());
        break;
      case 'error': {
        const e = this.assembler.error!;
        this.end(this.failure(new ReplyError(e.code, e.message, e.retryAfterMs)));
        break;
      }
      case 'gap':
      case 'early':
        this.host.resume(this);
        break;
      default:
        break;
    }
    return step;
  }

  /** @internal A tool call, tool result or sources of this reply; one seen before changes nothing. */
  event(frame: ReplyEventFrame): void {
    if (this.ended) return;
    switch (frame.type) {
      case 'tool_call': {
        const calls = withToolCall(this.calls, frame);
        if (calls === this.calls) return;
        this.calls = calls;
        this.emit('tool_call', calls.at(-1)!);
        return;
      }
      case 'tool_result': {
        const calls = withToolResult(this.calls, frame);
        if (calls === this.calls) return;
        this.calls = calls;
        this.emit('tool_result', calls.find((c) => c.callId === frame.callId)!);
        return;
      }
      case 'sources': {
        const sources = withSources(this.sourceList, frame.sources);
        if (sources === this.sourceList) return;
        const added = addedSources(this.sourceList, sources);
        this.sourceList = sources;
        this.emit('sources', added);
        return;
      }
    }
  }

  /** @internal Ends the reply without `done` (refused, socket gone, timeout). */
  fail(error: ReplyError): void {
    if (this.ended) return;
    this.end(this.failure(error));
  }

  private doneOutcome(): ReplyDone {
    const a = this.assembler;
    const now = performance.now();
    return {
      status: 'done',
      messageId: this.messageId ?? this.id,
      text: a.text,
      finishReason: a.finishReason!,
      usage: a.usage!,
      cached: a.cached,
      coalesced: a.coalesced,
      resumes: this.resumes,
      firstTokenMs: this.firstTokenAt === undefined ? undefined : this.firstTokenAt - this.sentAt,
      totalMs: now - this.sentAt,
      duplicates: a.duplicates,
      gaps: a.gaps,
      problem: a.problem,
    };
  }

  private failure(error: ReplyError): ReplyFailed {
    return { status: 'error', messageId: this.messageId, error, text: this.assembler.text, resumes: this.resumes };
  }

  private end(outcome: ReplyOutcome): void {
    this.outcome = outcome;
    if (outcome.status === 'done') this.emit('done', outcome);
    else this.emit('error', outcome);
    this.push(this.outcomeEvent(outcome));
    this.queues = [];
    this.settle(outcome);
  }

  private outcomeEvent(outcome: ReplyOutcome): ReplyEvent {
    return outcome.status === 'done' ? { type: 'done', result: outcome } : { type: 'error', result: outcome };
  }

  private push(event: ReplyEvent): void {
    for (const q of this.queues) {
      q.push(event);
      const wake = q.wake;
      q.wake = undefined;
      wake?.();
    }
  }
}
