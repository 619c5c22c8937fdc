// An HTTP server of JSON routes over node:http: it listens (rejecting when it cannot, e.g.
// EADDRINUSE), answers a handler's refusal or failure in the app's own error shape, keeps idle
// connections longer than clients' pools do, and closes with every open connection.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { HttpRequestError, sendJson } from './json-http.js';

export type JsonHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface JsonServerOptions {
  /** 0 takes any free port. */
  port: number;
  host: string;
  /** The listen backlog; Node's default when absent. */
  backlog?: number;
  /** Hears a handler's unexpected failures and the server's errors. */
  logger: Logger;
  /** The body of the answer to a request refused with an HttpRequestError (its status is the answer's). */
  refusal(err: HttpRequestError): unknown;
  /** The body of the 500 answer to a handler that failed otherwise before answering. */
  internalError: unknown;
}

export interface JsonServer {
  /** The bound port (the real one when asked for 0). */
  port: number;
  /** `http://<host>:<port>`, with a host a client can dial. */
  origin: string;
  /** Stops listening and drops every open connection, requests in progress included. */
  close(): Promise<void>;
}

export async function startJsonServer(handle: JsonHandler, options: JsonServerOptions): Promise<JsonServer> {
  const { logger } = options;
  const server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpRequestError) {
        if (!res.headersSent) sendJson(res, err.status, options.refusal(err));
        return;
      }
      logger.error({ err, url: req.url }, 'request failed');
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, options.internalError);
    });
  });
  // Longer than typical client pools (undici 4 s, nginx 60 s), so the server is never the side closing a reused socket.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // A stream at a slow token rate, or a tool, may run for minutes: the caller's own time-out decides.
  server.requestTimeout = 0;
  server.timeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, ...(options.backlog === undefined ? {} : { backlog: options.backlog }) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'server error'));

  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port,
    origin: `http://${dialHost(options.host)}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A host a client can dial: wildcard binds are reached over loopback; IPv6 literals need brackets. */
export function dialHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
