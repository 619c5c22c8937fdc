// Which tools the simulated model calls for a request, by fixed rules on the last user message, so tests know what to expect.
import { createHash } from 'node:crypto';
import { messageText, type ToolCall, type ToolConversation, type ToolMessage } from './chat-request.js';
import { scanDirectives } from './tool-directives.js';

export type ToolCallRequest = Pick<ToolConversation, 'messages' | 'tools' | 'tool_choice' | 'parallel_tool_calls'>;

interface Wanted {
  name: string;
  arguments: string;
}

const FLIGHT_NUMBER = /\b([A-Z]{2}\d{2,4})\b/g;
const POLICY_QUESTION = /\b(?:polic(?:y|ies)|rebook(?:ing)?|refunds?|baggage|cancell?ations?|compensation)\b/i;
const TONE_QUESTION = /\btone\b|\bdoes (?:this|that|it) sound\b|\bis (?:this|that|it) (?:rude|polite)\b/i;
// A single quote opens after a non-letter and closes before one, so the apostrophe in "don't" is neither.
const QUOTED = /"([^"]+)"|“([^”]+)”|‘([^’]+)’|(?<![\p{L}\p{N}])'(.+?)'(?![\p{L}\p{N}])/u;

/**
 * The calls the model answers with; none means a text reply. Rules apply to the last message
 * when it is the user's: directives, flight numbers, policy and tone questions, in that order.
 * After tool results only `[[tool-loop:…]]` calls again. Ids hash the messages, so a retried
 * request gets the same ones.
 */
export function planToolCalls(request: ToolCallRequest): ToolCall[] {
  const { messages, tools, tool_choice: choice } = request;
  if (!tools || choice === 'none') return [];
  const offered = new Set(tools.map((tool) => tool.function.name));
  const forced = typeof choice === 'object' && choice !== null ? choice.function.name : undefined;
  const last = messages.at(-1);

  let wanted: Wanted[];
  if (last?.role === 'user') {
    wanted = ruleCalls(messageText(last)).filter((call) => offered.has(call.name));
    if (forced !== undefined) {
      wanted = wanted.filter((call) => call.name === forced);
      if (wanted.length === 0) wanted = [{ name: forced, arguments: '{}' }];
    } else if (choice === 'required' && wanted.length === 0) {
      wanted = [{ name: tools[0]?.function.name ?? '', arguments: '{}' }];
    }
  } else if (last?.role === 'tool') {
    wanted = loopCalls(messages).filter(
      (call) => offered.has(call.name) && (forced === undefined || call.name === forced),
    );
  } else {
    return [];
  }
  if (request.parallel_tool_calls === false) wanted = wanted.slice(0, 1);
  if (wanted.length === 0) return [];

  const conversation = JSON.stringify(messages);
  return wanted.map((call, index) => ({
    id: callId(conversation, call.name, index),
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }));
}

function ruleCalls(text: string): Wanted[] {
  const { directives, rest } = scanDirectives(text);
  const wanted: Wanted[] = directives.map(({ name, arguments: args }) => ({ name, arguments: args }));
  const flights = new Set<string>();
  for (const match of rest.matchAll(FLIGHT_NUMBER)) flights.add(match[1] ?? '');
  for (const flight of flights) wanted.push({ name: 'flight_status', arguments: JSON.stringify({ flight }) });
  if (POLICY_QUESTION.test(rest)) {
    wanted.push({ name: 'policy_search', arguments: JSON.stringify({ query: rest.trim() }) });
  }
  if (TONE_QUESTION.test(rest)) {
    const quote = QUOTED.exec(rest);
    const quoted = quote?.slice(1).find((group) => group !== undefined);
    wanted.push({ name: 'tone_check', arguments: JSON.stringify({ text: quoted ?? rest.trim() }) });
  }
  return wanted;
}

/** The `[[tool-loop:…]]` directives of the last user message: called again after every tool result. */
function loopCalls(messages: readonly ToolMessage[]): Wanted[] {
  const user = messages.findLast((message) => message.role === 'user');
  if (user === undefined) return [];
  return scanDirectives(messageText(user))
    .directives.filter((directive) => directive.kind === 'loop')
    .map(({ name, arguments: args }) => ({ name, arguments: args }));
}

/** `call_` and 24 hex digits of sha256 over the conversation, the tool and the call's place in the response. */
function callId(conversation: string, name: string, index: number): string {
  const digest = createHash('sha256').update(conversation).update(`\n${name}\n${index}`).digest('hex');
  return `call_${digest.slice(0, 24)}`;
}
