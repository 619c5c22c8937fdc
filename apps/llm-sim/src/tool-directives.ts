// Test directives in a user message, `[[tool:NAME {json}]]` and `[[tool-loop:NAME {json}]]`, which make the simulator call a tool on demand.

export interface ToolDirective {
  /** `loop`: the same call again after every tool result, so a caller's step limit can be tested. */
  kind: 'once' | 'loop';
  name: string;
  /** The text after the name, verbatim (invalid JSON stays invalid); `{}` when there is none. */
  arguments: string;
}

export interface DirectiveScan {
  directives: ToolDirective[];
  /** The message with every directive cut out, so no other rule sees their text. */
  rest: string;
}

const OPENING = /\[\[(tool|tool-loop):([A-Za-z0-9_-]{1,64})/g;

/**
 * Finds the directives in order. The arguments end at the first `]]` after which they parse as
 * JSON (JSON may hold `]]` itself); when no `]]` gives valid JSON, at the first `]]`.
 */
export function scanDirectives(text: string): DirectiveScan {
  const directives: ToolDirective[] = [];
  let rest = '';
  let kept = 0;
  OPENING.lastIndex = 0;
  for (let match = OPENING.exec(text); match !== null; match = OPENING.exec(text)) {
    const argsStart = match.index + match[0].length;
    const end = argumentsEnd(text, argsStart);
    if (end === -1) break;
    const args = text.slice(argsStart, end).trim();
    const kind = match[1] === 'tool-loop' ? 'loop' : 'once';
    directives.push({ kind, name: match[2] ?? '', arguments: args === '' ? '{}' : args });
    rest += `${text.slice(kept, match.index)} `;
    kept = end + 2;
    OPENING.lastIndex = kept;
  }
  return { directives, rest: directives.length === 0 ? text : rest + text.slice(kept) };
}

/** Where the arguments starting at `from` end (the index of their closing `]]`), or -1 for an unclosed directive. */
function argumentsEnd(text: string, from: number): number {
  const first = text.indexOf(']]', from);
  if (first === -1) return -1;
  const opening = text.slice(from, first).trim();
  if (opening === '' || !/^[[{]/.test(opening)) return first;
  for (let end = first; end !== -1; end = text.indexOf(']]', end + 1)) {
    try {
      JSON.parse(text.slice(from, end));
      return end;
    } catch {
      // Not yet the whole value: try the next `]]`.
    }
  }
  return first;
}
