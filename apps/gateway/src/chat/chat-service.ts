// The chat logic of a gateway, independent of any transport: sessions, accepting messages,
// handing them to the worker fleet. Sockets, SSE and REST adapt to it.
import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import {
  ATTR,
  ChatError,
  SPANS,
  chatTracer,
  injectTraceContext,
  ledgerUserId,
  recordFailure,
  sanitizeText,
  scrubPii,
  type PiiKind,
  type ChatJob,
  type CreateSessionBody,
  type CreateSessionResponse,
  type Logger,
  type ReplyState,
  type SessionStore,
  type SessionView,
} from '@chat-fleet/shared';
import type { SessionIdentity, TokenService } from '../auth/token-service.js';
import type { Admission } from '../limits/chat-admission.js';
import { newId } from './new-id.js';
import type { ReplyQueue } from './reply-queue.js';
import type { ReplyTracker } from './reply-tracker.js';

export interface ChatServiceOptions {
  model: string;
  maxMessageChars: number;
  /** How long the one-reply-in-flight slot is held at most if nobody releases it. */
  inflightTtlMs: number;
  /** How long an accepted message may take to end; then any gateway ends it with `unavailable`. */
  replyTimeoutMs: number;
}

/** What a deleted session leaves outside its keys. */
export interface SessionEndings {
  /**
   * Stops the reply that was in flight (if any) and has every gateway end the session's sockets
   * (4100) and requests; no frame published after it resolves reaches a client.
   */
  deleted(sessionId: string, inflight: string | undefined): Promise<void>;
}

export interface SubmitInput {
  sessionId: string;
  /** Chosen by the transport so it can order the ack before the reply's frames. */
  messageId?: string;
  content: string;
  /** The client's address, the rate-limit subject when the session has no userId. */
  clientAddress: string;
  /** How the message came in, for its trace. */
  transport?: 'ws' | 'rest' | 'sse';
}

export class ChatService {
  constructor(
    private readonly sessions: SessionStore,
    private readonly queue: ReplyQueue,
    private readonly tokens: TokenService,
    private readonly tracker: ReplyTracker,
    private readonly admission: Admission,
    private readonly replies: ReplyState,
    private readonly endings: SessionEndings,
    private readonly options: ChatServiceOptions,
    private readonly log: Logger,
  ) {}

  /**
   * `owner`: who the session is for, as the transport authenticated it (UserAuth); by default
   * the body's userId as an anonymous label.
   */
  async createSession(body: CreateSessionBody, clientAddress: string, owner: SessionIdentity = { userId: body.userId, via: 'anonymous' }): Promise<CreateSessionResponse> {
    // A trusted user (or a backend acting for one) is counted per user, an anonymous caller per address.
    const trusted = owner.via !== 'anonymous' && owner.userId !== undefined;
    await this.admission.admitSession(body, trusted ? `user:${owner.userId}` : clientAddress, ledgerUserId(owner.userId, clientAddress));
    const sessionId = newId();
    await this.sessions.create({
      sessionId,
      userId: owner.userId,
      plan: owner.plan,
      clientAddress,
      systemPrompt: body.systemPrompt === undefined ? undefined : scrubPii(sanitizeText(body.systemPrompt)).text,
      metadata: body.metadata,
      createdAt: new Date().toISOString(),
    });
    this.admission.sessionCreated(sessionId, owner.userId, owner.plan);
    const issued = await this.tokens.issue(sessionId, owner);
    this.log.debug({ sessionId, via: owner.via }, 'session created');
    return { sessionId, token: issued.token, expiresAt: issued.expiresAt };
  }

  /** Throws `not_found` unless the session exists; renews its idle TTL. */
  async requireSession(sessionId: string): Promise<void> {
    if (!(await this.sessions.exists(sessionId))) throw new ChatError('not_found', `session ${sessionId} does not exist or has expired`);
    await this.sessions.touch(sessionId);
  }

  /** One page of the session's history, oldest first: the newest `limit` messages, or those before `before`. */
  async getSession(sessionId: string, page: { limit: number; before?: string }): Promise<SessionView> {
    const meta = await this.sessions.getMeta(sessionId);
    if (meta === undefined) throw new ChatError('not_found', `session ${sessionId} does not exist or has expired`);
    const found = await this.sessions.historyPage(sessionId, page.limit, page.before);
    if (found === undefined) throw new ChatError('not_found', `message ${page.before} is not in the history of session ${sessionId}`);
    await this.sessions.touch(sessionId);
    const { messages, hasMore } = found;
    return { sessionId, createdAt: meta.createdAt, messages, hasMore, ...(hasMore && messages[0] !== undefined ? { nextBefore: messages[0].id } : {}) };
  }

  async deleteSession(sessionId: string): Promise<void> {
    const deleted = await this.sessions.delete(sessionId);
    if (deleted === undefined) throw new ChatError('not_found', `session ${sessionId} does not exist or has expired`);
    await this.endings.deleted(sessionId, deleted.inflight);
    this.log.debug({ sessionId, inflight: deleted.inflight }, 'session deleted');
  }

  /**
   * Accepts a user message: stores it in the history and queues its reply. Resolves with the
   * reply's messageId once queued; every accepted message later ends in `done` or `error`.
   * Personal data is replaced by placeholders here, before the history, the queue or a log
   * line sees the text; `scrubbed` counts the replacements per kind.
   */
  async submit(input: SubmitInput): Promise<{ messageId: string; scrubbed: Partial<Record<PiiKind, number>> }> {
    const receivedAt = performance.now();
    // The message's trace: from here until its reply's terminal frame passes this gateway
    // (ReplyTracker ends it). The worker's spans join it through the job.
    const span = chatTracer().startSpan(SPANS.message, {
      kind: SpanKind.SERVER,
      attributes: { [ATTR.sessionId]: input.sessionId, [ATTR.transport]: input.transport ?? 'ws' },
    });
    try {
      return await context.with(trace.setSpan(context.active(), span), () => this.accept(input, span, receivedAt));
    } catch (err) {
      recordFailure(span, err, err instanceof ChatError ? err.code : undefined);
      span.end();
      throw err;
    }
  }

  private async accept(input: SubmitInput, span: Span, receivedAt: number): Promise<{ messageId: string; scrubbed: Partial<Record<PiiKind, number>> }> {
    const trace = injectTraceContext();
    return chatTracer().startActiveSpan(SPANS.accept, async (acceptSpan) => {
      try {
        return await this.acceptTraced(input, span, receivedAt, trace);
      } catch (err) {
        recordFailure(acceptSpan, err, err instanceof ChatError ? err.code : undefined);
        throw err;
      } finally {
        acceptSpan.end();
      }
    });
  }

  private async acceptTraced(
    input: SubmitInput,
    span: Span,
    receivedAt: number,
    trace: Record<string, string> | undefined,
  ): Promise<{ messageId: string; scrubbed: Partial<Record<PiiKind, number>> }> {
    // Limits first, before any work on the text: Redis memory and the session's owner are known
    // in process (the owner after one short read per session), then the user's limit is counted.
    const { subject, userId, plan, sessionUserId } = await this.admission.admitMessage(input.sessionId, input.clientAddress);
    const sanitized = sanitizeText(input.content);
    if (sanitized.length > this.options.maxMessageChars) {
      throw new ChatError('too_large', `message has ${sanitized.length} characters; the limit is ${this.options.maxMessageChars}`);
    }
    if (sanitized.trim() === '') throw new ChatError('bad_request', 'message content is empty');
    const { text: content, found: scrubbed } = scrubPii(sanitized);

    const messageId = input.messageId ?? newId();
    span.setAttribute(ATTR.messageId, messageId);
    const ref = { sessionId: input.sessionId, messageId };
    const userMessageId = newId();
    // The in-flight slot, the user's message and the queued reply, in one write.
    const accepted = await this.replies.accept(ref, { id: userMessageId, role: 'user', content, createdAt: new Date().toISOString() }, this.options.inflightTtlMs);
    if (!accepted.accepted) {
      if (accepted.reason === 'gone') throw new ChatError('not_found', `session ${input.sessionId} does not exist or has expired`);
      throw new ChatError('busy', `a reply is already streaming in this session (messageId ${accepted.holder}); wait for it or cancel it`);
    }
    try {
      const deadlineAt = Date.now() + this.options.replyTimeoutMs;
      const job: ChatJob = {
        sessionId: input.sessionId,
        messageId,
        userMessageId,
        subject,
        userId,
        ...(plan === undefined ? {} : { plan }),
        model: this.options.model,
        enqueuedAt: Date.now(),
        deadlineAt,
        ...(trace === undefined ? {} : { trace }),
      };
      // The deadline lives in Redis, so any gateway ends the reply if this one is gone by then.
      await Promise.all([
        this.queue.enqueue(job),
        this.replies.setDeadline(ref, deadlineAt),
        // The session moves up its user's list; a failure costs the list its order, not the message.
        sessionUserId === undefined
          ? undefined
          : this.sessions.recordActivity(input.sessionId, sessionUserId).catch((err: unknown) => this.log.warn({ err, sessionId: input.sessionId }, 'could not update the session index')),
      ]);
      this.tracker.accepted(input.sessionId, messageId, receivedAt, span);
      this.log.debug({ sessionId: input.sessionId, messageId, scrubbed }, 'message accepted');
    } catch (err) {
      // The client is told it failed: the reply ends quietly, and the queue drops it if it got there.
      await this.replies.end(ref, { kind: 'error', code: 'unavailable', message: 'the message could not be queued' }, { publish: false }).catch(() => undefined);
      throw err;
    }
    return { messageId, scrubbed };
  }
}
