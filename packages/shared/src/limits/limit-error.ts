// Refusals by a limit: `rate_limited` errors that say which limit refused, for a metric label.
import { ChatError } from '../errors.js';

/** Every limit that can refuse a caller; a bounded set, so it may label a metric. */
export const LIMIT_NAMES = ['messages', 'tokens', 'sessions', 'session_sockets', 'address_sockets', 'frames', 'admin'] as const;

export type LimitName = (typeof LIMIT_NAMES)[number];

export class LimitError extends ChatError {
  constructor(
    readonly limit: LimitName,
    message: string,
    retryAfterMs: number,
  ) {
    super('rate_limited', message, { retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)) });
  }
}
