// How the tests judge a reply: always by the SDK's whole-reply rule (assembleRecorded), over the
// frames one or more readers recorded in order. Whole means: after the last reset every seq 1..n
// once, `done` naming n, no frame dropped as a duplicate or past a gap.
import { assembleRecorded, type DoneFrame, type ErrorFrame, type RecordedReply, type ReplyFrameLike } from '@chat-fleet/client';

/** A frame as a reader recorded it: anything with a `type` (a socket's frame, an SSE event's data). */
export type RecordedFrame = { type: string; messageId?: string };

/** One reply as the frames judged it, with the frame that ended it. */
export type Ended = RecordedReply & { messageId: string } & (
    | { kind: 'done'; done: DoneFrame; code?: undefined }
    | { kind: 'error'; done?: undefined; code: ErrorFrame['code']; message: string; retryAfterMs?: number | undefined }
  );

/** A reply that ended with `done`. */
export type DoneReply = Extract<Ended, { kind: 'done' }>;

const REPLY_TYPES = new Set(['token', 'reset', 'done', 'error']);

function framesOf(frames: Iterable<RecordedFrame>, messageId: string): Array<ReplyFrameLike & { messageId?: string }> {
  const mine: Array<ReplyFrameLike & { messageId?: string }> = [];
  for (const f of frames) if (f.messageId === messageId && REPLY_TYPES.has(f.type)) mine.push(f as ReplyFrameLike & { messageId: string });
  return mine;
}

/** The reply so far (it may not have ended): what a resume would continue after is `seqs.length`. */
export function recorded(frames: Iterable<RecordedFrame>, messageId: string): RecordedReply {
  return assembleRecorded(framesOf(frames, messageId), messageId);
}

/**
 * The reply to `messageId` among recorded frames (one socket's, or several sockets' in the order a
 * reconnecting client read them), once its first `done` or `error` arrived; undefined before.
 */
export function endingOf(frames: Iterable<RecordedFrame>, messageId: string): Ended | undefined {
  const mine = framesOf(frames, messageId);
  const end = mine.find((f) => f.type === 'done' || f.type === 'error');
  if (end === undefined) return undefined;
  const reply = assembleRecorded(mine, messageId);
  if (end.type === 'done') return { ...reply, messageId, kind: 'done', done: end as DoneFrame };
  const error = end as ErrorFrame;
  return { ...reply, messageId, kind: 'error', code: error.code, message: error.message, retryAfterMs: error.retryAfterMs };
}

/** The reply to `messageId` once it ended with `done`; undefined before; throws when it ended in an error. */
export function replyOf(frames: Iterable<RecordedFrame>, messageId: string): DoneReply | undefined {
  const ending = endingOf(frames, messageId);
  if (ending?.kind === 'error') throw new Error(`reply ${messageId} ended in error ${ending.code}: ${ending.message}`);
  return ending;
}

/**
 * Throws unless the reply is whole by the rule (no duplicate, no gap, ended with `done` naming its
 * last seq) and, when `tokens` is given, has exactly that many tokens.
 */
export function expectWhole(reply: RecordedReply & { done?: DoneFrame | undefined; messageId?: string }, tokens?: number): void {
  const what = `reply ${reply.messageId ?? ''}`.trim();
  if (!reply.whole) throw new Error(`${what} is not whole: ${reply.problem} (seqs ${JSON.stringify(reply.seqs)})`);
  if (reply.done !== undefined && reply.done.seq !== reply.seqs.length) throw new Error(`${what}: done names seq ${reply.done.seq} after ${reply.seqs.length} tokens`);
  if (tokens !== undefined && reply.seqs.length !== tokens) throw new Error(`${what}: ${reply.seqs.length} tokens, expected ${tokens}`);
}

/** Throws unless the frames so far hold each seq once, in order, with no gap (a reply still streaming, or cut). */
export function expectNoLoss(reply: RecordedReply): void {
  if (reply.duplicates > 0 || reply.gaps > 0) throw new Error(`${reply.duplicates} duplicate and ${reply.gaps} past-a-gap frames (seqs ${JSON.stringify(reply.seqs)})`);
}
