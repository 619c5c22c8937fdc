// Reads server frames cheaply: token frames, the bulk of the traffic, are recognised on their bytes
// (the worker writes `{"type":"token","messageId":"…","seq":N,"text":…}` and gateways relay it
// untouched), so the text is never decoded; anything else is parsed as JSON.

export interface TokenInfo {
  messageId: string;
  seq: number;
}

export type ServerFrameLike =
  | { type: 'ready' }
  | { type: 'ack'; id?: string; messageId: string }
  | { type: 'token'; messageId: string; seq: number }
  | { type: 'done'; messageId: string; seq: number; cached?: boolean; finishReason?: string; usage?: { completionTokens?: number } }
  | { type: 'reset'; messageId: string; attempt: number }
  | { type: 'error'; code: string; messageId?: string; id?: string; retryAfterMs?: number }
  | { type: 'pong' }
  | { type: 'unknown' };

const TOKEN_HEAD = Buffer.from('{"type":"token","messageId":"');
const SEQ_KEY = Buffer.from('","seq":');
const QUOTE = 0x22;
const ZERO = 0x30;
const NINE = 0x39;

/** The messageId and seq of a token frame in the usual layout, or undefined (then parse it). */
export function scanToken(data: Buffer): TokenInfo | undefined {
  if (data.length < TOKEN_HEAD.length + SEQ_KEY.length + 1) return undefined;
  if (data.compare(TOKEN_HEAD, 0, TOKEN_HEAD.length, 0, TOKEN_HEAD.length) !== 0) return undefined;
  // Ids are [A-Za-z0-9_-], so the first quote ends the messageId.
  const idEnd = data.indexOf(QUOTE, TOKEN_HEAD.length);
  if (idEnd < 0 || data.compare(SEQ_KEY, 0, SEQ_KEY.length, idEnd, idEnd + SEQ_KEY.length) !== 0) return undefined;
  let i = idEnd + SEQ_KEY.length;
  let seq = 0;
  const start = i;
  while (i < data.length) {
    const c = data[i]!;
    if (c < ZERO || c > NINE) break;
    seq = seq * 10 + (c - ZERO);
    i++;
  }
  if (i === start || i - start > 15 || data[i] !== 0x2c /* , */) return undefined;
  return { messageId: data.toString('latin1', TOKEN_HEAD.length, idEnd), seq };
}

/** Any server frame; token frames take the byte path, the rest JSON.parse. */
export function readFrame(data: Buffer): ServerFrameLike {
  const token = scanToken(data);
  if (token !== undefined) return { type: 'token', messageId: token.messageId, seq: token.seq };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    return { type: 'unknown' };
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { type?: unknown }).type !== 'string') {
    return { type: 'unknown' };
  }
  const frame = parsed as { type: string; seq?: unknown; messageId?: unknown };
  switch (frame.type) {
    case 'token':
      if (typeof frame.seq !== 'number' || typeof frame.messageId !== 'string') return { type: 'unknown' };
      return { type: 'token', messageId: frame.messageId, seq: frame.seq };
    case 'ready':
    case 'ack':
    case 'done':
    case 'reset':
    case 'error':
    case 'pong':
      return parsed as ServerFrameLike;
    default:
      return { type: 'unknown' };
  }
}
