#!/usr/bin/env node
// `npm run bench:tools`: what a tool step costs the user through the fleet, over the tool's own
// time. A stack of one gateway, one worker, the simulator (no first-token delay, so the model adds
// only its own parsing) and the example MCP server (its /_calls gives each call's own time); one
// reply at a time asks about a flight, so each reply is: the model calls flight_status, the worker
// runs it, the model answers. Per reply, at the client:
//   call → result     the tool_call frame to the tool_result frame, minus the tool's own time:
//                     the worker's MCP call (the SDK, HTTP) and two frames through Redis and the gateway
//   result → answer   the tool_result frame to the answer's first token: the next model turn
//                     (the request with the results, the simulator's first chunk, one frame)
//   step              the tool_call frame to the answer's first token, minus the tool's own time
import { randomBytes } from 'node:crypto';
import { ChatClient, type Reply } from '@chat-fleet/client';
import { LatencyHistogram } from '@chat-fleet/loadgen';
import { DEFAULT_REDIS_URL, ensureRedis, integerOption, parseOptions, readCliArgs, startStack } from '@chat-fleet/stack';
import WebSocket from 'ws';

const USAGE = `npm run bench:tools -- [--replies N] [--warmup N]

  --replies N   replies measured, one at a time (default 200)
  --warmup N    replies sent first and not counted (default 20)`;

interface ToolStepArgs {
  replies: number;
  warmup: number;
  help: boolean;
}

const args = readCliArgs<ToolStepArgs>(
  (argv) => {
    const o = parseOptions(argv, { replies: { type: 'string' }, warmup: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
    return { replies: integerOption('--replies', o.replies, 1) ?? 200, warmup: integerOption('--warmup', o.warmup, 0) ?? 20, help: o.help === true };
  },
  USAGE,
  (a) => a.help,
);

interface CallRecord {
  idempotencyKey?: string;
  /** The call's own time at the tools server, in ms. */
  ms?: number;
}

const redis = await ensureRedis(process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL);
const stack = await startStack({
  redisUrl: redis.url,
  ports: 'auto',
  gateways: 1,
  workers: 1,
  mcpTools: { testTools: true },
  // One user sends every message: its per-minute limits must not be what is measured.
  env: { REDIS_PREFIX: `bench-tools-${randomBytes(4).toString('hex')}`, LOG_LEVEL: 'warn', RATE_LIMIT_USER_PER_MIN: '1000000', RATE_LIMIT_USER_TOKENS_PER_MIN: '1000000000' },
  simEnv: { SIM_TTFT_MS: '0', SIM_TOKENS_PER_SEC: '0', SIM_REPLY_TOKENS: '24' },
});
const toolsBase = stack.mcpTools!.url.replace(/\/mcp$/, '');

const newClient = (): ChatClient =>
  new ChatClient({ gateways: [stack.gateways[0]!.url], createSocket: (url) => new WebSocket(url, { perMessageDeflate: false }), sessionBody: { userId: 'bench-tools' } });
let client = newClient();
const histograms = { callToResult: new LatencyHistogram(), resultToAnswer: new LatencyHistogram(), step: new LatencyHistogram(), toolOwn: new LatencyHistogram() };

let lastFailure = '';

/** One reply's times at the client (performance.now()), or undefined when it did not go as planned. */
async function measure(reply: Reply): Promise<{ call: number; result: number; answer: number } | undefined> {
  let call = 0;
  let result = 0;
  let answer = 0;
  reply.on('tool_call', () => (call ||= performance.now()));
  reply.on('tool_result', () => (result = performance.now()));
  reply.on('token', () => {
    if (result > 0 && answer === 0) answer = performance.now();
  });
  const done = await reply.finished;
  if (done.status === 'error') lastFailure = `${done.error.code}: ${done.error.message}`;
  return done.status === 'done' && call > 0 && result > 0 && answer > 0 ? { call, result, answer } : undefined;
}

try {
  await client.connect();
  let failed = 0;
  for (let i = 0; i < args.warmup + args.replies; i++) {
    // A fresh session now and then keeps the context (and the simulator's work) from growing.
    if (i % 20 === 0 && i > 0) {
      client.close();
      client = newClient();
      await client.connect();
    }
    const reply = client.send(`Is flight XY${100 + (i % 900)} on time?`);
    const times = await measure(reply);
    if (i < args.warmup) continue;
    if (times === undefined) {
      failed++;
      continue;
    }
    const calls = (await (await fetch(`${toolsBase}/_calls`)).json()) as { calls: CallRecord[] };
    const own = calls.calls.find((c) => c.idempotencyKey?.startsWith(`${reply.messageId}:`));
    const ownMs = own?.ms ?? 0;
    histograms.toolOwn.recordMs(ownMs);
    histograms.callToResult.recordMs(times.result - times.call - ownMs);
    histograms.resultToAnswer.recordMs(times.answer - times.result);
    histograms.step.recordMs(times.answer - times.call - ownMs);
  }
  const row = (name: string, h: LatencyHistogram): string => `| ${name} | ${[50, 95, 99].map((p) => h.percentileMs(p).toFixed(1)).join(' | ')} |`;
  process.stdout.write(
    [
      `tool steps measured: ${args.replies - failed} (${failed} not as planned${lastFailure === '' ? '' : `, the last: ${lastFailure}`}), one at a time; simulator first token 0 ms`,
      '',
      '| ms | p50 | p95 | p99 |',
      '| --- | --- | --- | --- |',
      row('tool call → result, over the tool\'s own time', histograms.callToResult),
      row('result → the answer\'s first token (next model turn)', histograms.resultToAnswer),
      row('whole step, over the tool\'s own time', histograms.step),
      row('the tool\'s own time (its server\'s clock)', histograms.toolOwn),
      '',
    ].join('\n'),
  );
} finally {
  client.close();
  await stack.stop();
  await redis.server?.stop();
}
