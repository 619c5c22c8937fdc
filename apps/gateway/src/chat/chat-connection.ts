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
  type StoredReader,
} from '@chat-fleet/shared';
import type { SessionHub } from '../relay/session-hub.js';
import type { SessionControl } from '../relay/session-control.js';
import type { SessionEndReason } from '../relay/session-signal.js';
import type { GatewayMetrics } from '../metrics.js';
import { FrameBucket, type FrameVerdict } from '../limits/frame-bucket.js';
import type { ChatService } from './chat-service.js';
import type { ClientTransport } from './client-transport.js';
import { newId } from './new-id.js';
import { ReplyReader, ackFrame, sessionEndedError, type ReaderOwner } from './reply-reader.js';
import { tokenClock, type TokenHolder } from './token-clock.js';

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

const decoder = new TextDecoder('utf-8', { fatal: true });

// A gateway holds thousands of these, mostly quiet: per-connection state is kept to fields, with
// no closures or timers of its own (the token's expiry waits on the shared tokenClock, the
// reader and the frame bucket are made lazily, when first needed).
export class ChatConnection implements ReaderOwner, TokenHolder {
  private closed = false;
  /** The connection as the relay sees it: all the session's replies, gated, acks first. */
  private readonly reader: ReplyReader;
  /** Made at the first frame the client sends (a full bucket then, as one made now would be). */
  private frames: FrameBucket | undefined;
  /** TokenHolder: when the token expires, and this connection's place on the token clock. */
  tokenDueAtMs = 0;
  tokenSlot = -1;

  constructor(
    private readonly transport: ClientTransport,
    private readonly info: ConnectionInfo,
    private readonly deps: ChatConnectionDeps,
  ) {
    this.reader = new ReplyReader(this, deps.resumeGraceMs);
  }

  /** The transport is open: starts the token's clock, joins the session's relay, then says `ready`. */
  start(): void {
    const { deps, info } = this;
    if (info.tokenExpiresAtMs !== undefined) tokenClock.add(this, info.tokenExpiresAtMs);
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
    if (this.frames === undefined && deps.framesPerSec > 0) this.frames = new FrameBucket(deps.framesPerSec, deps.frameBurst);
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

  /** ReaderOwner: the session's stored reply frames. */
  readerStored(): StoredReader {
    return this.deps.storedFrames(this.info.sessionId);
  }

  /** ReaderOwner: a frame of the session's replies (or an ack) goes out as it came. */
  readerFrame(_frame: unknown, raw: string): void {
    this.sendRaw(raw);
  }

  /** ReaderOwner: a reply's stored frames could not be read. */
  readerFailed(err: unknown, messageId: string): void {
    this.deps.log.warn({ err, sessionId: this.info.sessionId, messageId }, 'could not read stored frames');
    this.send({ type: 'error', code: 'unavailable', messageId, message: 'could not read the reply from Redis; send resume again' });
  }

  /** ReaderOwner: the session was deleted or expired. */
  readerSessionEnded(reason: SessionEndReason): void {
    const e = sessionEndedError(reason);
    this.send({ type: 'error', code: e.code, message: e.message });
    this.close(CLOSE_CODES.SESSION_ENDED, `session ${reason}`);
  }

  /** TokenHolder: the token expired; the connection closes with 4101. */
  tokenExpired(): void {
    this.send({ type: 'error', code: 'unauthorized', message: 'the token expired; get a new one' });
    this.close(CLOSE_CODES.UNAUTHORIZED, 'token expired');
  }

  private stopExpiry(): void {
    tokenClock.remove(this);
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
