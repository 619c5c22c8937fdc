// The client side of the protocol in one place: a session, its socket to any gateway, and every
// reply in flight. `ack`s and errors go to the message they belong to; each reply is assembled whole
// (a gap or an early `done` asks for the missed frames); a dropped socket reopens with backoff and
// jitter on the next gateway and every open reply resumes where it stood; close codes that forbid
// reconnecting end the session's replies with a clear code.
import type { ClientFrame, CreateSessionBody, ErrorFrame, ReadyFrame, ServerFrame } from '@chat-fleet/protocol';
import { ChatApi, ChatApiError, type ChatApiOptions, type SessionCredentials } from './rest.js';
import { ChatSocket, type CloseAction, type ConnectionState, type CreateWebSocket } from './chat-socket.js';
import { Emitter } from './emitter.js';
import { isReplyEvent, isReplyFrame } from './frames.js';
import { Reply, ReplyError, type ReplyHost } from './reply.js';

export interface ChatClientOptions extends ChatApiOptions {
  /** An existing session to use; otherwise `connect()` creates one. */
  session?: SessionCredentials | undefined;
  /** The body of the session `connect()` creates (`userId`, `systemPrompt`, `metadata`). */
  sessionBody?: CreateSessionBody | undefined;
  /** A user token (jwt mode) or a backend's API key for creating sessions; a function is asked each time. */
  authorization?: string | (() => string | Promise<string>) | undefined;
  /** Prefix of the socket's clientId (the gateway's per-socket label). */
  clientId?: string | undefined;
  /** The WebSocket to use where there is no global one (Node 20 without --experimental-websocket). */
  createSocket?: CreateWebSocket | undefined;
  /** A faster frame reader (the load runner's); it must return the frames the default returns. */
  decode?: ((text: string) => ServerFrame | undefined) | undefined;
  /** A reply with no end this long after it was sent fails with `timeout`; 0 (default) never. */
  replyTimeoutMs?: number | undefined;
  /** Keep each reply's text (default true); a load runner that judges only wholeness turns it off. */
  keepText?: boolean | undefined;
  /** Ping period and silence limit of the socket, backoff bounds between failed opens. */
  pingEveryMs?: number | undefined;
  silenceMs?: number | undefined;
  backoffBaseMs?: number | undefined;
  backoffMaxMs?: number | undefined;
}

type ClientEvents = {
  state: [state: ConnectionState];
  /** A socket is subscribed (first connect and every reconnect); `instance` is the gateway's. */
  ready: [frame: ReadyFrame];
  /** Frames of a reply this client did not start (another tab, or a reply sent before a reload). */
  reply: [reply: Reply];
  /** An error frame that names no message of this client. */
  refused: [frame: ErrorFrame];
  /** The session is over for this client: deleted or expired, token refused, or closed for a protocol breach. */
  ended: [reason: SessionEnd];
};

export interface SessionEnd {
  readonly reason: Exclude<CloseAction, 'reconnect'>;
  readonly code: number;
  readonly message: string;
}

/** The gateway replays a reply to a new socket from seq 1 (RESUME_GRACE_MS) when none resumes it. */
const ADOPT_WINDOW_MS = 5_000;
/** Ended replies remembered, so that late frames of theirs are not taken for a new reply. */
const ENDED_KEPT = 256;
/** A gap re-asks for the same frames at most this often. */
const RESUME_EVERY_MS = 1_000;

export class ChatClient extends Emitter<ClientEvents> implements ReplyHost {
  readonly api: ChatApi;
  private credentials: SessionCredentials | undefined;
  private socket: ChatSocket | undefined;
  private readonly replies = new Map<string, Reply>();
  private readonly byChatId = new Map<string, Reply>();
  private readonly resumeAsked = new Map<Reply, { seq: number; at: number }>();
  /** Replies that ended lately: frames still in flight for them (a resume's overlap) are dropped. */
  private readonly endedIds = new Set<string>();
  /** Sent on a socket that dropped before their `ack`: the next unknown reply may be theirs. */
  private adopting: Array<{ reply: Reply; until: number }> = [];
  private chats = 0;
  private opens = 0;
  private gatewayIndex = 0;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private ending: SessionEnd | undefined;
  private readyWaiters: Array<{ resolve: (f: ReadyFrame) => void; reject: (e: Error) => void }> = [];
  private checking = false;
  private readonly clientPrefix: string;

  constructor(private readonly options: ChatClientOptions = {}) {
    super();
    this.api = new ChatApi(options);
    this.credentials = options.session;
    this.clientPrefix = options.clientId ?? `c-${randomId(8)}`;
  }

  get session(): SessionCredentials | undefined {
    return this.credentials;
  }

  get state(): ConnectionState {
    return this.socket?.state ?? 'closed';
  }

  /** The gateway instance of the current socket. */
  get instance(): string {
    return this.socket?.instance ?? '';
  }

  /** The gateway base URL the socket uses now. */
  get gateway(): string {
    return this.api.gateways[this.gatewayIndex]!;
  }

  /** Why the session ended, once it has. */
  get ended(): SessionEnd | undefined {
    return this.ending;
  }

  /** Replies not ended yet, oldest first. */
  get openReplies(): Reply[] {
    return [...new Set([...this.byChatId.values(), ...this.replies.values()])].filter((r) => !r.ended);
  }

  /**
   * Creates the session (unless one was given) and opens the socket; resolves on its `ready`.
   * Rejects with a ChatApiError when the session cannot be created, or when the session ends first.
   */
  async connect(): Promise<ReadyFrame> {
    if (this.credentials === undefined) {
      const auth = typeof this.options.authorization === 'function' ? await this.options.authorization() : this.options.authorization;
      this.credentials = await this.api.createSession(this.options.sessionBody ?? {}, auth);
      this.gatewayIndex = Math.max(0, this.api.gateways.indexOf(this.api.gateway));
    }
    const ready = new Promise<ReadyFrame>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    this.openSocket();
    return ready;
  }

  /** Drops this session (its replies end `socket_closed`) and connects to a new one. */
  async newSession(body?: CreateSessionBody): Promise<ReadyFrame> {
    this.shutdown(new ReplyError('socket_closed', 'the client moved to a new session'));
    this.credentials = undefined;
    this.ending = undefined;
    if (body !== undefined) this.options.sessionBody = body;
    return this.connect();
  }

  /**
   * Sends a message. The reply streams through the returned Reply; while the socket is down the
   * message waits and goes out on the next `ready`.
   */
  send(content: string, options: { id?: string } = {}): Reply {
    return this.request(new Reply(options.id ?? this.nextId(), content, this, { keepText: this.options.keepText !== false }));
  }

  /**
   * Answers the session's last user message again: the gateway drops the last reply from the history
   * and streams a new one, as for a message (`ack` first; `busy` while a reply is in flight,
   * `not_found` with no message to answer). A gateway without regenerate fails it with `bad_request`.
   */
  regenerate(options: { id?: string } = {}): Reply {
    return this.request(new Reply(options.id ?? this.nextId(), '', this, { keepText: this.options.keepText !== false, regenerate: true }));
  }

  /**
   * Follows a reply this client learned of elsewhere (saved before a reload, another tab): resumes
   * it after `afterSeq` of `attempt` (0 and 1: from the start).
   */
  follow(messageId: string, from: { afterSeq?: number; attempt?: number } = {}): Reply {
    const known = this.replies.get(messageId);
    if (known !== undefined) return known;
    const reply = new Reply(messageId, '', this, { keepText: this.options.keepText !== false, messageId, afterSeq: from.afterSeq ?? 0, attempt: from.attempt ?? 1 });
    reply.sent = true;
    this.replies.set(messageId, reply);
    this.sendResume(reply);
    this.armSweep();
    return reply;
  }

  /** Closes the socket; open replies end with `socket_closed`. */
  close(): void {
    this.shutdown(new ReplyError('socket_closed', 'the client was closed'));
  }

  // ---- ReplyHost ----

  cancel(reply: Reply): void {
    if (reply.messageId !== undefined) this.socket?.send({ type: 'cancel', messageId: reply.messageId });
    // Without a messageId the cancel goes out on `ack` (or on adoption after a reconnect).
  }

  resume(reply: Reply): void {
    const now = performance.now();
    const asked = this.resumeAsked.get(reply);
    if (asked !== undefined && asked.seq === reply.lastSeq && now - asked.at < RESUME_EVERY_MS) return;
    this.resumeAsked.set(reply, { seq: reply.lastSeq, at: now });
    this.sendResume(reply);
  }

  // ---- the socket ----

  private openSocket(): void {
    this.socket?.stop();
    const o = this.options;
    const socket: ChatSocket = new ChatSocket(
      {
        url: (failures) => {
          // Each failed open tries the next gateway: any gateway serves any session.
          if (failures > 0) this.gatewayIndex = (this.gatewayIndex + 1) % this.api.gateways.length;
          return this.api.socketUrl(this.gateway, this.credentials!, `${this.clientPrefix}-${++this.opens}`);
        },
        createSocket: o.createSocket,
        decode: o.decode,
        pingEveryMs: o.pingEveryMs,
        silenceMs: o.silenceMs,
        backoffBaseMs: o.backoffBaseMs,
        backoffMaxMs: o.backoffMaxMs,
      },
      {
        ready: (frame) => this.socket === socket && this.onReady(frame),
        frame: (frame) => this.socket === socket && this.onFrame(frame),
        state: (state) => this.socket === socket && this.emit('state', state),
        ended: (action, code, reason) => this.socket === socket && this.onEnded({ reason: action, code, message: reason || describeEnd(action, code) }),
        failed: (failures) => this.socket === socket && this.onOpenFailed(failures),
      },
    );
    this.socket = socket;
    socket.start();
  }

  private onReady(frame: ReadyFrame): void {
    const now = performance.now();
    for (const reply of this.openReplies) {
      if (reply.messageId !== undefined) {
        if (reply.sent) reply.resumes++;
        this.sendResume(reply);
        if (reply.cancelRequested) this.cancel(reply);
      } else if (reply.sent) {
        // Sent on the socket that dropped, never acknowledged: if the gateway took it, its frames
        // come to this socket from seq 1 shortly; if none comes, it was not sent.
        reply.resumes++;
        this.adopting.push({ reply, until: now + ADOPT_WINDOW_MS });
      } else {
        this.sendRequest(reply);
      }
    }
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.resolve(frame);
    this.emit('ready', frame);
  }

  private onFrame(frame: ServerFrame): void {
    if (frame.type === 'ack') {
      const reply = frame.id === undefined ? undefined : this.byChatId.get(frame.id);
      if (reply === undefined || reply.ended) return;
      this.replies.set(frame.messageId, reply);
      reply.acked(frame.messageId, frame.scrubbed);
      if (reply.cancelRequested) this.cancel(reply);
      return;
    }
    if (isReplyFrame(frame)) {
      if (this.endedIds.has(frame.messageId)) return;
      const reply = this.replies.get(frame.messageId) ?? this.unknownReply(frame.messageId, frame.type === 'token' ? frame.seq : 0);
      if (isReplyEvent(frame)) {
        reply.event(frame);
        return;
      }
      const step = reply.frame(frame);
      if (step === 'done' || step === 'error') this.forget(reply);
      return;
    }
    if (frame.type === 'error') {
      const reply = frame.id === undefined ? this.refusedRegenerate(frame) : this.byChatId.get(frame.id);
      if (reply !== undefined && !reply.ended) {
        reply.fail(new ReplyError(frame.code, frame.message, frame.retryAfterMs));
        this.forget(reply);
        return;
      }
      this.emit('refused', frame);
    }
  }

  /** Frames of a reply this client does not know: an unacknowledged message's, or someone else's. */
  private unknownReply(messageId: string, seq: number): Reply {
    const now = performance.now();
    this.adopting = this.adopting.filter((a) => !a.reply.ended && a.until > now);
    const adopted = this.adopting.shift();
    let reply: Reply;
    if (adopted !== undefined) {
      reply = adopted.reply;
      reply.acked(messageId, undefined);
      if (reply.cancelRequested) this.cancel(reply);
    } else {
      reply = new Reply(messageId, '', this, { keepText: this.options.keepText !== false, messageId });
      reply.sent = true;
      this.emit('reply', reply);
    }
    this.replies.set(messageId, reply);
    // Joined mid-stream: ask for the reply from its start.
    if (seq > 1) this.resume(reply);
    return reply;
  }

  private onEnded(end: SessionEnd): void {
    this.ending = end;
    const code = end.reason === 'stop' ? 'socket_closed' : 'session_gone';
    this.failAll(new ReplyError(code, end.message));
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.reject(new ChatApiError(end.reason === 'stop' ? 0 : 401, end.reason === 'stop' ? 'network' : 'unauthorized', end.message));
    this.emit('ended', end);
  }

  /** Opens keep failing: the session itself may be gone (a refused upgrade looks like a drop). */
  private onOpenFailed(failures: number): void {
    if ((failures !== 1 && failures % 3 !== 0) || this.checking || this.credentials === undefined) return;
    const session = this.credentials;
    this.checking = true;
    this.api.history(session, { limit: 1 }).then(
      () => {
        this.checking = false;
      },
      (err: unknown) => {
        this.checking = false;
        if (err instanceof ChatApiError && err.sessionGone && this.credentials === session && this.ending === undefined) {
          this.socket?.stop();
          this.onEnded({ reason: err.status === 404 ? 'session_ended' : 'unauthorized', code: err.status, message: err.message });
        }
      },
    );
  }

  private nextId(): string {
    return `m${++this.chats}-${randomId(6)}`;
  }

  private request(reply: Reply): Reply {
    if (this.ending !== undefined) {
      reply.fail(new ReplyError('session_gone', `the session has ended (${this.ending.message})`));
      return reply;
    }
    this.byChatId.set(reply.id, reply);
    this.sendRequest(reply);
    this.armSweep();
    return reply;
  }

  /**
   * A gateway that does not know the `regenerate` frame answers it with an id-less `bad_request`:
   * that answers the oldest regenerate still waiting for its `ack` (this client sends nothing else
   * a gateway could refuse so).
   */
  private refusedRegenerate(frame: ErrorFrame): Reply | undefined {
    if (frame.code !== 'bad_request') return undefined;
    return [...this.byChatId.values()].find((r) => r.regenerate && r.sent && r.messageId === undefined && !r.ended);
  }

  private sendRequest(reply: Reply): void {
    const frame: ClientFrame = reply.regenerate ? { type: 'regenerate', id: reply.id } : { type: 'chat', id: reply.id, content: reply.content };
    if (this.socket?.send(frame) === true) {
      reply.sent = true;
      reply.sentAt = performance.now();
    }
  }

  private sendResume(reply: Reply): void {
    this.socket?.send({ type: 'resume', messageId: reply.messageId!, afterSeq: reply.lastSeq, attempt: reply.attempt });
  }

  private forget(reply: Reply): void {
    this.byChatId.delete(reply.id);
    if (reply.messageId !== undefined) {
      this.replies.delete(reply.messageId);
      this.endedIds.add(reply.messageId);
      if (this.endedIds.size > ENDED_KEPT) this.endedIds.delete(this.endedIds.values().next().value!);
    }
    this.resumeAsked.delete(reply);
  }

  private failAll(error: ReplyError): void {
    for (const reply of this.openReplies) {
      reply.fail(error);
      this.forget(reply);
    }
    this.adopting = [];
  }

  private shutdown(error: ReplyError): void {
    this.socket?.stop();
    this.socket = undefined;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.failAll(error);
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.reject(new ChatApiError(0, 'network', error.message));
  }

  /** One timer for every reply: unadopted messages and, when set, reply timeouts. */
  private armSweep(): void {
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setInterval(() => this.sweep(), 250);
    (this.sweepTimer as { unref?: () => void }).unref?.();
  }

  private sweep(): void {
    const now = performance.now();
    const timeout = this.options.replyTimeoutMs ?? 0;
    for (const a of this.adopting) {
      if (a.until <= now && !a.reply.ended) {
        a.reply.fail(new ReplyError('not_sent', 'the connection dropped before the gateway acknowledged the message; send it again'));
        this.forget(a.reply);
      }
    }
    this.adopting = this.adopting.filter((a) => !a.reply.ended);
    const open = this.openReplies;
    if (timeout > 0) {
      for (const reply of open) {
        if (now - reply.sentAt >= timeout) {
          reply.fail(new ReplyError('timeout', `no end of the reply within ${timeout} ms`));
          this.forget(reply);
        }
      }
    }
    if (open.length === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }
}

function describeEnd(action: Exclude<CloseAction, 'reconnect'>, code: number): string {
  if (action === 'session_ended') return 'the session was deleted or expired';
  if (action === 'unauthorized') return 'the session token expired or was revoked';
  return `the gateway closed the socket (${code})`;
}

/** Ids from crypto.getRandomValues, which (unlike randomUUID) also works on plain-http LAN pages. */
export function randomId(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}
