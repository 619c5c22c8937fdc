// One reader of a session's reply frames as the relay sees it: a socket, an SSE stream or a
// REST request. Every frame passes through a ReplyGate (once each, in position order, gaps
// filled from the reply's stream), and the frames of a reply this reader sent wait for the
// message's ack, which goes out first.
import {
  ChatError,
  ReplyGate,
  type AckFrame,
  type FramePosition,
  type PiiKind,
  type ReplyFrame,
  type StoredReader,
} from '@chat-fleet/shared';
import type { ReplySink } from '../relay/session-hub.js';
import type { SessionEndReason } from '../relay/session-signal.js';

/** Receives a reader's frames in order (an ack, then its reply's frames); `raw` is the frame's JSON. */
export type FrameOut = (frame: AckFrame | ReplyFrame, raw: string) => void;

/**
 * Where a reader's frames go, and what it reports: a connection's own methods, so a reader
 * costs no closures of its own (a gateway holds one per socket).
 */
export interface ReaderOwner {
  /** Reads a reply's stored frames (asked once, when the reader first has a reply to order). */
  readerStored(): StoredReader;
  /** A frame in order (an ack, then its reply's frames); `raw` is the frame's JSON. */
  readerFrame(frame: AckFrame | ReplyFrame, raw: string): void;
  /** A reply's stored frames could not be read (after the gate's retries). */
  readerFailed(err: unknown, messageId: string): void;
  /** The session was deleted or expired (see ReplySink.sessionEnded). */
  readerSessionEnded(reason: SessionEndReason): void;
}

export class ReplyReader implements ReplySink {
  /**
   * Made at the first frame or message it has to order: a socket that stays quiet never
   * pays for one (its maps, its callbacks), and an idle gateway holds thousands of those.
   */
  private gate: ReplyGate | undefined;
  private closed = false;
  /** Frames of replies whose ack has not gone out yet. */
  private held: Map<string, Array<[ReplyFrame, string]>> | undefined;

  constructor(
    private readonly owner: ReaderOwner,
    /** How long a reply first seen mid-stream waits for a `resume` before catching up by itself. */
    private readonly graceMs: number,
    /** Follows only this reply (a REST or SSE request); by default every reply of the session. */
    private readonly only?: string,
  ) {}

  private ordering(): ReplyGate {
    if (this.gate === undefined) {
      const owner = this.owner;
      this.gate = new ReplyGate((frame, raw) => this.pass(frame, raw), owner.readerStored(), { graceMs: this.graceMs }, (err, messageId) =>
        owner.readerFailed(err, messageId),
      );
      if (this.closed) this.gate.close();
    }
    return this.gate;
  }

  deliver(frame: ReplyFrame, raw: string, position: FramePosition): void {
    if (this.closed || (this.only !== undefined && frame.messageId !== this.only)) return;
    this.ordering().live(frame, raw, position);
  }

  resync(): void {
    this.gate?.resync();
  }

  poll(idleMs: number): Promise<boolean> | undefined {
    return this.gate?.poll(idleMs);
  }

  sessionEnded(reason: SessionEndReason): void {
    this.owner.readerSessionEnded(reason);
  }

  /** A message this reader sent: its reply streams live from the first frame, held until acked() or dropped(). */
  holdFor(messageId: string): void {
    this.ordering().expect(messageId);
    (this.held ??= new Map()).set(messageId, []);
  }

  /** Sends the ack, then the reply's frames held meanwhile; later ones go straight on. */
  acked(messageId: string, ack: AckFrame): void {
    const held = this.held?.get(messageId) ?? [];
    this.held?.delete(messageId);
    this.owner.readerFrame(ack, JSON.stringify(ack));
    for (const [frame, raw] of held) this.owner.readerFrame(frame, raw);
  }

  /** The message was refused: its reply will not come. */
  dropped(messageId: string): void {
    this.held?.delete(messageId);
    this.gate?.forget(messageId);
  }

  /** Replays a reply's stored frames after `after`, then its live ones (a client's `resume`). */
  resume(messageId: string, after: FramePosition): Promise<void> {
    return this.ordering().resume(messageId, after);
  }

  close(): void {
    this.closed = true;
    this.gate?.close();
  }

  private pass(frame: ReplyFrame, raw: string): void {
    const held = this.held?.get(frame.messageId);
    if (held !== undefined) held.push([frame, raw]);
    else this.owner.readerFrame(frame, raw);
  }
}

/** The `ack` of an accepted message: `id` echoes the client's, `scrubbed` only when something was. */
export function ackFrame(messageId: string, scrubbed: Partial<Record<PiiKind, number>>, id?: string): AckFrame {
  return {
    type: 'ack',
    ...(id === undefined ? {} : { id }),
    messageId,
    ...(Object.keys(scrubbed).length === 0 ? {} : { scrubbed }),
  };
}

/** What a reader of an ended session is told. */
export function sessionEndedError(reason: SessionEndReason): ChatError {
  return new ChatError('not_found', reason === 'deleted' ? 'the session was deleted' : 'the session expired');
}
