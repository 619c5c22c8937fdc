// Many authenticated WebSockets that say nothing after `ready`: what a gateway pays per connection.
import WebSocket from 'ws';
import { CreateSessionResponseSchema, HealthResponseSchema } from '@chat-fleet/shared';

export interface IdleSession {
  readonly sessionId: string;
  readonly token: string;
}

/** Runs `task(i)` for i in [0, n) with at most `limit` at once; resolves with every result in order. */
export async function inPool<T>(n: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(n);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
  return results;
}

/** `POST /chat/session` n times, each with its own userId so no two share a rate limit. */
export async function createSessions(baseUrl: string, n: number, userPrefix: string): Promise<IdleSession[]> {
  return inPool(n, 32, async (i) => {
    const res = await fetch(`${baseUrl}/chat/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: `${userPrefix}-${i}` }),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST /chat/session answered ${res.status}: ${text.slice(0, 200)}`);
    const { sessionId, token } = CreateSessionResponseSchema.parse(JSON.parse(text));
    return { sessionId, token };
  });
}

/** Opens one socket and resolves once the gateway sent `ready`; rejects on anything else first. */
export function openIdleSocket(url: string, timeoutMs = 30_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no ready frame within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      if (err === undefined) resolve(ws);
      else {
        ws.terminate();
        reject(err);
      }
    };
    const onMessage = (data: WebSocket.RawData): void => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const text = bytes.toString('utf8');
      if (text.includes('"type":"ready"')) done();
      else done(new Error(`expected ready, got ${text.slice(0, 200)}`));
    };
    ws.on('message', onMessage);
    ws.once('unexpected-response', (_req, res) => done(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
    ws.once('error', (err) => done(err));
    ws.once('close', (code) => done(new Error(`closed with ${code} before ready`)));
  });
}

export interface OpenedSockets {
  readonly sockets: WebSocket[];
  readonly failures: number;
  readonly firstError: string | undefined;
}

/** Opens a socket per session, `concurrency` upgrades at a time; failures are counted, not thrown. */
export async function openIdleSockets(
  urls: readonly string[],
  concurrency = 200,
): Promise<OpenedSockets> {
  let failures = 0;
  let firstError: string | undefined;
  const opened = await inPool(urls.length, concurrency, async (i) => {
    try {
      return await openIdleSocket(urls[i] ?? '');
    } catch (err) {
      failures++;
      firstError ??= err instanceof Error ? err.message : String(err);
      return undefined;
    }
  });
  return { sockets: opened.filter((s): s is WebSocket => s !== undefined), failures, firstError };
}

/** Closes every socket and waits until each has closed (or 10 s have passed). */
export async function closeSockets(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 10_000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close();
        }),
    ),
  );
}

/** The gateway's own count of open sockets (`GET /health` → connections). */
export async function gatewayConnections(baseUrl: string): Promise<number> {
  const res = await fetch(`${baseUrl}/health`);
  return HealthResponseSchema.parse(await res.json()).connections;
}
