import { describe, expect, it } from '@jest/globals';
import { ReplyGate, type FramePosition, type ReplyFrame } from '../src/index.js';

const token = (seq: number): ReplyFrame => ({ type: 'token', messageId: 'm', seq, text: `t${seq}` });

/** The reply's stream as Redis would hold it: positions and JSON, read after a position. */
function stream(frames: ReplyFrame[]) {
  const entries = frames.map((f, i): [FramePosition, string] => [{ attempt: 1, seq: i + 1 }, JSON.stringify(f)]);
  return (_id: string, after: FramePosition, onEntry: (p: FramePosition, json: string) => boolean): Promise<void> => {
    for (const [p, json] of entries) if (p.seq > after.seq && !onEntry(p, json)) break;
    return Promise.resolve();
  };
}

describe('ReplyGate.poll', () => {
  it('costs nothing for a reader with no reply in flight or none silent, and re-reads a silent one', async () => {
    const frames = [token(1), token(2), token(3)];
    const seen: number[] = [];
    const gate = new ReplyGate((f) => f.type === 'token' && seen.push(f.seq), stream(frames), { graceMs: 1000 });
    expect(gate.poll(0)).toBeUndefined();
    gate.live(frames[0]!, JSON.stringify(frames[0]), { attempt: 1, seq: 1 });
    // Heard just now: not silent for 60 s.
    expect(gate.poll(60_000)).toBeUndefined();
    // Silent for 0 ms: read from the stream, where seq 2 and 3 are that pub/sub did not deliver.
    const found = gate.poll(0);
    expect(found).toBeInstanceOf(Promise);
    await expect(found).resolves.toBe(true);
    expect(seen).toEqual([1, 2, 3]);
    gate.close();
    expect(gate.poll(0)).toBeUndefined();
  });
});

describe('ReplyGate with event frames (tool calls, sources)', () => {
  // Positions count every frame; token seqs count tokens only: t1 @1, call @2, t2 @3, result @4, t3 @5, done @6.
  const call: ReplyFrame = { type: 'tool_call', messageId: 'm', callId: 'c1', name: 'flight_status', arguments: { flight: 'XY123' } };
  const result: ReplyFrame = { type: 'tool_result', messageId: 'm', callId: 'c1', name: 'flight_status', ok: true, summary: 'on time' };
  const done: ReplyFrame = { type: 'done', messageId: 'm', seq: 3, cached: false, usage: { promptTokens: 1, completionTokens: 3 }, finishReason: 'stop' };
  const frames = [token(1), call, token(2), result, token(3), done];
  const label = (f: ReplyFrame): string => (f.type === 'token' ? `t${f.seq}` : f.type);

  it('a resume after token seq 2 sends the events again but no token the client has', async () => {
    const seen: string[] = [];
    const gate = new ReplyGate((f) => seen.push(label(f)), stream(frames), { graceMs: 1000 });
    // The client has t1 and t2 (t2 sits at position 3): read from position 2 on.
    await gate.resume('m', { attempt: 1, seq: 2 });
    expect(seen).toEqual(['tool_result', 't3', 'done']);
  });

  it('a resume from the start sends every frame once, in order', async () => {
    const seen: string[] = [];
    const gate = new ReplyGate((f) => seen.push(label(f)), stream(frames), { graceMs: 1000 });
    await gate.resume('m', { attempt: 1, seq: 0 });
    expect(seen).toEqual(['t1', 'tool_call', 't2', 'tool_result', 't3', 'done']);
  });

  it('an attempt whose first frame is an event streams live from it (position 1), without waiting for a resume', () => {
    const seen: string[] = [];
    const gate = new ReplyGate((f) => seen.push(label(f)), stream([]), { graceMs: 60_000 });
    gate.live(call, JSON.stringify(call), { attempt: 1, seq: 1 });
    gate.live(token(1), JSON.stringify(token(1)), { attempt: 1, seq: 2 });
    expect(seen).toEqual(['tool_call', 't1']);
    gate.close();
  });

  it('a token at position 2 seen first is mid-stream: held until the stored read fills what came before', async () => {
    const seen: string[] = [];
    const stored = [call, token(1), token(2)];
    const gate = new ReplyGate((f) => seen.push(label(f)), stream(stored), { graceMs: 0 });
    gate.live(token(1), JSON.stringify(token(1)), { attempt: 1, seq: 2 });
    expect(seen).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['tool_call', 't1', 't2']);
    gate.close();
  });
});
