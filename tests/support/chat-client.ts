// A test client of the contract: REST over fetch, WebSocket over `ws`, frames collected in order.
import WebSocket from 'ws';
import type { ServerFrame } from '@chat-fleet/shared';

export interface HttpAnswer<T = unknown> {
  status: number;
  json: T;
  text: string;
  headers: Headers;
}

export async function http<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json: json as T, text, headers: res.headers };
}

export interface Session {
  sessionId: string;
  token: string;
  expiresAt: string;
}

export async function newSession(base: string, body: Record<string, unknown> = {}): Promise<Session> {
  const r = await http<Session>(base, 'POST', '/chat/session', { body: { userId: `u-${Math.random().toString(36).slice(2)}`, ...body } });
  if (r.status !== 201) throw new Error(`POST /chat/session answered ${r.status}: ${r.text}`);
  return r.json;
}

export type Frame = ServerFrame & { at: number };

export class TestSocket {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  error: Error | undefined;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push({ ...(JSON.parse((data as Buffer).toString('utf8')) as ServerFrame), at: performance.now() });
      this.wake();
    });
    ws.on('error', (err) => {
      this.error = err;
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: this.error ? `${reason.toString()} error: ${this.error.message}` : reason.toString() };
      this.wake();
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  close(): void {
    this.ws.close();
  }

  /** Waits until `pick(frames)` returns something. */
  async until<T>(pick: (frames: Frame[]) => T | undefined, ms = 15_000, what = 'a frame'): Promise<T> {
    const deadline = performance.now() + ms;
    for (;;) {
      const v = pick(this.frames);
      if (v !== undefined && v !== false) return v;
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}; frames: ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/** Opens a socket; resolves after `ready`, or rejects with the HTTP status of a refused upgrade. */
export function connect(wsBase: string, sessionId: string, clientId: string, token?: string): Promise<TestSocket> {
  const q = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  const ws = new WebSocket(`${wsBase}/ws/${sessionId}/${clientId}${q}`);
  const socket = new TestSocket(ws);
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => reject(new UpgradeRefused(res.statusCode ?? 0)));
    ws.once('error', reject);
    ws.once('open', () => {
      socket.until((fs) => fs.find((f) => f.type === 'ready'), 10_000, 'ready').then(() => resolve(socket), reject);
    });
  });
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}

export interface Reply {
  messageId: string;
  text: string;
  seqs: number[];
  done: Extract<ServerFrame, { type: 'done' }>;
}

/** The reply to `messageId` as one socket saw it: after the last reset, tokens in order, then done. */
export function replyOf(frames: Frame[], messageId: string): Reply | undefined {
  const mine = frames.filter((f) => 'messageId' in f && f.messageId === messageId);
  const done = mine.find((f) => f.type === 'done');
  if (done === undefined || done.type !== 'done') return undefined;
  const lastReset = mine.map((f) => f.type).lastIndexOf('reset');
  const tokens = mine.slice(lastReset + 1).filter((f) => f.type === 'token');
  return {
    messageId,
    text: tokens.map((f) => (f.type === 'token' ? f.text : '')).join(''),
    seqs: tokens.map((f) => (f.type === 'token' ? f.seq : -1)),
    done,
  };
}

/** Sends a chat and waits for its ack (or a refusal). */
export async function sendChat(socket: TestSocket, content: string): Promise<{ messageId: string } | { error: Extract<ServerFrame, { type: 'error' }> }> {
  const id = `c-${Math.random().toString(36).slice(2)}`;
  socket.send({ type: 'chat', id, content });
  const f = await socket.until((fs) => fs.find((x) => (x.type === 'ack' || x.type === 'error') && 'id' in x && x.id === id), 15_000, `ack of ${id}`);
  if (f.type === 'ack') return { messageId: f.messageId };
  if (f.type === 'error') return { error: f };
  throw new Error('unreachable');
}

export function expectSeqs(seqs: number[]): void {
  seqs.forEach((s, i) => {
    if (s !== i + 1) throw new Error(`seq ${s} at position ${i + 1}: ${JSON.stringify(seqs)}`);
  });
}

/** The token frames of one reply among a socket's frames, in arrival order. */
export function tokensOf(frames: Frame[], messageId: string): Array<Extract<Frame, { type: 'token' }>> {
  return frames.flatMap((f) => (f.type === 'token' && f.messageId === messageId ? [f] : []));
}

export interface OpenChat {
  session: Session;
  socket: TestSocket;
  messageId: string;
}

/** Opens a session and a socket (as `clientId`) on `gateway` and sends one accepted chat. */
export async function startChat(gateway: { url: string; wsUrl: string }, content: string, clientId = 'c'): Promise<OpenChat> {
  const session = await newSession(gateway.url);
  const socket = await connect(gateway.wsUrl, session.sessionId, clientId, session.token);
  const sent = await sendChat(socket, content);
  if (!('messageId' in sent)) throw new Error(`refused: ${JSON.stringify(sent.error)}`);
  return { session, socket, messageId: sent.messageId };
}
