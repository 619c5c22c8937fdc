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
