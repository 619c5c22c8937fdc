// Many authenticated WebSockets that say nothing after `ready`: what a gateway pays per connection.
// Sessions come from the SDK's REST client, sockets are the SDK's (@chat-fleet/client) with the
// `ws` package underneath and no keep-alive ping, so they stay quiet.
import { ChatApi, ChatSocket } from '@chat-fleet/client';
import WebSocket from 'ws';
import { HealthResponseSchema } from '@chat-fleet/shared';

export interface IdleSession {
  readonly sessionId: string;
  readonly token: string;
}

/** One quiet socket: the SDK's, and the `ws` socket under it (to wait for its close). */
export interface IdleSocket {
  readonly socket: ChatSocket;
  readonly ws: WebSocket;
}

/** Longer than any bench: the sockets never ping. */
const NO_PING_MS = 24 * 3600_000;

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
  const api = new ChatApi({ gateways: [baseUrl] });
  return inPool(n, 32, async (i) => {
    const { sessionId, token } = await api.createSession({ userId: `${userPrefix}-${i}` });
    return { sessionId, token };
  });
}

/** The socket URL of each session on `gateway`, with clientIds idle-0, idle-1 … */
export function idleSocketUrls(gateway: string, sessions: readonly IdleSession[]): string[] {
  const api = new ChatApi({ gateways: [gateway] });
  return sessions.map((s, i) => api.socketUrl(gateway, s, `idle-${i}`));
}

/** Opens one socket and resolves once the gateway sent `ready`; rejects when it closes first. */
export function openIdleSocket(url: string, timeoutMs = 30_000): Promise<IdleSocket> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket | undefined;
    let lastError = '';
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.stop();
      ws?.terminate();
      reject(err);
    };
    const socket = new ChatSocket(
      {
        url: () => url,
        createSocket: (u) => {
          ws = new WebSocket(u, { perMessageDeflate: false });
          ws.once('error', (err) => (lastError = err.message));
          return ws;
        },
        pingEveryMs: NO_PING_MS,
      },
      {
        ready: () => {
          clearTimeout(timer);
          resolve({ socket, ws: ws! });
        },
        frame: () => undefined,
        state: () => undefined,
        ended: (_action, code) => fail(new Error(`closed with ${code}`)),
        failed: () => fail(new Error(lastError || 'closed before ready')),
      },
    );
    const timer = setTimeout(() => fail(new Error(`no ready frame within ${timeoutMs} ms`)), timeoutMs);
    socket.start();
  });
}

export interface OpenedSockets {
  readonly sockets: IdleSocket[];
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
  return { sockets: opened.filter((s): s is IdleSocket => s !== undefined), failures, firstError };
}

/** Closes every socket and waits until each has closed (or 10 s have passed). */
export async function closeSockets(sockets: readonly IdleSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      ({ socket, ws }) =>
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
          socket.stop();
        }),
    ),
  );
}

/** The gateway's own count of open sockets (`GET /health` → connections). */
export async function gatewayConnections(baseUrl: string): Promise<number> {
  const res = await fetch(`${baseUrl}/health`);
  return HealthResponseSchema.parse(await res.json()).connections;
}
