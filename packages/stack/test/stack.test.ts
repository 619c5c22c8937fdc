// The launcher's wiring, with stand-in scripts in place of the real apps (those are covered by tests/).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisTopology } from '@chat-fleet/shared';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { freePort } from '../src/free-port.js';
import type { ProcessExit } from '../src/managed-process.js';
import { formatStackBanner } from '../src/stack-banner.js';
import { startStack, type Stack } from '../src/stack.js';
import { alive, FAKE_APP, scriptDir } from './scripts.js';

// Real child processes start slowly on a loaded CI machine.
jest.setTimeout(60_000);

const scripts = scriptDir();
const app = scripts.write('fake-app.mjs', FAKE_APP);
const fakeScripts = { gateway: app, worker: app, sim: app, mcpTools: app };
afterAll(() => scripts.remove());

async function health(url: string): Promise<{ pid: number; env: Record<string, string> }> {
  const res = await fetch(`${url}/health`, { headers: { connection: 'close' } });
  expect(res.status).toBe(200);
  return (await res.json()) as { pid: number; env: Record<string, string> };
}

function pids(stack: Stack): number[] {
  return [stack.sim?.process.pid, stack.mcpTools?.process.pid, ...stack.gateways.map((g) => g.process.pid), ...stack.workers.map((w) => w.process.pid)].filter(
    (p): p is number => p !== undefined,
  );
}

/** The pid from the header line a process log starts with. */
function loggedPid(log: string): number {
  const pid = /pid (\d+) started/.exec(readFileSync(log, 'utf8'))?.[1];
  expect(pid).toBeDefined();
  return Number(pid);
}

describe('startStack', () => {
  it('runs several stacks at once on free ports, each wired to its own Redis prefix', async () => {
    const logs = join(scripts.dir, 'logs');
    const [a, b] = await Promise.all(
      ['a', 'b'].map((name) =>
        startStack({
          redisUrl: 'redis://127.0.0.1:1',
          ports: 'auto',
          env: { REDIS_PREFIX: `test-${name}` },
          workerEnv: { ROLE: 'worker' },
          gatewayEnv: { ROLE: 'gateway' },
          output: { dir: join(logs, name) },
          scripts: fakeScripts,
        }),
      ),
    );
    try {
      const stacks = [a!, b!];
      const ports = stacks.flatMap((s) => [s.sim!.port, s.mcpTools!.port, ...s.gateways.map((g) => g.port), ...s.workers.map((w) => w.metricsPort)]);
      expect(new Set(ports).size).toBe(12);
      for (const [i, s] of stacks.entries()) {
        expect(s.gateways.map((g) => g.instance)).toEqual(['gateway-1', 'gateway-2']);
        expect(s.workers.map((w) => w.instance)).toEqual(['worker-1', 'worker-2']);
        expect(s.authSecret.length).toBeGreaterThanOrEqual(32);
        const prefix = i === 0 ? 'test-a' : 'test-b';
        for (const g of s.gateways) {
          const { env } = await health(g.url);
          expect(env).toMatchObject({ REDIS_PREFIX: prefix, AUTH_SECRET: s.authSecret, ADMIN_API_KEY: s.adminApiKey, PORT: String(g.port), INSTANCE_ID: g.instance });
          expect(env).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:1', ROLE: 'gateway' });
          expect(g.wsUrl).toBe(`ws://127.0.0.1:${g.port}`);
          expect(g.socketUrl('s 1', 'c', 't')).toBe(`ws://127.0.0.1:${g.port}/ws/s%201/c?token=t`);
        }
        for (const w of s.workers) {
          const { env } = await health(w.metricsUrl);
          expect(env).toMatchObject({ REDIS_PREFIX: prefix, METRICS_PORT: String(w.metricsPort), INSTANCE_ID: w.instance, ROLE: 'worker' });
          expect(env).toMatchObject({ LLM_SIM_PORT: String(s.sim!.port), OPENAI_BASE_URL: `${s.sim!.url}/v1` });
          expect(env.OPENAI_API_KEY).toBeUndefined();
          expect(env.MCP_SERVERS).toBe(`tools=http://127.0.0.1:${s.mcpTools!.port}/mcp`);
        }
        expect(s.mcpTools!.url).toBe(`http://127.0.0.1:${s.mcpTools!.port}/mcp`);
        expect((await health(s.mcpTools!.url.replace(/\/mcp$/, ''))).env).toMatchObject({
          MCP_TOOLS_PORT: String(s.mcpTools!.port),
          MCP_TOOLS_TEST: '0',
          INSTANCE_ID: 'mcp-tools',
          REDIS_PREFIX: prefix,
        });
      }
      expect(a!.authSecret).not.toBe(b!.authSecret);
      expect(a!.adminApiKey.length).toBeGreaterThanOrEqual(16);
      expect(a!.adminApiKey).not.toBe(b!.adminApiKey);
      expect(formatStackBanner(a!, { topology: { mode: 'single', url: 'redis://127.0.0.1:1' }, private: false })).toContain(a!.adminApiKey);
      expect(readFileSync(join(logs, 'a', 'gateway-1.log'), 'utf8')).toContain(`listening on ${a!.gateways[0]!.port}`);
      expect(existsSync(join(logs, 'b', 'llm-sim.log'))).toBe(true);
      expect(readFileSync(join(logs, 'b', 'mcp-tools.log'), 'utf8')).toContain(`listening on ${b!.mcpTools!.port}`);
      expect(formatStackBanner(a!, { topology: { mode: 'single', url: 'redis://127.0.0.1:1' }, private: false })).toMatch(
        new RegExp(`mcp tools +http://localhost:${a!.mcpTools!.port}/mcp `),
      );
      expect(formatStackBanner(a!, { topology: { mode: 'single', url: 'redis://127.0.0.1:1' }, private: false })).toMatch(
        new RegExp(`admin console +http://localhost:${a!.gateways[0]!.port}/admin `),
      );
    } finally {
      await Promise.all([a?.stop(), b?.stop()]);
    }
    for (const s of [a!, b!]) for (const pid of pids(s)) expect(alive(pid)).toBe(false);
  });

  it('uses a given AUTH_SECRET, restarts a gateway on its port, adds a worker, reports a crash', async () => {
    const exits: [string, ProcessExit][] = [];
    const secret = 's'.repeat(40);
    const firstPort = await freePort();
    const stack = await startStack({
      redisUrl: 'redis://127.0.0.1:1',
      gateways: 1,
      workers: 1,
      gatewayPorts: [firstPort],
      metricsPorts: [0],
      simPort: 0,
      env: { AUTH_SECRET: secret },
      stopGraceMs: 2000,
      onExit: (instance, exit) => exits.push([instance, exit]),
      scripts: fakeScripts,
    });
    try {
      expect(stack.authSecret).toBe(secret);
      const gateway = stack.gateways[0]!;
      expect(gateway.port).toBe(firstPort);
      const before = gateway.process.pid;
      await gateway.restart();
      expect(gateway.process.pid).not.toBe(before);
      expect(alive(before)).toBe(false);
      expect((await health(gateway.url)).pid).toBe(gateway.process.pid);

      const worker = stack.workers[0]!;
      worker.process.kill('SIGKILL');
      await worker.process.exited;
      const added = await stack.addWorker();
      expect(added.instance).toBe('worker-2');
      expect(added.metricsPort).not.toBe(worker.metricsPort);
      expect(stack.workers).toHaveLength(2);
      expect((await health(added.metricsUrl)).env.INSTANCE_ID).toBe('worker-2');

      expect(exits).toEqual([['worker-1', { code: null, signal: 'SIGKILL' }]]);
      expect(formatStackBanner(stack, { topology: { mode: 'single', url: 'redis://127.0.0.1:1' }, private: true })).toContain(
        `ws://localhost:${firstPort}/ws/{sessionId}/{clientId}?token=…`,
      );
    } finally {
      await stack.stop();
    }
    expect(exits).toHaveLength(1);
    for (const pid of pids(stack)) expect(alive(pid)).toBe(false);
  });

  it('gives every child exactly the variables of its Redis topology, whatever our environment holds', async () => {
    const saved = { ...process.env };
    // A shell with a stray REDIS_URL and a Sentinel set-up must not leak either into a cluster stack.
    Object.assign(process.env, { REDIS_URL: 'redis://stray:6379', REDIS_SENTINELS: 'stray:26379', REDIS_SENTINEL_MASTER: 'stray', REDIS_PASSWORD: 'stray' });
    const topologies: RedisTopology[] = [
      { mode: 'cluster', nodes: [{ host: '127.0.0.1', port: 7001 }, { host: '127.0.0.1', port: 7002 }] },
      { mode: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 26379 }, { host: '127.0.0.1', port: 26380 }], name: 'chat' },
    ];
    try {
      for (const redis of topologies) {
        const stack = await startStack({ redis, ports: 'auto', gateways: 1, workers: 1, env: { REDIS_URL: 'redis://also-stray:1' }, scripts: fakeScripts });
        try {
          expect(stack.redis).toEqual(redis);
          expect(stack.redisUrl).toBeUndefined();
          for (const url of [stack.gateways[0]!.url, stack.workers[0]!.metricsUrl]) {
            const { env } = await health(url);
            const given = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('REDIS_') && k !== 'REDIS_PREFIX'));
            expect(given).toEqual(
              redis.mode === 'cluster'
                ? { REDIS_CLUSTER_NODES: '127.0.0.1:7001,127.0.0.1:7002' }
                : { REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.1:26380', REDIS_SENTINEL_MASTER: 'chat' },
            );
          }
          expect(formatStackBanner(stack, { topology: redis, private: true })).toMatch(
            redis.mode === 'cluster'
              ? /redis +Redis Cluster 127\.0\.0\.1:7001,127\.0\.0\.1:7002 \(REDIS_CLUSTER_NODES\) \(private/
              : /redis +Sentinel 127\.0\.0\.1:26379,127\.0\.0\.1:26380, master chat \(REDIS_SENTINELS\) \(private/,
          );
        } finally {
          await stack.stop();
        }
      }
    } finally {
      for (const k of ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER', 'REDIS_PASSWORD']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    await expect(startStack({ ports: 'auto', scripts: fakeScripts })).rejects.toThrow(/needs redis/);
    await expect(
      startStack({ redisUrl: 'redis://127.0.0.1:1', redis: { mode: 'cluster', nodes: [{ host: '127.0.0.1', port: 1 }] }, scripts: fakeScripts }),
    ).rejects.toThrow(/not both/);
  });

  it('gives workers the MCP tools server, test tools on request; with mcpTools: false only the caller\'s MCP_SERVERS', async () => {
    const saved = process.env.MCP_SERVERS;
    // A shell's MCP_SERVERS must not reach the workers in place of the stack's own tools server, nor when it is off.
    process.env.MCP_SERVERS = 'stray=http://stray:1/mcp';
    const base = { redisUrl: 'redis://127.0.0.1:1', ports: 'auto', gateways: 1, workers: 1, scripts: fakeScripts } as const;
    try {
      const withTests = await startStack({ ...base, mcpTools: { testTools: true } });
      try {
        const tools = withTests.mcpTools!;
        expect((await health(tools.url.replace(/\/mcp$/, ''))).env.MCP_TOOLS_TEST).toBe('1');
        expect((await health(withTests.workers[0]!.metricsUrl)).env.MCP_SERVERS).toBe(`tools=${tools.url}`);
      } finally {
        await withTests.stop();
      }
      expect(alive(withTests.mcpTools!.process.pid)).toBe(false);

      const off = await startStack({ ...base, mcpTools: false });
      try {
        expect(off.mcpTools).toBeUndefined();
        expect((await health(off.workers[0]!.metricsUrl)).env.MCP_SERVERS).toBeUndefined();
        expect(formatStackBanner(off, { topology: off.redis, private: false })).toMatch(/mcp tools +off: workers use the MCP_SERVERS they are given/);
      } finally {
        await off.stop();
      }

      const given = await startStack({ ...base, mcpTools: false, workerEnv: { MCP_SERVERS: 'mine=http://127.0.0.1:9/mcp' } });
      try {
        expect((await health(given.workers[0]!.metricsUrl)).env.MCP_SERVERS).toBe('mine=http://127.0.0.1:9/mcp');
      } finally {
        await given.stop();
      }
    } finally {
      if (saved === undefined) delete process.env.MCP_SERVERS;
      else process.env.MCP_SERVERS = saved;
    }
  });

  it('a child that fails to start stops the others and names it', async () => {
    const broken = scripts.write('broken.mjs', `console.error('gateway cannot start: bad config'); process.exit(1);`);
    const logs = join(scripts.dir, 'logs-broken');
    const err = await startStack({
      redisUrl: 'redis://127.0.0.1:1',
      ports: 'auto',
      workers: 1,
      gateways: 1,
      output: { dir: logs },
      scripts: { ...fakeScripts, gateway: broken },
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/gateway-1 exited \(code 1\) before it was ready[\s\S]*bad config/);
    expect(alive(loggedPid(join(logs, 'worker-1.log')))).toBe(false);
    expect(readFileSync(join(logs, 'llm-sim.log'), 'utf8')).toContain('got SIGTERM');
  });

  it('refuses ports already in use and missing builds before starting anything', async () => {
    const port = await freePort();
    const { createServer } = await import('node:net');
    const server = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      await expect(
        startStack({ redisUrl: 'redis://127.0.0.1:1', ports: 'auto', gatewayPorts: [port], scripts: fakeScripts }),
      ).rejects.toThrow(`port ${port} for gateway-1 is already in use`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expect(
      startStack({ redisUrl: 'redis://127.0.0.1:1', ports: 'auto', scripts: { ...fakeScripts, gateway: '/nonexistent/main.js' } }),
    ).rejects.toThrow(/not built: .*main\.js missing; run npm run build first/);
  });

  it('an abort during start-up stops what started', async () => {
    const slow = scripts.write('slow.mjs', `console.log('never ready'); setInterval(() => {}, 1000);`);
    const controller = new AbortController();
    const started = startStack({
      redisUrl: 'redis://127.0.0.1:1',
      ports: 'auto',
      gateways: 1,
      workers: 1,
      useSimulator: false,
      output: { dir: join(scripts.dir, 'logs-abort') },
      signal: controller.signal,
      scripts: { ...fakeScripts, gateway: slow },
    });
    const workerLog = join(scripts.dir, 'logs-abort', 'worker-1.log');
    // Abort once the worker is up, so its SIGTERM handler is in place.
    const poll = setInterval(() => {
      if (existsSync(workerLog) && readFileSync(workerLog, 'utf8').includes('listening on')) controller.abort();
    }, 20);
    try {
      await expect(started).rejects.toThrow(/aborted before gateway-1 was ready/);
    } finally {
      clearInterval(poll);
    }
    expect(readFileSync(workerLog, 'utf8')).toContain('got SIGTERM');
    expect(existsSync(join(scripts.dir, 'logs-abort', 'llm-sim.log'))).toBe(false);
  });
});
