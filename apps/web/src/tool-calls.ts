// What the page says of a reply's tool calls and sources: the line that sums them up, a call's
// arguments as one short line, and the state a call shows (one that never answered before its
// reply ended shows as failed, not as running forever). Text only: the view puts it in text nodes.
import type { Source, ToolCall, ToolCallState } from '@chat-fleet/client';

/** Longest arguments text shown; the rest is cut with an ellipsis. */
const ARGUMENTS_MAX_CHARS = 240;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** E.g. "Used 2 tools · 1 source", or "Using 1 tool" while a call runs. */
export function toolsSummary(calls: readonly ToolCall[], sources: readonly Source[], live: boolean): string {
  const parts: string[] = [];
  if (calls.length > 0) {
    const running = live && calls.some((c) => c.state === 'running');
    parts.push(`${running ? 'Using' : 'Used'} ${plural(calls.length, 'tool')}`);
  }
  if (sources.length > 0) parts.push(plural(sources.length, 'source'));
  return parts.join(' · ');
}

/** The arguments as compact JSON (raw text when the model's were not JSON), cut to a line's worth. */
export function argumentsText(args: unknown): string {
  const text = args === undefined ? '' : typeof args === 'string' ? args : JSON.stringify(args);
  return text.length > ARGUMENTS_MAX_CHARS ? `${text.slice(0, ARGUMENTS_MAX_CHARS - 1)}…` : text;
}

export function shownState(call: ToolCall, live: boolean): ToolCallState {
  return call.state === 'running' && !live ? 'failed' : call.state;
}

export function stateLabel(call: ToolCall, live: boolean): string {
  const state = shownState(call, live);
  if (state === 'running') return 'running';
  if (state === 'done') return 'ok';
  return call.state === 'running' ? 'no answer' : 'failed';
}
