// Per-user limits hold across gateways because their counters live in Redis.
import { describe, expect, it } from '@jest/globals';
import { http, newSession } from '../support/chat-client.js';
import { useTestStack } from '../support/test-stack.js';

interface RestReply {
  cached?: boolean;
  usage?: { promptTokens: number; completionTokens: number };
  error?: { code: string };
}

/** One question on a new session of `userId` over REST, on gateway `i % 2`; waits for the whole reply. */
async function ask(i: number, userId: string, content: string) {
  const gw = stack.gateways[i % 2]!;
  const s = await newSession(gw.url, { userId });
  return http<RestReply>(gw.url, 'POST', '/chat/message', { token: s.token, body: { sessionId: s.sessionId, content } });
}

// 120 tokens a minute: a reply here costs about 40 (24 completion + the prompt).
// Replies of at most 30 tokens: a worker reserves the prompt plus 30 before each model call.
const stack = useTestStack('rate-limits', {
  env: { RATE_LIMIT_USER_TOKENS_PER_MIN: '120' },
  workerEnv: { MAX_REPLY_TOKENS: '30' },
  simEnv: { SIM_TTFT_MS: '5', SIM_TOKENS_PER_SEC: '0' },
});

describe('rate limits shared by every gateway', () => {
  it('lets at most 60 of 70 messages of one user through, split over both gateways', async () => {
    const userId = `burst-${Date.now()}`;
    // All 70 go at once, before any reply charges tokens, so only the message limit applies.
    const sessions = await Promise.all(Array.from({ length: 70 }, (_, i) => newSession(stack.gateways[i % 2]!.url, { userId })));
    const answers = await Promise.all(
      sessions.map((s, i) =>
        http<{ error?: { code: string } }>(stack.gateways[(i + 1) % 2]!.url, 'POST', '/chat/message', {
          token: s.token,
          headers: { accept: 'text/event-stream' },
          body: { sessionId: s.sessionId, content: `q${i}` },
        }),
      ),
    );
    const ok = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    expect(ok.length + limited.length).toBe(70);
    expect(ok.length).toBe(60);
    for (const a of limited) {
      expect(a.json.error?.code).toBe('rate_limited');
      const retryAfter = Number(a.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // A different user is not affected.
    const other = await newSession(stack.gateways[0]!.url, { userId: `${userId}-other` });
    const r = await http(stack.gateways[1]!.url, 'POST', '/chat/message', { token: other.token, headers: { accept: 'text/event-stream' }, body: { sessionId: other.sessionId, content: 'hi' } });
    expect(r.status).toBe(200);
  });

  it('refuses messages once the user spent the token budget, on either gateway', async () => {
    const userId = `tokens-${Date.now()}`;
    let refused: Awaited<ReturnType<typeof ask>> | undefined;
    let accepted = 0;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const r = await ask(i, userId, `question ${i}`);
      if (r.status === 200) accepted++;
      else refused = r;
    }
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(accepted).toBeLessThanOrEqual(4);
    expect(refused?.status).toBe(429);
    expect(refused?.json.error?.code).toBe('rate_limited');
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const metrics = await Promise.all(stack.gateways.map((g) => http(g.url, 'GET', '/metrics')));
    const count = metrics.reduce((n, m) => n + Number(/^chat_rate_limited_total(?:\{[^}]*\})? (\d+)/m.exec(m.text)?.[1] ?? 0), 0);
    expect(count).toBeGreaterThanOrEqual(1);
  });

  // A worker reserves a reply's tokens in the same round trip as its cache lookup, before it knows
  // whether the model will be called; a reply then served from the cache gives them back.
  it('takes no tokens for replies served from the cache, and serves them when a model call would not fit', async () => {
    const question = `what is cached ${Date.now()}?`;
    const first = await ask(0, `primer-${Date.now()}`, question);
    expect(first.status).toBe(200);
    expect(first.json.cached).toBe(false);

    // Six cache hits: each reserved about 46 tokens (the prompt and 30) while it was unknown.
    const userId = `hits-${Date.now()}`;
    for (let i = 0; i < 6; i++) {
      const hit = await ask(i, userId, question);
      expect(hit.status).toBe(200);
      expect(hit.json.cached).toBe(true);
    }
    // Had any been kept, two would leave too little for a model call: it is answered in full.
    const fresh = await ask(1, userId, `something new ${Date.now()}`);
    expect(fresh.status).toBe(200);
    expect(fresh.json.cached).toBe(false);

    // Another user spends the minute's tokens until a model call no longer fits (the worker
    // refuses its reservation; the gateway still admits, since some are left)...
    const spender = `spender-${Date.now()}`;
    let used = 0;
    let refused: Awaited<ReturnType<typeof ask>> | undefined;
    for (let i = 0; i < 6 && refused === undefined; i++) {
      const r = await ask(i, spender, `question ${i} of ${spender}`);
      if (r.status === 200) used += r.json.usage!.promptTokens + r.json.usage!.completionTokens;
      else refused = r;
    }
    expect(refused?.status).toBe(429);
    expect(refused?.json.error?.code).toBe('rate_limited');
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(120);
    // ...and still gets the cached reply, which costs no model tokens.
    const served = await ask(0, spender, question);
    expect(served.status).toBe(200);
    expect(served.json.cached).toBe(true);
  });
});
