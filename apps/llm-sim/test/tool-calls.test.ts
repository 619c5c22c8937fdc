// Tool calling over real HTTP through the official openai SDK: the rules, the streamed shape, the reply after results.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { countTokens } from 'gpt-tokenizer';
import OpenAI from 'openai';
import { loadSimConfig } from '../src/sim-config.js';
import { generateReply } from '../src/reply-generator.js';
import { startSimServer, type SimServer } from '../src/sim-server.js';
import type { SimSettings } from '../src/sim-settings.js';

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;
type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type Tool = OpenAI.Chat.Completions.ChatCompletionTool;

const REPLY_TOKENS = 24;
let sim: SimServer;
let client: OpenAI;

const tool = (name: string, description: string, param: string): Tool => ({
  type: 'function',
  function: {
    name,
    description,
    parameters: { type: 'object', properties: { [param]: { type: 'string' } }, required: [param] },
  },
});
const TOOLS = [
  tool('flight_status', 'Status of a flight', 'flight'),
  tool('policy_search', 'Search the airline policies', 'query'),
  tool('tone_check', 'Judge the tone of a text', 'text'),
];
const CALL_ID = /^call_[0-9a-f]{24}$/;
const BOTH = 'is flight XY123 on time, and what is the rebooking policy?';

async function simConfig(patch: Partial<SimSettings>): Promise<void> {
  const res = await fetch(`${sim.url}/_sim/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  expect(res.status).toBe(200);
}

async function chunksOf(stream: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** The tool-call deltas of a stream, in order. */
function toolDeltas(chunks: readonly Chunk[]) {
  return chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
}

/** Each call's arguments joined from its fragments, by index. */
function joinedArguments(chunks: readonly Chunk[]): string[] {
  const args: string[] = [];
  for (const delta of toolDeltas(chunks)) {
    args[delta.index] = (args[delta.index] ?? '') + (delta.function?.arguments ?? '');
  }
  return args;
}

type Params = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;

async function calls(messages: Message[], extra: Partial<Params> = {}) {
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: TOOLS, ...extra });
  return completion.choices[0]!;
}

function callsOf(choice: OpenAI.Chat.Completions.ChatCompletion.Choice) {
  return (choice.message.tool_calls ?? []).map((call) => {
    if (call.type !== 'function') throw new Error(`unexpected ${call.type} tool call`);
    return { name: call.function.name, arguments: call.function.arguments };
  });
}

beforeAll(async () => {
  const config = loadSimConfig({
    LLM_SIM_PORT: '0',
    SIM_TTFT_MS: '0',
    SIM_TOKENS_PER_SEC: '0',
    SIM_REPLY_TOKENS: String(REPLY_TOKENS),
  });
  sim = await startSimServer(config);
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  const res = await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
  expect(res.status).toBe(200);
});

describe('streamed tool calls', () => {
  it('a flight question gives one flight_status call, its arguments in several fragments', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Is XY123 delayed?' }],
      tools: TOOLS,
      stream: true,
    });
    const chunks = await chunksOf(stream);
    const first = chunks[0]!.choices[0]!;
    expect(first.delta).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          index: 0,
          id: expect.stringMatching(CALL_ID),
          type: 'function',
          function: { name: 'flight_status', arguments: '' },
        },
      ],
    });
    const fragments = toolDeltas(chunks).slice(1);
    expect(fragments.length).toBeGreaterThan(2);
    for (const fragment of fragments) expect(fragment).toEqual({ index: 0, function: { arguments: expect.any(String) } });
    expect(joinedArguments(chunks)).toEqual(['{"flight":"XY123"}']);
    expect(chunks.some((chunk) => chunk.choices[0]?.delta.content)).toBe(false);
    expect(chunks.at(-1)!.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'tool_calls' });
  });

  it('a flight and a policy question give two calls, one after the other, then the finish and the usage', async () => {
    const messages: Message[] = [{ role: 'user', content: BOTH }];
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools: TOOLS,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await chunksOf(stream);
    const deltas = toolDeltas(chunks);
    const indexes = deltas.map((delta) => delta.index);
    expect(indexes).toEqual([...indexes].sort());
    expect(new Set(indexes)).toEqual(new Set([0, 1]));
    for (const index of [0, 1]) {
      const [opening, ...rest] = deltas.filter((delta) => delta.index === index);
      const opens = { id: expect.stringMatching(CALL_ID), type: 'function', function: { arguments: '' } };
      expect(opening).toMatchObject(opens);
      for (const fragment of rest) {
        expect(fragment.id).toBeUndefined();
        expect(fragment.type).toBeUndefined();
        expect(fragment.function?.name).toBeUndefined();
      }
    }
    expect(deltas.filter((delta) => delta.function?.name).map((delta) => delta.function?.name)).toEqual([
      'flight_status',
      'policy_search',
    ]);
    expect(joinedArguments(chunks)).toEqual([
      '{"flight":"XY123"}',
      JSON.stringify({ query: BOTH }),
    ]);
    const finish = chunks.at(-2)!;
    expect(finish.choices).toEqual([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]);
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    const usage = usageChunk.usage!;
    expect(usage.completion_tokens).toBe(deltas.length - 2);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);

    // The tool definitions count in the prompt.
    const plain = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 1 });
    expect(usage.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens + 50);
  });

  it('is assembled by the SDK stream helper into both calls', async () => {
    const runner = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: BOTH }],
      tools: TOOLS,
    });
    const done: string[] = [];
    runner.on('tool_calls.function.arguments.done', (event) => done.push(event.name));
    const completion = await runner.finalChatCompletion();
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content).toBeNull();
    expect(callsOf(choice)).toEqual([
      { name: 'flight_status', arguments: '{"flight":"XY123"}' },
      { name: 'policy_search', arguments: JSON.stringify({ query: BOTH }) },
    ]);
    expect(choice.message.tool_calls?.map((call) => call.id)).toEqual([
      expect.stringMatching(CALL_ID),
      expect.stringMatching(CALL_ID),
    ]);
    expect(done).toEqual(['flight_status', 'policy_search']);
  });

  it('sends the first call after ttftMs and paces its fragments', async () => {
    await simConfig({ ttftMs: 100, tokensPerSec: 100 });
    const started = performance.now();
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'XY123?' }],
      tools: TOOLS,
      stream: true,
    });
    let firstCallAt: number | undefined;
    let count = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.tool_calls) {
        firstCallAt ??= performance.now();
        count++;
      }
    }
    expect(firstCallAt! - started).toBeGreaterThanOrEqual(99);
    // The opening chunk and six fragments, 10 ms apart.
    expect(count).toBe(7);
    expect(performance.now() - started).toBeGreaterThanOrEqual(99 + 6 * 10 - 1);
  });
});

describe('non-streamed tool calls', () => {
  it('answers the calls in the message with finish_reason tool_calls', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: BOTH }],
      tools: TOOLS,
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [
        {
          id: expect.stringMatching(CALL_ID),
          type: 'function',
          function: { name: 'flight_status', arguments: '{"flight":"XY123"}' },
        },
        {
          id: expect.stringMatching(CALL_ID),
          type: 'function',
          function: { name: 'policy_search', arguments: JSON.stringify({ query: BOTH }) },
        },
      ],
    });
    const argumentTokens = countTokens('{"flight":"XY123"}') + countTokens(JSON.stringify({ query: BOTH }));
    expect(completion.usage?.completion_tokens).toBe(argumentTokens);
  });

  it('gives the same ids to a repeated request and others to another conversation', async () => {
    const ids = async (content: string) =>
      (await calls([{ role: 'user', content }])).message.tool_calls?.map((call) => call.id);
    const first = await ids(BOTH);
    expect(await ids(BOTH)).toEqual(first);
    expect(new Set(first).size).toBe(2);
    const other = await ids(`${BOTH} `);
    expect(other?.some((id) => first?.includes(id))).toBe(false);
  });
});

describe('the rules', () => {
  it('one call per distinct flight number, none for a tool not offered', async () => {
    const choice = await calls([{ role: 'user', content: 'Compare AB12, CD3456 and AB12 please' }]);
    expect(callsOf(choice)).toEqual([
      { name: 'flight_status', arguments: '{"flight":"AB12"}' },
      { name: 'flight_status', arguments: '{"flight":"CD3456"}' },
    ]);
    const policyOnly = await calls([{ role: 'user', content: BOTH }], { tools: [TOOLS[1]!] });
    expect(callsOf(policyOnly).map((call) => call.name)).toEqual(['policy_search']);
  });

  it('a tone question checks the quoted text, or the whole message', async () => {
    const quoted = await calls([{ role: 'user', content: `Is this rude: 'I don't care about your baggage'?` }], {
      tools: [TOOLS[2]!],
    });
    expect(callsOf(quoted)).toEqual([
      { name: 'tone_check', arguments: JSON.stringify({ text: "I don't care about your baggage" }) },
    ]);
    const doubled = await calls([{ role: 'user', content: 'Does this sound ok? "We regret the delay."' }]);
    expect(callsOf(doubled)).toEqual([{ name: 'tone_check', arguments: '{"text":"We regret the delay."}' }]);
    const whole = await calls([{ role: 'user', content: '  Check the tone of my last answer ' }]);
    expect(callsOf(whole)).toEqual([{ name: 'tone_check', arguments: '{"text":"Check the tone of my last answer"}' }]);
  });

  it('tool_choice none, no tools, or no rule: the text reply of today', async () => {
    const messages: Message[] = [{ role: 'user', content: BOTH }];
    const expected = generateReply(messages, 'gpt-4o-mini', { replyTokens: REPLY_TOKENS, seed: 42 }).join('');
    const none = await calls(messages, { tool_choice: 'none' });
    expect(none.message.content).toBe(expected);
    expect(none.message.tool_calls).toBeUndefined();
    expect(none.finish_reason).toBe('stop');
    const plain = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(plain.choices[0]?.message.content).toBe(expected);

    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools: TOOLS,
      tool_choice: 'none',
      stream: true,
    });
    const chunks = await chunksOf(stream);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(expected);

    const chat: Message[] = [{ role: 'user', content: 'hello there' }];
    expect((await calls(chat)).message.content).toBe(
      generateReply(chat, 'gpt-4o-mini', { replyTokens: REPLY_TOKENS, seed: 42 }).join(''),
    );
  });

  it('tool_choice required calls the first tool when no rule matches; a named function only that one', async () => {
    const required = await calls([{ role: 'user', content: 'hello there' }], { tool_choice: 'required' });
    expect(callsOf(required)).toEqual([{ name: 'flight_status', arguments: '{}' }]);
    const named = { type: 'function', function: { name: 'policy_search' } } as const;
    const forced = await calls([{ role: 'user', content: BOTH }], { tool_choice: named });
    expect(callsOf(forced)).toEqual([{ name: 'policy_search', arguments: JSON.stringify({ query: BOTH }) }]);
    const empty = await calls([{ role: 'user', content: 'hello there' }], { tool_choice: named });
    expect(callsOf(empty)).toEqual([{ name: 'policy_search', arguments: '{}' }]);
  });

  it('parallel_tool_calls false keeps only the first call', async () => {
    const choice = await calls([{ role: 'user', content: BOTH }], { parallel_tool_calls: false });
    expect(callsOf(choice)).toEqual([{ name: 'flight_status', arguments: '{"flight":"XY123"}' }]);
  });

  it('[[tool:…]] calls the tool with its text verbatim, invalid JSON included, hidden from the other rules', async () => {
    const content = 'Try this [[tool:flight_status {"flight": XY123]] and [[tool:tone_check {"text":"[[nested]]"}]] now';
    const choice = await calls([{ role: 'user', content }]);
    expect(callsOf(choice)).toEqual([
      { name: 'flight_status', arguments: '{"flight": XY123' },
      { name: 'tone_check', arguments: '{"text":"[[nested]]"}' },
    ]);
    const unknown = await calls([{ role: 'user', content: '[[tool:send_email {}]] [[tool:policy_search]]' }]);
    expect(callsOf(unknown)).toEqual([{ name: 'policy_search', arguments: '{}' }]);
  });
});

describe('after tool results', () => {
  async function firstTurn(content: string): Promise<Message[]> {
    const user: Message = { role: 'user', content };
    const choice = await calls([user]);
    const { role, content: text, tool_calls } = choice.message;
    return [user, { role, content: text, tool_calls }];
  }

  it('quotes each result by its tool, reports an error, and ends with stop', async () => {
    const messages = await firstTurn(BOTH);
    const [flight, policy] = (messages[1] as OpenAI.Chat.Completions.ChatCompletionAssistantMessageParam).tool_calls!;
    messages.push(
      { role: 'tool', tool_call_id: flight!.id, content: '{"flight":"XY123","status":"on time","departure_gate":"B12"}' },
      { role: 'tool', tool_call_id: policy!.id, content: 'Error: policy index unavailable' },
    );
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools: TOOLS,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await chunksOf(stream);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(
      'flight_status returned flight: XY123, status: on time, departure gate: B12. ' +
        'The policy_search tool failed: Error: policy index unavailable. ' +
        'Let me know if you need anything else.',
    );
    expect(toolDeltas(chunks)).toEqual([]);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(text.split(' ').length);

    const cut = await calls(messages, { max_tokens: 4 });
    expect(cut.message.content).toBe('flight_status returned flight: XY123,');
    expect(cut.finish_reason).toBe('length');
  });

  it('clips a long result, collapses its whitespace, and reads error: as a failure', async () => {
    const messages = await firstTurn('XY123 and policy');
    const [flight, policy] = (messages[1] as OpenAI.Chat.Completions.ChatCompletionAssistantMessageParam).tool_calls!;
    const long = `Rebooking\n\n  is free ${'within 24 hours '.repeat(40)}`;
    messages.push(
      { role: 'tool', tool_call_id: policy!.id, content: long },
      { role: 'tool', tool_call_id: flight!.id, content: [{ type: 'text', text: 'ERROR: timed out' }] },
    );
    const text = (await calls(messages)).message.content!;
    const excerpt = long.replace(/\s+/g, ' ').trim().slice(0, 300).trimEnd();
    expect(text).toBe(
      `policy_search returned ${excerpt}… ` +
        'The flight_status tool failed: ERROR: timed out. Let me know if you need anything else.',
    );
  });

  it('answers after results even without tools offered', async () => {
    const messages = await firstTurn('XY123?');
    const [flight] = (messages[1] as OpenAI.Chat.Completions.ChatCompletionAssistantMessageParam).tool_calls!;
    messages.push({ role: 'tool', tool_call_id: flight!.id, content: 'landed' });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(completion.choices[0]?.message.content).toBe(
      'flight_status returned landed. Let me know if you need anything else.',
    );
  });

  it('[[tool-loop:…]] calls again after every result while tools are offered', async () => {
    const messages: Message[] = [{ role: 'user', content: 'Loop [[tool-loop:policy_search {"query":"again"}]]' }];
    const ids: string[] = [];
    for (let step = 0; step < 4; step++) {
      const choice = await calls(messages);
      expect(choice.finish_reason).toBe('tool_calls');
      expect(callsOf(choice)).toEqual([{ name: 'policy_search', arguments: '{"query":"again"}' }]);
      const call = choice.message.tool_calls![0]!;
      ids.push(call.id);
      messages.push({ role: 'assistant', content: null, tool_calls: choice.message.tool_calls! });
      messages.push({ role: 'tool', tool_call_id: call.id, content: `result ${step}` });
    }
    expect(new Set(ids).size).toBe(4);
    const stopped = await calls(messages, { tool_choice: 'none' });
    expect(stopped.finish_reason).toBe('stop');
    expect(stopped.message.content).toBe('policy_search returned result 3. Let me know if you need anything else.');
    const withoutTools = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(withoutTools.choices[0]?.message.content).toBe(stopped.message.content);
  });
});

describe('the request log and validation', () => {
  it('records the tools offered, the calls answered and the results received', async () => {
    const first = await calls([{ role: 'user', content: 'XY123?' }], { tool_choice: 'auto' });
    const call = first.message.tool_calls![0]!;
    await calls([
      { role: 'user', content: 'XY123?' },
      { role: 'assistant', content: null, tool_calls: first.message.tool_calls! },
      { role: 'tool', tool_call_id: call.id, content: 'on time' },
    ]);
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'plain' }] });

    const log = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as Record<string, unknown>[];
    expect(log).toHaveLength(3);
    expect(log[0]).toMatchObject({
      tools: ['flight_status', 'policy_search', 'tone_check'],
      toolChoice: 'auto',
      toolCalls: [{ id: call.id, name: 'flight_status', arguments: '{"flight":"XY123"}' }],
    });
    expect(log[0]).not.toHaveProperty('toolResults');
    expect(log[1]).toMatchObject({ toolResults: [{ toolCallId: call.id, contentLength: 7 }] });
    expect(log[1]).not.toHaveProperty('toolCalls');
    expect(Object.keys(log[2]!)).toEqual(['at', 'model', 'stream', 'messages']);
  });

  it('rejects malformed tools, tool messages and tool choices with a readable 400', async () => {
    const post = async (body: object) => {
      const res = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, message: ((await res.json()) as { error: { message: string } }).error.message };
    };
    const user = { role: 'user', content: 'x' };
    const spaced = [{ type: 'function', function: { name: 'has space' } }];
    expect(await post({ model: 'm', messages: [user], tools: spaced })).toEqual({
      status: 400,
      message: expect.stringMatching(/^tools\.0\.function\.name: /),
    });
    expect(await post({ model: 'm', messages: [user], tools: [] })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^tools: /),
    });
    expect(await post({ model: 'm', messages: [user, { role: 'tool', content: 'r' }] })).toEqual({
      status: 400,
      message: 'messages.1.tool_call_id: a tool message needs the tool_call_id it answers',
    });
    const unfinished = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'f' } }],
    };
    expect(await post({ model: 'm', messages: [user, unfinished, user], tools: TOOLS })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^messages\.1\.tool_calls\.0\.function\.arguments: /),
    });
    const nope = { type: 'function', function: { name: 'nope' } };
    expect(await post({ model: 'm', messages: [user], tools: TOOLS, tool_choice: nope })).toEqual({
      status: 400,
      message: 'tool_choice: names function "nope", which is not in tools',
    });
    expect(await post({ model: 'm', messages: [user], tools: TOOLS, tool_choice: 'sometimes' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^tool_choice: /),
    });
  });
});
