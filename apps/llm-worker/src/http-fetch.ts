// The `fetch` the openai SDK uses to reach the model: node:http(s) with kept-alive connections,
// answering a Response whose body is the Node stream itself. The SDK reads a streamed body through
// its async iterator when it has one, so each SSE chunk skips undici's fetch and the web-streams
// layer (a ReadableStream, a reader promise and a transfer per chunk), which were a third of a
// busy worker's time; the SDK's own SSE decoding is unchanged. Measured in
// apps/llm-worker/bench/model-fetch.mjs against the global fetch, in the same run.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' }),
};

/** The part of a fetch Response the openai SDK reads, over a Node response stream. */
class StreamResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly redirected = false;
  readonly type = 'basic';
  bodyUsed = false;

  constructor(
    readonly body: IncomingMessage,
    readonly url: string,
  ) {
    this.status = body.statusCode ?? 0;
    this.statusText = body.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    const headers = new Headers();
    for (const [name, value] of Object.entries(body.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    this.headers = headers;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    this.bodyUsed = true;
    const chunks: Buffer[] = [];
    for await (const chunk of this.body) chunks.push(chunk as Buffer);
    const all = Buffer.concat(chunks);
    return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  }

  async text(): Promise<string> {
    return Buffer.from(await this.arrayBuffer()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(headers).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** A fetch for the model's requests (string or byte bodies; the SDK sends JSON strings). */
export const httpFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      reject(new TypeError('httpFetch sends string or byte bodies only'));
      return;
    }
    const request = (protocol === 'https:' ? https : http).request(url, {
      method: init.method ?? 'GET',
      headers: headerRecord(init.headers),
      agent: agents[protocol],
      ...(init.signal ? { signal: init.signal } : {}),
    });
    request.on('response', (res) => {
      res.on('error', () => undefined); // surfaced to the reader by the async iterator
      // An abort while the body streams ends its reading with an AbortError, as fetch's does (the
      // SDK then ends the stream quietly), not with Node's plain "aborted".
      const signal = init.signal;
      if (signal) {
        const abort = (): void => {
          res.destroy(new DOMException('This operation was aborted', 'AbortError'));
        };
        if (signal.aborted) abort();
        else {
          signal.addEventListener('abort', abort, { once: true });
          res.once('close', () => signal.removeEventListener('abort', abort));
        }
      }
      resolve(new StreamResponse(res, url.href) as unknown as Response);
    });
    request.on('error', (err: Error) => {
      // As fetch does: an abort rejects with an AbortError, anything else with a TypeError.
      reject(err.name === 'AbortError' ? err : new TypeError('fetch failed', { cause: err }));
    });
    request.end(body ?? undefined);
  });
