// The demo's chat session: an SDK client (@chat-fleet/client), which reconnects a dropped socket
// (the same gateway, else the next), resumes the reply and assembles it whole, plus what the
// person is told about it: a lost socket, a reconnect and where the reply resumed, an ended session.
import { randomBytes } from 'node:crypto';
import { ChatClient, type ConnectionState, type Reply, type ReplyOutcome, type SessionCredentials, type Source, type ToolCall } from '@chat-fleet/client';
import WebSocket from 'ws';

export interface ReplyListener {
  token(text: string): void;
  /** The reply starts over (the worker failed and another took it): drop what was shown. */
  reset(attempt: number): void;
  /** The model called a tool; each call once, also after a resume. */
  toolCall(call: ToolCall): void;
  /** A tool answered (`ok`, `summary`). */
  toolResult(call: ToolCall): void;
  /** Sources the reply was given, new since the last call. */
  sources(added: Source[]): void;
}

export interface ConnectionOptions {
  /** Gateway base URLs; any serves the session. */
  gateways: readonly string[];
  userId: string;
  /** Join this session instead of opening one. */
  session?: SessionCredentials | undefined;
}

const OPEN_TIMEOUT_MS = 15_000;
/** Longer than the gateway's own bound (REPLY_TIMEOUT_MS, 120 s), which ends a reply in `unavailable`. */
const REPLY_TIMEOUT_MS = 150_000;

export class ChatConnection {
  readonly client: ChatClient;
  private current: Reply | undefined;
  /** The close code of the last socket, for the notice of a lost connection. */
  private lastClose = 0;
  private state: ConnectionState = 'closed';
  /** `ready` frames since the session was opened: every one after the first is a reconnect. */
  private readies = 0;
  /** What the person should know outside a reply: a lost socket, a reconnect. */
  onNotice: (text: string) => void = () => undefined;

  constructor(options: ConnectionOptions) {
    this.client = new ChatClient({
      gateways: options.gateways,
      session: options.session,
      sessionBody: { userId: options.userId, metadata: { client: 'terminal-demo' } },
      clientId: `term-${randomBytes(3).toString('hex')}`,
      replyTimeoutMs: REPLY_TIMEOUT_MS,
      createSocket: (url) => {
        const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS });
        ws.on('close', (code) => (this.lastClose = code));
        return ws;
      },
    });
    this.client.on('state', (state) => {
      if (this.state === 'connected' && state === 'reconnecting') {
        this.onNotice(`connection to ${this.client.instance || this.client.gateway} lost (${this.lastClose}); reconnecting…`);
      }
      this.state = state;
    });
    this.client.on('ready', (frame) => {
      if (++this.readies === 1) return;
      const reply = this.current;
      if (reply === undefined) this.onNotice(`reconnected to ${frame.instance}`);
      else if (reply.messageId === undefined) this.onNotice(`reconnected to ${frame.instance}; waiting for the reply`);
      else this.onNotice(`reconnected to ${frame.instance}; resumed after seq ${reply.lastSeq}`);
    });
    this.client.on('ended', (end) => this.onNotice(`${end.message} (${end.code}); /new starts a new session`));
  }

  get sessionId(): string | undefined {
    return this.client.session?.sessionId;
  }

  get credentials(): SessionCredentials | undefined {
    return this.client.session;
  }

  /** The gateway instance that sent `ready` on the current socket. */
  get instance(): string {
    return this.client.instance;
  }

  /** The gateway the socket is on (or will try first). */
  get gateway(): string {
    return this.client.gateway;
  }

  get streaming(): boolean {
    return this.current !== undefined;
  }

  /** The session (a new one, or the one given) and a socket to it. */
  async start(): Promise<void> {
    this.readies = 0;
    await this.withinOpenTimeout(this.client.connect());
  }

  /** A new session (an empty conversation). */
  async renew(): Promise<void> {
    this.readies = 0;
    await this.withinOpenTimeout(this.client.newSession());
  }

  /** Sends a message and resolves when its reply has ended, however it ended. One at a time. */
  async ask(content: string, listener: ReplyListener): Promise<ReplyOutcome> {
    if (this.current !== undefined) throw new Error('ChatConnection.ask: a reply is still streaming');
    const reply = this.client.send(content);
    this.current = reply;
    reply.on('token', (text) => listener.token(text));
    reply.on('reset', (attempt) => listener.reset(attempt));
    reply.on('tool_call', (call) => listener.toolCall(call));
    reply.on('tool_result', (call) => listener.toolResult(call));
    reply.on('sources', (added) => listener.sources(added));
    try {
      return await reply.finished;
    } finally {
      this.current = undefined;
    }
  }

  /** Stops the reply streaming now (its `done` says `cancelled`); false when none streams. */
  cancel(): boolean {
    this.current?.cancel();
    return this.current !== undefined;
  }

  close(): void {
    this.client.close();
  }

  private async withinOpenTimeout(opening: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no gateway opened the session's socket within ${OPEN_TIMEOUT_MS / 1000} s (${this.client.api.gateways.join(', ')})`)), OPEN_TIMEOUT_MS);
    });
    try {
      await Promise.race([opening, late]);
    } catch (err) {
      this.client.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
