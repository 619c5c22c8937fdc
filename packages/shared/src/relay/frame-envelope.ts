// How reply frames travel between processes. Each frame has a position `attempt-seq` that is
// also its entry id in the reply's Redis Stream: 0 for a `reset`, then 1, 2, … for each frame
// the attempt writes, last + 1 for the terminal frame. A token's position is its seq until the
// attempt writes an event frame (a tool call, a tool result, sources), which takes a position
// but no seq; from then on a token's position is its seq plus the events before it. Pub/sub messages carry the position in front of the frame's JSON
// (`"<attempt>-<seq> <json>"`), so a reader that merges stored and live frames can drop the
// ones it already has without parsing them, and a relay can forward the JSON untouched.

export interface FramePosition {
  attempt: number;
  seq: number;
}

/** Before every real position: "from the start". */
export const START_POSITION: FramePosition = Object.freeze({ attempt: 0, seq: -1 });

/** The position of a terminal frame written by someone other than the reply's worker: after any attempt's. */
export const FENCE_POSITION: FramePosition = Object.freeze({ attempt: 2 ** 31, seq: 0 });

export function formatPosition(p: FramePosition): string {
  return `${p.attempt}-${p.seq}`;
}

/** Parses `attempt-seq`; undefined when malformed. */
export function parsePosition(id: string): FramePosition | undefined {
  const dash = id.indexOf('-');
  if (dash <= 0) return undefined;
  const attempt = Number(id.slice(0, dash));
  const seq = Number(id.slice(dash + 1));
  if (!Number.isSafeInteger(attempt) || !Number.isSafeInteger(seq) || attempt < 0 || seq < 0) return undefined;
  return { attempt, seq };
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function comparePositions(a: FramePosition, b: FramePosition): number {
  return a.attempt !== b.attempt ? a.attempt - b.attempt : a.seq - b.seq;
}

export function encodeEnvelope(position: FramePosition, json: string): string {
  return `${position.attempt}-${position.seq} ${json}`;
}

export interface Envelope {
  position: FramePosition;
  /** The frame's JSON exactly as the worker wrote it. */
  json: string;
}

export function decodeEnvelope(message: string): Envelope | undefined {
  const space = message.indexOf(' ');
  if (space <= 0) return undefined;
  const position = parsePosition(message.slice(0, space));
  return position === undefined ? undefined : { position, json: message.slice(space + 1) };
}
