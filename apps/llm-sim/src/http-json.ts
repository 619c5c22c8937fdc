// Small node:http helpers: bounded body reads and JSON answers in OpenAI's error shape.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export type OpenAiErrorType = 'invalid_request_error' | 'server_error' | 'not_found_error';

export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: null; code: string | null };
}

export function openAiError(message: string, type: OpenAiErrorType, code: string | null = null): OpenAiErrorBody {
  return { error: { message, type, param: null, code } };
}

/** A request the server refuses before its handler runs (body too large, unreadable JSON). */
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
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limitBytes) {
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

/** Parses a JSON body; an empty body reads as `{}`. */
export async function readJson(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const text = await readBody(req, limitBytes);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpRequestError(400, 'request body is not valid JSON');
  }
}
