// One k6 VU as one chat user: a session over k6/http with its own userId, one WebSocket
// (k6/websockets), then chat → whole reply → think, until the user's time is up. Every reply is
// checked whole with the same rule as the local runner (../../reply-check.ts).
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearTimeout, setTimeout, type TimeoutID } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { ReplyCheck } from '../../reply-check.ts';
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
  check: ReplyCheck;
  timer: TimeoutID;
}

interface Frame {
  type: string;
  id?: string;
  messageId?: string;
  seq?: number;
  attempt?: number;
  code?: string;
  finishReason?: string;
  usage?: { completionTokens?: number };
}

const between = (t: ThinkTime): number => t.minMs + Math.random() * (t.maxMs - t.minMs);

function fail(plan: ChatPlan, code: string): void {
  tagStage(plan);
  wholeReplies.add(false);
  failedReplies.add(1, { code });
}

function tagStage(plan: ChatPlan): void {
  if (plan.stage !== undefined) exec.vu.metrics.tags.stage = plan.stage();
}

/** Runs one user until plan.endAt; returns when its socket has closed. */
export function chatUntil(plan: ChatPlan): void {
  if (Date.now() >= plan.endAt) return;
  const vu = exec.vu.idInTest;
  const base = GATEWAYS[vu % GATEWAYS.length]!;
  // One userId per VU across its sessions: the per-user rate limits see one user.
  const userId = `${plan.runId}-${vu}`;
  const res = http.post(`${base}/chat/session`, JSON.stringify({ userId }), {
    headers: { 'Content-Type': 'application/json' },
    tags: { name: 'POST /chat/session' },
  });
  if (!check(res, { 'session created (201)': (r) => r.status === 201 })) {
    fail(plan, `session_${res.status}`);
    return;
  }
  const session = res.json() as { sessionId: string; token: string };
  const url = `${base.replace(/^http/, 'ws')}/ws/${session.sessionId}/k6-${vu}?token=${encodeURIComponent(session.token)}`;
  const ws = new WebSocket(url);
  let turn = 0;
  let opened = false;
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

  const send = (): void => {
    nextTimer = undefined;
    if (Date.now() >= plan.endAt) {
      ws.close();
      return;
    }
    turn++;
    const chatId = `t${turn}`;
    const p: Pending = {
      chatId,
      sentAt: Date.now(),
      messageId: undefined,
      firstTokenAt: undefined,
      check: new ReplyCheck(),
      timer: setTimeout(() => {
        if (pending === p) end(p, 'timeout', 0);
      }, REPLY_TIMEOUT_MS),
    };
    pending = p;
    ws.send(JSON.stringify({ type: 'chat', id: chatId, content: `${userId} turn ${turn}: tell me something about the number ${vu * 1000 + turn}.` }));
  };

  const schedule = (ms: number): void => {
    if (Date.now() + ms >= plan.endAt || turn >= (plan.turnsPerSession ?? Infinity)) {
      ws.close();
      return;
    }
    nextTimer = setTimeout(send, ms);
  };

  ws.onmessage = (event) => {
    if (event === undefined || typeof event.data !== 'string') return;
    const frame = JSON.parse(event.data) as Frame;
    if (frame.type === 'ready') {
      // Users do not all send at once: the first message waits up to one think time.
      schedule(Math.random() * plan.think.maxMs);
      return;
    }
    const p = pending;
    if (p === undefined) return;
    switch (frame.type) {
      case 'ack':
        if (frame.id === p.chatId) p.messageId = frame.messageId;
        return;
      case 'token':
        if (frame.messageId !== p.messageId) return;
        tokenFrames.add(1);
        if (p.firstTokenAt === undefined) p.firstTokenAt = Date.now();
        p.check.token(frame.seq ?? -1);
        return;
      case 'reset':
        if (frame.messageId === p.messageId) p.check.reset(frame.attempt ?? 1);
        return;
      case 'done':
        if (frame.messageId === p.messageId) end(p, p.check.done(frame.seq ?? -1, frame.finishReason), frame.usage?.completionTokens ?? 0);
        return;
      case 'error':
        if (frame.messageId === p.messageId || frame.id === p.chatId || (frame.messageId === undefined && frame.id === undefined)) {
          end(p, frame.code ?? 'error', 0);
        }
        return;
      default:
        return;
    }
  };

  ws.onopen = () => {
    opened = true;
  };

  ws.onerror = () => {
    // onclose follows; a refused upgrade never opens.
  };

  ws.onclose = () => {
    if (nextTimer !== undefined) clearTimeout(nextTimer);
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      pending = undefined;
      fail(plan, 'socket_closed');
    }
    if (!opened) fail(plan, 'connect_failed');
  };
}

/** A short random id for this run (setup() hands it to every VU). */
export function newRunId(): string {
  return `k6-${Math.random().toString(36).slice(2, 10)}`;
}
