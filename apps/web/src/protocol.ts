// The wire protocol as the browser sees it (docs/protocol.md). The zod schemas in
// packages/shared/src/protocol are the source of truth; the page carries these plain types and a
// light shape check instead of zod, to stay small. tests/e2e/web-protocol.ts checks at compile time
// that every frame the shared schemas allow fits these types.

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'busy'
  | 'too_large'
  | 'rate_limited'
  | 'quota_exceeded'
  | 'internal'
  | 'upstream_error'
  | 'unavailable';

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface ReadyFrame {
  type: 'ready';
  sessionId: string;
  clientId: string;
  instance: string;
}
export interface AckFrame {
  type: 'ack';
  id?: string | undefined;
  messageId: string;
  scrubbed?: Partial<Record<string, number>> | undefined;
}
export interface TokenFrame {
  type: 'token';
  messageId: string;
  seq: number;
  text: string;
}
export interface DoneFrame {
  type: 'done';
  messageId: string;
  seq: number;
  cached: boolean;
  usage: Usage;
  finishReason: FinishReason;
  coalesced?: boolean | undefined;
}
export interface ResetFrame {
  type: 'reset';
  messageId: string;
  attempt: number;
}
export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
  messageId?: string | undefined;
  id?: string | undefined;
  retryAfterMs?: number | undefined;
}
export interface PongFrame {
  type: 'pong';
}

export type ServerFrame = ReadyFrame | AckFrame | TokenFrame | DoneFrame | ResetFrame | ErrorFrame | PongFrame;
/** Frames of one reply: what a conversation applies. */
export type ReplyFrame = TokenFrame | DoneFrame | ResetFrame | (ErrorFrame & { messageId: string });

export type ClientFrame =
  | { type: 'chat'; id: string; content: string }
  | { type: 'cancel'; messageId: string }
  | { type: 'resume'; messageId: string; afterSeq: number; attempt: number }
  | { type: 'ping' };

export interface SessionInfo {
  sessionId: string;
  token: string;
  expiresAt: string;
}

export interface StoredMessage {
  id: string;
  role: 'system' | 'user' | 'assistant';
  content: string;
  createdAt: string;
  status?: 'cancelled' | 'error' | undefined;
}

export interface SessionView {
  sessionId: string;
  createdAt: string;
  messages: StoredMessage[];
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Parses one socket text frame; undefined for anything that is not a frame this client knows. */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Record<string, unknown>;
  switch (f.type) {
    case 'ready':
      return isString(f.sessionId) && isString(f.clientId) ? (f as unknown as ReadyFrame) : undefined;
    case 'ack':
      return isString(f.messageId) ? (f as unknown as AckFrame) : undefined;
    case 'token':
      return isString(f.messageId) && isCount(f.seq) && isString(f.text) ? (f as unknown as TokenFrame) : undefined;
    case 'done':
      return isString(f.messageId) && isCount(f.seq) && isString(f.finishReason) ? (f as unknown as DoneFrame) : undefined;
    case 'reset':
      return isString(f.messageId) && isCount(f.attempt) ? (f as unknown as ResetFrame) : undefined;
    case 'error':
      return isString(f.code) && isString(f.message) ? (f as unknown as ErrorFrame) : undefined;
    case 'pong':
      return { type: 'pong' };
    default:
      return undefined;
  }
}

/** True for the frames that belong to one reply. */
export function isReplyFrame(frame: ServerFrame): frame is ReplyFrame {
  return frame.type === 'token' || frame.type === 'done' || frame.type === 'reset' || (frame.type === 'error' && frame.messageId !== undefined);
}
