#!/usr/bin/env node
// CPU of BullMQ's part of one message, alone: jobs added the way the gateway adds them (its
// retention options, imported from its build; `npm run build` first) to a queue that two Workers
// take from (as two worker processes do, each with its own blocking connection), each job held
// ~0.9 s like a streamed reply, at the 100-user rate. No frames, no scripts of ours, no model.
// Prints the CPU of this process (producer and consumers) and of Redis (INFO's used_cpu_*) per
// job, so the queue's share of a message's cost can be set beside the fleet's per-message figure
// from `npm run bench`.
// Usage: node apps/llm-worker/bench/bullmq-job.mjs [jobs per second] [seconds] [hold ms]
import { spawn } from 'node:child_process';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CHAT_JOB_RETENTION } from '../../gateway/dist/chat/reply-queue.js';

const [rate = 15, seconds = 30, holdMs = 900] = process.argv.slice(2).map(Number);
const port = 19000 + Math.floor(Math.random() * 1000);
const server = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
/** A client once redis-server answers (it is refused while the server starts). */
async function ready() {
  for (let i = 0; ; i++) {
    const client = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (err) {
      client.disconnect();
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
const admin = await ready();
const connections = [];
const connection = () => {
  const c = new Redis({ port, maxRetriesPerRequest: null });
  connections.push(c);
  return c;
};
const redisCpu = async () => {
  const info = await admin.info('cpu');
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
};

const queue = new Queue('bench', { connection: connection() });
let done = 0;
const workers = [1, 2].map(
  () =>
    new Worker('bench', () => new Promise((r) => setTimeout(r, holdMs)), {
      connection: connection(),
      concurrency: 256,
      lockDuration: 30_000,
      stalledInterval: 15_000,
      maxStalledCount: 2,
    }).on('completed', () => done++),
);
await Promise.all(workers.map((w) => w.waitUntilReady()));

async function run(count) {
  const before = { proc: process.cpuUsage(), redis: await redisCpu(), done };
  for (let i = 0; i < count; i++) {
    const at = performance.now();
    await queue.add('chat', { sessionId: `s${i}`, messageId: `m${i}-${Math.random()}`, content: 'x'.repeat(200) }, {
      jobId: `${Date.now()}-${i}-${Math.random()}`,
      ...CHAT_JOB_RETENTION,
    });
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 / rate - (performance.now() - at))));
  }
  while (done - before.done < count) await new Promise((r) => setTimeout(r, 50));
  const proc = process.cpuUsage(before.proc);
  const redis = (await redisCpu()) - before.redis;
  return { procMs: (proc.user + proc.system) / 1000 / count, redisMs: (redis * 1000) / count };
}

await run(Math.min(60, rate * 2)); // warm-up
const r = await run(rate * seconds);
console.log(`${rate * seconds} jobs at ${rate}/s, each held ${holdMs} ms, 2 Workers: ` + `${r.procMs.toFixed(2)} CPU-ms per job in this process (add, take, complete), ${r.redisMs.toFixed(2)} in Redis, ${(r.procMs + r.redisMs).toFixed(2)} together`);
await Promise.all(workers.map((w) => w.close()));
await queue.close();
for (const c of [...connections, admin]) c.disconnect();
server.kill();
