// Small helpers over uWS HTTP: everything a handler needs from the request is read
// synchronously (uWS requests die at the first await), responses are corked and abort-safe.
import type { HttpRequest as UwsRequest, HttpResponse as UwsResponse } from 'uWebSockets.js';
import { ChatError } from '@chat-fleet/shared';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? 'Unknown'}`;
}

/** The parts of a request a handler may use after an await. */
export interface RequestInfo {
  method: string;
  url: string;
  query: URLSearchParams;
  params: string[];
  authorization: string;
  accept: string;
  contentType: string;
  origin: string;
  remoteAddress: string;
}

export function readRequest(res: UwsResponse, req: UwsRequest, paramCount = 0, trustedProxyHops = 0): RequestInfo {
  const params: string[] = [];
  for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i) ?? '');
  return {
    method: req.getCaseSensitiveMethod(),
    url: req.getUrl(),
    query: new URLSearchParams(req.getQuery() ?? ''),
    params,
    authorization: req.getHeader('authorization'),
    accept: req.getHeader('accept'),
    contentType: req.getHeader('content-type'),
    origin: req.getHeader('origin'),
    remoteAddress: clientAddress(res, req, trustedProxyHops),
  };
}

/**
 * The client's address. With no trusted proxy it is the peer's; behind `trustedProxyHops`
 * proxies it is the X-Forwarded-For entry the outermost trusted proxy appended, so a client
 * cannot choose its own address by sending the header. Call synchronously.
 */
export function clientAddress(res: UwsResponse, req: UwsRequest, trustedProxyHops = 0): string {
  const peer = Buffer.from(res.getRemoteAddressAsText()).toString();
  if (trustedProxyHops <= 0) return peer;
  const hops = req.getHeader('x-forwarded-for').split(',').map((h) => h.trim()).filter(Boolean);
  if (hops.length === 0) return peer;
  return hops[Math.max(0, hops.length - trustedProxyHops)] ?? peer;
}

export function bearerToken(authorization: string): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization);
  return m?.[1];
}

/** Wraps a uWS response: tracks abort, corks writes, refuses to write twice. */
export class Reply {
  aborted = false;
  ended = false;
  /** A streaming (SSE) response has started: errors must go into the stream now. */
  streaming = false;
  private readonly abortHandlers: Array<() => void> = [];
  private corsOrigin: string | undefined;

  constructor(readonly res: UwsResponse) {
    res.onAborted(() => {
      this.aborted = true;
      for (const h of this.abortHandlers) h();
    });
  }

  get open(): boolean {
    return !this.aborted && !this.ended;
  }

  onAbort(handler: () => void): void {
    this.abortHandlers.push(handler);
  }

  /** Echoes an allowed browser origin on every response. */
  allowOrigin(origin: string | undefined): void {
    this.corsOrigin = origin;
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.send(status, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
  }

  send(status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
    if (!this.open) return;
    this.ended = true;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      this.writeCors();
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
      this.res.end(body);
    });
  }

  empty(status: number): void {
    if (!this.open) return;
    this.ended = true;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      this.writeCors();
      this.res.endWithoutBody();
    });
  }

  error(err: ChatError): void {
    const headers: Record<string, string> = {};
    if (err.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    this.json(err.status, { error: { code: err.code, message: err.message } }, headers);
  }

  /** Starts a streaming response (SSE); write() afterwards, finish() to end. */
  startStream(status: number, headers: Record<string, string>): void {
    if (!this.open) return;
    this.streaming = true;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      this.writeCors();
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
      // Flush headers now so the client sees the stream open before the first token.
      this.res.write('');
    });
  }

  write(chunk: string): void {
    if (!this.open) return;
    this.res.cork(() => {
      this.res.write(chunk);
    });
  }

  finish(chunk = ''): void {
    if (!this.open) return;
    this.ended = true;
    this.res.cork(() => {
      this.res.end(chunk);
    });
  }

  private writeCors(): void {
    if (this.corsOrigin === undefined) return;
    this.res.writeHeader('access-control-allow-origin', this.corsOrigin);
    this.res.writeHeader('vary', 'Origin');
  }
}

/** Reads the whole body, refusing more than `limit` bytes with `too_large`. Call synchronously. */
export function readBody(reply: Reply, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    reply.onAbort(() => reject(new ChatError('bad_request', 'request aborted')));
    reply.res.onData((ab, isLast) => {
      if (failed) return;
      size += ab.byteLength;
      if (size > limit) {
        failed = true;
        reject(new ChatError('too_large', `request body is larger than ${limit} bytes`));
        return;
      }
      // uWS reuses the ArrayBuffer after this callback returns: copy it.
      chunks.push(Buffer.from(ab.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks, size));
    });
  });
}

export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ChatError('bad_request', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
