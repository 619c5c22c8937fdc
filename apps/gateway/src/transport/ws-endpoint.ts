// WebSocket adapter: authenticates the upgrade, turns frames into ChatService calls and
// relays the session's reply frames to the socket. The chat logic never sees a uWS object.
import type { HttpResponse, TemplatedApp, WebSocket } from 'uWebSockets.js';
import {
  CLOSE_CODES,
  ChatError,
  LimitError,
  isValidId,
  newId,
  parseClientFrame,
  type ClientFrame,
  ReplyGate,
  type FramePosition,
  type Logger,
  type ReplyFrame,
  type ServerFrame,
  type SessionEndReason,
  type SocketLimiter,
  type SessionFrameReader,
} from '@chat-fleet/shared';
import type { ChatService } from '../chat/chat-service.js';
import type { TokenService } from '../auth/token-service.js';
import type { ReplySink, SessionHub } from '../relay/session-hub.js';
import { closeCodeLabel, type CancelResult, type GatewayMetrics } from '../metrics.js';
import { clientAddress, statusLine } from './http-kit.js';
import { FrameBucket, type FrameVerdict } from '../limits/frame-bucket.js';

export interface WsDeps {
  /** Proxies in front of the gateway whose X-Forwarded-For entries are trusted. */
  trustedProxyHops: number;
  service: ChatService;
  tokens: TokenService;
  hub: SessionHub;
  metrics: GatewayMetrics;
  log: Logger;
  instance: string;
  maxFrameBytes: number;
  maxBackpressureBytes: number;
  idleTimeoutSeconds: number;
  isOriginAllowed(origin: string): boolean;
  isDraining(): boolean;
  classify(err: unknown): ChatError;
  /** Session-level operations that live outside the chat service (cancel, resume). */
  control: SessionControl;
  /** Reads a reply's stored frames (resume, catch-up). */
  storedFrames: SessionFrameReader;
  /** How long a reply first seen mid-stream waits for the client's `resume` before catching up. */
  resumeGraceMs: number;
  /** Open sockets per session and per address, fleet-wide: claimed at the upgrade, released at close. */
  sockets: SocketLimiter;
  /** Frames a socket may send per second (0: no limit), and at once. */
  framesPerSec: number;
  frameBurst: number;
}

/** Cancel and resume, implemented over Redis by the relay. */
export interface SessionControl {
  /** What the cancel found; `not_found` is thrown as a ChatError. */
  cancel(sessionId: string, messageId: string): Promise<Exclude<CancelResult, 'not_found'>>;
  resume(sessionId: string, messageId: string, afterSeq: number, attempt: number | undefined, client: WsClient): Promise<void>;
}

interface SocketData {
  sessionId: string;
  clientId: string;
  remoteAddress: string;
  /** When the socket's token expires (epoch ms); the socket is closed then. */
  tokenExpiresAtMs: number | undefined;
  client: WsClient | undefined;
  /** The socket's place in the fleet-wide socket limits, released at close. */
  lease: string | undefined;
  frames: FrameBucket | undefined;
}

/** setTimeout's longest delay; a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const decoder = new TextDecoder('utf-8', { fatal: true });

/** One connected socket as the relay sees it. */
export class WsClient implements ReplySink {
  closed = false;
  /** Frames of replies whose `ack` this socket has not sent yet: the ack goes first. */
  private held: Map<string, string[]> | undefined;
  /** Orders each reply's frames for this socket: once each, by position, live or stored. */
  readonly gate: ReplyGate;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    readonly sessionId: string,
    readonly clientId: string,
    private readonly maxBuffered: number,
    stored: SessionFrameReader,
    graceMs: number,
    onGateError: (err: unknown, messageId: string) => void,
  ) {
    this.gate = new ReplyGate((frame, raw) => this.emit(frame.messageId, raw), stored(sessionId), { graceMs }, onGateError);
  }

  deliver(frame: ReplyFrame, raw: string, position: FramePosition): void {
    this.gate.live(frame, raw, position);
  }

  resync(): void {
    this.gate.resync();
  }

  poll(idleMs: number): Promise<boolean> {
    return this.gate.poll(idleMs);
  }

  sessionEnded(reason: SessionEndReason): void {
    this.send({ type: 'error', code: 'not_found', message: reason === 'deleted' ? 'the session was deleted' : 'the session expired' });
    this.close(CLOSE_CODES.SESSION_ENDED, `session ${reason}`);
  }

  /** Closes the socket with 4101 when its token expires at `atMs` (epoch ms). */
  expireAt(atMs: number): void {
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

  /** Stops the expiry timer; called however the socket closed. */
  stopExpiry(): void {
    clearTimeout(this.expiry);
    this.expiry = undefined;
  }

  private emit(messageId: string, raw: string): void {
    const held = this.held?.get(messageId);
    if (held !== undefined) held.push(raw);
    else this.sendRaw(raw);
  }

  /** Holds this reply's frames until acked() or dropped(). */
  holdFor(messageId: string): void {
    // This socket sent the message: its reply streams live from the first frame, gaps filled.
    this.gate.expect(messageId);
    (this.held ??= new Map()).set(messageId, []);
  }

  acked(messageId: string, ack: ServerFrame): void {
    const held = this.held?.get(messageId) ?? [];
    this.held?.delete(messageId);
    this.send(ack);
    for (const raw of held) this.sendRaw(raw);
  }

  dropped(messageId: string): void {
    this.held?.delete(messageId);
    this.gate.forget(messageId);
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  sendRaw(text: string): void {
    if (this.closed) return;
    this.ws.cork(() => {
      this.ws.send(text, false);
    });
    if (this.ws.getBufferedAmount() > this.maxBuffered) {
      // A reader that stopped reading may not grow our memory: close it; it can resume.
      this.close(CLOSE_CODES.SLOW_CONSUMER, 'slow consumer: reconnect and resume');
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.gate.close();
    this.stopExpiry();
    this.ws.end(code, reason);
  }
}

export interface WsEndpoint {
  /** Asks every socket to reconnect elsewhere (drain). */
  closeAll(code: number, reason: string): void;
  readonly count: number;
}

export function mountWebSocket(app: TemplatedApp, deps: WsDeps): WsEndpoint {
  const clients = new Set<WsClient>();

  const refuse = (res: HttpResponse, err: ChatError): void => {
    res.cork(() => {
      res.writeStatus(statusLine(err.status)).writeHeader('content-type', 'application/json');
      if (err.retryAfterMs !== undefined) res.writeHeader('retry-after', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
      res.end(JSON.stringify({ error: { code: err.code, message: err.message } }));
    });
  };

  app.ws<SocketData>('/ws/:sessionId/:clientId', {
    compression: 0,
    // Frames above our own limit get a readable `too_large`; far above it uWS closes (1009).
    maxPayloadLength: deps.maxFrameBytes * 4,
    maxBackpressure: deps.maxBackpressureBytes * 2,
    closeOnBackpressureLimit: 0,
    idleTimeout: deps.idleTimeoutSeconds,
    sendPingsAutomatically: true,

    upgrade: (res, req, context) => {
      const sessionId = req.getParameter(0) ?? '';
      const clientId = req.getParameter(1) ?? '';
      const token = new URLSearchParams(req.getQuery() ?? '').get('token') ?? undefined;
      const origin = req.getHeader('origin');
      const secKey = req.getHeader('sec-websocket-key');
      const secProtocol = req.getHeader('sec-websocket-protocol');
      const secExtensions = req.getHeader('sec-websocket-extensions');
      const remoteAddress = clientAddress(res, req, deps.trustedProxyHops);
      let aborted = false;
      let lease: string | undefined;
      res.onAborted(() => {
        aborted = true;
      });

      const admit = async (): Promise<number | undefined> => {
        if (deps.isDraining()) throw new ChatError('unavailable', 'this gateway is draining; connect to another one');
        if (origin !== '' && !deps.isOriginAllowed(origin)) throw new ChatError('forbidden', `origin ${origin} is not allowed`);
        if (!isValidId(sessionId) || !isValidId(clientId)) {
          throw new ChatError('bad_request', 'session and client ids must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
        }
        const verified = await deps.tokens.verify(token, sessionId);
        await deps.service.requireSession(sessionId);
        // Last, so a socket refused for any other reason never takes a place.
        lease = await deps.sockets.claim(sessionId, remoteAddress);
        return verified.expiresAtMs;
      };

      admit().then(
        (tokenExpiresAtMs) => {
          if (aborted) {
            deps.sockets.release(lease);
            return;
          }
          // Not inside res.cork(): uWS can close a socket upgraded asynchronously within a cork
          // when the upgrade reallocates it in place (uNetworking/uWebSockets#1928, fixed by #1929).
          const frames = deps.framesPerSec > 0 ? new FrameBucket(deps.framesPerSec, deps.frameBurst) : undefined;
          res.upgrade<SocketData>({ sessionId, clientId, remoteAddress, tokenExpiresAtMs, client: undefined, lease, frames }, secKey, secProtocol, secExtensions, context);
        },
        (err: unknown) => {
          if (aborted) return;
          const e = deps.classify(err);
          deps.metrics.refused(e);
          refuse(res, e);
        },
      );
    },

    open: (ws) => {
      const data = ws.getUserData();
      const client = new WsClient(ws, data.sessionId, data.clientId, deps.maxBackpressureBytes, deps.storedFrames, deps.resumeGraceMs, (err, messageId) => {
        deps.log.warn({ err, sessionId: data.sessionId, messageId }, 'could not read stored frames');
        client.send({ type: 'error', code: 'unavailable', messageId, message: 'could not read the reply from Redis; send resume again' });
      });
      data.client = client;
      if (data.tokenExpiresAtMs !== undefined) client.expireAt(data.tokenExpiresAtMs);
      clients.add(client);
      deps.metrics.wsConnections.inc();
      deps.hub.join(data.sessionId, client).then(
        () => {
          deps.metrics.sessionsActive.set(deps.hub.sessions);
          client.send({ type: 'ready', sessionId: data.sessionId, clientId: data.clientId, instance: deps.instance });
        },
        (err: unknown) => {
          deps.log.warn({ err, sessionId: data.sessionId }, 'could not subscribe a new socket');
          client.send({ type: 'error', code: 'unavailable', message: 'the gateway cannot reach Redis; reconnect shortly' });
          client.close(CLOSE_CODES.UNAVAILABLE_RECONNECT, 'unavailable');
        },
      );
    },

    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      const client = data.client;
      if (client === undefined || client.closed) return;
      const verdict = data.frames?.take();
      if (verdict !== undefined && !verdict.ok) {
        overRate(deps, client, verdict);
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
        client.send({ type: 'error', code: e.code, message: e.message });
        return;
      }
      handleFrame(deps, client, data, frame);
    },

    close: (ws, code, message) => {
      const data = ws.getUserData();
      deps.log.debug({ sessionId: data.sessionId, clientId: data.clientId, code, reason: Buffer.from(message).toString() }, 'socket closed');
      deps.metrics.wsCloses.inc({ code: closeCodeLabel(code) });
      deps.sockets.release(data.lease);
      data.lease = undefined;
      const client = data.client;
      if (client === undefined) return;
      client.closed = true;
      client.gate.close();
      client.stopExpiry();
      clients.delete(client);
      deps.hub.leave(data.sessionId, client);
      deps.metrics.wsConnections.dec();
      deps.metrics.sessionsActive.set(deps.hub.sessions);
    },
  });

  return {
    closeAll(code: number, reason: string): void {
      for (const c of [...clients]) c.close(code, reason);
    },
    get count(): number {
      return clients.size;
    },
  };
}

/** A frame over the socket's rate: refused unread; a socket that keeps on is closed (4103). */
function overRate(deps: WsDeps, client: WsClient, verdict: Extract<FrameVerdict, { ok: false }>): void {
  const e = new LimitError('frames', `more than ${deps.framesPerSec} frames a second; this frame was dropped`, verdict.retryAfterMs);
  deps.metrics.refused(e);
  client.send({ type: 'error', code: e.code, message: e.message, retryAfterMs: verdict.retryAfterMs });
  if (verdict.close) client.close(CLOSE_CODES.TOO_MANY_FRAMES, 'too many frames');
}

function handleFrame(deps: WsDeps, client: WsClient, data: SocketData, frame: ClientFrame): void {
  const fail = (err: unknown, extra: { id?: string; messageId?: string }): void => {
    const e = deps.classify(err);
    if (e.code === 'internal') deps.log.error({ err, sessionId: data.sessionId }, 'frame failed');
    deps.metrics.messages.inc({ result: 'rejected' });
    deps.metrics.refused(e);
    client.send({
      type: 'error',
      code: e.code,
      message: e.message,
      ...extra,
      ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
    });
  };
  switch (frame.type) {
    case 'ping':
      client.send({ type: 'pong' });
      return;
    case 'chat': {
      const messageId = newId();
      client.holdFor(messageId);
      deps.service.submit({ sessionId: data.sessionId, messageId, content: frame.content, clientAddress: data.remoteAddress, transport: 'ws' }).then(
        ({ scrubbed }) =>
          client.acked(messageId, {
            type: 'ack',
            ...(frame.id === undefined ? {} : { id: frame.id }),
            messageId,
            ...(Object.keys(scrubbed).length === 0 ? {} : { scrubbed }),
          }),
        (err: unknown) => {
          client.dropped(messageId);
          fail(err, frame.id === undefined ? {} : { id: frame.id });
        },
      );
      return;
    }
    case 'cancel':
      deps.control.cancel(data.sessionId, frame.messageId).then(
        (result) => deps.metrics.cancels.inc({ result }),
        (err: unknown) => {
          if (err instanceof ChatError && err.code === 'not_found') deps.metrics.cancels.inc({ result: 'not_found' });
          fail(err, { messageId: frame.messageId });
        },
      );
      return;
    case 'resume':
      deps.control.resume(data.sessionId, frame.messageId, frame.afterSeq, frame.attempt, client).then(
        () => deps.metrics.resumes.inc({ result: 'replayed' }),
        (err: unknown) => {
          deps.metrics.resumes.inc({ result: err instanceof ChatError && err.code === 'not_found' ? 'not_found' : 'failed' });
          fail(err, { messageId: frame.messageId });
        },
      );
      return;
  }
}
