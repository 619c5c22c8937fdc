// One reply requested over REST or SSE: a ReplyReader that follows only that reply (the same
// gate and ack-first holding as a socket's) until its terminal frame. The messageId is chosen
// before the message is submitted, so no frame of the reply can arrive before the waiter knows it.
import { ChatError, type AckFrame, type ReplyFrame, type SessionFrameReader, type StoredReader } from '@chat-fleet/shared';
import { newId } from './new-id.js';
import type { SessionHub } from '../relay/session-hub.js';
import type { Asked, ChatService, SubmitOrigin } from './chat-service.js';
import { ReplyReader, ackFrame, sessionEndedError, type FrameOut } from './reply-reader.js';

export type TerminalFrame = Extract<ReplyFrame, { type: 'done' | 'error' }>;

export class ReplyWaiter extends ReplyReader {
  readonly finished: Promise<TerminalFrame>;

  /** Frames go to `onFrame` from the ack on (acked()); until then they are held. */
  constructor(
    readonly messageId: string,
    stored: StoredReader,
    onFrame: FrameOut = () => undefined,
  ) {
    let settle: (frame: TerminalFrame) => void = () => undefined;
    let fail: (err: unknown) => void = () => undefined;
    const finished = new Promise<TerminalFrame>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    finished.catch(() => undefined);
    super(
      {
        readerStored: () => stored,
        readerFrame: (frame, raw) => {
          onFrame(frame, raw);
          if (frame.type === 'done' || frame.type === 'error') settle(frame);
        },
        readerFailed: (err) => fail(new ChatError('unavailable', 'could not read the reply from Redis; try again', { retryAfterMs: 1000, cause: err })),
        readerSessionEnded: (reason) => fail(sessionEndedError(reason)),
      },
      // The waiter expects the reply from its start: a late first frame is caught up at once.
      0,
      messageId,
    );
    this.finished = finished;
    this.holdFor(messageId);
  }
}

export interface ReplyRequestDeps {
  service: ChatService;
  hub: SessionHub;
  storedFrames: SessionFrameReader;
}

export type ReplyRequest = Omit<SubmitOrigin, 'messageId'> &
  Asked & {
    timeoutMs: number;
    /** The message was accepted: called before its ack and reply frames go to `out`. */
    accepted?: (ack: AckFrame) => void;
  };

/**
 * Sends a message and follows its reply to the end: `out` gets the ack, then the reply's frames
 * in order. Throws what submit throws before any frame went out, and `unavailable` when no
 * terminal frame comes within `timeoutMs`.
 */
export async function requestReply(deps: ReplyRequestDeps, request: ReplyRequest, out: FrameOut): Promise<{ ack: AckFrame; end: TerminalFrame }> {
  const { timeoutMs, accepted, ...input } = request;
  const messageId = newId();
  const waiter = new ReplyWaiter(messageId, deps.storedFrames(input.sessionId), out);
  await deps.hub.join(input.sessionId, waiter);
  let timer: NodeJS.Timeout | undefined;
  try {
    const { scrubbed } = await deps.service.submit({ ...input, messageId });
    const ack = ackFrame(messageId, scrubbed);
    accepted?.(ack);
    waiter.acked(messageId, ack);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ChatError('unavailable', `no reply within ${timeoutMs} ms`)), timeoutMs);
    });
    return { ack, end: await Promise.race([waiter.finished, timeout]) };
  } finally {
    clearTimeout(timer);
    waiter.close();
    deps.hub.leave(input.sessionId, waiter);
  }
}
