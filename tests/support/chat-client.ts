// The raw side of the contract for tests that control the wire: REST answers with their status,
// a WebSocket over `ws` whose frames are collected in order. A test that acts as an ordinary client
// uses the SDK instead (sdk-client.ts); replies are judged in one place (replies.ts).
import WebSocket from 'ws';
import type { ChatApi, ServerFrame } from '@chat-fleet/client';
import { api } from './sdk-client.js';

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

/** A new session on `base` (through the SDK's ChatApi: a refusal throws its ChatApiError). */
export async function newSession(base: string, body: Parameters<ChatApi['createSession']>[0] = {}): Promise<Session> {
  return api(base).createSession({ userId: `u-${Math.random().toString(36).slice(2)}`, ...body });
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

/** Sends a chat and waits for its ack (or a refusal). */
export async function sendChat(socket: TestSocket, content: string): Promise<{ messageId: string } | { error: Extract<ServerFrame, { type: 'error' }> }> {
  const id = `c-${Math.random().toString(36).slice(2)}`;
  socket.send({ type: 'chat', id, content });
  const f = await socket.until((fs) => fs.find((x) => (x.type === 'ack' || x.type === 'error') && 'id' in x && x.id === id), 15_000, `ack of ${id}`);
  if (f.type === 'ack') return { messageId: f.messageId };
  if (f.type === 'error') return { error: f };
  throw new Error('unreachable');
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

/**
 * Starts `n` chats (`${label} ${i}`), each on its own session and socket, alternating over the
 * gateways, and waits until each has streamed `tokens` tokens.
 */
export async function startChats(gateways: ReadonlyArray<{ url: string; wsUrl: string }>, n: number, label: string, tokens = 3, ms = 15_000): Promise<OpenChat[]> {
  const chats: OpenChat[] = [];
  for (let i = 0; i < n; i++) chats.push(await startChat(gateways[i % gateways.length]!, `${label} ${i} ${Date.now()}`));
  await Promise.all(chats.map((c) => c.socket.until((fs) => tokensOf(fs, c.messageId).length >= tokens || undefined, ms, `${tokens} tokens`)));
  return chats;
}
