// A reply's tool calls and sources, each once: a resumed reply sends its tool_call, tool_result and
// sources frames again, so calls are merged by `callId` and sources by `id`. Every change returns
// a new array (an unchanged one is returned as it was), so a view can skip what did not change.
import type { Source, StoredToolCall, ToolCallFrame, ToolResultFrame } from '@chat-fleet/protocol';

export type ToolCallState = 'running' | 'done' | 'failed';

export interface ToolCall {
  readonly callId: string;
  readonly name: string;
  /** What the model passed: parsed JSON, or its raw text when it was not valid JSON. */
  readonly arguments: unknown;
  /** Set once the tool answered (`false`: it failed, timed out or was refused). */
  readonly ok?: boolean | undefined;
  /** A short account of the answer, for display. */
  readonly summary?: string | undefined;
  readonly state: ToolCallState;
}

export const NO_TOOL_CALLS: readonly ToolCall[] = [];
export const NO_SOURCES: readonly Source[] = [];

/** The calls with this one added, in call order; a call already known is not added again. */
export function withToolCall(calls: readonly ToolCall[], frame: Pick<ToolCallFrame, 'callId' | 'name' | 'arguments'>): readonly ToolCall[] {
  if (calls.some((c) => c.callId === frame.callId)) return calls;
  return [...calls, { callId: frame.callId, name: frame.name, arguments: frame.arguments, state: 'running' }];
}

/**
 * The calls with this answer merged into its call; an answer already applied changes nothing. An
 * answer whose call was not seen (a reader that joined late) is added as a call of its own.
 */
export function withToolResult(calls: readonly ToolCall[], frame: Pick<ToolResultFrame, 'callId' | 'name' | 'ok' | 'summary'>): readonly ToolCall[] {
  const answered = { ok: frame.ok, summary: frame.summary, state: frame.ok ? 'done' : 'failed' } as const;
  const index = calls.findIndex((c) => c.callId === frame.callId);
  if (index < 0) return [...calls, { callId: frame.callId, name: frame.name, arguments: undefined, ...answered }];
  if (calls[index]!.state !== 'running') return calls;
  return calls.map((c, i) => (i === index ? { ...c, ...answered } : c));
}

/** The sources with these merged in by `id`: new ones appended, a known one replaced where it differs. */
export function withSources(sources: readonly Source[], incoming: readonly Source[]): readonly Source[] {
  let out = sources;
  for (const s of incoming) {
    const index = out.findIndex((o) => o.id === s.id);
    if (index < 0) out = [...out, s];
    else if (!sameSource(out[index]!, s)) out = out.map((o, i) => (i === index ? s : o));
  }
  return out;
}

/** Sources in `after` that `before` did not hold as they are now (what a sources frame added or changed). */
export function addedSources(before: readonly Source[], after: readonly Source[]): Source[] {
  return after.filter((s) => !before.includes(s));
}

/** A stored reply's tool calls as a live reply shows them (the history keeps arguments as JSON text). */
export function fromStoredToolCalls(stored: readonly StoredToolCall[]): readonly ToolCall[] {
  return stored.map((t) => ({ callId: t.callId, name: t.name, arguments: parseArguments(t.arguments), ok: t.ok, state: t.ok ? 'done' : 'failed' }));
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function sameSource(a: Source, b: Source): boolean {
  return a.title === b.title && a.url === b.url;
}
