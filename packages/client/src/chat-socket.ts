// One WebSocket to a session, reopened after every drop until stopped: close codes decide between
// reconnecting (to any gateway) and giving up, with backoff and jitter between failed opens, a ping
// to keep idle sockets alive and a silence limit for connections that died without closing. It
// knows nothing of replies: frames go to the listener, which resumes replies on `ready`.
import { CLOSE_CODES, shouldReconnect } from '@chat-fleet/protocol/close-codes';
import type { ClientFrame, ReadyFrame, ServerFrame } from '@chat-fleet/protocol';
import { decodeServerFrame, encodeClientFrame } from './frames.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed';

/** What a close code means for the client, from the protocol's close-code table. */
export type CloseAction =
  /** Reconnect (to any gateway) and resume: 1001, 1006, 1011-1013, 4000-4099. */
  | 'reconnect'
  /** 4100: the session was deleted or expired; only a new session helps. */
  | 'session_ended'
  /** 4101: the token expired or was revoked. */
  | 'unauthorized'
  /** Anything else (4102 protocol error, 4103 too many frames, 1000 …): do not reconnect. */
  | 'stop';

export function closeAction(code: number): CloseAction {
  if (shouldReconnect(code)) return 'reconnect';
  if (code === CLOSE_CODES.SESSION_ENDED) return 'session_ended';
  if (code === CLOSE_CODES.UNAUTHORIZED) return 'unauthorized';
  return 'stop';
}

/**
 * An event handler checked bivariantly, as DOM handlers are: a WebSocket whose handlers take a
 * richer event (the `ws` package's MessageEvent and CloseEvent) is still a WebSocketLike.
 */
type EventHandler<E> = { bivariant(ev: E): unknown }['bivariant'];

/** The part of the WHATWG WebSocket this client uses (the browser's, Node 22's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: never) => unknown) | null;
  onmessage: EventHandler<{ data: unknown }> | null;
  onclose: EventHandler<{ code: number; reason: string }> | null;
  onerror: ((ev: never) => unknown) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type CreateWebSocket = (url: string) => WebSocketLike;

export interface SocketListener {
  /** The socket is subscribed to the session: replies in flight should be resumed now. */
  ready(frame: ReadyFrame): void;
  frame(frame: ServerFrame): void;
  state(state: ConnectionState): void;
  /** Closed with a code that forbids reconnecting; the socket stays closed. */
  ended(action: Exclude<CloseAction, 'reconnect'>, code: number, reason: string): void;
  /** The socket closed before `ready` (the upgrade may have been refused: 401, 404, 503). */
  failed(failures: number): void;
}

export interface ChatSocketOptions {
  /** The URL to open; `failures` counts the opens that failed in a row (rotate gateways on it). */
  url: (failures: number) => string;
  createSocket?: CreateWebSocket | undefined;
  /** Reads a frame's text; the default parses JSON and ignores unknown types. */
  decode?: ((text: string) => ServerFrame | undefined) | undefined;
  pingEveryMs?: number | undefined;
  /** No frame at all (pongs included) for this long: the connection is dead even if not closed. */
  silenceMs?: number | undefined;
  backoffBaseMs?: number | undefined;
  backoffMaxMs?: number | undefined;
}

const OPEN = 1;

export class ChatSocket {
  private ws: WebSocketLike | undefined;
  private stopped = true;
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = 0;
  private current: ConnectionState = 'closed';
  private readonly createSocket: CreateWebSocket;
  private readonly decode: (text: string) => ServerFrame | undefined;
  private readonly pingEveryMs: number;
  private readonly silenceMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  /** The gateway instance that sent the last `ready`. */
  instance = '';

  constructor(
    private readonly options: ChatSocketOptions,
    private readonly listener: SocketListener,
  ) {
    this.createSocket = options.createSocket ?? defaultWebSocket;
    this.decode = options.decode ?? decodeServerFrame;
    this.pingEveryMs = options.pingEveryMs ?? 20_000;
    this.silenceMs = options.silenceMs ?? 45_000;
    this.backoffBaseMs = options.backoffBaseMs ?? 250;
    this.backoffMaxMs = options.backoffMaxMs ?? 5_000;
  }

  get state(): ConnectionState {
    return this.current;
  }

  get isOpen(): boolean {
    return this.current === 'connected';
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.failures = 0;
    const events = browserEvents();
    events?.addEventListener('online', this.onOnline);
    events?.addEventListener('offline', this.onOffline);
    this.open();
  }

  stop(code = 1000, reason = 'client closed'): void {
    this.stopped = true;
    const events = browserEvents();
    events?.removeEventListener('online', this.onOnline);
    events?.removeEventListener('offline', this.onOffline);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(code, reason);
    this.setState('closed');
  }

  /** Sends when connected; false when the frame could not be sent. */
  send(frame: ClientFrame): boolean {
    if (this.ws?.readyState !== OPEN || this.current !== 'connected') return false;
    this.ws.send(encodeClientFrame(frame));
    return true;
  }

  /** Closes the current socket as a drop (the next open follows at once), e.g. to move gateways. */
  drop(code: number = CLOSE_CODES.GOING_AWAY_RECONNECT, reason = 'client reconnects'): void {
    this.ws?.close(code, reason);
  }

  private open(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.setState(this.failures === 0 && this.current !== 'reconnecting' ? 'connecting' : 'reconnecting');
    let ready = false;
    let ws: WebSocketLike;
    try {
      ws = this.createSocket(this.options.url(this.failures));
    } catch {
      this.failures++;
      this.listener.failed(this.failures);
      this.schedule(this.failures);
      return;
    }
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      this.lastFrameAt = performance.now();
      const frame = this.decode(ev.data);
      if (frame === undefined) return;
      if (frame.type === 'ready') {
        ready = true;
        this.failures = 0;
        this.instance = frame.instance;
        this.setState('connected');
        this.listener.ready(frame);
        return;
      }
      this.listener.frame(frame);
    };
    ws.onerror = () => undefined; // a close follows
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      clearInterval(this.pingTimer);
      if (this.stopped) return;
      const action = closeAction(ev.code);
      // A socket refused before `ready` closes 1006 in browsers; the listener checks the session.
      if (action !== 'reconnect' && ready) {
        this.stopped = true;
        this.setState('closed');
        this.listener.ended(action, ev.code, ev.reason);
        return;
      }
      if (!ready) {
        this.failures++;
        this.listener.failed(this.failures);
        if (this.stopped) return;
      }
      this.setState(isOffline() ? 'offline' : 'reconnecting');
      this.schedule(ready ? 0 : this.failures);
    };
    this.lastFrameAt = performance.now();
    this.pingTimer = setInterval(() => this.keepAlive(ws), this.pingEveryMs);
  }

  /** After a drop the first try is at once (another gateway is likely up); then exponential with jitter. */
  private schedule(failures: number): void {
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.max(0, failures - 1));
    const delay = failures === 0 ? 50 : ceiling / 2 + Math.random() * (ceiling / 2);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private keepAlive(ws: WebSocketLike): void {
    if (this.ws !== ws || ws.readyState !== OPEN) return;
    if (performance.now() - this.lastFrameAt > this.silenceMs) {
      ws.close(CLOSE_CODES.GOING_AWAY_RECONNECT, 'no frames from the server');
      return;
    }
    ws.send(encodeClientFrame({ type: 'ping' }));
  }

  /** Back online: try at once instead of waiting out the backoff. */
  private readonly onOnline = (): void => {
    if (this.stopped || this.ws !== undefined) return;
    this.failures = 0;
    this.open();
  };

  private readonly onOffline = (): void => {
    if (this.current !== 'connected') this.setState('offline');
  };

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    this.listener.state(state);
  }
}

function defaultWebSocket(url: string): WebSocketLike {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (Ctor === undefined) {
    throw new Error('no WebSocket in this runtime: pass createSocket (e.g. the `ws` package) or run Node with --experimental-websocket');
  }
  return new Ctor(url);
}

/** The window's online/offline events, in a browser. */
function browserEvents(): Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | undefined {
  const g = globalThis as { window?: EventTarget };
  return g.window;
}

function isOffline(): boolean {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return nav?.onLine === false;
}
