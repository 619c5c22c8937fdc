// Ordering of reply frames for one reader (a socket, a REST or SSE request, a coalescing
// follower). Every frame carries its stream position (attempt, seq); the gate passes each
// reply's frames on at most once, in position order and without a gap, whether they come live
// from pub/sub or stored from the reply's stream:
//
// - a reply this reader sees from its start (seq 1, a reset, or a terminal frame with no tokens),
//   or one it was told to expect, streams live;
// - a reply first seen mid-stream (the socket connected while it was generating) is held: the
//   client usually sends `resume` right after `ready`, and the resume fills the gap from the
//   stream; without one within `graceMs`, the gate catches up from the start by itself;
// - a live frame that does not follow the last one passed on (pub/sub lost some while the
//   subscriber reconnected) is held and the gap is filled from the stream before it goes out;
//   `resync()` re-reads every reply after a reconnect, for frames lost at the very end;
// - during a stored read, live frames of that reply are held, then merged by position. At most
//   one stored read per reply is in flight: a newer one waits for the older to stop.
import type { ReplyFrame } from '@chat-fleet/protocol';
import { FENCE_POSITION, START_POSITION, comparePositions, type FramePosition } from './frame-envelope.js';

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
  /** The last position passed on. */
  position: FramePosition;
  held: Held[];
  timer: NodeJS.Timeout | undefined;
  /** Bumped by every new stored read, so a superseded read stops. */
  read: number;
  /** The stored read in flight, if any. */
  reading: Promise<void> | undefined;
  /** When a frame last came (live or stored) or a stored read last ended (performance.now()). */
  heardAt: number;
  /** Stored reads that failed in a row. */
  failures: number;
  /**
   * Set by a resume: the client has this attempt's tokens up to this seq. A token's position is
   * its seq plus the event frames before it, so a read from the position `afterSeq` may meet
   * tokens the client has; they are passed over, the events among them are sent again.
   */
  hasTokens: FramePosition | undefined;
}

/** A failed stored read is tried again this many times, after 0.5 s, 1 s, 1.5 s … (7.5 s in all). */
const READ_RETRIES = 5;
const READ_RETRY_MS = 500;

function newCursor(mode: Cursor['mode'], position: FramePosition): Cursor {
  return { mode, position, held: [], timer: undefined, read: 0, reading: undefined, heardAt: performance.now(), failures: 0, hasTokens: undefined };
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
        c = newCursor('live', { attempt: position.attempt, seq: position.seq - 1 });
        this.cursors.set(messageId, c);
      } else {
        // Mid-stream for this socket: wait for the client's resume, else catch up by ourselves.
        c = newCursor('waiting', START_POSITION);
        this.cursors.set(messageId, c);
        const cursor = c;
        c.timer = setTimeout(() => {
          if (this.cursors.get(messageId) === cursor && cursor.mode === 'waiting') void this.load(messageId, cursor, START_POSITION);
        }, this.options.graceMs);
      }
    }
    if (c.mode === 'live') {
      if (comparePositions(position, c.position) <= 0 || follows(position, c.position)) {
        this.send(c, frame, raw, position);
        return;
      }
      // A gap: frames between the last one passed on and this one were lost on the way.
      c.held.push({ frame, position, raw });
      void this.load(messageId, c, c.position);
      return;
    }
    if (c.held.length < (this.options.maxHeldPerReply ?? 50_000)) c.held.push({ frame, position, raw });
  }

  /** A reply this reader knows is starting (it sent the message): it streams live from its first frame. */
  expect(messageId: string): void {
    if (this.closed || this.cursors.has(messageId)) return;
    this.finished.delete(messageId);
    this.cursors.set(messageId, newCursor('live', START_POSITION));
  }

  /** Stops following a reply (one this reader expected that was then refused). */
  forget(messageId: string): void {
    const c = this.cursors.get(messageId);
    if (c === undefined) return;
    clearTimeout(c.timer);
    this.cursors.delete(messageId);
  }

  /**
   * Re-reads, from the stream, every reply followed live that has been silent for `idleMs`:
   * frames can stop reaching a subscriber without a reconnect (a cluster slot that moved to
   * another shard). Resolves true when a read found frames the live path had not delivered.
   */
  poll(idleMs: number): Promise<boolean> | undefined {
    // Called every second for every reader: a reader with nothing silent costs no allocation.
    if (this.closed || this.cursors.size === 0) return undefined;
    const now = performance.now();
    let silent: Array<[string, Cursor]> | undefined;
    for (const entry of this.cursors) {
      const c = entry[1];
      if (c.mode === 'live' && c.reading === undefined && now - c.heardAt >= idleMs) (silent ??= []).push(entry);
    }
    return silent === undefined ? undefined : this.reread(silent, now);
  }

  private async reread(silent: Array<[string, Cursor]>, now: number): Promise<boolean> {
    const found = await Promise.all(
      silent.map(async ([messageId, c]) => {
        const before = c.position;
        c.heardAt = now;
        await this.load(messageId, c, c.position);
        return comparePositions(c.position, before) > 0 || !this.cursors.has(messageId);
      }),
    );
    return found.some(Boolean);
  }

  /**
   * Re-reads every reply this reader follows from its last position: after the subscriber
   * reconnected, frames published meanwhile (a reply's last ones among them) were lost.
   */
  resync(): void {
    if (this.closed) return;
    for (const [messageId, c] of this.cursors) {
      if (c.mode === 'waiting') continue;
      void this.load(messageId, c, c.position);
    }
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
      c = newCursor('loading', after);
      this.cursors.set(messageId, c);
    }
    c.hasTokens = after.seq > 0 ? after : undefined;
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
    this.cursors.set(messageId, newCursor('loading', after));
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
    const previous = c.reading;
    const reading = (async () => {
      // One stored read per reply at a time: the older one stops at its next entry.
      if (previous !== undefined) await previous;
      if (!current()) return;
      try {
        await this.stored(messageId, c.position, (position, json) => {
          if (!current()) return false;
          // Stored frames are written by our workers; parsed once here, forwarded as `json`.
          this.send(c, JSON.parse(json) as ReplyFrame, json, position);
          return this.cursors.get(messageId) === c;
        });
      } catch (err) {
        if (!current()) return;
        // Redis away for a moment (a failover, a reconnect): the reply goes on, so read again
        // shortly, holding its live frames meanwhile; only a read that keeps failing is reported.
        c.failures++;
        if (c.failures <= READ_RETRIES) {
          c.timer = setTimeout(() => {
            if (current()) void this.load(messageId, c, c.position);
          }, READ_RETRY_MS * c.failures);
          return;
        }
        this.cursors.delete(messageId);
        this.onError(err, messageId);
        return;
      }
      c.failures = 0;
      if (!current()) return;
      // The stored frames are out: merge what arrived live meanwhile, by position. A frame that
      // still does not follow was never stored (the stream was trimmed): it goes on after a gap.
      c.mode = 'live';
      const held = c.held.splice(0).sort((a, b) => comparePositions(a.position, b.position));
      for (const h of held) {
        if (this.cursors.get(messageId) !== c) break;
        this.send(c, h.frame, h.raw, h.position);
      }
    })();
    c.reading = reading;
    try {
      await reading;
    } finally {
      if (c.reading === reading) c.reading = undefined;
    }
  }

  private send(c: Cursor, frame: ReplyFrame, raw: string, position: FramePosition): void {
    if (comparePositions(position, c.position) <= 0) return;
    const messageId = frame.messageId;
    c.position = position;
    c.heardAt = performance.now();
    const has = c.hasTokens;
    if (has !== undefined && frame.type === 'token' && position.attempt === has.attempt && frame.seq <= has.seq) return;
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

/** True when `next` comes right after `last` in a reply's stream (nothing lies between them). */
function follows(next: FramePosition, last: FramePosition): boolean {
  if (next.attempt === last.attempt) return next.seq === last.seq + 1;
  // A new attempt begins with its reset (seq 0); the first attempt with seq 1; the fence is seq 0.
  return next.attempt > last.attempt && (next.seq === 0 || (next.attempt === 1 && next.seq === 1 && last.attempt === 0));
}

/** The first frame of an attempt, so a socket that sees it misses nothing of that attempt. */
function startsAttempt(frame: ReplyFrame, position: FramePosition): boolean {
  if (frame.type === 'reset') return true;
  if (frame.type !== 'done' && frame.type !== 'error') return position.seq === 1;
  // A terminal frame right after the start (no tokens), or one written from outside.
  return position.seq <= 1 || position.attempt >= FENCE_POSITION.attempt;
}
