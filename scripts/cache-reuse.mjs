#!/usr/bin/env node
// Measures what the response cache and coalescing save on a load with repeated questions.
// Starts its own stack (2 gateways, 2 workers, simulator) on a private key prefix, runs USERS
// simulated users who each ask QUESTIONS first questions (a fresh session each, so the context
// is the question alone) drawn from a pool with a Zipf-like popularity, then prints how many
// replies came from the model, the cache and an identical call in flight, and the simulator's
// own count of model calls.
//
//   npm run build && node --experimental-websocket scripts/cache-reuse.mjs [--users 200] [--questions 5] [--pool 40]
import { parseArgs } from 'node:util';
import { ensureRedis, startStack } from '@chat-fleet/stack';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '200' },
    questions: { type: 'string', default: '5' },
    pool: { type: 'string', default: '40' },
    'think-ms': { type: 'string', default: '500' },
  },
});
const USERS = Number(values.users);
const PER_USER = Number(values.questions);
const POOL = Number(values.pool);
const THINK_MS = Number(values['think-ms']);

// Question k is asked with weight 1/(k+1): a few popular questions, a long tail.
const weights = Array.from({ length: POOL }, (_, k) => 1 / (k + 1));
const total = weights.reduce((a, b) => a + b, 0);
function pickQuestion() {
  let r = Math.random() * total;
  for (let k = 0; k < POOL; k++) {
    r -= weights[k];
    if (r <= 0) return k;
  }
  return POOL - 1;
}

const redis = await ensureRedis(process.env.REDIS_URL);
const stack = await startStack({
  redisUrl: redis.url,
  gateways: 2,
  workers: 2,
  ports: 'auto',
  env: { REDIS_PREFIX: `cache-reuse-${Date.now()}`, LOG_LEVEL: 'warn' },
  simEnv: { SIM_TTFT_MS: '150', SIM_TOKENS_PER_SEC: '60', SIM_REPLY_TOKENS: '48' },
});

async function json(url, init) {
  const res = await fetch(url, init);
  return res.json();
}

async function ask(gateway, content) {
  const s = await json(`${gateway.url}/chat/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: `u-${Math.random().toString(36).slice(2)}` }),
  });
  const ws = new WebSocket(gateway.socketUrl(s.sessionId, 'c', s.token));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply in 60 s')), 60_000);
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.type === 'ready') ws.send(JSON.stringify({ type: 'chat', content }));
      if (f.type === 'done' || f.type === 'error') {
        clearTimeout(timer);
        ws.close();
        resolve(f);
      }
    };
    ws.onerror = () => reject(new Error('socket error'));
  });
}

const counts = { messages: 0, model: 0, cache: 0, coalesced: 0, errors: 0 };
const started = performance.now();
try {
  await Promise.all(
    Array.from({ length: USERS }, async (_, u) => {
      await new Promise((r) => setTimeout(r, Math.random() * 2000));
      for (let i = 0; i < PER_USER; i++) {
        const end = await ask(stack.gateways[(u + i) % 2], `Frequently asked question number ${pickQuestion()}: how does it work?`);
        counts.messages++;
        if (end.type === 'error') counts.errors++;
        else if (end.cached) counts.cache++;
        else if (end.coalesced) counts.coalesced++;
        else counts.model++;
        await new Promise((r) => setTimeout(r, THINK_MS * (0.5 + Math.random())));
      }
    }),
  );
  const calls = (await json(`${stack.sim.url}/_sim/requests?limit=100000`)).length;
  const seconds = (performance.now() - started) / 1000;
  const shared = counts.cache + counts.coalesced;
  console.log(JSON.stringify({ users: USERS, perUser: PER_USER, pool: POOL, seconds: Number(seconds.toFixed(1)), ...counts, simulatorModelCalls: calls }));
  console.log(
    `${counts.messages} messages, ${counts.errors} errors: ${counts.model} from the model, ${counts.cache} cache hits, ${counts.coalesced} coalesced.\n` +
      `Hit ratio (cache + coalesced) ${((100 * shared) / counts.messages).toFixed(1)}% ` +
      `(cache alone ${((100 * counts.cache) / counts.messages).toFixed(1)}%); ` +
      `model calls ${calls} for ${counts.messages} messages: ${counts.messages - calls} saved.`,
  );
} finally {
  await stack.stop();
  await redis.server?.stop();
}
