#!/usr/bin/env node
// CPU of the model's streamed replies in this process, through the openai SDK, with the global
// fetch (undici and web streams) and with the worker's httpFetch (node:http, the Node stream as
// the body), in alternating rounds against the simulator, so the machine's drift falls on both.
// Usage: node apps/llm-worker/bench/model-fetch.mjs [replies per round] [concurrency] [rounds] [tokens/s]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { httpFetch } from '../dist/http-fetch.js';

const [perRound = 400, concurrency = 50, rounds = 6, tokensPerSec = 60] = process.argv.slice(2).map(Number);
const port = 18000 + Math.floor(Math.random() * 1000);
const sim = spawn(process.execPath, [fileURLToPath(new URL('../../llm-sim/dist/main.js', import.meta.url))], {
  env: { ...process.env, LLM_SIM_PORT: String(port), SIM_TTFT_MS: '0', SIM_TOKENS_PER_SEC: String(tokensPerSec), SIM_REPLY_TOKENS: '48', LOG_LEVEL: 'warn' },
  stdio: 'ignore',
});
for (let i = 0; i < 100; i++) {
  if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) break;
  await new Promise((r) => setTimeout(r, 100));
}
const clients = {
  'global fetch': new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-bench', maxRetries: 0 }),
  httpFetch: new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-bench', maxRetries: 0, fetch: httpFetch }),
};
async function one(client, i) {
  const stream = await client.chat.completions.create({ model: 'sim', stream: true, messages: [{ role: 'user', content: `question ${i}` }] });
  let n = 0;
  for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) n++;
  return n;
}
async function round(name) {
  const client = clients[name];
  const cpu = process.cpuUsage();
  let next = 0;
  let chunks = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < perRound) chunks += await one(client, next++);
  }));
  const used = process.cpuUsage(cpu);
  return { name, usPerReply: (used.user + used.system) / perRound, chunks };
}
const results = { 'global fetch': [], httpFetch: [] };
await round('global fetch');
await round('httpFetch'); // warm both
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0 ? ['global fetch', 'httpFetch'] : ['httpFetch', 'global fetch']) results[name].push((await round(name)).usPerReply);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of Object.entries(results)) console.log(`${name.padEnd(12)} median ${(median(xs) / 1000).toFixed(2)} CPU-ms per 48-token reply (rounds: ${xs.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
console.log(`httpFetch / global fetch: ${(median(results.httpFetch) / median(results['global fetch'])).toFixed(2)}`);
sim.kill();
