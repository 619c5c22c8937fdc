// The runner's verdict on replies a healthy fleet never sends: a small WebSocket server scripts
// one reply shape per user (gaps, duplicates, restarts, a dropped socket, silence …) and the
// runner (each user an SDK client) must call each whole or failed correctly.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { WebSocketServer, type WebSocket } from 'ws';
import { runLoad } from '../src/index.js';

type Step = Record<string, unknown> | 'drop';

/** What the server answers to each user's one chat; `m` is the messageId. */
const SCRIPTS: Array<(m: string) => Step[]> = [
  // 0: whole
  (m) => [...tokens(m, 1, 5), done(m, 5)],
  // 1: a gap
  (m) => [...tokens(m, 1, 2), ...tokens(m, 4, 5), done(m, 5)],
  // 2: a duplicate
  (m) => [...tokens(m, 1, 2), ...tokens(m, 2, 3), done(m, 3)],
  // 3: restarted with reset, then whole
  (m) => [...tokens(m, 1, 2), { type: 'reset', messageId: m, attempt: 2 }, ...tokens(m, 1, 3), done(m, 3)],
  // 4: done claims more than arrived
  (m) => [...tokens(m, 1, 3), done(m, 4)],
  // 5: fails after some tokens
  (m) => [...tokens(m, 1, 2), { type: 'error', code: 'upstream_error', message: 'model failed', messageId: m }],
  // 6: never ends
  (m) => [...tokens(m, 1, 2)],
  // 7: the socket drops mid-reply; the rest comes after resume (see onResume)
  (m) => [...tokens(m, 1, 2), 'drop'],
  // 8: token frames in another key order (the runner's slow path)
  (m) => [...[1, 2, 3].map((seq): Step => ({ seq, text: ` t${seq}`, type: 'token', messageId: m })), done(m, 3)],
  // 9: cancelled
  (m) => [...tokens(m, 1, 1), { ...done(m, 1), finishReason: 'cancelled' }],
];

function tokens(messageId: string, from: number, to: number): Step[] {
  const out: Step[] = [];
  for (let seq = from; seq <= to; seq++) out.push({ type: 'token', messageId, seq, text: ` "seq":${seq + 7}, tok` });
  return out;
}

function done(messageId: string, seq: number): Record<string, unknown> {
  return { type: 'done', messageId, seq, cached: false, usage: { promptTokens: 10, completionTokens: seq }, finishReason: 'stop' };
}

let server: Server;
let base: string;
const resumes: Array<Record<string, unknown>> = [];
const sessionsOf = new Map<string, number>();
const chatsOf = new Map<string, number>();

beforeAll(async () => {
  const sessions = new Map<string, number>();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { userId } = JSON.parse(body) as { userId: string };
      sessionsOf.set(userId, (sessionsOf.get(userId) ?? 0) + 1);
      const sessionId = `s${sessions.size}`;
      sessions.set(sessionId, Number(userId.split('-').pop()));
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sessionId, token: 'tok', expiresAt: new Date().toISOString() }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws: WebSocket, req) => {
    const sessionId = req.url!.split('/')[2]!;
    const user = sessions.get(sessionId)!;
    ws.send(JSON.stringify({ type: 'ready', sessionId, clientId: 'c', instance: 'fake' }));
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      // Each chat of a session gets its own messageId, as from a gateway: m<user>, then m<user>-2 …
      if (frame.type === 'chat') chatsOf.set(sessionId, (chatsOf.get(sessionId) ?? 0) + 1);
      const chats = chatsOf.get(sessionId) ?? 1;
      const messageId = chats === 1 ? `m${user}` : `m${user}-${chats}`;
      if (frame.type === 'chat') {
        ws.send(JSON.stringify({ type: 'ack', id: frame.id, messageId }));
        for (const step of SCRIPTS[user]!(messageId)) {
          if (step === 'drop') {
            ws.terminate();
            return;
          }
          ws.send(JSON.stringify(step));
        }
      } else if (frame.type === 'resume') {
        resumes.push(frame);
        for (const step of [...tokens(messageId, 3, 4), done(messageId, 4)]) ws.send(JSON.stringify(step));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('whole means every seq once after the last reset and then done; anything else is a failure by code', async () => {
  const result = await runLoad({
    gateways: [base],
    users: SCRIPTS.length,
    durationS: 1,
    rampS: 0,
    // One message each: the second would come after the run's end.
    thinkMs: { min: 10_000, max: 10_000 },
    staggerFirstMessage: false,
    replyTimeoutMs: 1500,
    userPrefix: 'fake',
  });

  expect(result.messages).toBe(10);
  expect(result.errors).toEqual({ incomplete: 3, upstream_error: 1, timeout: 1, cancelled: 1 });
  expect(result.failures).toBe(6);
  expect(result.successRate).toBe(40);
  // Whole: users 0 (5 tokens), 3 (3 after the reset), 7 (resumed to 4) and 8 (3).
  expect(result.tokens).toBe(5 + 3 + 4 + 3);
  expect(result.reconnects).toBe(1);
  // User 7 resumes after its reconnect; the gap (1) and the early done (4) are asked for again too,
  // and stay incomplete: the frames they dropped are counted.
  expect(resumes.filter((r) => r.messageId === 'm7')).toEqual([{ type: 'resume', messageId: 'm7', afterSeq: 2, attempt: 1 }]);
  expect(new Set(resumes.map((r) => r.messageId))).toEqual(new Set(['m1', 'm4', 'm7']));
  expect(result.ttftMs.p50).toBeGreaterThan(0);
  expect(result.responseMs.p99).toBeGreaterThanOrEqual(result.ttftMs.p99);
});

test('turnsPerSession: a user starts a new session, same userId, after that many turns', async () => {
  const result = await runLoad({
    gateways: [base],
    users: 1,
    durationS: 1.2,
    thinkMs: { min: 150, max: 150 },
    staggerFirstMessage: false,
    turnsPerSession: 2,
    userPrefix: 'turns',
  });
  expect(result.failures).toBe(0);
  expect(result.messages).toBeGreaterThanOrEqual(5);
  expect(sessionsOf.get('turns-0')).toBe(Math.ceil(result.messages / 2));
});
