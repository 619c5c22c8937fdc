// The model's turn after its tool calls: a deterministic text reply that quotes each result, so tests can see the results reached it.
import { messageText, type ToolMessage } from './chat-request.js';

const EXCERPT_CHARS = 300;
const CLOSING = 'Let me know if you need anything else.';

/**
 * The reply as tokens (one word each, a leading space on all but the first): a sentence per tool
 * message after the last assistant message, named by the call it answers, then a closing sentence.
 * A result starting with `Error` or `error:` is reported as the tool's failure.
 */
export function toolResultsReply(messages: readonly ToolMessage[]): string[] {
  let start = messages.length;
  while (start > 0 && messages[start - 1]?.role === 'tool') start--;
  const calls = messages[start - 1]?.tool_calls ?? [];
  const sentences: string[] = [];
  for (const message of messages.slice(start)) {
    const name = calls.find((call) => call.id === message.tool_call_id)?.function.name ?? 'unknown';
    const text = collapse(messageText(message));
    if (text.startsWith('Error') || /^error:/i.test(text)) {
      sentences.push(`The ${name} tool failed: ${sentenceEnd(clip(text))}`);
    } else {
      const said = clip(readable(text));
      sentences.push(said === '' ? `${name} returned nothing.` : `${name} returned ${sentenceEnd(said)}`);
    }
  }
  sentences.push(CLOSING);
  return sentences
    .join(' ')
    .split(' ')
    .map((word, i) => (i === 0 ? word : ` ${word}`));
}

/** A JSON result as `field: value, …` with underscores read as spaces; other text as it is. */
function readable(text: string): string {
  if (!/^[[{]/.test(text)) return text;
  try {
    return collapse(describe(JSON.parse(text)));
  } catch {
    return text;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return value.map(describe).join('; ');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, field]) => {
        const said = describe(field);
        return `${key.replaceAll('_', ' ')}: ${field !== null && typeof field === 'object' ? `(${said})` : said}`;
      })
      .join(', ');
  }
  return String(value);
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function clip(text: string): string {
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS).trimEnd()}…` : text;
}

function sentenceEnd(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}
