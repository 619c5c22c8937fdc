// Reading a JSON request body with a size cap, and answering JSON, over node:http.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A request refused before its handler runs (body too large, not JSON); `status` is the answer's. */
export class HttpRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpRequestError';
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** The body as UTF-8 text; 413 (HttpRequestError) past `limitBytes`, declared or read. */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limitBytes) {
      reject(new HttpRequestError(413, `request body exceeds ${limitBytes} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new HttpRequestError(413, `request body exceeds ${limitBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface ReadJsonOptions {
  /** What an empty (or blank) body reads as; without it, an empty body is not JSON (400). */
  emptyAs?: unknown;
}

/** The body parsed as JSON: 413 past `limitBytes`, 400 when it is not JSON (HttpRequestError). */
export async function readJson(req: IncomingMessage, limitBytes: number, options: ReadJsonOptions = {}): Promise<unknown> {
  const text = await readBody(req, limitBytes);
  if ('emptyAs' in options && text.trim() === '') return options.emptyAs;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpRequestError(400, 'request body is not valid JSON');
  }
}
