// Reading the server's frames without a schema library: a frame is JSON with a known `type`; one of
// a type this client does not know (a newer server's) is ignored, as the protocol asks. The frame
// types themselves are the protocol package's zod types, never copied. Import-free at run time.
import type { ClientFrame, ServerFrame } from '@chat-fleet/protocol';

export type {
  AckFrame,
  ClientFrame,
  DoneFrame,
  ErrorCode,
  ErrorFrame,
  FinishReason,
  ReadyFrame,
  ReplyFrame,
  ResetFrame,
  ServerFrame,
  StoredMessage,
  TokenFrame,
  Usage,
} from '@chat-fleet/protocol';

const KNOWN = new Set(['ready', 'ack', 'token', 'done', 'reset', 'error', 'pong']);

/** A server frame from its text, or undefined for anything that is not one this client knows. */
export function decodeServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !KNOWN.has(type)) return undefined;
  if (type === 'token' && typeof (value as { seq?: unknown }).seq !== 'number') return undefined;
  return value as ServerFrame;
}

export function encodeClientFrame(frame: ClientFrame): string {
  return JSON.stringify(frame);
}

/** True for the frames that belong to one reply (token, reset, done, and an error naming a messageId). */
export function isReplyFrame(frame: ServerFrame): frame is Extract<ServerFrame, { type: 'token' | 'reset' | 'done' | 'error' }> & { messageId: string } {
  return frame.type === 'token' || frame.type === 'reset' || frame.type === 'done' || (frame.type === 'error' && frame.messageId !== undefined);
}
