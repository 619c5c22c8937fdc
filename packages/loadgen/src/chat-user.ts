// One simulated user: a session with its own userId, one SDK client (@chat-fleet/client) and a loop
// of chat → reply → think. The SDK assembles each reply, reconnects a dropped socket (to the next
// gateway if need be) and resumes the reply; the user judges it: whole when it ended with `done`,
// not cancelled, with no frame dropped as a duplicate or past a gap.
import { ChatApiError, ChatClient, type ReplyError, type ReplyOutcome, type ServerFrame } from '@chat-fleet/client';
import WebSocket from 'ws';
import { decodeWithoutTokenText } from './frame-reader.js';
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
  /** Every gateway's base URL; the user's own is tried first, then the next ones. */
  readonly gateways: readonly string[];
  readonly content: (user: number, turn: number) => string;
}

interface Pending {
  readonly sentAt: number;
  deadline: number;
  readonly end: () => void;
}

class ConnectError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const CONNECT_TIMEOUT_MS = 15_000;

export class ChatUser {
  private client: ChatClient | undefined;
  private pending: Pending | undefined;
  /** The session ended for good (a terminal close): the user stops. */
  private dead = false;
  /** The user's own gateway first, then the others: any gateway serves any session. */
  private readonly gateways: readonly string[];

  constructor(
    readonly index: number,
    private readonly ctx: UserContext,
  ) {
    const own = index % ctx.gateways.length;
    this.gateways = [...ctx.gateways.slice(own), ...ctx.gateways.slice(0, own)];
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
      await this.exchange(turn);
      pause = ctx.thinkMs.min + Math.random() * (ctx.thinkMs.max - ctx.thinkMs.min);
    }
    this.close();
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

  /** A new session and its socket; a failure counts as one failed message. */
  private async startConversation(): Promise<boolean> {
    const { ctx } = this;
    try {
      return await ctx.connectGate.run(async () => {
        if (ctx.clock.stopped) return false;
        const started = performance.now();
        await this.connect();
        ctx.stats.connect.recordMs(performance.now() - started);
        return true;
      });
    } catch (err) {
      ctx.stats.fail(err instanceof ConnectError ? err.code : 'connect_failed', performance.now());
      return false;
    }
  }

  /** POST /chat/session, then the socket until its `ready`. */
  private async connect(): Promise<void> {
    const { stats } = this.ctx;
    const client = new ChatClient({
      gateways: this.gateways,
      timeoutMs: CONNECT_TIMEOUT_MS,
      sessionBody: { userId: `${this.ctx.userPrefix}-${this.index}` },
      clientId: `u${this.index}`,
      keepText: false,
      decode: (text: string): ServerFrame | undefined => {
        const frame = decodeWithoutTokenText(text);
        if (frame?.type === 'token') stats.frames++;
        return frame;
      },
      createSocket: (url) => {
        const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: CONNECT_TIMEOUT_MS });
        let opened = false;
        ws.once('open', () => {
          opened = true;
          stats.socketOpened();
        });
        ws.once('close', () => {
          if (opened) stats.connected--;
        });
        return ws;
      },
    });
    this.client = client;
    let readies = 0;
    client.on('ready', () => {
      if (++readies > 1) stats.reconnects++;
    });
    client.on('ended', () => {
      this.dead = true;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectError('connect_timeout', 'no ready frame')), CONNECT_TIMEOUT_MS);
    });
    try {
      await Promise.race([client.connect(), timeout]);
    } catch (err) {
      client.close();
      if (err instanceof ChatApiError && client.session === undefined) {
        throw new ConnectError(err.status === 0 ? 'session_failed' : `session_${err.status}`, err.message);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private exchange(turn: number): Promise<void> {
    const now = performance.now();
    return new Promise<void>((resolve) => {
      const p: Pending = { sentAt: now, deadline: now + this.ctx.replyTimeoutMs, end: resolve };
      this.pending = p;
      this.ctx.stats.inFlight++;
      const reply = this.client!.send(this.ctx.content(this.index, turn), { id: `t${turn}` });
      void reply.finished.then((outcome) => this.onOutcome(p, outcome, reply.firstTokenAt));
    });
  }

  private onOutcome(p: Pending, outcome: ReplyOutcome, firstTokenAt: number | undefined): void {
    if (this.pending !== p) return; // ended meanwhile (timeout)
    const now = performance.now();
    if (outcome.status === 'error') {
      this.finish(this.failureCode(outcome.error), now);
      return;
    }
    if (outcome.finishReason === 'cancelled') this.finish('cancelled', now);
    else if (outcome.duplicates > 0 || outcome.gaps > 0 || outcome.problem !== undefined) this.finish('incomplete', now);
    else {
      this.pending = undefined;
      this.ctx.stats.inFlight--;
      this.ctx.stats.succeed((firstTokenAt ?? now) - p.sentAt, now - p.sentAt, outcome.usage.completionTokens, outcome.cached, now);
      p.end();
    }
  }

  /** The protocol's error code, or what ended the socket: `closed_<code>`, `socket_closed`. */
  private failureCode(error: ReplyError): string {
    const ended = this.client?.ended;
    if (ended !== undefined && (error.code === 'session_gone' || error.code === 'socket_closed')) return `closed_${ended.code}`;
    if (error.code === 'not_sent') return 'socket_closed'; // dropped before the ack: unknown whether it was taken
    return error.code;
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
    this.client?.close();
    this.client = undefined;
  }
}
