// One simulated user: a session with its own userId, one WebSocket, and a loop of chat → reply →
// think. Each reply is checked whole: every seq 1..n exactly once after the last reset, then done.
// A socket dropped mid-reply is reopened and the reply resumed, as the protocol asks of clients.
import { ReplyCheck } from '@chat-fleet/loadtest';
import WebSocket from 'ws';
import { readFrame } from './frame-reader.js';
import type { Semaphore, ShardStats, StopClock } from './shard-state.js';

export interface UserContext {
  readonly stats: ShardStats;
  readonly clock: StopClock;
  readonly connectGate: Semaphore;
  /** performance.now() after which no message is sent. */
  readonly deadline: number;
  readonly thinkMs: { min: number; max: number };
  readonly replyTimeoutMs: number;
  /** Turns before the user starts a new session (a new conversation); Infinity: never. */
  readonly turnsPerSession: number;
  readonly userPrefix: string;
  /** Every gateway's base URL; a reconnect that fails on the user's own tries the next ones. */
  readonly gateways: readonly string[];
  readonly content: (user: number, turn: number) => string;
}

interface Pending {
  readonly chatId: string;
  readonly sentAt: number;
  deadline: number;
  messageId: string | undefined;
  readonly check: ReplyCheck;
  firstTokenAt: number | undefined;
  readonly end: () => void;
}

class ConnectError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const CONNECT_TIMEOUT_MS = 15_000;
const RECONNECT_TRIES = 3;

export class ChatUser {
  private sessionId = '';
  private token = '';
  private socket: WebSocket | undefined;
  private opens = 0;
  private pending: Pending | undefined;
  /** A terminal close (4100–4199): the session is gone, the user stops. */
  private dead = false;
  private reopening: Promise<boolean> | undefined;
  /** Index into ctx.gateways of the gateway this user talks to now. */
  private gatewayIndex: number;

  constructor(
    readonly index: number,
    private readonly ctx: UserContext,
  ) {
    this.gatewayIndex = index % ctx.gateways.length;
  }

  private get gateway(): string {
    return this.ctx.gateways[this.gatewayIndex]!;
  }

  async run(startDelayMs: number, firstPauseMs: number): Promise<void> {
    const { ctx } = this;
    await ctx.clock.sleep(startDelayMs);
    if (ctx.clock.stopped || performance.now() >= ctx.deadline) return;
    if (!(await this.startConversation())) return;
    let pause = firstPauseMs;
    for (let turn = 1; ; turn++) {
      // A message due after the deadline is never sent (timers may fire a little early); the user
      // stays connected until then, so "users" are concurrent sessions for the whole level.
      if (performance.now() + pause >= ctx.deadline) {
        await ctx.clock.sleep(ctx.deadline - performance.now());
        break;
      }
      await ctx.clock.sleep(pause);
      if (ctx.clock.stopped || this.dead) break;
      if (turn > 1 && (turn - 1) % ctx.turnsPerSession === 0) {
        // A new conversation: the history, and with it the prompt, starts empty again.
        this.close();
        if (!(await this.startConversation())) break;
      }
      if (this.socket === undefined) {
        const reopened = await this.reopen();
        if (!reopened) {
          ctx.stats.fail('socket_closed', performance.now());
          break;
        }
      }
      await this.exchange(turn);
      pause = ctx.thinkMs.min + Math.random() * (ctx.thinkMs.max - ctx.thinkMs.min);
    }
    this.close();
  }

  /** A new session and its socket; a failure counts as one failed message. */
  private async startConversation(): Promise<boolean> {
    const { ctx } = this;
    try {
      return await ctx.connectGate.run(async () => {
        if (ctx.clock.stopped) return false;
        const started = performance.now();
        await this.createSession();
        await this.open();
        ctx.stats.connect.recordMs(performance.now() - started);
        return true;
      });
    } catch (err) {
      ctx.stats.fail(err instanceof ConnectError ? err.code : 'connect_failed', performance.now());
      return false;
    }
  }

  /** Fails the message in flight if its time is up; called by the runner's sweep. */
  checkTimeout(now: number): void {
    const p = this.pending;
    if (p !== undefined && now >= p.deadline) this.finish('timeout', now);
  }

  /** Shortens the wait for the message in flight (the run was aborted). */
  hurry(deadline: number): void {
    if (this.pending !== undefined) this.pending.deadline = Math.min(this.pending.deadline, deadline);
  }

  private async createSession(): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`${this.gateway}/chat/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: `${this.ctx.userPrefix}-${this.index}` }),
        signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS),
      });
    } catch (err) {
      throw new ConnectError('session_failed', String(err));
    }
    const text = await res.text().catch(() => '');
    if (res.status !== 201) throw new ConnectError(`session_${res.status}`, text);
    const body = JSON.parse(text) as { sessionId: string; token: string };
    this.sessionId = body.sessionId;
    this.token = body.token;
  }

  /** Opens a socket and resolves on its `ready` frame. */
  private open(): Promise<void> {
    const clientId = `u${this.index}o${this.opens++}`;
    const url = `${this.gateway.replace(/^http/, 'ws')}/ws/${this.sessionId}/${clientId}?token=${encodeURIComponent(this.token)}`;
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: CONNECT_TIMEOUT_MS });
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        fail(new ConnectError('connect_timeout', 'no ready frame'));
        ws.terminate();
      }, CONNECT_TIMEOUT_MS);
      const fail = (err: ConnectError): void => {
        if (ready) return;
        ready = true;
        clearTimeout(timer);
        reject(err);
      };
      ws.on('unexpected-response', (_req, res) => {
        fail(new ConnectError(`ws_${res.statusCode ?? 0}`, `upgrade answered ${res.statusCode ?? 0}`));
        res.resume();
        ws.terminate();
      });
      ws.on('error', (err) => fail(new ConnectError('connect_failed', err.message)));
      let opened = false;
      ws.on('open', () => {
        opened = true;
        this.ctx.stats.socketOpened();
      });
      ws.on('close', (code) => {
        if (opened) this.ctx.stats.connected--;
        fail(new ConnectError('connect_failed', `closed ${code} before ready`));
        this.onClose(ws, code);
      });
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) return;
        if (!ready) {
          if (readFrame(data).type === 'ready') {
            ready = true;
            clearTimeout(timer);
            this.socket = ws;
            resolve();
          }
          return;
        }
        if (ws === this.socket) this.onFrame(data);
      });
    });
  }

  private onClose(ws: WebSocket, code: number): void {
    if (ws !== this.socket) return;
    this.socket = undefined;
    if (code >= 4100 && code <= 4199) {
      this.dead = true;
      if (this.pending !== undefined) this.finish(`closed_${code}`, performance.now());
      return;
    }
    const p = this.pending;
    if (p === undefined) return; // reopened before the next message
    if (p.messageId === undefined) {
      // Whether the server took the chat is unknown; no id to resume.
      this.finish('socket_closed', performance.now());
      return;
    }
    void this.resume(p);
  }

  /** One reopening at a time, shared by a resume and the next message. */
  private reopen(): Promise<boolean> {
    this.reopening ??= this.reopenOnce().finally(() => {
      this.reopening = undefined;
    });
    return this.reopening;
  }

  /** Own gateway first, then the others (any gateway serves any session), each up to RECONNECT_TRIES times. */
  private async reopenOnce(): Promise<boolean> {
    const gateways = this.ctx.gateways.length;
    for (let attempt = 1; attempt <= RECONNECT_TRIES * gateways; attempt++) {
      if (this.ctx.clock.stopped && this.pending === undefined) return false;
      try {
        await this.open();
        this.ctx.stats.reconnects++;
        return true;
      } catch (err) {
        if (err instanceof ConnectError && /^ws_4(01|04)$/.test(err.code)) return false; // the session is gone
        this.gatewayIndex = (this.gatewayIndex + 1) % gateways;
        if (attempt % gateways === 0) await new Promise((r) => setTimeout(r, 250 * (attempt / gateways)));
      }
    }
    return false;
  }

  private async resume(p: Pending): Promise<void> {
    const ok = await this.reopen();
    if (this.pending !== p) return; // ended meanwhile (timeout)
    if (!ok || this.socket === undefined) {
      this.finish('socket_closed', performance.now());
      return;
    }
    this.socket.send(JSON.stringify({ type: 'resume', messageId: p.messageId, afterSeq: p.check.lastSeq, attempt: p.check.attempt }));
  }

  private exchange(turn: number): Promise<void> {
    const now = performance.now();
    return new Promise<void>((resolve) => {
      this.pending = {
        chatId: `t${turn}`,
        sentAt: now,
        deadline: now + this.ctx.replyTimeoutMs,
        messageId: undefined,
        check: new ReplyCheck(),
        firstTokenAt: undefined,
        end: resolve,
      };
      this.ctx.stats.inFlight++;
      if (this.socket === undefined) {
        this.finish('socket_closed', now);
        return;
      }
      this.socket.send(JSON.stringify({ type: 'chat', id: `t${turn}`, content: this.ctx.content(this.index, turn) }));
    });
  }

  private onFrame(data: Buffer): void {
    const p = this.pending;
    if (p === undefined) return;
    const frame = readFrame(data);
    switch (frame.type) {
      case 'token': {
        if (frame.messageId !== p.messageId) return;
        this.ctx.stats.frames++;
        if (p.firstTokenAt === undefined) p.firstTokenAt = performance.now();
        p.check.token(frame.seq);
        return;
      }
      case 'ack':
        if (frame.id === p.chatId) p.messageId = frame.messageId;
        return;
      case 'reset':
        if (frame.messageId !== p.messageId) return;
        p.check.reset(frame.attempt);
        return;
      case 'done': {
        if (frame.messageId !== p.messageId) return;
        const now = performance.now();
        const failure = p.check.done(frame.seq, frame.finishReason);
        if (failure !== undefined) this.finish(failure, now);
        else {
          this.pending = undefined;
          this.ctx.stats.inFlight--;
          this.ctx.stats.succeed(
            (p.firstTokenAt ?? now) - p.sentAt,
            now - p.sentAt,
            frame.usage?.completionTokens ?? 0,
            frame.cached === true,
            now,
          );
          p.end();
        }
        return;
      }
      case 'error':
        if (frame.messageId === p.messageId || frame.id === p.chatId || (frame.messageId === undefined && frame.id === undefined)) {
          this.finish(frame.code, performance.now());
        }
        return;
      default:
        return;
    }
  }

  private finish(code: string, now: number): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    this.ctx.stats.inFlight--;
    this.ctx.stats.fail(code, now);
    p.end();
  }

  private close(): void {
    const ws = this.socket;
    this.socket = undefined;
    if (ws !== undefined) ws.close(1000);
  }
}
