// Messages about the session itself on its pub/sub channel, beside the reply frames:
// `!ended deleted`, `!ended expired`. A frame envelope starts with a digit (its position), so
// a leading `!` can never be mistaken for one, and old relays drop these as malformed.

export type SessionEndReason = 'deleted' | 'expired';

export type SessionSignal = { type: 'ended'; reason: SessionEndReason };

const PREFIX = '!';

export function encodeSessionSignal(signal: SessionSignal): string {
  return `${PREFIX}${signal.type} ${signal.reason}`;
}

/** True for a session signal (well formed or not), false for anything else (a frame envelope). */
export function isSessionSignal(message: string): boolean {
  return message.startsWith(PREFIX);
}

/** The signal; undefined when the message is not a signal this version knows. */
export function decodeSessionSignal(message: string): SessionSignal | undefined {
  if (!isSessionSignal(message)) return undefined;
  const [type, reason] = message.slice(PREFIX.length).split(' ');
  if (type === 'ended' && (reason === 'deleted' || reason === 'expired')) return { type, reason };
  return undefined;
}
