// The chat logic of a gateway, independent of any transport: sessions and their user's list of
// them, accepting messages (and regenerates), handing them to the worker fleet. Sockets, SSE and
// REST adapt to it.
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
  titleFromMessage,
  titleFromRename,
  type PiiKind,
  type ChatJob,
  type CreateSessionBody,
  type CreateSessionResponse,
  type Logger,
  type RenameSessionResponse,
  type ReplyState,
  type SessionList,
  type SessionStore,
  type SessionView,
} from '@chat-fleet/shared';
import type { SessionIdentity, TokenService } from '../auth/token-service.js';
import { isOwner, type SessionsCaller, type StoredOwner } from '../auth/session-access.js';
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

export interface SubmitOrigin {
  sessionId: string;
  /** Chosen by the transport so it can order the ack before the reply's frames. */
  messageId?: string;
  /** The client's address, the rate-limit subject when the session has no userId. */
  clientAddress: string;
  /** How the message came in, for its trace. */
  transport?: 'ws' | 'rest' | 'sse';
}

/** A user message, or a regenerate: the session's last user message answered again. */
export type Asked = { content: string } | { regenerate: true };

export type SubmitInput = SubmitOrigin & Asked;

/** `GET /chat/sessions`: at most `limit`, from just after the cursor a previous page gave. */
export interface SessionListPage {
  limit: number;
  before?: string;
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
    // A title in the metadata names the session as its first message would.
    const titled = body.metadata?.title;
    const title = typeof titled === 'string' ? titleFromMessage(scrubPii(sanitizeText(titled)).text) : '';
    await this.sessions.create({
      sessionId,
      userId: owner.userId,
      plan: owner.plan,
      via: owner.via,
      clientAddress,
      systemPrompt: body.systemPrompt === undefined ? undefined : scrubPii(sanitizeText(body.systemPrompt)).text,
      metadata: body.metadata,
      createdAt: new Date().toISOString(),
      ...(body.locale === undefined ? {} : { locale: body.locale }),
      ...(title === '' ? {} : { title }),
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
    return {
      sessionId,
      createdAt: meta.createdAt,
      title: meta.title ?? '',
      ...(meta.locale === undefined ? {} : { locale: meta.locale }),
      messages,
      hasMore,
      ...(hasMore && messages[0] !== undefined ? { nextBefore: messages[0].id } : {}),
    };
  }

  /** The caller's sessions, most recently active first, a page at a time; expired and deleted ones never appear. */
  async listSessions(caller: SessionsCaller, page: SessionListPage): Promise<SessionList> {
    // A token of a session created without a userId speaks for nobody's list.
    if (caller.userId === undefined) return { sessions: [] };
    const found = await this.sessions.sessionsPage(caller.userId, page.limit, page.before === undefined ? undefined : parseListCursor(page.before), (s) => isOwner(caller, s));
    const last = found.sessions.at(-1);
    return {
      sessions: found.sessions.map((s) => ({ sessionId: s.sessionId, title: s.title ?? '', createdAt: s.createdAt, updatedAt: s.updatedAt })),
      ...(found.more && last !== undefined ? { nextBefore: `${Date.parse(last.updatedAt)}.${last.sessionId}` } : {}),
    };
  }

  /** Gives the session the title a user chose (cleaned and scrubbed like a message). */
  async renameSession(sessionId: string, raw: string): Promise<RenameSessionResponse> {
    const title = titleFromRename(raw);
    if (!(await this.sessions.rename(sessionId, title))) throw new ChatError('not_found', `session ${sessionId} does not exist or has expired`);
    return { sessionId, title };
  }

  /** A fresh token of the session for its owner, carrying the owner the session was created for. */
  async sessionToken(sessionId: string, owner: StoredOwner): Promise<CreateSessionResponse> {
    const issued = await this.tokens.issue(sessionId, owner);
    return { sessionId, token: issued.token, expiresAt: issued.expiresAt };
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
   * line sees the text; `scrubbed` counts the replacements per kind. A regenerate takes the same
   * way, limits included: the last reply leaves the history and a new one answers the last user
   * message, never from the cache.
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
    const message = 'content' in input ? this.cleanMessage(input.content) : undefined;
    const scrubbed = message?.found ?? {};

    const messageId = input.messageId ?? newId();
    span.setAttribute(ATTR.messageId, messageId);
    const ref = { sessionId: input.sessionId, messageId };
    // The in-flight slot, the user's message (or the last reply's removal) and the queued reply, in one write.
    const accepted =
      message === undefined
        ? await this.replies.regenerate(ref, this.options.inflightTtlMs)
        : await this.replies.accept(ref, { id: newId(), role: 'user', content: message.text, createdAt: new Date().toISOString() }, this.options.inflightTtlMs);
    if (!accepted.accepted) {
      if (accepted.reason === 'gone') throw new ChatError('not_found', `session ${input.sessionId} does not exist or has expired`);
      if (accepted.reason === 'nothing') throw new ChatError('not_found', `session ${input.sessionId} has no user message to answer again`);
      throw new ChatError('busy', `a reply is already streaming in this session (messageId ${accepted.holder}); wait for it or cancel it`);
    }
    try {
      const deadlineAt = Date.now() + this.options.replyTimeoutMs;
      const job: ChatJob = {
        sessionId: input.sessionId,
        messageId,
        userMessageId: accepted.userMessageId,
        subject,
        userId,
        ...(plan === undefined ? {} : { plan }),
        model: this.options.model,
        enqueuedAt: Date.now(),
        deadlineAt,
        ...(message === undefined ? { fresh: true } : {}),
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

  /** A message's text as it is stored: sanitized, checked (`too_large`, empty) and scrubbed. */
  private cleanMessage(raw: string): { text: string; found: Partial<Record<PiiKind, number>> } {
    const sanitized = sanitizeText(raw);
    if (sanitized.length > this.options.maxMessageChars) {
      throw new ChatError('too_large', `message has ${sanitized.length} characters; the limit is ${this.options.maxMessageChars}`);
    }
    if (sanitized.trim() === '') throw new ChatError('bad_request', 'message content is empty');
    return scrubPii(sanitized);
  }
}

/** `<ms>.<sessionId>`: where the previous page ended in the user's index (nextBefore). */
function parseListCursor(cursor: string): { updatedAt: number; sessionId: string } {
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/.exec(cursor);
  if (m === null) throw new ChatError('bad_request', 'before must be the nextBefore of a previous page');
  return { updatedAt: Number(m[1]), sessionId: m[2]! };
}
