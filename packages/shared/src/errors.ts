// Stable error codes: one table for the wire, REST status codes and retry semantics.

import { ERROR_STATUS, type ErrorCode } from '@chat-fleet/protocol';

export interface ChatErrorOptions {
  retryAfterMs?: number;
  cause?: unknown;
}

/** An error that reaches a client: a stable `code` and a message a person can read. */
export class ChatError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: ChatErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatError';
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Maps anything thrown to a ChatError without leaking internals to the client. */
export function toChatError(err: unknown): ChatError {
  if (err instanceof ChatError) return err;
  return new ChatError('internal', 'internal error', { cause: err });
}
