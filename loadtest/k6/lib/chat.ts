// One k6 VU as one chat user: a session over k6/http with its own userId, one WebSocket
// (k6/websockets), then chat → whole reply → think, until the user's time is up. Every reply is
// assembled and judged with the SDK's whole-reply rule (packages/client/src/reply-assembler.ts,
// import-free); a dropped socket follows the protocol's close-code policy
// (packages/protocol/src/close-codes.ts): reconnect to the next gateway and resume, or stop.
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearTimeout, setTimeout, type TimeoutID } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { ReplyAssembler, type ReplyFrameLike } from '../../../packages/client/src/reply-assembler.ts';
import { shouldReconnect } from '../../../packages/protocol/src/close-codes.ts';
import type { ThinkTime } from '../../scenarios.ts';

/** Gateways, comma-separated; VUs spread over them. BASE_URL=http://host:8088[,http://host:8089]. */
export const GATEWAYS = (__ENV.BASE_URL ?? 'http://127.0.0.1:8088')
  .split(',')
  .map((u) => u.trim().replace(/\/$/, ''))
  .filter((u) => u !== '');

/** A reply with no done/error this long after the chat was sent fails as `timeout`. */
export const REPLY_TIMEOUT_MS = Number(__ENV.REPLY_TIMEOUT_MS ?? 60_000);

/** Send → first token frame of whole replies. */
export const firstToken = new Trend('first_token_ms', true);
/** Send → done of whole replies. */
export const wholeReply = new Trend('whole_reply_ms', true);
/** Completion tokens of whole replies (done.usage.completionTokens). */
export const replyTokens = new Counter('reply_tokens');
/** Token frames received. */
export const tokenFrames = new Counter('token_frames');
/** Share of messages whose reply arrived whole; the goal is 1. */
export const wholeReplies = new Rate('whole_replies');
/** Failed messages, tagged with `code` (contract error codes, timeout, socket_closed, incomplete …). */
export const failedReplies = new Counter('failed_replies');

export interface ChatPlan {
  /** Date.now() after which no message is sent. */
  endAt: number;
  think: ThinkTime;
  /** A prefix unique to this run, so sessions and cache keys never repeat across runs. */
  runId: string;
  /** After this many turns the socket closes and the next iteration opens a new session. */
  turnsPerSession?: number;
  /** Sets the VU's `stage` tag before each sample (stress: the step the fleet is at). */
  stage?: () => string;
}

interface Pending {
  chatId: string;
  sentAt: number;
  messageId: string | undefined;
  firstTokenAt: number | undefined;
  reply: ReplyAssembler;
  timer: TimeoutID;
}

interface Frame {
  type: string;
  id?: string;
  messageId?: string;
  code?: string;
}

/** Sockets reopened per session before the user gives up (each on the next gateway). */
const MAX_REOPENS = 3;

const between = (t: ThinkTime): number => t.minMs + Math.random() * (t.maxMs - t.minMs);

function fail(plan: ChatPlan, code: string): void {
  tagStage(plan);
  wholeReplies.add(false);
  failedReplies.add(1, { code });
}

function tagStage(plan: ChatPlan): void {
  if (plan.stage !== undefined) exec.vu.metrics.tags.stage = plan.stage();
}

/** The verdict on an ended reply: undefined when whole, else the failure code. */
function verdict(reply: ReplyAssembler): string | undefined {
  if (reply.phase === 'error') return reply.error?.code ?? 'error';
  if (reply.finishReason === 'cancelled') return 'cancelled';
  // Whole: done after every seq 1..n of the last attempt once, no frame dropped as a duplicate or past a gap.
  if (reply.problem !== undefined || reply.duplicates > 0 || reply.gaps > 0) return 'incomplete';
  return undefined;
}

/** Runs one user until plan.endAt; returns when its socket has closed. */
export function chatUntil(plan: ChatPlan): void {
  if (Date.now() >= plan.endAt) return;
  const vu = exec.vu.idInTest;
  let gateway = vu % GATEWAYS.length;
  // One userId per VU across its sessions: the per-user rate limits see one user.
  const userId = `${plan.runId}-${vu}`;
  const res = http.post(`${GATEWAYS[gateway]!}/chat/session`, JSON.stringify({ userId }), {
    headers: { 'Content-Type': 'application/json' },
    tags: { name: 'POST /chat/session' },
  });
  if (!check(res, { 'session created (201)': (r) => r.status === 201 })) {
    fail(plan, `session_${res.status}`);
    return;
  }
  const session = res.json() as { sessionId: string; token: string };
  let ws: WebSocket;
  let opens = 0;
  let readies = 0;
  let stopping = false;
  let turn = 0;
  let pending: Pending | undefined;
  let nextTimer: TimeoutID | undefined;

  const end = (p: Pending, failure: string | undefined, completionTokens: number): void => {
    clearTimeout(p.timer);
    pending = undefined;
    const now = Date.now();
    if (failure === undefined) {
      tagStage(plan);
      wholeReplies.add(true);
      firstToken.add((p.firstTokenAt ?? now) - p.sentAt);
      wholeReply.add(now - p.sentAt);
      replyTokens.add(completionTokens);
    } else {
      fail(plan, failure);
    }
    schedule(between(plan.think));
  };

  const stop = (): void => {
    stopping = true;
    ws.close();
  };

  const send = (): void => {
    nextTimer = undefined;
    if (Date.now() >= plan.endAt) {
      stop();
      return;
    }
    turn++;
    const chatId = `t${turn}`;
    const p: Pending = {
      chatId,
      sentAt: Date.now(),
      messageId: undefined,
      firstTokenAt: undefined,
      reply: new ReplyAssembler({ keepText: false }),
      timer: setTimeout(() => {
        if (pending === p) end(p, 'timeout', 0);
      }, REPLY_TIMEOUT_MS),
    };
    pending = p;
    ws.send(JSON.stringify({ type: 'chat', id: chatId, content: `${userId} turn ${turn}: tell me something about the number ${vu * 1000 + turn}.` }));
  };

  const schedule = (ms: number): void => {
    if (Date.now() + ms >= plan.endAt || turn >= (plan.turnsPerSession ?? Infinity)) {
      stop();
      return;
    }
    nextTimer = setTimeout(send, ms);
  };

  /** A socket subscribed: the first starts the talk, a later one resumes the reply in flight. */
  const onReady = (): void => {
    if (++readies === 1) {
      // Users do not all send at once: the first message waits up to one think time.
      schedule(Math.random() * plan.think.maxMs);
      return;
    }
    const p = pending;
    if (p === undefined) schedule(between(plan.think));
    else if (p.messageId === undefined) end(p, 'socket_closed', 0); // dropped before the ack: unknown whether it was taken
    else ws.send(JSON.stringify({ type: 'resume', messageId: p.messageId, afterSeq: p.reply.lastSeq, attempt: p.reply.attempt }));
  };

  const onFrame = (frame: Frame): void => {
    if (frame.type === 'ready') {
      onReady();
      return;
    }
    const p = pending;
    if (p === undefined) return;
    if (frame.type === 'ack') {
      if (frame.id === p.chatId) p.messageId = frame.messageId;
      return;
    }
    if (frame.type === 'error' && frame.messageId === undefined) {
      if (frame.id === p.chatId || frame.id === undefined) end(p, frame.code ?? 'error', 0);
      return;
    }
    if (frame.messageId !== p.messageId || (frame.type !== 'token' && frame.type !== 'reset' && frame.type !== 'done' && frame.type !== 'error')) return;
    if (frame.type === 'token') {
      tokenFrames.add(1);
      if (p.firstTokenAt === undefined) p.firstTokenAt = Date.now();
    }
    const step = p.reply.apply(frame as unknown as ReplyFrameLike);
    // `early`: done names a seq never received; without resuming here, the reply is not whole.
    if (step === 'done' || step === 'error' || step === 'early') end(p, step === 'early' ? 'incomplete' : verdict(p.reply), p.reply.usage?.completionTokens ?? 0);
  };

  const open = (): void => {
    const url = `${GATEWAYS[gateway]!.replace(/^http/, 'ws')}/ws/${session.sessionId}/k6-${vu}-${++opens}?token=${encodeURIComponent(session.token)}`;
    const socket = new WebSocket(url);
    ws = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
    };
    socket.onmessage = (event) => {
      if (socket === ws && event !== undefined && typeof event.data === 'string') onFrame(JSON.parse(event.data) as Frame);
    };
    socket.onerror = () => {
      // onclose follows; a refused upgrade never opens.
    };
    // k6 hands the close code to the handler (the types leave it out); none counts as a drop (1006).
    socket.onclose = (event?: { code?: number }) => {
      if (socket !== ws || stopping) return;
      if (nextTimer !== undefined) clearTimeout(nextTimer);
      nextTimer = undefined;
      const code = event?.code ?? 1006;
      if (shouldReconnect(code) && opens <= MAX_REOPENS && Date.now() < plan.endAt) {
        // Any gateway serves any session: the next one, after a pause that grows with each try.
        gateway = (gateway + 1) % GATEWAYS.length;
        nextTimer = setTimeout(open, 250 * opens);
        return;
      }
      if (pending !== undefined) {
        clearTimeout(pending.timer);
        pending = undefined;
        fail(plan, shouldReconnect(code) ? 'socket_closed' : `closed_${code}`);
      }
      if (!opened) fail(plan, 'connect_failed');
    };
  };

  open();
}

/** A short random id for this run (setup() hands it to every VU). */
export function newRunId(): string {
  return `k6-${Math.random().toString(36).slice(2, 10)}`;
}
