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
    // The floor is the model itself: never faster than the simulator's fixed first-token latency.
    expect(r.floor.messages).toBeGreaterThan(0);
    expect(r.floor.failures).toBe(0);
    expect(r.floor.ttftMs.p50).toBeGreaterThanOrEqual(r.setup.sim.ttftMs);
    expect(r.system.messages).toBeGreaterThan(0);
    expect(r.system.successRate).toBe(100);
    // FRAME_BATCH_MS (25 by default) may join tokens: never more frames than tokens, at least one per reply.
    expect(r.system.frames).toBeLessThanOrEqual(r.system.tokens);
    expect(r.system.frames).toBeGreaterThanOrEqual(r.system.messages);
    expect(r.overhead.ttftMs.p50).toBeCloseTo(r.system.ttftMs.p50 - r.floor.ttftMs.p50, 1);
    // Each reply takes several Redis commands and CPU in every role.
    expect(r.redis.commandsPerMessage).toBeGreaterThan(2);
    expect(r.redis.top.length).toBeGreaterThan(0);
    for (const role of ['gateways', 'workers', 'simulator', 'redis'] as const) expect(r.cpu.seconds[role]).toBeGreaterThan(0);
    expect(r.idle).toEqual([expect.objectContaining({ sockets: 100, opened: 100, failures: 0, connectionsReported: 100, gateway: 'gateway-1' })]);
    expect(r.idle[0]!.rssAfterBytes).toBeGreaterThan(r.idle[0]!.rssBeforeBytes);

    expect(run.stdout).toContain('| | floor: model alone | system: through the fleet | overhead |');
    expect(run.stdout).not.toContain('updated the "Benchmark');

    // A stored result is judged and rendered again without measuring: the measurements stay.
    const again = await runBench(['--render', out, '--no-docs']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('| | floor: model alone | system: through the fleet | overhead |');
    const rendered = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect({ ...rendered, goals: r.goals, floorRun: r.floorRun }).toEqual(r);
  });
});

describe('npm run bench -- --quick --redis cluster', () => {
  it('runs the fleet on a private 3+3 cluster and reports every primary\'s commands and the busiest share', async () => {
    const out = join(dir, 'cluster.json');
    const run = await runBench(['--quick', '--redis', 'cluster', '--duration', '3', '--skip-idle', '--paced', '20', '--paced-duration', '3', '--out', out]);
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });

    const r = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(r.setup.redis).toMatchObject({ mode: 'cluster', private: true, queueShards: 6, primaries: 3, replicas: 3 });
    expect(r.setup.redis.placement?.flatMap((p) => p.holds).filter((h) => h.startsWith('queue '))).toHaveLength(6);
    expect(r.system.successRate).toBe(100);
    const shards = r.redis.shards;
    if (shards == null) throw new Error('no per-shard figures');
    expect(shards.primaries).toHaveLength(3);
    // Every primary serves some sessions' keys; the total is the sum over primaries (replicas not counted).
    for (const p of shards.primaries) {
      expect(p.commands).toBeGreaterThan(0);
      expect(p.cpuSeconds).toBeGreaterThan(0);
    }
    expect(shards.primaries.reduce((n, p) => n + p.commands, 0)).toBe(r.redis.commands);
    expect(shards.busiestShare).toBeGreaterThanOrEqual(1 / 3);
    expect(shards.busiestShare).toBeLessThan(1);
    expect(r.redis.top.map((c) => c.command)).toContain('spublish');
    expect(r.cpu.standbySeconds).toBeGreaterThan(0);
    expect(r.pacedRedis?.shards?.primaries).toHaveLength(3);

    expect(run.stdout).toContain('| Redis commands per primary |');
    expect(run.stdout).toMatch(/busiest 0\.\d\d \(even: 0\.33\)/);
  });
});
