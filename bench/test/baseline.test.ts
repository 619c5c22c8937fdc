// The pure parts of --baseline, --repeat, --users lists, the cost split and the command census.
import { describe, expect, it } from '@jest/globals';
import type { Percentiles } from '@chat-fleet/loadgen';
import { parseBenchArgs, UsageError } from '../src/bench-options.js';
import { planRuns } from '../src/bench-plan.js';
import type { CensusResult, CpuCost, FloorMeasurement, RunMeasurement } from '../src/bench-result.js';
import { median, medianPoint, perThousandTokensAt, ratio, splitCost } from '../src/bench-stats.js';
import { clientSentPerMessage, summarize } from '../src/bench-summary.js';
import { checkGoals, GOALS } from '../src/goals.js';
import { clientSentCommands, CommandCensus } from '../src/redis-census.js';

describe('command line: levels, baseline, repetitions, reply lengths, census', () => {
  it('reads lists of levels and reply lengths, the primary length first', () => {
    const o = parseBenchArgs(['--users', '100,1000', '--reply-tokens', '12,96', '--baseline', 'HEAD~5', '--repeat', '3', '--census', '0']);
    expect(o).toMatchObject({ users: [100, 1000], replyTokens: [12, 96], baseline: 'HEAD~5', repeat: 3, censusS: 0 });
    expect(o.sim.replyTokens).toBe(12);
  });

  it('defaults to issue 17: 100 and 1000 users, 48 and 96 tokens, two repetitions, paced 1000 users at 20–30 s, no baseline', () => {
    const o = parseBenchArgs([]);
    expect(o).toMatchObject({ users: [100, 1000], replyTokens: [48, 96], repeat: 2, paced: 1000, pacedThinkMs: { min: 20_000, max: 30_000 }, baseline: undefined });
    expect(o.sim.replyTokens).toBe(48);
    expect(o.censusS).toBeGreaterThan(0);
    expect(parseBenchArgs(['--quick'])).toMatchObject({ users: [50], replyTokens: [48], repeat: 1 });
    expect(parseBenchArgs(['--paced-think', '10s-20s']).pacedThinkMs).toEqual({ min: 10_000, max: 20_000 });
  });

  it('refuses repeated values, a third length, an empty ref and a zero repeat', () => {
    expect(() => parseBenchArgs(['--users', '100,100'])).toThrow(/each value once/);
    expect(() => parseBenchArgs(['--reply-tokens', '12,48,96'])).toThrow(/two for the cost split/);
    expect(() => parseBenchArgs(['--baseline', ' '])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--repeat', '0'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--users', '100,abc'])).toThrow(UsageError);
  });
});

describe('the interleaving plan', () => {
  it('pairs baseline and new at each level and length, repeats the round, and paces at the primary length only', () => {
    const runs = planRuns({ users: [100, 1000], paced: 1000, replyTokens: [48, 96], builds: ['baseline', 'new'], repeat: 2 });
    const shape = runs.map((r) => `${r.repetition}:${r.level.users}${r.level.paced ? 'p' : ''}:${r.replyTokens}:${r.build[0]}`);
    const round = (n: number) => [
      `${n}:100:48:b`, `${n}:100:48:n`, `${n}:100:96:b`, `${n}:100:96:n`,
      `${n}:1000:48:b`, `${n}:1000:48:n`, `${n}:1000:96:b`, `${n}:1000:96:n`,
      `${n}:1000p:48:b`, `${n}:1000p:48:n`,
    ];
    expect(shape).toEqual([...round(1), ...round(2)]);
    expect(runs.map((r) => r.index)).toEqual(runs.map((_, i) => i + 1));
    // Idle memory on each build's first stack, the floor before each level's first run.
    expect(runs.filter((r) => r.firstOfBuild).map((r) => r.index)).toEqual([1, 2]);
    expect(runs.filter((r) => r.firstOfLevel).map((r) => r.index)).toEqual([1, 5, 9]);
    // One census per build and closed-loop level, after its first primary-length run.
    expect(runs.filter((r) => r.census).map((r) => r.index)).toEqual([1, 2, 5, 6]);
  });

  it('without a baseline runs the new build alone', () => {
    const runs = planRuns({ users: [50], paced: 0, replyTokens: [48], builds: ['new'], repeat: 1 });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ build: 'new', firstOfBuild: true, firstOfLevel: true, census: true });
  });
});

describe('medians, ratios and the cost split', () => {
  it('takes the median of odd and even counts and skips what is not a number', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeUndefined();
  });

  it('gives new / baseline, nothing without both or against zero', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeUndefined();
    expect(ratio(undefined, 2)).toBeUndefined();
  });

  it('recovers a and b from two lengths', () => {
    // 20 ms a message and 300 µs a token: 100 messages of 12 tokens, 50 of 96.
    const cost = (messages: number, perMessage: number) => ({ cpuSeconds: messages * (0.02 + 0.0003 * perMessage), messages, tokens: messages * perMessage });
    const split = splitCost(cost(100, 12), cost(50, 96));
    expect(split?.msPerMessage).toBeCloseTo(20, 6);
    expect(split?.usPerToken).toBeCloseTo(300, 6);
    // At 48 tokens: 20/48 ms + 0.3 ms a token = 0.7167 CPU-s per 1000 tokens.
    expect(perThousandTokensAt(split!, 48)).toBeCloseTo(20 / 48 + 0.3, 6);
    expect(splitCost(cost(10, 48), cost(10, 48))).toBeUndefined();
    expect(splitCost({ cpuSeconds: 1, messages: 0, tokens: 0 }, cost(10, 96))).toBeUndefined();
  });

  it('joins repetitions at one length by the median per message', () => {
    const p = medianPoint([
      { cpuSeconds: 10, messages: 100, tokens: 4800 },
      { cpuSeconds: 30, messages: 100, tokens: 4800 },
      { cpuSeconds: 12, messages: 100, tokens: 4900 },
    ]);
    expect(p).toEqual({ cpuSeconds: 0.12, messages: 1, tokens: 48 });
  });
});

describe('the Redis command census', () => {
  it('tells what clients sent from what scripts ran, and applies the shares to commandstats', () => {
    const census = new CommandCensus();
    census.addMonitorLine(['evalsha', 'abc', '0'], '127.0.0.1:5000');
    census.addMonitorLine(['SET', 'a', '1'], 'lua');
    census.addMonitorLine(['xadd', 's', '*', 'f', 'v'], 'lua');
    census.addMonitorLine(['xadd', 's', '*', 'f', 'v'], '127.0.0.1:5001');
    census.addMonitorLine(['client', 'setname', 'x'], '/tmp/redis.sock:0');
    expect(census.totals()).toEqual({ client: 3, script: 2 });
    const executed = [
      { command: 'evalsha', calls: 10 },
      { command: 'set', calls: 10 },
      { command: 'xadd', calls: 40 },
      { command: 'client|setname', calls: 2 },
      // Never seen under MONITOR: counted as sent by a client.
      { command: 'info', calls: 1 },
    ];
    expect(clientSentCommands(executed, census.byCommand())).toBe(10 + 0 + 20 + 2 + 1);
  });
});

const pct = (p50: number, p95: number, p99: number): Percentiles => ({ p50, p95, p99 });

function cpu(gateways: number, workers: number, redis: number): CpuCost {
  const z = { gateways, workers, simulator: 1, redis, total: gateways + workers + 1 + redis };
  return { seconds: z, perThousandTokens: z, byProcess: {}, benchSeconds: 0, otherSeconds: 0, machineBusy: 0.5, wallSeconds: 60 };
}

function run(build: 'baseline' | 'new', users: number, replyTokens: number, repetition: number, o: { workers: number; messages: number; ttft?: Percentiles; rate?: number }): RunMeasurement {
  const tokens = o.messages * replyTokens;
  return {
    index: 0,
    build,
    users,
    paced: false,
    replyTokens,
    repetition,
    thinkMs: { min: 3000, max: 6000 },
    durationS: 60,
    rampS: 15,
    system: {
      level: `${users} users`, users, durationS: 60, messages: o.messages, failures: 0, successRate: 100, tokens, frames: tokens, reconnects: 0, cached: 0,
      elapsedS: 60, procs: 1, loadCpuS: 1, peakConnected: users, connectMs: pct(1, 1, 1), ttftMs: o.ttft ?? pct(152, 160, 165), responseMs: pct(950, 990, 1000),
      messagesPerSec: o.rate ?? o.messages / 60, framesPerSec: 0,
    } as unknown as RunMeasurement['system'],
    redis: { commands: o.messages * 100, commandsPerMessage: 100, usecPerMessage: 500, top: [], exclusive: true, byCommand: [{ command: 'evalsha', calls: o.messages * 20 }, { command: 'xadd', calls: o.messages * 80 }] },
    cpu: cpu(1, o.workers, 1),
    eventLoop: {},
  };
}

describe('summary and goals', () => {
  const floor: FloorMeasurement = {
    users: 100, paced: false, thinkMs: { min: 3000, max: 6000 }, durationS: 60, rampS: 15,
    result: { ttftMs: pct(150, 155, 158) } as FloorMeasurement['result'], cpu: cpu(0, 0, 0), disturbed: null,
  };
  const census: CensusResult = { build: 'new', users: 100, durationS: 10, messages: 10, clientSent: 0, scriptInternal: 0, byCommand: [{ command: 'evalsha', client: 10, script: 0 }, { command: 'xadd', client: 1, script: 3 }] };
  const runs = [
    run('baseline', 100, 48, 1, { workers: 30, messages: 1000, rate: 16 }),
    run('new', 100, 48, 1, { workers: 6, messages: 1000, rate: 16, ttft: pct(154, 160, 170) }),
    run('baseline', 100, 96, 1, { workers: 50, messages: 800 }),
    run('new', 100, 96, 1, { workers: 10, messages: 800 }),
    run('baseline', 100, 48, 2, { workers: 34, messages: 1000, rate: 17 }),
    run('new', 100, 48, 2, { workers: 8, messages: 1000, rate: 18, ttft: pct(156, 162, 172) }),
  ];

  it('takes the medians per build and their ratio, and counts client-sent commands from the census', () => {
    const s = summarize({ primaryTokens: 48, replyTokens: [48, 96], floors: [floor], runs, censuses: [census], idle: [] });
    const [level] = s.levels;
    const f = (name: string) => level?.figures.find((x) => x.name.startsWith(name));
    expect(level?.repetitions).toEqual({ baseline: 2, new: 2 });
    expect(f('messages/s')).toMatchObject({ baseline: 16.5, new: 17 });
    expect(f('fleet CPU-s')?.baseline).toBeCloseTo((1 + 32 + 1) / 48, 6);
    expect(f('fleet CPU-s')?.new).toBeCloseTo((1 + 7 + 1) / 48, 6);
    expect(f('fleet CPU-s')?.ratio).toBeCloseTo(9 / 34, 3);
    // 20 EVALSHA a message all sent, 80 XADD a message of which a quarter sent.
    expect(f('Redis commands per message, sent')?.new).toBe(40);
    expect(f('Redis commands per message, sent')?.baseline).toBeNull();
    expect(f('first-token overhead over the floor p50')?.new).toBe(5);
    expect(clientSentPerMessage(runs[1]!, [census])).toBe(40);
    // The split: per message at 48 tokens (median) and at 96.
    const workers = s.splits[0]?.roles.find((r) => r.role === 'workers');
    // new: 7/1000 s a message at 48 tokens, 10/800 at 96: b = (0.0125 - 0.007) / 48 s a token.
    expect(workers?.new?.usPerToken).toBeCloseTo(((0.0125 - 0.007) / 48) * 1e6, 1);
    expect(workers?.new?.msPerMessage).toBeCloseTo((0.007 - ((0.0125 - 0.007) / 48) * 48) * 1000, 2);
    expect(s.splits[0]?.fleetPerThousand.ratio).toBeLessThan(1);
  });

  it('judges the ratio goals against the baseline and leaves unmeasured ones open', () => {
    const s = summarize({ primaryTokens: 48, replyTokens: [48, 96], floors: [floor], runs, censuses: [census], idle: [] });
    const goals = checkGoals({ summary: s, modelTtftMs: 150, idle: [] });
    const byGoal = (start: string) => goals.filter((g) => g.goal.startsWith(start));
    const [cpu100, cpu1000] = byGoal('fleet CPU per 1000 tokens');
    expect(cpu100?.met).toBe(true); // 9/34 ≤ 1/3
    expect(cpu1000?.met).toBeUndefined(); // no 1000-user level in this run
    expect(byGoal('Redis commands per')[0]?.met).toBe(true); // 40 ≤ 60
    const [p50, p99] = byGoal('first-token overhead over the floor').slice(0, 2);
    expect(p50?.met).toBe(true); // 155 − 150 = 5 ≤ 5
    expect(p99?.met).toBe(true); // median 171 − 158 = 13 ≤ 15
    expect(byGoal('saturation')[0]?.met).toBeUndefined();
    expect(byGoal('gateway memory')[0]?.met).toBeUndefined();
    expect(GOALS.cpuRatio).toBeCloseTo(1 / 3);
  });
});
