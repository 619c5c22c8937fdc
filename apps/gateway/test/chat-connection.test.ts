import { describe, expect, it } from '@jest/globals';
import { CLOSE_CODES, ChatError, createLogger, type FramePosition, type ReplyFrame, type SessionFrameReader } from '@chat-fleet/shared';
import { ChatConnection, type ChatConnectionDeps } from '../src/chat/chat-connection.js';
import type { ClientTransport } from '../src/chat/client-transport.js';
import type { ChatService } from '../src/chat/chat-service.js';
import type { ReplySink, SessionHub } from '../src/relay/session-hub.js';
import type { SessionControl } from '../src/relay/session-control.js';
import { GatewayMetrics } from '../src/metrics.js';

/** A transport that records what was sent and closed; `full` makes every send report a slow reader. */
class FakeTransport implements ClientTransport {
  sent: Array<Record<string, unknown>> = [];
  closes: Array<[number, string]> = [];
  full = false;
  send(text: string): boolean {
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
    return !this.full;
  }
  close(code: number, reason: string): void {
    this.closes.push([code, reason]);
  }
  types(): unknown[] {
    return this.sent.map((f) => f.type);
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const at = (attempt: number, seq: number): FramePosition => ({ attempt, seq });
const noStored: SessionFrameReader = () => () => Promise.resolve();

function setup(overrides: { submit?: ChatService['submit']; framesPerSec?: number } = {}) {
  const sinks = new Set<ReplySink>();
  const hub = {
    join: (_sessionId: string, sink: ReplySink) => {
      sinks.add(sink);
      return Promise.resolve();
    },
    leave: (_sessionId: string, sink: ReplySink) => void sinks.delete(sink),
    get sessions() {
      return sinks.size > 0 ? 1 : 0;
    },
  } as unknown as SessionHub;
  const submittedIds: string[] = [];
  let release: () => void = () => undefined;
  const submitted = new Promise<void>((resolve) => (release = resolve));
  const service = {
    submit:
      overrides.submit ??
      (async (input: { messageId?: string }) => {
        submittedIds.push(input.messageId ?? '');
        await submitted;
        return { messageId: input.messageId, scrubbed: {} };
      }),
  } as unknown as ChatService;
  const control: SessionControl = {
    cancel: () => Promise.reject(new ChatError('not_found', 'no such reply')),
    resume: () => Promise.resolve(),
  };
  const deps: ChatConnectionDeps = {
    service,
    hub,
    control,
    storedFrames: noStored,
    metrics: new GatewayMetrics({}),
    log: createLogger({ name: 'test', level: 'silent', instance: 'gw-test', pretty: false }),
    instance: 'gw-test',
    classify: (err) => (err instanceof ChatError ? err : new ChatError('internal', 'internal error')),
    resumeGraceMs: 50,
    maxFrameBytes: 1000,
    framesPerSec: overrides.framesPerSec ?? 0,
    frameBurst: 2,
  };
  const transport = new FakeTransport();
  const connection = new ChatConnection(transport, { sessionId: 's1', clientId: 'c1', remoteAddress: '127.0.0.1', tokenExpiresAtMs: undefined }, deps);
  const deliver = (frame: ReplyFrame, position: FramePosition): void => {
    for (const sink of sinks) sink.deliver(frame, JSON.stringify(frame), position);
  };
  return { connection, transport, sinks, deliver, release, submittedIds };
}

const text = (value: unknown): ArrayBuffer => new TextEncoder().encode(JSON.stringify(value)).buffer;

describe('ChatConnection', () => {
  it('joins the relay, says ready, and answers ping', async () => {
    const { connection, transport, sinks } = setup();
    connection.start();
    await flush();
    expect(sinks.size).toBe(1);
    expect(transport.sent[0]).toEqual({ type: 'ready', sessionId: 's1', clientId: 'c1', instance: 'gw-test' });
    connection.receive(text({ type: 'ping' }), false);
    expect(transport.types()).toEqual(['ready', 'pong']);
  });

  it('sends the ack before the reply frames that came while the message was being accepted', async () => {
    const { connection, transport, deliver, release, submittedIds } = setup();
    connection.start();
    await flush();
    connection.receive(text({ type: 'chat', id: 'q1', content: 'hi' }), false);
    await flush();
    // Not accepted yet: a frame of its reply (the messageId is the one the submit got) waits.
    const messageId = submittedIds[0]!;
    deliver({ type: 'token', messageId, seq: 1, text: 'a' }, at(1, 1));
    expect(transport.types()).toEqual(['ready']);
    release();
    await flush();
    expect(transport.sent[1]).toEqual({ type: 'ack', id: 'q1', messageId });
    deliver({ type: 'token', messageId, seq: 2, text: 'b' }, at(1, 2));
    expect(transport.types()).toEqual(['ready', 'ack', 'token', 'token']);
  });

  it('refuses binary, oversized and malformed frames with an error, keeping the connection', () => {
    const { connection, transport } = setup();
    connection.receive(new ArrayBuffer(4), true);
    connection.receive(new ArrayBuffer(2000), false);
    connection.receive(text({ type: 'nonsense' }), false);
    expect(transport.sent.map((f) => f.code)).toEqual(['bad_request', 'too_large', 'bad_request']);
    expect(transport.closes).toEqual([]);
  });

  it('reports a failed cancel with the messageId', async () => {
    const { connection, transport } = setup();
    connection.receive(text({ type: 'cancel', messageId: 'm9' }), false);
    await flush();
    expect(transport.sent).toEqual([expect.objectContaining({ type: 'error', code: 'not_found', messageId: 'm9' })]);
  });

  it('closes a slow consumer with 4001 and sends nothing more', () => {
    const { connection, transport } = setup();
    transport.full = true;
    connection.receive(text({ type: 'ping' }), false);
    expect(transport.closes).toEqual([[CLOSE_CODES.SLOW_CONSUMER, 'slow consumer: reconnect and resume']]);
    connection.receive(text({ type: 'ping' }), false);
    expect(transport.sent).toHaveLength(1);
  });

  it('ends the connection when its session is deleted', async () => {
    const { connection, transport, sinks } = setup();
    connection.start();
    await flush();
    for (const sink of sinks) sink.sessionEnded?.('deleted');
    expect(transport.sent.at(-1)).toEqual({ type: 'error', code: 'not_found', message: 'the session was deleted' });
    expect(transport.closes).toEqual([[CLOSE_CODES.SESSION_ENDED, 'session deleted']]);
    connection.transportClosed();
    expect(sinks.size).toBe(0);
  });

  it('refuses frames over the rate', () => {
    const { connection, transport } = setup({ framesPerSec: 1 });
    for (let i = 0; i < 3; i++) connection.receive(text({ type: 'ping' }), false);
    expect(transport.types()).toEqual(['pong', 'pong', 'error']);
    expect(transport.sent[2]).toMatchObject({ code: 'rate_limited' });
  });
});
