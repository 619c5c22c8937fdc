// WebSocket close codes. 4000-4099: reconnect (to any gateway) and resume; 4100-4199: terminal,
// do not reconnect with the same credentials.

export const CLOSE_CODES = {
  /** The gateway is draining (deploy, scale-in): reconnect to another gateway and resume. */
  GOING_AWAY_RECONNECT: 4000,
  /** The socket stopped reading and its send buffer passed the limit: reconnect and resume. */
  SLOW_CONSUMER: 4001,
  /** The gateway lost Redis; reconnect after a short wait. */
  UNAVAILABLE_RECONNECT: 4002,
  /** The session was deleted or expired; open a new session. */
  SESSION_ENDED: 4100,
  /** The token expired or was revoked while the socket was open. */
  UNAUTHORIZED: 4101,
  /** The client broke the protocol beyond repair (e.g. binary frames, oversize frames). */
  PROTOCOL_ERROR: 4102,
  /**
   * The socket kept sending frames well over WS_FRAMES_PER_SEC after being refused. Terminal:
   * a reconnect would only refill its bucket, so a client must slow down before it opens another.
   */
  TOO_MANY_FRAMES: 4103,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/** True when a client should reconnect (and resume) after this close code. */
export function shouldReconnect(code: number): boolean {
  return code === 1001 || code === 1006 || code === 1011 || code === 1012 || code === 1013 || (code >= 4000 && code < 4100);
}
