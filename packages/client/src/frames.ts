// Reading the server's frames without a schema library: a frame is JSON with a known `type`; one of
// a type this client does not know (a newer server's) is ignored, as the protocol asks. The frame
// types themselves are the protocol package's zod types, never copied. No run-time import but the
// SDK's own import-free reply-assembler.
import type { ClientFrame, ServerFrame } from '@chat-fleet/protocol';
import { REPLY_EVENT_TYPES } from './reply-assembler.js';

export type {
  AckFrame,
  ClientFrame,
  DoneFrame,
  ErrorCode,
  ErrorFrame,
  FinishReason,
  ReadyFrame,
  RegenerateFrame,
  ReplyFrame,
  ResetFrame,
  ServerFrame,
  Source,
  SourcesFrame,
  StoredMessage,
  StoredToolCall,
  TokenFrame,
  ToolCallFrame,
  ToolResultFrame,
  Usage,
} from '@chat-fleet/protocol';

const KNOWN = new Set(['ready', 'ack', 'token', 'done', 'reset', 'error', 'pong', ...REPLY_EVENT_TYPES]);

/** The frames a reply carries besides its text: they have no `seq` and a resume sends them again. */
export type ReplyEventFrame = Extract<ServerFrame, { type: 'tool_call' | 'tool_result' | 'sources' }>;

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

/** True for the frames that belong to one reply (token, reset, done, its events, and an error naming a messageId). */
export function isReplyFrame(frame: ServerFrame): frame is Extract<ServerFrame, { type: 'token' | 'reset' | 'done' | 'error' | ReplyEventFrame['type'] }> & { messageId: string } {
  return frame.type === 'token' || frame.type === 'reset' || frame.type === 'done' || isReplyEvent(frame) || (frame.type === 'error' && frame.messageId !== undefined);
}

/** True for a reply's tool calls, tool results and sources: not part of its text, nor of the whole-reply rule. */
export function isReplyEvent(frame: ServerFrame): frame is ReplyEventFrame {
  return REPLY_EVENT_TYPES.has(frame.type);
}
