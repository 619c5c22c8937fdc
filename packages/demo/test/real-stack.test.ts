// The demo against a real fleet (Redis, the simulator, two gateways, two workers as processes),
// run as `npm run demo` runs it: a child process, its stdout a pipe (plain text).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { ensureRedis, freePort, REPO_ROOT, startStack, type EnsuredRedis, type Stack } from '@chat-fleet/stack';
import { runCli, startCli } from './cli-process.js';

let redis: EnsuredRedis;
let stack: Stack;
let target: string[];

interface Session {
  sessionId: string;
  token: string;
}

interface History {
  messages: Array<{ id: string; role: string; content: string; status?: string }>;
}

async function newSession(): Promise<Session> {
  const res = await fetch(`${stack.gateways[0]!.url}/chat/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: `demo-test-${Math.random().toString(36).slice(2)}` }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Session;
}

async function history(s: Session): Promise<History> {
  const res = await fetch(`${stack.gateways[1]!.url}/chat/session/${s.sessionId}`, { headers: { authorization: `Bearer ${s.token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as History;
}

async function sim(path: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${stack.sim!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  await res.body?.cancel();
}

/** Every assistant message of the history, each printed whole on its own `bot › ` line. */
function expectPrinted(stdout: string, h: History, replies: number): void {
  const assistant = h.messages.filter((m) => m.role === 'assistant');
  expect(assistant).toHaveLength(replies);
  for (const m of assistant) {
    expect(m.status).toBeUndefined();
    expect(m.content.length).toBeGreaterThan(20);
    expect(stdout).toContain(`bot › ${m.content}\n`);
  }
}

beforeAll(async () => {
  redis = await ensureRedis(process.env.REDIS_URL);
  const dir = join(REPO_ROOT, 'test-artifacts', 'logs', `demo-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  stack = await startStack({
    redisUrl: redis.url,
    gateways: 2,
    workers: 2,
    ports: 'auto',
    env: { REDIS_PREFIX: `demo-${Math.random().toString(36).slice(2, 8)}`, LOG_LEVEL: 'info' },
    simEnv: { SIM_TTFT_MS: '30', SIM_TOKENS_PER_SEC: '400', SIM_REPLY_TOKENS: '24' },
    output: { dir },
  });
  target = ['--gateways', stack.gateways.map((g) => g.url).join(','), '--workers', stack.workers.map((w) => w.metricsUrl).join(',')];
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.server?.stop();
}, 60_000);

test('--auto: a scripted conversation, every reply printed whole and equal to the stored history, exit 0', async () => {
  const session = await newSession();
  const run = await runCli(['--auto', ...target, '--session', session.sessionId, '--token', session.token]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^you › Hello, I am /m);
  expect(run.stdout.match(/^first token \d+(\.\d)? ms · 24 tokens · [\d.]+ tokens\/s/gm)).toHaveLength(3);
  expect(run.stdout).toContain('3 of 3 replies whole, each equal to the stored history');
  expectPrinted(run.stdout, await history(session), 3);
}, 30_000);

test('--health: one row per gateway and worker, all ok', async () => {
  const run = await runCli(['--health', ...target]);
  expect(run.code).toBe(0);
  for (const instance of ['gateway-1', 'gateway-2', 'worker-1', 'worker-2']) {
    expect(run.stdout).toMatch(new RegExp(`^${instance} +:\\d+ +ok +up [\\d.]+ ms`, 'm'));
  }
  expect(run.stdout).toContain('2 gateways, 2 workers: all ok');

  // One that does not answer is a "down" row, and the exit status says so.
  const nobody = await freePort();
  const withDead = await runCli(['--health', '--gateways', `${stack.gateways[0]!.url},http://127.0.0.1:${nobody}`, '--workers', stack.workers[0]!.metricsUrl]);
  expect(withDead.code).toBe(1);
  expect(withDead.stdout).toMatch(new RegExp(`^gateway \\? +:${nobody} +down +connection refused$`, 'm'));
  expect(withDead.stdout).toContain('2 gateways, 1 worker: 1 not ok');
}, 30_000);

test('--load 5 --duration 3: live counters, then the load table with every reply whole', async () => {
  const run = await runCli(['--load', '5', '--duration', '3', '--gateways', stack.gateways.map((g) => g.url).join(',')], 40_000);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^elapsed +connected +in flight +messages +failures +msgs\/s$/m);
  expect(run.stdout).toMatch(/^\| 5 users +\| 5 +\| 3 s +\| 100\.00% +\|/m);
  expect(run.stdout).toMatch(/\d+ messages, 0 failed/);
}, 45_000);

test('interactive: a line from stdin is sent and its reply streams, /quit leaves', async () => {
  const session = await newSession();
  const cli = startCli([...target, '--session', session.sessionId, '--token', session.token]);
  await cli.waitFor(/^session \S+ on gateway-\d/m);
  cli.child.stdin.write('What is Redis for?\n');
  await cli.waitFor(/^first token .* tokens\/s/m);
  cli.child.stdin.write('/quit\n');
  expect(await cli.exited()).toBe(0);
  expect(cli.stdout()).toContain('you › What is Redis for?\n');
  expectPrinted(cli.stdout(), await history(session), 1);
}, 30_000);

test('interactive: a question the model answers with tools prints each call, its answer and the sources before the reply', async () => {
  const session = await newSession();
  const cli = startCli([...target, '--session', session.sessionId, '--token', session.token]);
  await cli.waitFor(/^session \S+ on gateway-\d/m);
  cli.child.stdin.write('Is flight XY123 on time, and what is the rebooking policy?\n');
  await cli.waitFor(/^first token .* tokens\/s/m);
  cli.child.stdin.write('/quit\n');
  expect(await cli.exited()).toBe(0);
  const out = cli.stdout();
  const [reply] = (await history(session)).messages.filter((m) => m.role === 'assistant');
  // The calls in call order, then their answers, the sources, and the reply on its own bot line.
  expect(out).toMatch(/^ {2}→ flight_status \{"flight":"XY123"\}\n {2}→ policy_search \{"query":"[^"\n]+"\}\n/m);
  expect(out).toMatch(/^ {2}✓ flight_status: Flight XY123 .+$/m);
  expect(out).toMatch(/^ {2}✓ policy_search: .+$/m);
  expect(out).toMatch(/^ {2}sources: .*Rebooking policy \(https:\/\/example\.com\/policies\/rebooking\)/m);
  expect(out).toContain(`bot › ${reply!.content}\n`);
  expect(out.indexOf('  sources: ')).toBeLessThan(out.indexOf('bot › '));
}, 30_000);

test('interactive: /stop cancels the streaming reply; the gateway restarting mid-reply costs no token of the next one', async () => {
  // Slow replies (48 tokens at 30/s), so /stop and the restart land while they stream.
  await sim('/_sim/config', { ttftMs: 30, tokensPerSec: 30, replyTokens: 48 });
  const session = await newSession();
  const cli = startCli(['--gateways', stack.gateways.map((g) => g.url).join(','), '--session', session.sessionId, '--token', session.token]);
  try {
    await cli.waitFor(/^session \S+ on gateway-1/m);
    cli.child.stdin.write('Tell me a long story.\n');
    await cli.waitFor(/^bot › \S+ \S+ \S+/m);
    cli.child.stdin.write('/stop\n');
    await cli.waitFor(/^stopped after \d+ tokens/m);

    cli.child.stdin.write('Another one, please.\n');
    await cli.waitFor(/you › Another one, please\.\nbot › \S+ \S+ \S+/);
    await stack.gateways[0]!.restart(); // drains: its sockets are told to reconnect (4000)
    await cli.waitFor(/^first token .* resumed after a dropped connection$/m, 20_000);
    cli.child.stdin.write('/quit\n');
    expect(await cli.exited()).toBe(0);
  } finally {
    cli.child.kill();
    await sim('/_sim/reset');
  }
  const out = cli.stdout();
  expect(out).toMatch(/^· connection to gateway-1 lost \(4000\); reconnecting…\n· reconnected to gateway-\d; resumed after seq \d+$/m);
  const h = await history(session);
  const [stopped, whole] = h.messages.filter((m) => m.role === 'assistant');
  expect(stopped!.status).toBe('cancelled');
  expect(out).toContain(`bot › ${stopped!.content}\n`);
  expect(whole!.status).toBeUndefined();
  expect(out).toContain(`bot › ${whole!.content}\n`);
}, 45_000);
