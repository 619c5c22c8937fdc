// One chat session over the WebSocket protocol, as a careful client speaks it: a reply streams
// through a listener; a dropped socket is reopened (the same gateway, else the next) and the reply
// resumed after the last seq shown, so it ends whole; `cancel` stops it.
import { randomBytes } from 'node:crypto';
import { ServerFrameSchema, type ClientFrame, type DoneFrame, type ServerFrame } from '@chat-fleet/shared';
import WebSocket from 'ws';
import { ApiError, createSession, type SessionCredentials } from './gateway-api.js';
import { ReplyCheck } from './reply-check.js';

export interface ReplyListener {
  token(text: string): void;
  /** The reply starts over (the worker failed and another took it): drop what was shown. */
  reset(attempt: number): void;
}

export interface ReplyDone {
  kind: 'done';
  messageId: string;
  /** The reply as shown: token texts in seq order, after the last reset. */
  text: string;
  /** Undefined when every seq arrived once; else what is missing. */
  problem: string | undefined;
  finishReason: DoneFrame['finishReason'];
  cached: boolean;
  coalesced: boolean;
  completionTokens: number;
  /** Send to first token; undefined when no token came. */
  firstTokenMs: number | undefined;
  /** Tokens after the first, per second from the first token to `done` (as the web page counts). */
  tokensPerSec: number | undefined;
  /** Sockets reopened (and the reply resumed) while it streamed. */
  resumes: number;
}

export interface ReplyFailed {
  kind: 'error';
  /** A protocol error code, or `socket_closed`, `session_gone`, `timeout`. */
  code: string;
  message: string;
  retryAfterMs: number | undefined;
  messageId: string | undefined;
  /** What had been shown. */
  text: string;
}

export type ReplyOutcome = ReplyDone | ReplyFailed;

export interface ConnectionOptions {
  /** Gateway base URLs; any serves the session. */
  gateways: readonly string[];
  userId: string;
}

class OpenError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

interface Pending {
  readonly chatId: string;
  readonly sentAt: number;
  readonly listener: ReplyListener;
  readonly resolve: (outcome: ReplyOutcome) => void;
  readonly check: ReplyCheck;
  messageId: string | undefined;
  text: string;
  firstTokenAt: number | undefined;
  lastFrameAt: number;
  cancelRequested: boolean;
  resumes: number;
  /** After a reconnect with no `ack` yet: frames of an unknown reply are taken as ours until then. */
  adoptUntil: number | undefined;
}

const OPEN_TIMEOUT_MS = 10_000;
/** Rounds over every gateway before giving up, with a growing pause between rounds. */
const RECONNECT_ROUNDS = 5;
/** Longer than the gateway's own bound (REPLY_TIMEOUT_MS, 120 s), which ends a reply in `unavailable`. */
const SILENCE_LIMIT_MS = 150_000;
/** The gateway replays a reply to a new socket from seq 1 after RESUME_GRACE_MS (1.5 s) without a resume. */
const ADOPT_WINDOW_MS = 5_000;

export class ChatConnection {
  private index = 0;
  private session: SessionCredentials | undefined;
  private socket: WebSocket | undefined;
  private pending: Pending | undefined;
  private reconnecting: Promise<boolean> | undefined;
  private closed = false;
  /** Set once the session is gone (deleted, expired, token refused): only a new session helps. */
  private gone: string | undefined;
  private chats = 0;
  private opens = 0;
  private readonly clientPrefix = `term-${randomBytes(3).toString('hex')}`;
  private readonly watchdog: NodeJS.Timeout;
  /** The gateway instance that sent `ready` on the current socket. */
  instance = '';
  /** What the person should know outside a reply: a lost socket, a reconnect. */
  onNotice: (text: string) => void = () => undefined;

  constructor(private readonly options: ConnectionOptions) {
    if (options.gateways.length === 0) throw new Error('ChatConnection: no gateway');
    this.watchdog = setInterval(() => this.sweep(), 500);
    this.watchdog.unref();
  }

  get sessionId(): string | undefined {
    return this.session?.sessionId;
  }

  get credentials(): SessionCredentials | undefined {
    return this.session;
  }

  /** The gateway the socket is on (or will try first). */
  get gateway(): string {
    return this.options.gateways[this.index]!;
  }

  get streaming(): boolean {
    return this.pending !== undefined;
  }

  /** A new session (or the given one) and a socket to it, on the first gateway that takes them. */
  async start(existing?: SessionCredentials): Promise<void> {
    this.dropSocket();
    this.gone = undefined;
    const { gateways } = this.options;
    let last: unknown;
    for (let i = 0; i < gateways.length; i++) {
      try {
        this.session = existing ?? (await createSession(this.gateway, this.options.userId));
        await this.open();
        return;
      } catch (err) {
        last = err;
        // A refusal that another gateway would repeat ends the search.
        if (err instanceof ApiError && err.status !== undefined && err.status < 500) throw err;
        if (err instanceof OpenError && (err.status === 401 || err.status === 404)) throw err;
        this.index = (this.index + 1) % gateways.length;
      }
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  /** Sends a message and resolves when its reply has ended, however it ended. One at a time. */
  async ask(content: string, listener: ReplyListener): Promise<ReplyOutcome> {
    if (this.pending !== undefined) throw new Error('ChatConnection.ask: a reply is still streaming');
    const refuse = (code: string, message: string): ReplyFailed => ({ kind: 'error', code, message, retryAfterMs: undefined, messageId: undefined, text: '' });
    if (this.gone !== undefined) return refuse('session_gone', `${this.gone}; /new starts a new session`);
    if (this.socket === undefined && !(await this.reconnect())) {
      return refuse(this.gone !== undefined ? 'session_gone' : 'socket_closed', this.gone ?? 'no gateway takes the socket');
    }
    const socket = this.socket!;
    return new Promise<ReplyOutcome>((resolve) => {
      const now = performance.now();
      const chatId = `m${++this.chats}`;
      this.pending = {
        chatId,
        sentAt: now,
        listener,
        resolve,
        check: new ReplyCheck(),
        messageId: undefined,
        text: '',
        firstTokenAt: undefined,
        lastFrameAt: now,
        cancelRequested: false,
        resumes: 0,
        adoptUntil: undefined,
      };
      this.send(socket, { type: 'chat', id: chatId, content });
    });
  }

  /** Stops the reply streaming now (its `done` says `cancelled`); false when none streams. */
  cancel(): boolean {
    const p = this.pending;
    if (p === undefined) return false;
    if (p.messageId !== undefined && this.socket !== undefined) this.send(this.socket, { type: 'cancel', messageId: p.messageId });
    else p.cancelRequested = true; // sent on `ack`, or after the reconnect
    return true;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    this.dropSocket();
    if (this.pending !== undefined) this.fail(this.pending, 'socket_closed', 'the demo is closing');
  }

  private send(socket: WebSocket, frame: ClientFrame): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  private dropSocket(): void {
    const ws = this.socket;
    this.socket = undefined;
    if (ws !== undefined) ws.close(1000);
  }

  /** Opens a socket on the current gateway and resolves on its `ready` frame. */
  private open(): Promise<void> {
    const session = this.session!;
    const clientId = `${this.clientPrefix}-${++this.opens}`;
    const url = `${this.gateway.replace(/^http/, 'ws')}/ws/${session.sessionId}/${clientId}?token=${encodeURIComponent(session.token)}`;
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS });
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: OpenError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === undefined) {
          this.socket = ws;
          resolve();
        } else {
          ws.terminate();
          reject(err);
        }
      };
      const timer = setTimeout(() => settle(new OpenError('no ready frame in time', undefined)), OPEN_TIMEOUT_MS);
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        settle(new OpenError(`the upgrade was refused with HTTP ${res.statusCode ?? 0}`, res.statusCode));
      });
      ws.on('error', (err) => settle(new OpenError(err.message, undefined)));
      ws.on('close', (code) => {
        settle(new OpenError(`closed (${code}) before ready`, undefined));
        this.onClose(ws, code);
      });
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) return;
        const frame = parseFrame(data);
        if (frame === undefined) return;
        if (!settled) {
          if (frame.type === 'ready') {
            this.instance = frame.instance;
            settle();
          }
          return;
        }
        if (ws === this.socket) this.onFrame(frame);
      });
    });
  }

  private onClose(ws: WebSocket, code: number): void {
    if (ws !== this.socket || this.closed) return;
    this.socket = undefined;
    if (code >= 4100 && code <= 4199) {
      this.gone = `the gateway closed the session's socket (${code}: ${code === 4100 ? 'session deleted or expired' : code === 4101 ? 'token expired or revoked' : 'protocol error'})`;
      this.onNotice(`${this.gone}; /new starts a new session`);
      if (this.pending !== undefined) this.fail(this.pending, 'session_gone', this.gone);
      return;
    }
    const lost = this.instance || this.gateway;
    this.onNotice(`connection to ${lost} lost (${code}); reconnecting…`);
    void this.reconnect().then((ok) => {
      const p = this.pending;
      if (!ok) {
        this.onNotice(this.gone ?? `no gateway takes the socket (${this.options.gateways.join(', ')})`);
        if (p !== undefined) this.fail(p, this.gone !== undefined ? 'session_gone' : 'socket_closed', 'the connection dropped and no gateway took it back');
        return;
      }
      if (p === undefined) {
        this.onNotice(`reconnected to ${this.instance}`);
        return;
      }
      p.resumes++;
      if (p.messageId === undefined) {
        // The ack was lost with the socket; if the gateway took the chat, its frames replay from seq 1.
        p.adoptUntil = performance.now() + ADOPT_WINDOW_MS;
        this.onNotice(`reconnected to ${this.instance}; waiting for the reply`);
        return;
      }
      this.onNotice(`reconnected to ${this.instance}; resumed after seq ${p.check.lastSeq}`);
      this.send(this.socket!, { type: 'resume', messageId: p.messageId, afterSeq: p.check.lastSeq, attempt: p.check.attempt });
      if (p.cancelRequested) this.send(this.socket!, { type: 'cancel', messageId: p.messageId });
    });
  }

  /** One reconnection at a time: the current gateway, then the others, round after round. */
  private reconnect(): Promise<boolean> {
    this.reconnecting ??= this.reconnectRounds().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  private async reconnectRounds(): Promise<boolean> {
    const n = this.options.gateways.length;
    for (let attempt = 1; attempt <= RECONNECT_ROUNDS * n; attempt++) {
      if (this.closed || this.session === undefined) return false;
      try {
        await this.open();
        return true;
      } catch (err) {
        if (err instanceof OpenError && (err.status === 401 || err.status === 404)) {
          this.gone = err.status === 404 ? 'the session no longer exists' : 'the session token was refused';
          return false;
        }
        this.index = (this.index + 1) % n;
        if (attempt % n === 0) await new Promise((r) => setTimeout(r, 300 * (attempt / n)));
      }
    }
    return false;
  }

  private owns(p: Pending, messageId: string | undefined): boolean {
    if (messageId === undefined) return false;
    if (p.messageId === messageId) return true;
    if (p.messageId === undefined && p.adoptUntil !== undefined && performance.now() < p.adoptUntil) {
      p.messageId = messageId;
      p.adoptUntil = undefined;
      if (p.cancelRequested && this.socket !== undefined) this.send(this.socket, { type: 'cancel', messageId });
      return true;
    }
    return false;
  }

  private onFrame(frame: ServerFrame): void {
    const p = this.pending;
    if (p === undefined) return;
    const now = performance.now();
    switch (frame.type) {
      case 'ack':
        if (frame.id !== p.chatId) return;
        p.lastFrameAt = now;
        p.messageId = frame.messageId;
        if (p.cancelRequested && this.socket !== undefined) this.send(this.socket, { type: 'cancel', messageId: frame.messageId });
        return;
      case 'token': {
        if (!this.owns(p, frame.messageId)) return;
        p.lastFrameAt = now;
        if (p.check.token(frame.seq) === 'duplicate') return;
        p.firstTokenAt ??= now;
        p.text += frame.text;
        p.listener.token(frame.text);
        return;
      }
      case 'reset':
        if (!this.owns(p, frame.messageId)) return;
        p.lastFrameAt = now;
        p.check.reset(frame.attempt);
        p.text = '';
        p.firstTokenAt = undefined;
        p.listener.reset(frame.attempt);
        return;
      case 'done': {
        if (!this.owns(p, frame.messageId)) return;
        const first = p.firstTokenAt;
        const tokens = frame.usage.completionTokens > 0 ? frame.usage.completionTokens : frame.seq;
        const seconds = first === undefined ? 0 : (now - first) / 1000;
        this.settle(p, {
          kind: 'done',
          messageId: frame.messageId,
          text: p.text,
          problem: p.check.done(frame.seq),
          finishReason: frame.finishReason,
          cached: frame.cached,
          coalesced: frame.coalesced === true,
          completionTokens: tokens,
          firstTokenMs: first === undefined ? undefined : first - p.sentAt,
          tokensPerSec: tokens > 1 && seconds > 0 ? (tokens - 1) / seconds : undefined,
          resumes: p.resumes,
        });
        return;
      }
      case 'error': {
        const mine =
          (frame.messageId !== undefined && this.owns(p, frame.messageId)) ||
          (frame.id !== undefined && frame.id === p.chatId) ||
          (frame.messageId === undefined && frame.id === undefined);
        if (!mine) return;
        this.settle(p, { kind: 'error', code: frame.code, message: frame.message, retryAfterMs: frame.retryAfterMs, messageId: p.messageId, text: p.text });
        return;
      }
      default:
        return;
    }
  }

  private sweep(): void {
    const p = this.pending;
    if (p === undefined) return;
    const now = performance.now();
    if (p.adoptUntil !== undefined && now >= p.adoptUntil) {
      this.fail(p, 'socket_closed', 'the connection dropped before the gateway accepted the message; send it again');
    } else if (now - p.lastFrameAt > SILENCE_LIMIT_MS) {
      this.fail(p, 'timeout', `nothing arrived for ${SILENCE_LIMIT_MS / 1000} s`);
    }
  }

  private fail(p: Pending, code: string, message: string): void {
    this.settle(p, { kind: 'error', code, message, retryAfterMs: undefined, messageId: p.messageId, text: p.text });
  }

  private settle(p: Pending, outcome: ReplyOutcome): void {
    if (this.pending !== p) return;
    this.pending = undefined;
    p.resolve(outcome);
  }
}

function parseFrame(data: Buffer): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = ServerFrameSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
