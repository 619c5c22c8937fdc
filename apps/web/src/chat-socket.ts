// One WebSocket to the gateway, reopened after every drop until stopped. It knows close codes,
// backoff and liveness, nothing of chat: frames go to the listener, which resumes replies on `ready`.
import { parseServerFrame, type ClientFrame, type ReadyFrame, type ServerFrame } from './protocol.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed';

export interface SocketListener {
  /** The socket is subscribed to the session; replies in flight should be resumed now. */
  ready(frame: ReadyFrame): void;
  frame(frame: ServerFrame): void;
  state(state: ConnectionState): void;
  /** Closed with 4100–4199: the session or token is gone, or the client broke the protocol. */
  terminal(code: number, reason: string): void;
  /** The socket closed before `ready` (the upgrade may have been refused: 401, 404, 503). */
  failed(attempt: number): void;
}

const PING_EVERY_MS = 20_000;
/** No frame at all (pongs included) for this long: the connection is dead even if not closed. */
const SILENCE_MS = 45_000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 5_000;

export class ChatSocket {
  private ws: WebSocket | undefined;
  private stopped = false;
  private failures = 0;
  private retryTimer: number | undefined;
  private pingTimer: number | undefined;
  private lastFrameAt = 0;
  private current: ConnectionState = 'closed';

  constructor(
    private readonly url: () => string,
    private readonly listener: SocketListener,
  ) {}

  get state(): ConnectionState {
    return this.current;
  }

  get isOpen(): boolean {
    return this.current === 'connected';
  }

  start(): void {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, 'client closed');
    this.setState('closed');
  }

  /** Sends when connected; false when the frame could not be sent. */
  send(frame: ClientFrame): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN || this.current !== 'connected') return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private open(): void {
    if (this.stopped) return;
    window.clearTimeout(this.retryTimer);
    this.setState(this.failures === 0 && this.current !== 'reconnecting' ? 'connecting' : 'reconnecting');
    let ready = false;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      this.lastFrameAt = performance.now();
      const frame = parseServerFrame(ev.data);
      if (frame === undefined) return;
      if (frame.type === 'ready') {
        ready = true;
        this.failures = 0;
        this.setState('connected');
        this.listener.ready(frame);
        return;
      }
      this.listener.frame(frame);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      window.clearInterval(this.pingTimer);
      if (this.stopped) return;
      if (ev.code >= 4100 && ev.code < 4200) {
        this.setState('closed');
        this.listener.terminal(ev.code, ev.reason);
        return;
      }
      if (!ready) {
        this.failures++;
        this.listener.failed(this.failures);
      }
      this.setState(navigator.onLine ? 'reconnecting' : 'offline');
      this.schedule(ready ? 0 : this.failures);
    };
    this.lastFrameAt = performance.now();
    this.pingTimer = window.setInterval(() => this.keepAlive(ws), PING_EVERY_MS);
  }

  /** After a drop the first try is at once (another gateway is likely up); then exponential with jitter. */
  private schedule(failures: number): void {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
    const delay = failures === 0 ? 50 : ceiling / 2 + Math.random() * (ceiling / 2);
    this.retryTimer = window.setTimeout(() => this.open(), delay);
  }

  private keepAlive(ws: WebSocket): void {
    if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
    if (performance.now() - this.lastFrameAt > SILENCE_MS) {
      ws.close(4000, 'no frames from the server');
      return;
    }
    ws.send(JSON.stringify({ type: 'ping' } satisfies ClientFrame));
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
