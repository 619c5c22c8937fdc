// A scripted in-memory gateway for the SDK's tests: REST through a `fetch` and sockets through a
// `createSocket` handed to the client, answering chat and resume frames with what the test scripts.
import type { ClientFrame, ServerFrame, SessionView, StoredMessage } from '@chat-fleet/protocol';
import type { WebSocketLike } from '../src/index.js';

export interface Script {
  /** Frames answering a chat or regenerate frame (the ack is sent first unless `refuse`). */
  reply?: (messageId: string) => ServerFrame[];
  refuse?: ServerFrame;
  /** Frames answering a resume frame (what the gateway replays after the position it names). */
  resume?: (frame: Extract<ClientFrame, { type: 'resume' }>) => ServerFrame[];
  /** An old gateway: a regenerate frame is an unknown type, answered with an id-less bad_request. */
  noRegenerate?: boolean;
}

export class FakeGateway {
  readonly sockets: FakeSocket[] = [];
  readonly received: ClientFrame[] = [];
  history: StoredMessage[] = [];
  script: Script = {};
  gone = false;
  private replies = 0;

  readonly fetch: typeof fetch = (input, init) => Promise.resolve(this.answer(new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, 'http://gw'), init));

  private answer(url: URL, init: RequestInit | undefined): Response {
    if (init?.method === 'POST') return json(201, { sessionId: `s${this.sockets.length + 1}`, token: 't', expiresAt: '2999-01-01T00:00:00Z' });
    if (this.gone) return json(404, { error: { code: 'not_found', message: 'no such session' } });
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const before = url.searchParams.get('before');
    const end = before === null ? this.history.length : this.history.findIndex((m) => m.id === before);
    const start = Math.max(0, end - limit);
    const view: SessionView = { sessionId: 's', createdAt: '', messages: this.history.slice(start, end), hasMore: start > 0, ...(start > 0 ? { nextBefore: this.history[start]!.id } : {}) };
    return json(200, view);
  };

  readonly createSocket = (url: string): WebSocketLike => {
    const socket = new FakeSocket(this, url);
    this.sockets.push(socket);
    return socket;
  };

  frame(socket: FakeSocket, frame: ClientFrame): void {
    if (frame.type === 'resume') {
      for (const f of this.script.resume?.(frame) ?? []) socket.push(f);
      return;
    }
    if (frame.type === 'regenerate' && this.script.noRegenerate === true) {
      socket.push({ type: 'error', code: 'bad_request', message: 'unknown frame type' });
      return;
    }
    if (frame.type !== 'chat' && frame.type !== 'regenerate') return;
    if (this.script.refuse !== undefined) {
      socket.push({ ...this.script.refuse, id: frame.id } as ServerFrame);
      return;
    }
    const messageId = `r${++this.replies}`;
    socket.push({ type: 'ack', id: frame.id, messageId });
    for (const f of this.script.reply?.(messageId) ?? []) socket.push(f);
  }
}

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((ev: never) => unknown) | null = null;
  onmessage: ((ev: { data: unknown }) => unknown) | null = null;
  onclose: ((ev: { code: number; reason: string }) => unknown) | null = null;
  onerror: ((ev: never) => unknown) | null = null;

  constructor(
    private readonly gateway: FakeGateway,
    readonly url: string,
  ) {
    setTimeout(() => {
      this.readyState = 1;
      this.push({ type: 'ready', sessionId: 's', clientId: 'c', instance: 'gw-1' });
    }, 1);
  }

  send(data: string): void {
    const frame = JSON.parse(data) as ClientFrame;
    this.gateway.received.push(frame);
    // The answer comes later, as over a network.
    setTimeout(() => this.gateway.frame(this, frame), 1);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** A frame as the gateway sends it; a test may send one of a type this client does not know. */
  push(frame: ServerFrame | { type: string }): void {
    if (this.readyState === 1) this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
