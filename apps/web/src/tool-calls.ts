// What the page says of a reply's tool calls and sources: the parts of the line that sums them up, a
// call's arguments as one short line, and the state a call shows (one that never answered before its
// reply ended shows as failed, not as running forever). Words as message ids, put in the reader's
// language by the view; all of it goes in text nodes.
import type { Source, ToolCall, ToolCallState } from '@chat-fleet/client';
import type { MessageId } from './i18n.js';

/** Longest arguments text shown; the rest is cut with an ellipsis. */
const ARGUMENTS_MAX_CHARS = 240;

/** A counted part of the summary line. */
export interface SummaryPart {
  readonly id: MessageId;
  readonly count: number;
}

/** E.g. "Used 2 tools · 1 source", or "Using 1 tool" while a call runs: the parts, in that order. */
export function toolsSummary(calls: readonly ToolCall[], sources: readonly Source[], live: boolean): SummaryPart[] {
  const parts: SummaryPart[] = [];
  if (calls.length > 0) {
    const running = live && calls.some((c) => c.state === 'running');
    parts.push({ id: running ? 'tools.using' : 'tools.used', count: calls.length });
  }
  if (sources.length > 0) parts.push({ id: 'tools.sources', count: sources.length });
  return parts;
}

/** The arguments as compact JSON (raw text when the model's were not JSON), cut to a line's worth. */
export function argumentsText(args: unknown): string {
  const text = args === undefined ? '' : typeof args === 'string' ? args : JSON.stringify(args);
  return text.length > ARGUMENTS_MAX_CHARS ? `${text.slice(0, ARGUMENTS_MAX_CHARS - 1)}…` : text;
}

export function shownState(call: ToolCall, live: boolean): ToolCallState {
  return call.state === 'running' && !live ? 'failed' : call.state;
}

export function stateLabel(call: ToolCall, live: boolean): MessageId {
  const state = shownState(call, live);
  if (state === 'running') return 'tools.running';
  if (state === 'done') return 'tools.ok';
  return call.state === 'running' ? 'tools.noAnswer' : 'tools.failed';
}
