// One client connection's chat logic, whatever carries it (a WebSocket today): joins the
// session's relay and says `ready`, dispatches the client's frames (chat, regenerate, cancel, resume, ping)
// under the frame-rate limit, relays the session's reply frames (the ack of a message first),
// and ends the connection when its token expires, its session ends or it reads too slowly.
// It sees only a ClientTransport, never the socket library.
import {
  CLOSE_CODES,
  ChatError,
  LimitError,
  parseClientFrame,
  type ClientFrame,
  type Logger,
  type ServerFrame,
  type SessionFrameReader,
} from '@chat-fleet/shared';
import type { SessionHub } from '../relay/session-hub.js';
import type { SessionControl } from '../relay/session-control.js';
import type { SessionEndReason } from '../relay/session-signal.js';
import type { GatewayMetrics } from '../metrics.js';
import { FrameBucket, type FrameVerdict } from '../limits/frame-bucket.js';
import type { ChatService } from './chat-service.js';
import type { ClientTransport } from './client-transport.js';
import { newId } from './new-id.js';
import { ReplyReader, ackFrame, sessionEndedError } from './reply-reader.js';

export interface ChatConnectionDeps {
  service: ChatService;
  hub: SessionHub;
  /** Session-level operations that live outside the chat service (cancel, resume). */
  control: SessionControl;
  /** Reads a reply's stored frames (resume, catch-up). */
  storedFrames: SessionFrameReader;
  metrics: GatewayMetrics;
  log: Logger;
  instance: string;
  classify(err: unknown): ChatError;
  /** How long a reply first seen mid-stream waits for the client's `resume` before catching up. */
  resumeGraceMs: number;
  maxFrameBytes: number;
  /** Frames a connection may send per second (0: no limit), and at once. */
  framesPerSec: number;
  frameBurst: number;
}

/** Who is connected, as the transport authenticated it. */
export interface ConnectionInfo {
  sessionId: string;
  clientId: string;
  remoteAddress: string;
  /** When the connection's token expires (epoch ms); it is closed then. */
  tokenExpiresAtMs: number | undefined;
}

/** setTimeout's longest delay; a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const decoder = new TextDecoder('utf-8', { fatal: true });

export class ChatConnection {
  private closed = false;
  /** The connection as the relay sees it: all the session's replies, gated, acks first. */
  private readonly reader: ReplyReader;
  private readonly frames: FrameBucket | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: ClientTransport,
    private readonly info: ConnectionInfo,
    private readonly deps: ChatConnectionDeps,
  ) {
    const { sessionId } = info;
    this.reader = new ReplyReader((_frame, raw) => this.sendRaw(raw), deps.storedFrames(sessionId), {
      graceMs: deps.resumeGraceMs,
      onReadError: (err, messageId) => {
        deps.log.warn({ err, sessionId, messageId }, 'could not read stored frames');
        this.send({ type: 'error', code: 'unavailable', messageId, message: 'could not read the reply from Redis; send resume again' });
      },
      onSessionEnded: (reason) => this.sessionEnded(reason),
    });
    this.frames = deps.framesPerSec > 0 ? new FrameBucket(deps.framesPerSec, deps.frameBurst) : undefined;
  }

  /** The transport is open: starts the token's clock, joins the session's relay, then says `ready`. */
  start(): void {
    const { deps, info } = this;
    if (info.tokenExpiresAtMs !== undefined) this.expireAt(info.tokenExpiresAtMs);
    deps.hub.join(info.sessionId, this.reader).then(
      () => {
        deps.metrics.sessionsActive.set(deps.hub.sessions);
        this.send({ type: 'ready', sessionId: info.sessionId, clientId: info.clientId, instance: deps.instance });
      },
      (err: unknown) => {
        deps.log.warn({ err, sessionId: info.sessionId }, 'could not subscribe a new socket');
        this.send({ type: 'error', code: 'unavailable', message: 'the gateway cannot reach Redis; reconnect shortly' });
        this.close(CLOSE_CODES.UNAVAILABLE_RECONNECT, 'unavailable');
      },
    );
  }

  /** One frame from the client: rate-limited, checked, parsed, then dispatched. */
  receive(message: ArrayBuffer, isBinary: boolean): void {
    if (this.closed) return;
    const { deps } = this;
    const verdict = this.frames?.take();
    if (verdict !== undefined && !verdict.ok) {
      this.overRate(verdict);
      return;
    }
    let frame: ClientFrame;
    try {
      if (isBinary) throw new ChatError('bad_request', 'binary frames are not supported; send JSON text frames');
      if (message.byteLength > deps.maxFrameBytes) {
        throw new ChatError('too_large', `frame has ${message.byteLength} bytes; the limit is ${deps.maxFrameBytes}`);
      }
      let text: string;
      try {
        text = decoder.decode(message);
      } catch {
        throw new ChatError('bad_request', 'frame is not valid UTF-8');
      }
      frame = parseClientFrame(text);
    } catch (err) {
      const e = deps.classify(err);
      deps.metrics.errors.inc({ code: e.code });
      this.send({ type: 'error', code: e.code, message: e.message });
      return;
    }
    this.dispatch(frame);
  }

  private send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /** Closes the connection (once); the transport's close follows. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.close();
    this.stopExpiry();
    this.transport.close(code, reason);
  }

  /** The transport closed, however that came about: leaves the relay. */
  transportClosed(): void {
    this.closed = true;
    this.reader.close();
    this.stopExpiry();
    this.deps.hub.leave(this.info.sessionId, this.reader);
    this.deps.metrics.sessionsActive.set(this.deps.hub.sessions);
  }

  private sendRaw(text: string): void {
    if (this.closed) return;
    if (!this.transport.send(text)) {
      // A reader that stopped reading may not grow our memory: close it; it can resume.
      this.close(CLOSE_CODES.SLOW_CONSUMER, 'slow consumer: reconnect and resume');
    }
  }

  private sessionEnded(reason: SessionEndReason): void {
    const e = sessionEndedError(reason);
    this.send({ type: 'error', code: e.code, message: e.message });
    this.close(CLOSE_CODES.SESSION_ENDED, `session ${reason}`);
  }

  /** Closes the connection with 4101 when its token expires at `atMs` (epoch ms). */
  private expireAt(atMs: number): void {
    clearTimeout(this.expiry);
    const wait = atMs - Date.now();
    this.expiry = setTimeout(() => {
      if (Date.now() < atMs) {
        this.expireAt(atMs);
        return;
      }
      this.send({ type: 'error', code: 'unauthorized', message: 'the token expired; get a new one' });
      this.close(CLOSE_CODES.UNAUTHORIZED, 'token expired');
    }, Math.min(Math.max(wait, 0), MAX_TIMER_MS));
    this.expiry.unref();
  }

  private stopExpiry(): void {
    clearTimeout(this.expiry);
    this.expiry = undefined;
  }

  /** A frame over the connection's rate: refused unread; a client that keeps on is closed (4103). */
  private overRate(verdict: Extract<FrameVerdict, { ok: false }>): void {
    const e = new LimitError('frames', `more than ${this.deps.framesPerSec} frames a second; this frame was dropped`, verdict.retryAfterMs);
    this.deps.metrics.refused(e);
    this.send({ type: 'error', code: e.code, message: e.message, retryAfterMs: verdict.retryAfterMs });
    if (verdict.close) this.close(CLOSE_CODES.TOO_MANY_FRAMES, 'too many frames');
  }

  private dispatch(frame: ClientFrame): void {
    const { deps, info, reader } = this;
    const fail = (err: unknown, extra: { id?: string; messageId?: string }): void => {
      const e = deps.classify(err);
      if (e.code === 'internal') deps.log.error({ err, sessionId: info.sessionId }, 'frame failed');
      deps.metrics.messages.inc({ result: 'rejected' });
      deps.metrics.refused(e);
      this.send({
        type: 'error',
        code: e.code,
        message: e.message,
        ...extra,
        ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
      });
    };
    switch (frame.type) {
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'chat':
      case 'regenerate': {
        const messageId = newId();
        reader.holdFor(messageId);
        const asked = frame.type === 'chat' ? { content: frame.content } : { regenerate: true as const };
        deps.service.submit({ sessionId: info.sessionId, messageId, ...asked, clientAddress: info.remoteAddress, transport: 'ws' }).then(
          ({ scrubbed }) => reader.acked(messageId, ackFrame(messageId, scrubbed, frame.id)),
          (err: unknown) => {
            reader.dropped(messageId);
            fail(err, frame.id === undefined ? {} : { id: frame.id });
          },
        );
        return;
      }
      case 'cancel':
        deps.control.cancel(info.sessionId, frame.messageId).then(
          (result) => deps.metrics.cancels.inc({ result }),
          (err: unknown) => {
            if (err instanceof ChatError && err.code === 'not_found') deps.metrics.cancels.inc({ result: 'not_found' });
            fail(err, { messageId: frame.messageId });
          },
        );
        return;
      case 'resume':
        deps.control.resume(info.sessionId, frame.messageId, frame.afterSeq, frame.attempt, reader).then(
          () => deps.metrics.resumes.inc({ result: 'replayed' }),
          (err: unknown) => {
            deps.metrics.resumes.inc({ result: err instanceof ChatError && err.code === 'not_found' ? 'not_found' : 'failed' });
            fail(err, { messageId: frame.messageId });
          },
        );
        return;
    }
  }
}
