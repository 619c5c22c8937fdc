// WebSocket adapter over uWebSockets.js: authenticates the upgrade, claims the socket's place in
// the fleet-wide limits, and carries frames between the socket and its ChatConnection (the chat
// layer), which sees only a ClientTransport: send (with the backpressure check) and close.
import type { HttpResponse, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { ChatError, isValidId } from '@chat-fleet/shared';
import type { SocketLimiter } from '../limits/socket-leases.js';
import type { TokenService } from '../auth/token-service.js';
import { ChatConnection, type ChatConnectionDeps, type ConnectionInfo } from '../chat/chat-connection.js';
import type { ClientTransport } from '../chat/client-transport.js';
import { closeCodeLabel } from '../metrics.js';
import { clientAddress, statusLine } from './http-kit.js';

export interface WsDeps extends ChatConnectionDeps {
  /** Proxies in front of the gateway whose X-Forwarded-For entries are trusted. */
  trustedProxyHops: number;
  tokens: TokenService;
  maxBackpressureBytes: number;
  idleTimeoutSeconds: number;
  isOriginAllowed(origin: string): boolean;
  isDraining(): boolean;
  /** Open sockets per session and per address, fleet-wide: claimed at the upgrade, released at close. */
  sockets: SocketLimiter;
}

interface SocketData extends ConnectionInfo {
  connection: ChatConnection | undefined;
  /** The socket's place in the fleet-wide socket limits, released at close. */
  lease: string | undefined;
}

export interface WsEndpoint {
  /** Asks every socket to reconnect elsewhere (drain). */
  closeAll(code: number, reason: string): void;
  readonly count: number;
}

/**
 * The socket as the chat layer sees it: a send over `maxBuffered` buffered bytes reports a slow
 * reader. A class rather than an object of closures: one is held per open socket.
 */
class SocketTransport implements ClientTransport {
  constructor(
    private readonly ws: WebSocket<SocketData>,
    private readonly maxBuffered: number,
  ) {}

  send(text: string): boolean {
    const ws = this.ws;
    ws.cork(() => {
      ws.send(text, false);
    });
    return ws.getBufferedAmount() <= this.maxBuffered;
  }

  close(code: number, reason: string): void {
    this.ws.end(code, reason);
  }
}

export function mountWebSocket(app: TemplatedApp, deps: WsDeps): WsEndpoint {
  const connections = new Set<ChatConnection>();

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
          res.upgrade<SocketData>({ sessionId, clientId, remoteAddress, tokenExpiresAtMs, connection: undefined, lease }, secKey, secProtocol, secExtensions, context);
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
      const { sessionId, clientId, remoteAddress, tokenExpiresAtMs } = data;
      const connection = new ChatConnection(new SocketTransport(ws, deps.maxBackpressureBytes), { sessionId, clientId, remoteAddress, tokenExpiresAtMs }, deps);
      data.connection = connection;
      connections.add(connection);
      deps.metrics.wsConnections.inc();
      connection.start();
    },

    message: (ws, message, isBinary) => {
      ws.getUserData().connection?.receive(message, isBinary);
    },

    close: (ws, code, message) => {
      const data = ws.getUserData();
      deps.log.debug({ sessionId: data.sessionId, clientId: data.clientId, code, reason: Buffer.from(message).toString() }, 'socket closed');
      deps.metrics.wsCloses.inc({ code: closeCodeLabel(code) });
      deps.sockets.release(data.lease);
      data.lease = undefined;
      const connection = data.connection;
      if (connection === undefined) return;
      connections.delete(connection);
      connection.transportClosed();
      deps.metrics.wsConnections.dec();
    },
  });

  return {
    closeAll(code: number, reason: string): void {
      for (const c of [...connections]) c.close(code, reason);
    },
    get count(): number {
      return connections.size;
    },
  };
}
