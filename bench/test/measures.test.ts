import { describe, expect, it } from '@jest/globals';
import { parseBenchArgs, UsageError } from '../src/bench-options.js';
import type { ClusterPrimary } from '@chat-fleet/stack';
import { placeKeys } from '../src/bench-redis.js';
import { diffCommandStats, parseCommandStats, sumDiffs } from '../src/command-stats.js';
import { judgeFloor, judgeOverhead, overhead } from '../src/goals.js';
import { parseMachineTicks, parseRedisPid, parseRedisVersion } from '../src/machine.js';
import { parseOpenFileLimits, splitBySocketLimit } from '../src/open-files.js';
import { cpuSecondsBetween, parseProcStat, parseVmRss, readCpuTicks, readRssBytes } from '../src/proc-stats.js';
import { eventLoopLag, promSample } from '../src/prom-text.js';
import { describeShards, DOCS_END, DOCS_START, replaceDocsSection } from '../src/report.js';
import { shardCost } from '../src/resource-meter.js';

const BEFORE = `# Commandstats\r
cmdstat_xadd:calls=100,usec=900,usec_per_call=9.00,rejected_calls=0,failed_calls=0\r
cmdstat_publish:calls=50,usec=100,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r
cmdstat_client|setname:calls=4,usec=8,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r
`;
const AFTER = `# Commandstats\r
cmdstat_xadd:calls=1101,usec=9900,usec_per_call=9.00,rejected_calls=0,failed_calls=0\r
cmdstat_publish:calls=1050,usec=2100,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r
cmdstat_client|setname:calls=4,usec=8,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r
cmdstat_evalsha:calls=30,usec=600,usec_per_call=20.00,rejected_calls=0,failed_calls=1\r
`;

describe('INFO commandstats', () => {
  it('parses every cmdstat line, subcommands included, and ignores the rest', () => {
    const stats = parseCommandStats(BEFORE);
    expect([...stats.keys()]).toEqual(['xadd', 'publish', 'client|setname']);
    expect(stats.get('xadd')).toEqual({ calls: 100, usec: 900 });
  });

  it('diffs two snapshots: new commands count whole, idle ones drop out, most called first', () => {
    const diff = diffCommandStats(parseCommandStats(BEFORE), parseCommandStats(AFTER));
    expect(diff.byCommand).toEqual([
      { command: 'xadd', calls: 1001, usec: 9000 },
      { command: 'publish', calls: 1000, usec: 2000 },
      { command: 'evalsha', calls: 30, usec: 600 },
    ]);
    expect(diff.calls).toBe(2031);
    expect(diff.usec).toBe(11_600);
  });

  it('counts from zero when the counters went down (CONFIG RESETSTAT in between)', () => {
    const diff = diffCommandStats(parseCommandStats(AFTER), parseCommandStats(BEFORE));
    expect(diff.calls).toBe(150);
  });

  it('adds up several primaries per command, most called first', () => {
    const a = diffCommandStats(parseCommandStats(BEFORE), parseCommandStats(AFTER));
    const b = { calls: 2000, usec: 50, byCommand: [{ command: 'spublish', calls: 1990, usec: 40 }, { command: 'evalsha', calls: 10, usec: 10 }] };
    const sum = sumDiffs([a, b]);
    expect(sum.calls).toBe(4031);
    expect(sum.usec).toBe(11_650);
    expect(sum.byCommand.slice(0, 2)).toEqual([
      { command: 'spublish', calls: 1990, usec: 40 },
      { command: 'xadd', calls: 1001, usec: 9000 },
    ]);
    expect(sum.byCommand.find((c) => c.command === 'evalsha')).toEqual({ command: 'evalsha', calls: 40, usec: 610 });
  });
});

describe('commands per shard', () => {
  const diff = (calls: number) => ({ calls, usec: calls * 2, byCommand: [{ command: 'xadd', calls, usec: calls * 2 }] });

  it('gives each primary its share and the busiest share: 1/n when even, 1 when one shard takes all', () => {
    const nodes = [{ name: 'redis-7001' }, { name: 'redis-7002' }, { name: 'redis-7003' }];
    const even = shardCost(nodes, [diff(1000), diff(1000), diff(1000)], { 'redis-7001': 1.5, 'redis-7002': 1.25 });
    expect(even.busiestShare).toBeCloseTo(0.333, 3);
    expect(even.primaries.map((p) => [p.node, p.commands, p.share, p.cpuSeconds])).toEqual([
      ['redis-7001', 1000, 0.333, 1.5],
      ['redis-7002', 1000, 0.333, 1.25],
      ['redis-7003', 1000, 0.333, null],
    ]);
    expect(shardCost(nodes, [diff(0), diff(900), diff(100)], {}).busiestShare).toBe(0.9);
    expect(shardCost(nodes, [diff(0), diff(0), diff(0)], {}).busiestShare).toBe(0);
    expect(describeShards(shardCost(nodes, [diff(1200), diff(1000), diff(800)], {}))).toBe(
      'redis-7001 1,200 (0.40), redis-7002 1,000 (0.33), redis-7003 800 (0.27); busiest 0.40 (even: 0.33)',
    );
  });

  it("names the primary each queue and fleet-wide key hashes to, by the key's hash tag", () => {
    const primary = (port: number, from: number, to: number): ClusterPrimary => ({ id: String(port), host: '127.0.0.1', port, slots: [[from, to]], replicas: [] });
    const placed = placeKeys([primary(7001, 0, 5460), primary(7002, 5461, 10922), primary(7003, 10923, 16383)], 'chat', 6);
    // The six queue tags spread two to each third of the slots: {q27} slot 2683, {q40} 4154;
    // {q62} 5658, {q65} 9981, {usage} 9629; {q73} 13578, {q77} 13710 (CLUSTER KEYSLOT).
    expect(placed.map((p) => [p.node, p.slots])).toEqual([['redis-7001', 5461], ['redis-7002', 5462], ['redis-7003', 5461]]);
    expect(placed[0]!.holds).toEqual(expect.arrayContaining(['queue chat-replies-{q27}', 'queue chat-replies-{q40}']));
    expect(placed[1]!.holds).toEqual(expect.arrayContaining(['queue chat-replies-{q62}', 'queue chat-replies-{q65}', 'fleet usage ledger {usage}']));
    expect(placed[2]!.holds).toEqual(expect.arrayContaining(['queue chat-replies-{q73}', 'queue chat-replies-{q77}']));
    for (const p of placed) expect(p.holds.filter((h) => h.startsWith('queue ')).length).toBe(2);
    expect(placed.flatMap((p) => p.holds)).toHaveLength(6 + 5);
  });
});

describe('/proc', () => {
  it('reads utime and stime after a command name holding spaces and parentheses', () => {
    const line = '4242 (node (gw) 1) S 1 4242 4242 0 -1 4194560 2000 0 0 0 1234 567 0 0 20 0 11 0 900 1000000 5000 18446744073709551615';
    expect(parseProcStat(line.replace(' 1234 567 0 0 ', ' 1234 567 89 10 '))).toEqual({ utime: 1234, stime: 567, cutime: 89, cstime: 10 });
    expect(parseProcStat(line)).toEqual({ utime: 1234, stime: 567, cutime: 0, cstime: 0 });
    expect(() => parseProcStat('garbage')).toThrow(/stat/);
  });

  it('turns ticks into seconds', () => {
    const before = { utime: 100, stime: 50, cutime: 0, cstime: 0 };
    const after = { utime: 400, stime: 150, cutime: 200, cstime: 100 };
    expect(cpuSecondsBetween(before, after, 100)).toBe(4);
    expect(cpuSecondsBetween(before, after, 100, true)).toBe(7);
  });

  it('reads VmRSS in bytes', () => {
    expect(parseVmRss('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   81920 kB\nRssAnon:\t 1 kB\n')).toBe(81_920 * 1024);
    expect(() => parseVmRss('Name:\tnode\n')).toThrow(/VmRSS/);
  });

  it('reads a live process: this one uses CPU and memory', () => {
    const ticks = readCpuTicks(process.pid);
    expect(ticks.utime + ticks.stime).toBeGreaterThan(0);
    const rss = readRssBytes(process.pid);
    expect(Math.abs(rss - process.memoryUsage.rss()) / rss).toBeLessThan(0.2);
  });

  it('reads the aggregate cpu line of /proc/stat', () => {
    const ticks = parseMachineTicks('cpu  100 5 50 1000 20 3 2 10 0 0\ncpu0 50 2 25 500 10 1 1 5 0 0\n');
    expect(ticks).toEqual({ busy: 170, total: 1190 });
  });

  it('reads the open-file limits, unlimited included', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    expect(parseOpenFileLimits(limits)).toEqual({ soft: 1024, hard: 524_288 });
    expect(parseOpenFileLimits('Max open files            unlimited            unlimited            files')).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseOpenFileLimits('Max processes 10 10')).toBeUndefined();
    expect(splitBySocketLimit([1000, 10_000], 10_240)).toEqual({ fit: [1000], tooMany: [10_000] });
  });
});

describe('Redis INFO server', () => {
  it('finds the version and the pid', () => {
    const info = '# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nprocess_id:31337\r\n';
    expect(parseRedisVersion(info)).toBe('7.0.15');
    expect(parseRedisPid(info)).toBe(31_337);
  });
});

describe('Prometheus text', () => {
  const text = [
    '# HELP nodejs_eventloop_lag_p99_seconds The 99th percentile',
    'nodejs_eventloop_lag_p99_seconds{instance="gateway-1"} 0.0123456',
    'nodejs_eventloop_lag_p99_seconds_extra 5',
    'nodejs_eventloop_lag_max_seconds 0.25',
  ].join('\n');

  it('reads a sample with or without labels, never a longer name', () => {
    expect(promSample(text, 'nodejs_eventloop_lag_p99_seconds')).toBe(0.0123456);
    expect(promSample(text, 'nodejs_eventloop_lag_max_seconds')).toBe(0.25);
    expect(promSample(text, 'nodejs_eventloop_lag')).toBeUndefined();
    expect(eventLoopLag(text)).toEqual({ p99Ms: 12.3, maxMs: 250 });
  });
});

describe('overhead', () => {
  it('is the system minus the floor at each percentile', () => {
    expect(overhead({ p50: 161.25, p95: 180, p99: 240.04 }, { p50: 151.2, p95: 155, p99: 160 })).toEqual({ p50: 10.1, p95: 25, p99: 80 });
  });

  it('with a stalled floor, decides the overhead only where both bounds agree', () => {
    const floorTtft = { p50: 190, p95: 3813, p99: 5267 };
    const verdict = judgeFloor({ ttftMs: floorTtft }, 150);
    expect(verdict).toMatch(/5267 ms against the simulator's fixed 150 ms/);
    expect(judgeFloor({ ttftMs: { p50: 153, p95: 163, p99: 179 } }, 150)).toBeNull();
    // system − floor already over the target: missed whatever the floor's trouble.
    expect(judgeOverhead(800, 280, 150, 50, false)).toBe(false);
    // system − the fixed latency within the target: met whatever the floor's trouble.
    expect(judgeOverhead(195, 5000, 150, 50, false)).toBe(true);
    expect(judgeOverhead(195, 180, 150, 10, true)).toBe(false);
    expect(judgeOverhead(185, 180, 150, 10, true)).toBe(true);
  });
});

describe('command line', () => {
  it('defaults to the 100- and 1000-user levels and both idle sizes', () => {
    const o = parseBenchArgs([]);
    expect(o.users).toEqual([100, 1000]);
    expect(o.idle).toEqual([1000, 10_000]);
    expect(o.docs).toBe(true);
  });

  it('reads every option and refuses unknown or malformed ones', () => {
    const o = parseBenchArgs(['--users', '200', '--duration', '30', '--think', '100-200', '--idle', '500, 2000', '--out', 'x.json', '--no-docs']);
    expect(o).toMatchObject({ users: [200], durationS: 30, thinkMs: { min: 100, max: 200 }, idle: [500, 2000], out: 'x.json', docs: false });
    expect(parseBenchArgs(['--skip-idle', '--skip-paced']).idle).toEqual([]);
    expect(parseBenchArgs(['--quick'])).toMatchObject({ quick: true, docs: false, paced: 0 });
    expect(() => parseBenchArgs(['--users', '1e3'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--think', '300-100'])).toThrow(/below/);
    expect(() => parseBenchArgs(['--frobnicate'])).toThrow(UsageError);
    expect(parseBenchArgs(['--env', 'FRAME_BATCH_MS=10', '--env', 'LOG_LEVEL=warn']).env).toEqual({ FRAME_BATCH_MS: '10', LOG_LEVEL: 'warn' });
    expect(() => parseBenchArgs(['--env', 'REDIS_PREFIX=x'])).toThrow(/set by the bench/);
    expect(() => parseBenchArgs(['--env', 'novalue'])).toThrow(/KEY=VALUE/);
  });

  it('runs on one Redis by default, on a private cluster or Sentinel set when asked, and leaves the docs to single runs', () => {
    expect(parseBenchArgs([]).redis).toBe('single');
    expect(parseBenchArgs(['--redis', 'cluster'])).toMatchObject({ redis: 'cluster', docs: false });
    expect(parseBenchArgs(['--redis', 'sentinel']).redis).toBe('sentinel');
    expect(() => parseBenchArgs(['--redis', 'shards'])).toThrow(/--redis: expected single, cluster, sentinel/);
    expect(() => parseBenchArgs(['--env', 'REDIS_CLUSTER_NODES=127.0.0.1:7000'])).toThrow(/set by the bench/);
    expect(parseBenchArgs(['--redis', 'cluster', '--env', 'QUEUE_SHARDS=3']).env).toEqual({ QUEUE_SHARDS: '3' });
  });
});

describe('docs/performance.md section', () => {
  const docs = '# Performance\n\n## Streaming overhead (issue 2)\n\nkept as is\n';

  it('is appended once, then replaced in place, other sections untouched', () => {
    const first = replaceDocsSection(docs, '| a | b |');
    expect(first.startsWith(docs.trimEnd())).toBe(true);
    expect(first).toContain(`${DOCS_START}\n## Benchmark (npm run bench)\n\n| a | b |\n${DOCS_END}`);
    const withTail = `${first}\n## Later section\n\nalso kept\n`;
    const second = replaceDocsSection(withTail, '| c | d |');
    expect(second).not.toContain('| a | b |');
    expect(second).toContain('| c | d |');
    expect(second).toContain('kept as is');
    expect(second).toContain('## Later section\n\nalso kept');
    expect(second.split(DOCS_START)).toHaveLength(2);
  });

  it('refuses a file with one marker only', () => {
    expect(() => replaceDocsSection(`${docs}${DOCS_START}\n`, 'x')).toThrow(/marker/);
  });
});
