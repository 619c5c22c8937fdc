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

export interface ReplyReaderOptions {
  /** How long a reply first seen mid-stream waits for a `resume` before catching up by itself. */
  graceMs: number;
  /** A reply's stored frames could not be read (after the gate's retries). */
  onReadError: (err: unknown, messageId: string) => void;
  /** The session was deleted or expired (see ReplySink.sessionEnded). */
  onSessionEnded: (reason: SessionEndReason) => void;
  /** Follows only this reply (a REST or SSE request); by default every reply of the session. */
  only?: string;
}

export class ReplyReader implements ReplySink {
  private readonly gate: ReplyGate;
  /** Frames of replies whose ack has not gone out yet. */
  private held: Map<string, Array<[ReplyFrame, string]>> | undefined;

  constructor(
    private readonly out: FrameOut,
    stored: StoredReader,
    private readonly options: ReplyReaderOptions,
  ) {
    this.gate = new ReplyGate((frame, raw) => this.pass(frame, raw), stored, { graceMs: options.graceMs }, options.onReadError);
  }

  deliver(frame: ReplyFrame, raw: string, position: FramePosition): void {
    if (this.options.only === undefined || frame.messageId === this.options.only) this.gate.live(frame, raw, position);
  }

  resync(): void {
    this.gate.resync();
  }

  poll(idleMs: number): Promise<boolean> | undefined {
    return this.gate.poll(idleMs);
  }

  sessionEnded(reason: SessionEndReason): void {
    this.options.onSessionEnded(reason);
  }

  /** A message this reader sent: its reply streams live from the first frame, held until acked() or dropped(). */
  holdFor(messageId: string): void {
    this.gate.expect(messageId);
    (this.held ??= new Map()).set(messageId, []);
  }

  /** Sends the ack, then the reply's frames held meanwhile; later ones go straight on. */
  acked(messageId: string, ack: AckFrame): void {
    const held = this.held?.get(messageId) ?? [];
    this.held?.delete(messageId);
    this.out(ack, JSON.stringify(ack));
    for (const [frame, raw] of held) this.out(frame, raw);
  }

  /** The message was refused: its reply will not come. */
  dropped(messageId: string): void {
    this.held?.delete(messageId);
    this.gate.forget(messageId);
  }

  /** Replays a reply's stored frames after `after`, then its live ones (a client's `resume`). */
  resume(messageId: string, after: FramePosition): Promise<void> {
    return this.gate.resume(messageId, after);
  }

  close(): void {
    this.gate.close();
  }

  private pass(frame: ReplyFrame, raw: string): void {
    const held = this.held?.get(frame.messageId);
    if (held !== undefined) held.push([frame, raw]);
    else this.out(frame, raw);
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
