#!/usr/bin/env node
// `npm run trace`: starts a stack whose processes export OpenTelemetry spans to a receiver in
// this process, sends one message (then the same question again, answered from the cache), and
// prints each message's trace as a tree with timings. Needs Node's WebSocket
// (--experimental-websocket on Node 20; the npm script passes it).
import { integerOption, parseOptions, readCliArgs } from './cli-kit.js';
import { ChatClient } from '@chat-fleet/client';
import { DEFAULT_REDIS_URL, ensureRedis } from './redis-server.js';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
import { startStack, type Stack } from './stack.js';

const say = (line: string): void => void process.stdout.write(`${line}\n`);

const USAGE = `npm run trace -- [options]

Starts a stack that exports its spans here, sends one message and then the same one again (a
cache hit), and prints each message's trace as a tree with timings.

  --message TEXT   the message (default "How do tides work?")
  --ttft-ms MS     the simulator's first-token latency (default 150)
  --json           print the traces as JSON instead of trees`;

const args = readCliArgs(
  (argv) => {
    const v = parseOptions(argv, {
      message: { type: 'string' },
      'ttft-ms': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    return {
      message: v.message ?? 'How do tides work?',
      ttftMs: integerOption('ttft-ms', v['ttft-ms'], 0, 600_000) ?? 150,
      json: v.json === true,
      help: v.help === true,
    };
  },
  USAGE,
  (a) => a.help,
);

/** One message through `gatewayUrl` with the SDK (a new session); resolves with its messageId once the reply is done. */
async function sendOne(gatewayUrl: string, content: string): Promise<string> {
  const client = new ChatClient({ gateways: [gatewayUrl], sessionBody: { userId: `trace-${Math.random().toString(36).slice(2, 8)}` }, clientId: 'trace', replyTimeoutMs: 30_000 });
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no socket within 30 s')), 30_000)));
    await Promise.race([client.connect(), late]);
    return (await client.send(content).done()).messageId;
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

/** The finished trace of `messageId`: its gateway root span and everything sharing its trace id. */
async function traceOf(otlp: OtlpReceiver, messageId: string): Promise<ReceivedSpan[]> {
  const spans = await otlp.until(
    (all) => {
      const root = all.find((s) => s.name === 'chat.message' && s.attributes['chat.message_id'] === messageId);
      if (root === undefined) return undefined;
      const trace = all.filter((s) => s.traceId === root.traceId);
      return trace.some((s) => s.name === 'chat.generate') ? trace : undefined;
    },
    10_000,
    `the spans of ${messageId}`,
  );
  // Spans of the same trace may arrive a batch later.
  await new Promise((r) => setTimeout(r, 600));
  const root = spans[0]!;
  return otlp.spans.filter((s) => s.traceId === root.traceId);
}

const SHOWN_ATTRIBUTES = [
  'chat.transport',
  'chat.source',
  'chat.cache_hit',
  'chat.attempt',
  'chat.frames',
  'chat.finish_reason',
  'chat.queue_wait_ms',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'db.query.text',
  'http.response.status_code',
];

/** An indented tree, parents before children, with start offsets and durations in ms. */
export function formatTrace(spans: readonly ReceivedSpan[]): string {
  const byParent = new Map<string | undefined, ReceivedSpan[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) {
    const parent = s.parentSpanId !== undefined && ids.has(s.parentSpanId) ? s.parentSpanId : undefined;
    byParent.set(parent, [...(byParent.get(parent) ?? []), s]);
  }
  for (const list of byParent.values()) list.sort((a, b) => a.startMs - b.startMs);
  const roots = byParent.get(undefined) ?? [];
  const t0 = Math.min(...spans.map((s) => s.startMs));
  const lines = [`trace ${spans[0]?.traceId ?? '?'}: ${spans.length} spans from ${new Set(spans.map((s) => s.service)).size} services`];
  lines.push(`${'start'.padStart(8)} ${'took'.padStart(8)}  service          span`);
  const walk = (s: ReceivedSpan, depth: number): void => {
    const shown = SHOWN_ATTRIBUTES.filter((k) => s.attributes[k] !== undefined).map((k) => `${k.replace(/^(chat|gen_ai\.usage|http\.response|db\.query)\./, '')}=${String(s.attributes[k])}`);
    const events = s.events.map((e) => `${e.name}@${(e.atMs - t0).toFixed(1)}`);
    const status = s.status.code === 2 ? ` ERROR ${s.status.message ?? ''}` : '';
    lines.push(
      `${(s.startMs - t0).toFixed(1).padStart(8)} ${(s.endMs - s.startMs).toFixed(1).padStart(8)}  ${s.service.padEnd(16)} ${'  '.repeat(depth)}${s.name}` +
        `${shown.length > 0 ? `  ${shown.join(' ')}` : ''}${events.length > 0 ? `  [${events.join(', ')}]` : ''}${status}`,
    );
    for (const c of byParent.get(s.spanId) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (typeof WebSocket === 'undefined') throw new Error('run with node --experimental-websocket (npm run trace does)');
  const redis = await ensureRedis(process.env.REDIS_URL ?? DEFAULT_REDIS_URL);
  const otlp = await OtlpReceiver.start();
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      redisUrl: redis.url,
      gateways: 2,
      workers: 2,
      ports: 'auto',
      env: {
        REDIS_PREFIX: `trace-${Math.random().toString(36).slice(2, 8)}`,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      simEnv: { SIM_TTFT_MS: String(args.ttftMs) },
    });
    const [g1, g2] = [stack.gateways[0]!, stack.gateways[1]!];
    // Warm-up messages through both gateways (and so, most likely, both workers), so the traces
    // below show steady-state timings, not first calls (JIT, new connections to the model).
    for (let i = 0; i < 6; i++) {
      const g = i % 2 === 0 ? g1 : g2;
      await Promise.all([sendOne(g.url, `warm-up ${i}a ${Date.now()}`), sendOne(g.url, `warm-up ${i}b ${Date.now()}`)]);
    }
    const content = `${args.message} (${Date.now()})`;
    const first = await sendOne(g1.url, content);
    const second = await sendOne(g2.url, content);
    const traces = [await traceOf(otlp, first), await traceOf(otlp, second)];
    if (args.json) {
      say(JSON.stringify({ traces }, null, 2));
    } else {
      say(`\nmessage ${first} (model):\n${formatTrace(traces[0]!)}`);
      say(`\nthe same question from another session, on the other gateway (${second}, cache):\n${formatTrace(traces[1]!)}`);
    }
  } finally {
    await stack?.stop();
    await otlp.close();
    await redis.server?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
