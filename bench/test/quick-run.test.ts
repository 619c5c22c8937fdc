// Real `--quick` benches, end to end: on one Redis (Redis, the stack and both load runs, about 15 s),
// then on a private Redis Cluster (about 20 s).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import type { BenchResult } from '../src/bench-result.js';

jest.setTimeout(90_000);

const dir = mkdtempSync(join(tmpdir(), 'bench-quick-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL('../dist/main.js', import.meta.url).pathname, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --quick', () => {
  it('measures the floor and the system, meters them, and writes the JSON and the table', async () => {
    const out = join(dir, 'quick.json');
    const run = await runBench(['--quick', '--duration', '3', '--idle', '100', '--out', out]);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });

    const r = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(r.kind).toBe('chat-fleet-bench');
    expect(r.builds.map((b) => b.build)).toEqual(['new']);
    const [floor] = r.floors;
    const [system] = r.runs;
    if (floor === undefined || system === undefined) throw new Error('no floor or no run');
    // The floor is the model itself: never faster than the simulator's fixed first-token latency.
    expect(floor.result.messages).toBeGreaterThan(0);
    expect(floor.result.failures).toBe(0);
    expect(floor.result.ttftMs.p50).toBeGreaterThanOrEqual(r.setup.sim.ttftMs);
    expect(system.system.messages).toBeGreaterThan(0);
    expect(system.system.successRate).toBe(100);
    // FRAME_BATCH_MS (25 by default) may join tokens: never more frames than tokens, at least one per reply.
    expect(system.system.frames).toBeLessThanOrEqual(system.system.tokens);
    expect(system.system.frames).toBeGreaterThanOrEqual(system.system.messages);
    // Each reply takes several Redis commands and CPU in every role.
    expect(system.redis.commandsPerMessage).toBeGreaterThan(2);
    expect(system.redis.top.length).toBeGreaterThan(0);
    for (const role of ['gateways', 'workers', 'simulator', 'redis'] as const) expect(system.cpu.seconds[role]).toBeGreaterThan(0);
    expect(r.idle).toEqual([{ build: 'new', measurements: [expect.objectContaining({ sockets: 100, opened: 100, failures: 0, connectionsReported: 100, gateway: 'gateway-1' })] }]);
    // The census saw clients' commands and scripts' own: sent by clients is fewer than executed.
    expect(r.censuses).toHaveLength(1);
    expect(r.censuses[0]!.clientSent).toBeGreaterThan(0);
    expect(r.censuses[0]!.scriptInternal).toBeGreaterThan(0);
    const sent = r.summary.levels[0]?.figures.find((f) => f.name.startsWith('Redis commands per message, sent'))?.new;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(system.redis.commandsPerMessage);

    expect(run.stdout).toContain('| figure (median) | new |');
    expect(run.stdout).toContain('| goal (issue 17) | target | measured | |');
    expect(run.stdout).not.toContain('updated the "Benchmark');

    // A stored result is judged and rendered again without measuring: the measurements stay.
    const again = await runBench(['--render', out, '--no-docs']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('| figure (median) | new |');
    const rendered = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect({ ...rendered, goals: r.goals, summary: r.summary }).toEqual(r);
  });
});

describe('npm run bench -- --quick --redis cluster', () => {
  it('runs the fleet on a private 3+3 cluster and reports every primary\'s commands and the busiest share', async () => {
    const out = join(dir, 'cluster.json');
    const run = await runBench(['--quick', '--redis', 'cluster', '--duration', '3', '--skip-idle', '--paced', '20', '--paced-duration', '3', '--out', out]);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });

    const r = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(r.setup.redis).toMatchObject({ mode: 'cluster', private: true, queueShards: 6, primaries: 3, replicas: 3 });
    const system = r.runs.find((x) => !x.paced);
    const paced = r.runs.find((x) => x.paced);
    if (system === undefined || paced === undefined) throw new Error('no system or paced run');
    expect(r.setup.redis.placement?.flatMap((p) => p.holds).filter((h) => h.startsWith('queue '))).toHaveLength(6);
    expect(system.system.successRate).toBe(100);
    const shards = system.redis.shards;
    if (shards == null) throw new Error('no per-shard figures');
    expect(shards.primaries).toHaveLength(3);
    // Every primary serves some sessions' keys; the total is the sum over primaries (replicas not counted).
    for (const p of shards.primaries) {
      expect(p.commands).toBeGreaterThan(0);
      expect(p.cpuSeconds).toBeGreaterThan(0);
    }
    expect(shards.primaries.reduce((n, p) => n + p.commands, 0)).toBe(system.redis.commands);
    expect(shards.busiestShare).toBeGreaterThanOrEqual(1 / 3);
    expect(shards.busiestShare).toBeLessThan(1);
    expect(system.redis.top.map((c) => c.command)).toContain('spublish');
    expect(system.cpu.standbySeconds).toBeGreaterThan(0);
    expect(paced.redis.shards?.primaries).toHaveLength(3);
    // MONITOR on each primary: the census covers the cluster too.
    expect(r.censuses[0]?.scriptInternal).toBeGreaterThan(0);

    expect(run.stdout).toMatch(/Redis commands per primary .*busiest 0\.\d\d \(even: 0\.33\)/);
  });
});
