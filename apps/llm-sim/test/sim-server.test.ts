// Real HTTP against an in-process simulator, through the official openai SDK where a client would use it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import OpenAI, { APIError, APIUserAbortError } from 'openai';
import { loadSimConfig } from '../src/sim-config.js';
import { generateReply } from '../src/reply-generator.js';
import { startSimServer, type SimServer } from '../src/sim-server.js';
import type { SimSettings } from '../src/sim-settings.js';

const REPLY_TOKENS = 24;
let sim: SimServer;
let client: OpenAI;

const settings = { replyTokens: REPLY_TOKENS, seed: 42 };

async function simConfig(patch: Partial<SimSettings>): Promise<SimSettings> {
  const res = await fetch(`${sim.url}/_sim/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as SimSettings;
}

async function streamText(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const deltas: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.Completions.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice?.delta.content) deltas.push(choice.delta.content);
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  return { deltas, finish, usage };
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

describe('chat completions through the openai SDK', () => {
  it('streams exactly replyTokens deltas that join to generateReply, with usage', async () => {
    const messages = [{ role: 'user' as const, content: 'stream me something' }];
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { deltas, finish, usage } = await streamText(stream);
    const expected = generateReply(messages, 'gpt-4o-mini', settings);
    expect(deltas).toEqual(expected);
    expect(deltas.join('')).toBe(expected.join(''));
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBe(REPLY_TOKENS);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + REPLY_TOKENS);
  });

  it('sends no usage chunk unless asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'no usage' }],
      stream: true,
    });
    const { usage, deltas } = await streamText(stream);
    expect(usage).toBeUndefined();
    expect(deltas).toHaveLength(REPLY_TOKENS);
  });

  it('answers the same text without streaming', async () => {
    const messages = [{ role: 'system' as const, content: 'be brief' }, { role: 'user' as const, content: 'same text?' }];
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    const { deltas } = await streamText(stream);
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages, temperature: 0.2 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(completion.choices[0]?.message.content).toBe(deltas.join(''));
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(REPLY_TOKENS);
  });

  it('is deterministic for a prompt and different across prompts', async () => {
    const ask = async (content: string) =>
      (await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] })).choices[0]
        ?.message.content;
    const a1 = await ask('prompt A');
    const a2 = await ask('prompt A');
    const b = await ask('prompt B');
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
  });

  it('cuts the reply at max_tokens or max_completion_tokens with finish_reason length', async () => {
    const messages = [{ role: 'user' as const, content: 'cut me short' }];
    const full = generateReply(messages, 'gpt-4o-mini', settings);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      max_tokens: 5,
      stream_options: { include_usage: true },
    });
    const { deltas, finish, usage } = await streamText(stream);
    expect(deltas).toEqual(full.slice(0, 5));
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(5);

    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_completion_tokens: 3 });
    expect(completion.choices[0]?.message.content).toBe(full.slice(0, 3).join(''));
    expect(completion.choices[0]?.finish_reason).toBe('length');

    const roomy = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 1000 });
    expect(roomy.choices[0]?.finish_reason).toBe('stop');
  });

  it('rejects a bad body with a 400 in OpenAI error shape', async () => {
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] })).rejects.toMatchObject({
      status: 400,
    });
    const res = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', body: '{"model":' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; param: null; code: null; message: string } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
    expect(body.error.message).toMatch(/JSON/);
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      expect(model.object).toBe('model');
      expect(model.owned_by).toBe('llm-sim');
      ids.push(model.id);
    }
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o-mini', 'gpt-4o']));
  });
});

describe('timing', () => {
  it('sends the first content no earlier than ttftMs and paces the rest', async () => {
    await simConfig({ ttftMs: 120, tokensPerSec: 100, replyTokens: 6 });
    const started = performance.now();
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'timing' }],
      stream: true,
    });
    let firstContentAt: number | undefined;
    let sawRole = false;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.role === 'assistant') sawRole = true;
      if (chunk.choices[0]?.delta.content && firstContentAt === undefined) firstContentAt = performance.now();
    }
    const endedAt = performance.now();
    expect(sawRole).toBe(true);
    expect(firstContentAt! - started).toBeGreaterThanOrEqual(120);
    // Five intervals of 10 ms after the first token.
    expect(endedAt - started).toBeGreaterThanOrEqual(170);
  });

  it('delays a non-streamed answer by ttft plus the token time', async () => {
    await simConfig({ ttftMs: 50, tokensPerSec: 100, replyTokens: 10 });
    const started = performance.now();
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'wait' }] });
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });
});

describe('failure injection', () => {
  it('failRate 1 makes the SDK throw an APIError with the configured status', async () => {
    await simConfig({ failRate: 1 });
    const err = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fail' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(500);
    expect((err as APIError).message).toMatch(/simulated upstream failure/);

    const streamErr = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fail' }], stream: true })
      .catch((e: unknown) => e);
    expect(streamErr).toBeInstanceOf(APIError);
  });

  it('adds Retry-After to a 429 or 503', async () => {
    await simConfig({ failRate: 1, failStatus: 429 });
    const res = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({
      error: { message: 'simulated upstream failure', type: 'server_error', param: null, code: null },
    });
  });

  it('failAfterTokens breaks the stream after k tokens and the SDK iterator throws', async () => {
    await simConfig({ failRate: 1, failAfterTokens: 3 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'break' }],
      stream: true,
    });
    const deltas: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
    })().catch((e: unknown) => e);
    // undici's TypeError comes from another realm than jest's, so match on shape, not class.
    expect(err).toMatchObject({ message: expect.stringMatching(/terminated/) });
    expect(deltas).toHaveLength(3);

    // A non-streamed request cannot break mid-way, so it gets the status failure.
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 500 });
  });

  it('replays the same failure sequence after a reset', async () => {
    const run = async () => {
      await simConfig({ failRate: 0.5 });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 16; i++) {
        const res = await fetch(`${sim.url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `r${i}` }] }),
        });
        await res.arrayBuffer();
        outcomes.push(res.ok);
      }
      return outcomes;
    };
    const first = await run();
    await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
    const second = await run();
    expect(second).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });
});

describe('abort', () => {
  it('stops a stream when the client aborts and keeps serving', async () => {
    // 500 ms between tokens: a timer left behind by the aborted stream would still be pending when checked.
    await simConfig({ ttftMs: 0, tokensPerSec: 2, replyTokens: 500 });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'abort me' }], stream: true },
      { signal: controller.signal },
    );
    let received = 0;
    const abortedAt = await (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content && ++received === 1) {
          controller.abort();
          return performance.now();
        }
      }
      return undefined;
    })();
    expect(received).toBe(1);
    expect(abortedAt).toBeDefined();
    while (timers() > timersBefore && performance.now() - abortedAt! < 400) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(timers()).toBeLessThanOrEqual(timersBefore);

    // The SDK ends an iteration quietly on abort; aborting before the response rejects instead.
    const early = new AbortController();
    early.abort();
    await expect(
      client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true },
        { signal: early.signal },
      ),
    ).rejects.toBeInstanceOf(APIUserAbortError);

    await simConfig({ tokensPerSec: 0, replyTokens: REPLY_TOKENS });
    const after = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'still alive?' }],
      stream: true,
    });
    expect((await streamText(after)).deltas).toHaveLength(REPLY_TOKENS);
  });
});

describe('/_sim control routes', () => {
  it('validates, merges and reports the config', async () => {
    const bad = await fetch(`${sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ ttftMs: -1 }) });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/ttftMs/);

    for (const invalid of [{ failRate: 2 }, { tokensPerSec: 'fast' }, { replyTokens: 0 }, { typo: 1 }]) {
      const res = await fetch(`${sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify(invalid) });
      expect(res.status).toBe(400);
    }

    const merged = await simConfig({ ttftMs: 5 });
    expect(merged).toEqual({
      ttftMs: 5,
      tokensPerSec: 0,
      replyTokens: REPLY_TOKENS,
      failRate: 0,
      seed: 42,
      failStatus: 500,
      failAfterTokens: 0,
    });
    await simConfig({ replyTokens: 7 });
    const current = (await (await fetch(`${sim.url}/_sim/config`)).json()) as SimSettings;
    expect(current).toMatchObject({ ttftMs: 5, replyTokens: 7 });
  });

  it('changing the seed changes the reply', async () => {
    const messages = [{ role: 'user' as const, content: 'seeded' }];
    await simConfig({ seed: 7 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(completion.choices[0]?.message.content).toBe(
      generateReply(messages, 'gpt-4o-mini', { replyTokens: REPLY_TOKENS, seed: 7 }).join(''),
    );
  });

  it('logs requests as received, honours limit, and empties on reset', async () => {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one' }] });
    const s = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'two' }],
      stream: true,
    });
    await streamText(s);
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'three' }] });

    type Logged = { at: string; model: string; stream: boolean; messages: { role: string; content: string }[] };
    const all = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as Logged[];
    expect(all.map((r) => r.messages.at(-1)?.content)).toEqual(['one', 'two', 'three']);
    expect(all[1]).toMatchObject({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'two' }],
    });
    expect(new Date(all[0]!.at).toISOString()).toBe(all[0]!.at);

    const lastTwo = (await (await fetch(`${sim.url}/_sim/requests?limit=2`)).json()) as Logged[];
    expect(lastTwo.map((r) => r.messages[0]?.content)).toEqual(['sys', 'three']);

    expect((await fetch(`${sim.url}/_sim/requests?limit=abc`)).status).toBe(400);

    await simConfig({ ttftMs: 9 });
    const reset = (await (await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })).json()) as SimSettings;
    expect(reset.ttftMs).toBe(0);
    expect(await (await fetch(`${sim.url}/_sim/requests`)).json()).toEqual([]);
  });

  it('answers health and 404', async () => {
    expect(await (await fetch(`${sim.url}/health`)).json()).toEqual({ status: 'ok' });
    const res = await fetch(`${sim.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/nope/);
  });
});
