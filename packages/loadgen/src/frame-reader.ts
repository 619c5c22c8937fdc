// A decoder for the SDK's socket (ChatClientOptions.decode) for clients that keep no text: token
// frames, the bulk of the traffic, are recognised on their text (the worker writes
// `{"type":"token","messageId":"…","seq":N,"text":…}` and gateways relay it untouched), so the
// token's text is never parsed; anything else goes to the SDK's own decoder. The frames it returns
// are the SDK's, except that a token's `text` is empty: use it only with `keepText: false`.
// bench/decode-frames.ts measures it against the SDK's decoder.
import { decodeServerFrame, type ServerFrame } from '@chat-fleet/client';

export interface TokenInfo {
  messageId: string;
  seq: number;
}

const TOKEN_HEAD = '{"type":"token","messageId":"';
const SEQ_KEY = '","seq":';
const QUOTE = '"';
const ZERO = 0x30;
const NINE = 0x39;
const COMMA = 0x2c;

/** The messageId and seq of a token frame in the usual layout, or undefined (then parse it). */
export function scanToken(text: string): TokenInfo | undefined {
  if (!text.startsWith(TOKEN_HEAD)) return undefined;
  // Ids are [A-Za-z0-9_-], so the first quote ends the messageId.
  const idEnd = text.indexOf(QUOTE, TOKEN_HEAD.length);
  if (idEnd < 0 || !text.startsWith(SEQ_KEY, idEnd)) return undefined;
  let i = idEnd + SEQ_KEY.length;
  const start = i;
  let seq = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) break;
    seq = seq * 10 + (c - ZERO);
    i++;
  }
  if (i === start || i - start > 15 || text.charCodeAt(i) !== COMMA) return undefined;
  return { messageId: text.slice(TOKEN_HEAD.length, idEnd), seq };
}

/** A server frame, token frames without their text; the rest as the SDK decodes them. */
export function decodeWithoutTokenText(text: string): ServerFrame | undefined {
  const token = scanToken(text);
  if (token !== undefined) return { type: 'token', messageId: token.messageId, seq: token.seq, text: '' };
  return decodeServerFrame(text);
}
