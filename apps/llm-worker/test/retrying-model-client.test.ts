// RetryingModelClient against the real simulator over HTTP, through the official openai SDK.
// The simulator is not a dependency of this package, so it is imported from its sources.
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { ChatError } from '@chat-fleet/shared';
import { loadSimConfig, startSimServer, type SimServer, type SimSettingsPatch, type LoggedRequest } from '../../llm-sim/src/index.js';
import { createRandom } from '../../llm-sim/src/seeded-random.js';
import { httpFetch } from '../src/http-fetch.js';
import { OpenAIModelClient, UpstreamBrokenError, type ModelClient, type StreamRequest, type StreamResult } from '../src/model-client.js';
import {
  RetryingModelClient,
  abortableSleep,
  isRetryableUpstreamError,
  retryAfterMsOf,
  type RetryInfo,
  type RetryOptions,
} from '../src/retrying-model-client.js';

const REPLY_TOKENS = 12;
let sim: SimServer;
let openai: OpenAI;

async function simConfig(patch: SimSettingsPatch): Promise<void> {
  const res = await fetch(`${sim.url}/_sim/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
  expect(res.status).toBe(200);
}

async function simRequests(): Promise<LoggedRequest[]> {
  const res = await fetch(`${sim.url}/_sim/requests?limit=1000`);
  return (await res.json()) as LoggedRequest[];
}

/** Records what every attempt threw, so a test can tell which error came out. */
class Recording implements ModelClient {
  readonly errors: unknown[] = [];
  constructor(private readonly inner: ModelClient) {}
  async stream(request: StreamRequest, onDelta: (text: string) => void): Promise<StreamResult> {
    try {
      return await this.inner.stream(request, onDelta);
    } catch (err) {
      this.errors.push(err);
      throw err;
    }
  }
}

interface Harness {
  client: RetryingModelClient;
  recording: Recording;
  retries: RetryInfo[];
  sleeps: number[];
}

/** A retrying client over the real SDK and simulator; by default its sleeps only record their delay. */
function harness(options: RetryOptions = {}, inner: ModelClient = new OpenAIModelClient(openai)): Harness {
  const recording = new Recording(inner);
  const retries: RetryInfo[] = [];
  const sleeps: number[] = [];
  const client = new RetryingModelClient(recording, {
    random: () => 0.5,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...options,
    onRetry: (info) => {
      retries.push(info);
      options.onRetry?.(info);
    },
  });
  return { client, recording, retries, sleeps };
}

function request(signal: AbortSignal = new AbortController().signal): StreamRequest {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], maxTokens: 100, signal };
}

async function run(client: ModelClient, req: StreamRequest = request()): Promise<{ result: StreamResult; deltas: string[] }> {
  const deltas: string[] = [];
  const result = await client.stream(req, (t) => deltas.push(t));
  return { result, deltas };
}

/** Runs a call expected to fail; returns what it threw and the deltas it passed on first. */
async function failing(client: ModelClient, req: StreamRequest = request()): Promise<{ err: unknown; deltas: string[]; ms: number }> {
  const deltas: string[] = [];
  const started = performance.now();
  try {
    await client.stream(req, (t) => deltas.push(t));
  } catch (err) {
    return { err, deltas, ms: performance.now() - started };
  }
  throw new Error('expected the call to fail');
}

/** A seed whose failure sequence at rate 0.5 is: fail, then succeed (the sim draws once per request). */
function seedFailingOnceAtHalf(): number {
  for (let seed = 1; ; seed++) {
    const draw = createRandom(seed);
    if (draw() < 0.5 && draw() >= 0.5) return seed;
  }
}

beforeAll(async () => {
  sim = await startSimServer(
    loadSimConfig({ LLM_SIM_PORT: '0', HOST: '127.0.0.1', SIM_TTFT_MS: '0', SIM_TOKENS_PER_SEC: '0', SIM_REPLY_TOKENS: String(REPLY_TOKENS) }),
  );
  // The worker's own fetch (node:http under the SDK), as in production.
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0, fetch: httpFetch });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  const res = await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
  expect(res.status).toBe(200);
});

describe('RetryingModelClient against the simulator', () => {
  it('retries a 503 and then streams the whole reply (seeded failure sequence, no reconfiguration)', async () => {
    await simConfig({ failRate: 0.5, failStatus: 503, seed: seedFailingOnceAtHalf() });
    const h = harness();
    const { result, deltas } = await run(h.client);

    expect(result.finishReason).toBe('stop');
    expect(deltas).toHaveLength(REPLY_TOKENS);
    expect(await simRequests()).toHaveLength(2);
    expect(h.recording.errors).toHaveLength(1);
    expect((h.recording.errors[0] as APIError).status).toBe(503);
    // The simulator sends Retry-After: 1 with a 503, and the client waits that instead of its backoff.
    expect(h.retries).toEqual([{ attempt: 1, delayMs: 1000, source: 'retry-after', kind: 'http_503', error: h.recording.errors[0] }]);
    expect(h.sleeps).toEqual([1000]);
  });

  it('honours Retry-After on a 429 (requested delay), and the retry goes out once the server recovers', async () => {
    await simConfig({ failRate: 1, failStatus: 429 });
    const h = harness({
      sleep: async (ms) => {
        h.sleeps.push(ms);
        await simConfig({ failRate: 0 });
      },
    });
    const { result, deltas } = await run(h.client);

    expect(result.finishReason).toBe('stop');
    expect(deltas).toHaveLength(REPLY_TOKENS);
    const err = h.recording.errors[0];
    expect(err).toBeInstanceOf(APIError);
    expect(retryAfterMsOf(err)).toBe(1000);
    expect(h.sleeps).toEqual([1000]);
    expect(h.sleeps[0]).toBeGreaterThanOrEqual(retryAfterMsOf(err)!);
    expect(h.retries.map((r) => [r.kind, r.source])).toEqual([['http_429', 'retry-after']]);
    expect(await simRequests()).toHaveLength(2);
  });

  it('with the real timer, the retry after a 429 reaches the server no sooner than Retry-After', async () => {
    await simConfig({ failRate: 1, failStatus: 429 });
    const h = harness({
      sleep: async (ms, signal) => {
        await Promise.all([abortableSleep(ms, signal), simConfig({ failRate: 0 })]);
      },
    });
    await run(h.client);

    const [first, second] = await simRequests();
    expect(first && second).toBeTruthy();
    const gapMs = Date.parse(second!.at) - Date.parse(first!.at);
    expect(gapMs).toBeGreaterThanOrEqual(1000);
    expect(gapMs).toBeLessThan(3000);
  });

  it.each([400, 401, 403, 404, 422])('does not retry a %i', async (status) => {
    await simConfig({ failRate: 1, failStatus: status });
    const h = harness();
    const { err } = await failing(h.client);

    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(status);
    expect(isRetryableUpstreamError(err)).toBe(false);
    expect(await simRequests()).toHaveLength(1);
    expect(h.retries).toEqual([]);
  });

  it('gives up after maxAttempts with the last error, backing off with full jitter in between', async () => {
    await simConfig({ failRate: 1, failStatus: 500 }); // no Retry-After on a 500: the backoff decides
    const h = harness({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300, random: () => 0.5 });
    const { err } = await failing(h.client);

    expect(await simRequests()).toHaveLength(4);
    expect(h.recording.errors).toHaveLength(4);
    expect(err).toBe(h.recording.errors[3]);
    expect((err as APIError).status).toBe(500);
    // random() * min(maxDelayMs, baseDelayMs * 2^(n-1)): 0.5 * [100, 200, 300 (capped from 400)]
    expect(h.sleeps).toEqual([50, 100, 150]);
    expect(h.retries.map((r) => [r.attempt, r.kind, r.source])).toEqual([
      [1, 'http_500', 'backoff'],
      [2, 'http_500', 'backoff'],
      [3, 'http_500', 'backoff'],
    ]);
  });

  it('does not retry a body that broke after some tokens, and says the error is retryable for the caller', async () => {
    await simConfig({ failRate: 1, failAfterTokens: 5 });
    const h = harness();
    const { err, deltas } = await failing(h.client);

    expect(err).toBeInstanceOf(UpstreamBrokenError);
    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).code).toBe('upstream_error');
    expect(err).toBe(h.recording.errors[0]);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.length).toBeLessThanOrEqual(5);
    expect(isRetryableUpstreamError(err)).toBe(true);
    expect(await simRequests()).toHaveLength(1);
    expect(h.retries).toEqual([]);
  });

  it('retries a connection that cannot be made, and gives up with APIConnectionError', async () => {
    const port = await closedPort();
    const dead = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0, fetch: httpFetch });
    const h = harness({ maxAttempts: 2 }, new OpenAIModelClient(dead));
    const { err } = await failing(h.client);

    expect(err).toBeInstanceOf(APIConnectionError);
    expect(h.recording.errors).toHaveLength(2);
    expect(h.retries.map((r) => r.kind)).toEqual(['connection']);
  });

  it('rejects promptly when the request is aborted during a backoff wait', async () => {
    await simConfig({ failRate: 1, failStatus: 500 });
    const controller = new AbortController();
    const h = harness({
      baseDelayMs: 10_000,
      maxDelayMs: 10_000,
      random: () => 0.99,
      sleep: abortableSleep,
      onRetry: () => setTimeout(() => controller.abort(), 50),
    });
    const { err, ms } = await failing(h.client, request(controller.signal));

    expect(err).toBeInstanceOf(APIUserAbortError);
    expect(ms).toBeLessThan(1000);
    expect(h.retries.map((r) => r.delayMs)).toEqual([9900]);
    expect(await simRequests()).toHaveLength(1);
  });

  it('does not retry an attempt the caller aborted', async () => {
    await simConfig({ ttftMs: 5000 });
    const controller = new AbortController();
    const h = harness();
    setTimeout(() => controller.abort(), 50);
    const { err, ms } = await failing(h.client, request(controller.signal));

    // The SDK ends an aborted stream quietly; the model client reports it as a plain upstream_error.
    expect(err).toBeInstanceOf(ChatError);
    expect(err).not.toBeInstanceOf(UpstreamBrokenError);
    expect(isRetryableUpstreamError(err)).toBe(false);
    expect(ms).toBeLessThan(1000);
    expect(h.retries).toEqual([]);
    expect(await simRequests()).toHaveLength(1);
  });

  it('gives up at once with the last error when Retry-After is beyond the remaining deadline', async () => {
    await simConfig({ failRate: 1, failStatus: 503 });
    const h = harness({ deadlineMs: 500, sleep: abortableSleep });
    const { err, ms } = await failing(h.client);

    expect((err as APIError).status).toBe(503);
    expect(err).toBe(h.recording.errors[0]);
    expect(ms).toBeLessThan(500);
    expect(h.retries).toEqual([]);
    expect(await simRequests()).toHaveLength(1);
  });

  it('gives up when Retry-After is beyond maxRetryAfterMs, without a deadline', async () => {
    await simConfig({ failRate: 1, failStatus: 429 });
    const h = harness({ maxRetryAfterMs: 999 });
    const { err } = await failing(h.client);

    expect((err as APIError).status).toBe(429);
    expect(h.retries).toEqual([]);
    expect(await simRequests()).toHaveLength(1);
  });

  it('does not start a backoff wait that would end past the deadline', async () => {
    await simConfig({ failRate: 1, failStatus: 500 });
    const h = harness({ deadlineMs: 1000, baseDelayMs: 400, maxDelayMs: 4000, random: () => 0.99, sleep: abortableSleep });
    const { err, ms } = await failing(h.client, request());

    // Waits 396 ms, then 792 ms would pass the deadline: two attempts, one wait.
    expect((err as APIError).status).toBe(500);
    expect(h.retries.map((r) => r.delayMs)).toEqual([396]);
    expect(await simRequests()).toHaveLength(2);
    expect(ms).toBeLessThan(1000);
  });

  it('aborts an attempt still running at the deadline and fails with upstream_error', async () => {
    await simConfig({ ttftMs: 5000 });
    const h = harness({ deadlineMs: 200 });
    const { err, ms } = await failing(h.client);

    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).code).toBe('upstream_error');
    expect((err as ChatError).message).toMatch(/within 200 ms/);
    expect((err as Error).cause).toBeInstanceOf(ChatError); // what the aborted attempt threw
    expect(h.retries).toEqual([]);
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(1500);
    expect(isRetryableUpstreamError(err)).toBe(false);
  });
});

describe('RetryingModelClient with a scripted inner client', () => {
  /** Fails with each scripted error in turn (after passing its deltas on), then answers. */
  function scripted(steps: { deltas?: string[]; error?: Error }[]): ModelClient & { calls: number } {
    const client = {
      calls: 0,
      stream(_req: StreamRequest, onDelta: (text: string) => void): Promise<StreamResult> {
        const step = steps[client.calls++];
        for (const d of step?.deltas ?? []) onDelta(d);
        if (step?.error !== undefined) return Promise.reject(step.error);
        return Promise.resolve({ finishReason: 'stop', natural: true, usage: undefined, toolCalls: [] });
      },
    };
    return client;
  }

  it('retries a body that broke before its first delta', async () => {
    const inner = scripted([{ error: new UpstreamBrokenError('cut off') }, { deltas: ['ok'] }]);
    const h = harness({}, inner);
    const { deltas } = await run(h.client);
    expect(deltas).toEqual(['ok']);
    expect(inner.calls).toBe(2);
    expect(h.retries.map((r) => r.kind)).toEqual(['broken_stream']);
  });

  it('rethrows a retryable error as it is once a delta went out', async () => {
    const e = APIError.generate(503, undefined, 'busy', new Headers());
    const inner = scripted([{ deltas: ['par'], error: e }]);
    const h = harness({}, inner);
    const { err, deltas } = await failing(h.client);
    expect(err).toBe(e);
    expect(deltas).toEqual(['par']);
    expect(inner.calls).toBe(1);
  });

  it('stops after the wait when the signal aborted during a sleep that ignores it', async () => {
    const controller = new AbortController();
    const inner = scripted([{ error: APIError.generate(500, undefined, 'x', new Headers()) }, {}]);
    const h = harness(
      {
        sleep: () => {
          controller.abort();
          return Promise.resolve();
        },
      },
      inner,
    );
    const { err } = await failing(h.client, request(controller.signal));
    expect(err).toBeInstanceOf(APIUserAbortError);
    expect(inner.calls).toBe(1);
  });
});

describe('isRetryableUpstreamError and retryAfterMsOf', () => {
  const api = (status: number, headers: Record<string, string> = {}): APIError => APIError.generate(status, undefined, 'm', new Headers(headers));

  it('classifies statuses, connection failures, aborts and broken bodies', () => {
    for (const s of [408, 409, 429, 500, 502, 503, 504]) expect([s, isRetryableUpstreamError(api(s))]).toEqual([s, true]);
    for (const s of [400, 401, 403, 404, 413, 422]) expect([s, isRetryableUpstreamError(api(s))]).toEqual([s, false]);
    expect(isRetryableUpstreamError(api(503, { 'x-should-retry': 'false' }))).toBe(false);
    expect(isRetryableUpstreamError(api(400, { 'x-should-retry': 'true' }))).toBe(true);
    expect(isRetryableUpstreamError(new APIConnectionError({ message: 'refused' }))).toBe(true);
    expect(isRetryableUpstreamError(new APIUserAbortError())).toBe(false);
    expect(isRetryableUpstreamError(new UpstreamBrokenError('x'))).toBe(true);
    expect(isRetryableUpstreamError(new ChatError('upstream_error', 'x'))).toBe(false);
    expect(isRetryableUpstreamError(new Error('x'))).toBe(false);
  });

  it('reads retry-after-ms first, then Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMsOf(api(429, { 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMsOf(api(429, { 'retry-after': '1.5' }))).toBe(1500);
    const date = retryAfterMsOf(api(503, { 'retry-after': new Date(Date.now() + 5000).toUTCString() }));
    expect(date).toBeGreaterThan(3000);
    expect(date).toBeLessThanOrEqual(5000);
    expect(retryAfterMsOf(api(503, { 'retry-after': new Date(Date.now() - 5000).toUTCString() }))).toBe(0);
    expect(retryAfterMsOf(api(503, { 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMsOf(api(503))).toBeUndefined();
    expect(retryAfterMsOf(new Error('x'))).toBeUndefined();
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
