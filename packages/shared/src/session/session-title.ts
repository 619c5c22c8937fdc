// A session's title: what a list of the user's conversations shows. Set from the first message the
// session accepts, or by a rename; both are text the gateway has already scrubbed.
import { ChatError } from '../errors.js';
import { sanitizeText } from '../text/sanitize.js';
import { scrubPii } from '../text/scrub-pii.js';

/** Characters of a title taken from a message, the ellipsis included. */
export const TITLE_FROM_MESSAGE_CHARS = 60;
/** Characters a rename may give a title. */
export const TITLE_MAX_CHARS = 120;

/**
 * The title a (scrubbed) first message gives its session: whitespace collapsed, cut on a word
 * boundary to TITLE_FROM_MESSAGE_CHARS with "…" when longer.
 */
export function titleFromMessage(content: string): string {
  const text = content.replace(/\s+/gu, ' ').trim();
  const chars = [...text];
  if (chars.length <= TITLE_FROM_MESSAGE_CHARS) return text;
  const head = chars.slice(0, TITLE_FROM_MESSAGE_CHARS - 1).join('');
  // A head that ends a word is whole; otherwise cut at its last space if that leaves most of it. A
  // run without spaces (Chinese, Japanese, a long URL) is cut where it is.
  const space = chars[TITLE_FROM_MESSAGE_CHARS - 1] === ' ' ? head.length : head.lastIndexOf(' ');
  return `${(space >= head.length / 2 ? head.slice(0, space) : head).trimEnd()}…`;
}

/**
 * A title a user gave: control characters stripped, whitespace collapsed, trimmed and scrubbed
 * of personal data like a message. Throws `bad_request` unless it has 1 to TITLE_MAX_CHARS characters.
 */
export function titleFromRename(raw: string): string {
  const title = sanitizeText(raw).replace(/\s+/gu, ' ').trim();
  const length = [...title].length;
  if (length === 0 || length > TITLE_MAX_CHARS) throw new ChatError('bad_request', `a title has 1 to ${TITLE_MAX_CHARS} characters; this one has ${length}`);
  return scrubPii(title).text;
}
