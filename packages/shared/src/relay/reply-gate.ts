// Ordering of reply frames for one reader (a socket, a coalescing follower). Every frame carries its stream position (attempt, seq);
// the gate sends each reply's frames to its socket at most once, in position order and without
// a gap, whether they come live from pub/sub or stored from the reply's stream (resume):
//
// - a reply this socket sees from its start (seq 1, a reset, or a terminal frame with no tokens)
//   streams live;
// - a reply first seen mid-stream (the socket connected while it was generating) is held: the
//   client usually sends `resume` right after `ready`, and the resume fills the gap from the
//   stream; without one within `graceMs`, the gate catches up from the start by itself;
// - during a stored read, live frames of that reply are held, then merged by position.
import type { ReplyFrame } from '../protocol/server-frames.js';
import { START_POSITION, comparePositions, type FramePosition } from './frame-envelope.js';

/** Reads stored frames of a reply after a position, in order; `onEntry` false stops early. */
export type StoredReader = (messageId: string, after: FramePosition, onEntry: (position: FramePosition, json: string) => boolean) => Promise<void>;

/** Receives each frame once, in order; `raw` is its JSON as the worker wrote it. */
export type GateEmit = (frame: ReplyFrame, raw: string, position: FramePosition) => void;

interface Held {
  frame: ReplyFrame;
  position: FramePosition;
  raw: string;
}

interface Cursor {
  mode: 'live' | 'waiting' | 'loading';
  /** The last position sent to the socket. */
  position: FramePosition;
  held: Held[];
  timer: NodeJS.Timeout | undefined;
  /** Bumped by every new stored read, so a superseded read stops. */
  read: number;
}

export interface ReplyGateOptions {
  graceMs: number;
  /** Replies remembered as finished, so a late duplicate does not start a catch-up. */
  finishedMemory?: number;
  maxHeldPerReply?: number;
}

export class ReplyGate {
  private readonly cursors = new Map<string, Cursor>();
  private readonly finished = new Set<string>();
  private closed = false;

  constructor(
    private readonly emit: GateEmit,
    private readonly stored: StoredReader,
    private readonly options: ReplyGateOptions,
    private readonly onError: (err: unknown, messageId: string) => void = () => undefined,
  ) {}

  /** A frame from pub/sub. */
  live(frame: ReplyFrame, raw: string, position: FramePosition): void {
    if (this.closed) return;
    const messageId = frame.messageId;
    let c = this.cursors.get(messageId);
    if (c === undefined) {
      if (this.finished.has(messageId)) return;
      if (startsAttempt(frame, position)) {
        c = { mode: 'live', position: { attempt: position.attempt, seq: -1 }, held: [], timer: undefined, read: 0 };
        this.cursors.set(messageId, c);
      } else {
        // Mid-stream for this socket: wait for the client's resume, else catch up by ourselves.
        c = { mode: 'waiting', position: START_POSITION, held: [], timer: undefined, read: 0 };
        this.cursors.set(messageId, c);
        const cursor = c;
        c.timer = setTimeout(() => {
          if (this.cursors.get(messageId) === cursor && cursor.mode === 'waiting') void this.load(messageId, cursor, START_POSITION);
        }, this.options.graceMs);
      }
    }
    if (c.mode === 'live') {
      this.send(c, frame, raw, position);
      return;
    }
    if (c.held.length < (this.options.maxHeldPerReply ?? 50_000)) c.held.push({ frame, position, raw });
  }

  /**
   * The client asks for a reply's frames after `after` (and then the live ones). Resolves when
   * the stored frames are sent; frames it already had again, if it asks for them.
   */
  async resume(messageId: string, after: FramePosition): Promise<void> {
    if (this.closed) return;
    this.finished.delete(messageId);
    let c = this.cursors.get(messageId);
    if (c === undefined) {
      c = { mode: 'loading', position: after, held: [], timer: undefined, read: 0 };
      this.cursors.set(messageId, c);
    }
    await this.load(messageId, c, after);
  }

  /**
   * Holds the reply's live frames from now on, until the next resume() merges them with the
   * stored ones: call it before subscribing, so no frame slips in ahead of the stored read.
   */
  hold(messageId: string, after: FramePosition): void {
    const c = this.cursors.get(messageId);
    if (c !== undefined) {
      clearTimeout(c.timer);
      c.timer = undefined;
      c.mode = 'loading';
      return;
    }
    this.finished.delete(messageId);
    this.cursors.set(messageId, { mode: 'loading', position: after, held: [], timer: undefined, read: 0 });
  }

  /** Number of replies this socket is following. */
  get active(): number {
    return this.cursors.size;
  }

  close(): void {
    this.closed = true;
    for (const c of this.cursors.values()) clearTimeout(c.timer);
    this.cursors.clear();
  }

  private async load(messageId: string, c: Cursor, after: FramePosition): Promise<void> {
    clearTimeout(c.timer);
    c.timer = undefined;
    c.mode = 'loading';
    c.position = after;
    const read = ++c.read;
    const current = (): boolean => !this.closed && this.cursors.get(messageId) === c && c.read === read;
    try {
      await this.stored(messageId, after, (position, json) => {
        if (!current()) return false;
        // Stored frames are written by our workers; parsed once here, forwarded as `json`.
        this.send(c, JSON.parse(json) as ReplyFrame, json, position);
        return this.cursors.get(messageId) === c;
      });
    } catch (err) {
      if (current()) {
        this.cursors.delete(messageId);
        this.onError(err, messageId);
      }
      return;
    }
    if (!current()) return;
    // The stored frames are out: merge what arrived live meanwhile, by position.
    c.mode = 'live';
    const held = c.held.splice(0).sort((a, b) => comparePositions(a.position, b.position));
    for (const h of held) {
      if (this.cursors.get(messageId) !== c) break;
      this.send(c, h.frame, h.raw, h.position);
    }
  }

  private send(c: Cursor, frame: ReplyFrame, raw: string, position: FramePosition): void {
    if (comparePositions(position, c.position) <= 0) return;
    const messageId = frame.messageId;
    c.position = position;
    this.emit(frame, raw, position);
    if (frame.type === 'done' || frame.type === 'error') {
      clearTimeout(c.timer);
      this.cursors.delete(messageId);
      this.finished.add(messageId);
      if (this.finished.size > (this.options.finishedMemory ?? 64)) {
        const oldest = this.finished.values().next().value;
        if (oldest !== undefined) this.finished.delete(oldest);
      }
    }
  }
}

/** The first frame of an attempt, so a socket that sees it misses nothing of that attempt. */
function startsAttempt(frame: ReplyFrame, position: FramePosition): boolean {
  if (frame.type === 'reset') return true;
  if (frame.type === 'token') return frame.seq === 1;
  // A terminal frame right after the start (no tokens), or one written from outside.
  return position.seq <= 1 || position.attempt >= 2 ** 31;
}
