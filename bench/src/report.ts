// A bench result as markdown: printed at the end of a run and kept in docs/performance.md between markers.
import type { BenchResult, GoalCheck, ShardCost } from './bench-result.js';
import type { LatencySummary, Percentiles } from '@chat-fleet/loadgen';

export const DOCS_START = '<!-- bench:start -->';
export const DOCS_END = '<!-- bench:end -->';

const trio = (p: Percentiles): string => `${p.p50} / ${p.p95} / ${p.p99}`;
const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
const signedTrio = (p: Percentiles): string => `${signed(p.p50)} / ${signed(p.p95)} / ${signed(p.p99)}`;
const fixed = (n: number, digits = 1): string => n.toFixed(digits);
const pct = (n: number): string => `${n.toFixed(2)} %`;
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KB`;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

function floorSuccess(f: BenchResult['floor']): number {
  return f.messages === 0 ? 0 : ((f.messages - f.failures) / f.messages) * 100;
}

function mark(g: GoalCheck): string {
  return g.met === undefined ? 'not measured' : g.met ? 'met' : '**missed**';
}

function redisSetup(r: BenchResult): string {
  const x = r.setup.redis;
  if (x.mode === 'cluster') return ` (a private Redis Cluster: ${x.primaries ?? '?'} primaries, ${x.replicas ?? '?'} replicas, all on this machine)`;
  if (x.mode === 'sentinel') return ' (a private Sentinel set: primary, replica and 3 Sentinels, all on this machine)';
  return x.private ? ' (private to the run)' : ' (shared, found running)';
}

function machineLine(r: BenchResult): string {
  const m = r.machine;
  return `${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.os} (Linux ${m.kernel}), Node ${m.node}, Redis ${m.redis}${redisSetup(r)}`;
}

/** Each primary's commands and share, then the busiest share against an even spread. */
export function describeShards(s: ShardCost): string {
  const each = s.primaries.map((p) => `${p.node} ${int(p.commands)} (${p.share.toFixed(2)})`).join(', ');
  return `${each}; busiest ${s.busiestShare.toFixed(2)} (even: ${(1 / Math.max(1, s.primaries.length)).toFixed(2)})`;
}

function shardCpu(s: ShardCost): string {
  const known = s.primaries.filter((p) => p.cpuSeconds !== null);
  return known.length === 0 ? '' : `; CPU-s ${known.map((p) => `${p.node} ${fixed(p.cpuSeconds ?? 0)}`).join(', ')}`;
}

function summaryTrio(s: LatencySummary): string {
  return trio(s);
}

/** The markdown section: setup, floor beside system, costs, idle memory, goals. */
export function formatReport(r: BenchResult): string {
  const s = r.setup;
  const sys = r.system;
  const floor = r.floor;
  const lines: string[] = [];
  const commit = r.source.commit === null ? '' : ` at ${r.source.commit.slice(0, 7)}`;
  const dirty = r.source.uncommitted.length > 0 ? ` plus uncommitted changes to ${r.source.uncommitted.length} files of apps/ and packages/` : '';
  lines.push(`Measured ${r.finishedAt.slice(0, 10)}${commit}${dirty} with \`npm run bench${r.args.length > 0 ? ` -- ${r.args.join(' ')}` : ''}\`.`);
  lines.push('');
  lines.push(`- Machine: ${machineLine(r)}. Load average at the start ${r.machine.loadAverage.join(' / ')}; ` +
    `other processes used ${fixed(r.cpu.otherSeconds)} CPU-s during the system run, the machine was ` +
    `${fixed(r.cpu.machineBusy * 100, 0)} % busy.`);
  lines.push(
    `- Stack: ${s.gateways} gateways, ${s.workers} workers, simulator at first token ${s.sim.ttftMs} ms, ` +
      `${s.sim.tokensPerSec} tokens/s, ${s.sim.replyTokens} tokens a reply; ${s.cache}. The load runs in the same ` +
      `machine: ${s.users} users for ${s.durationS} s after a ${s.rampS} s ramp (think ${s.thinkMs.min}–${s.thinkMs.max} ms` +
      `${s.warmupS > 0 ? `, after ${s.warmupS} s of unmeasured warm-up` : ''}).`,
  );
  const env = Object.entries(s.env);
  if (env.length > 0) lines.push(`- Settings given: ${env.map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`);
  if (s.redis.mode === 'cluster' || s.redis.mode === 'sentinel') {
    lines.push(
      `- Redis: ${s.redis.mode === 'cluster' ? 'a Redis Cluster (sharded pub/sub for the session channels)' : 'Sentinel (the apps follow the primary the Sentinels name)'}, ` +
        `QUEUE_SHARDS ${s.redis.queueShards ?? 1}; replicas${s.redis.mode === 'sentinel' ? ' and Sentinels' : ''} are metered apart ` +
        `(CPU only: a replica repeats its primary's commands).`,
    );
  }
  lines.push(
    '- Floor: the same number of clients streaming straight from the simulator over HTTP with the `openai` SDK, ' +
      'no gateway, worker or Redis; the system: WebSocket clients through the gateways (`@chat-fleet/loadgen`), ' +
      'every reply checked whole (all `seq`, then `done`).',
  );
  if (r.idle.length > 0) {
    const first = r.idle[0];
    lines.push(
      `- Idle memory: before any load, sockets that only wait, all on ${first?.gateway ?? 'one gateway'} (sessions created ` +
        `through the other gateway's REST, each with its own userId; 20 sockets opened and closed first). Sockets are ` +
        `added up to each size without closing any; VmRSS of that gateway ${(first?.settleMs ?? 0) / 1000} s after the last ` +
        `socket was ready, minus VmRSS before the first, divided by the sockets open.`,
    );
  }
  if (s.paced !== null) {
    lines.push(
      `- Paced: ${s.paced.users} users, each with its own session and socket, one message every ` +
        `${s.paced.thinkMs.min / 1000}–${s.paced.thinkMs.max / 1000} s, ramp ${s.paced.rampS} s, for ${s.paced.durationS} s after the ramp.`,
    );
  }
  if (r.floorRun.disturbed !== null) lines.push(`- **Warning:** ${r.floorRun.disturbed}.`);
  lines.push('');
  lines.push('| | floor: model alone | system: through the fleet | overhead |');
  lines.push('| --- | --- | --- | --- |');
  lines.push(`| first token p50 / p95 / p99 (ms) | ${summaryTrio(floor.ttftMs)} | ${trio(sys.ttftMs)} | ${signedTrio(r.overhead.ttftMs)} |`);
  lines.push(`| whole reply p50 / p95 / p99 (ms) | ${summaryTrio(floor.responseMs)} | ${trio(sys.responseMs)} | ${signedTrio(r.overhead.responseMs)} |`);
  lines.push(`| messages | ${int(floor.messages)} | ${int(sys.messages)} | |`);
  lines.push(`| whole replies | ${pct(floorSuccess(floor))} | ${pct(sys.successRate)} | |`);
  lines.push(`| messages/s | ${fixed(floor.messagesPerSec)} | ${fixed(sys.messagesPerSec)} | |`);
  lines.push(`| token frames delivered/s | | ${int(sys.framesPerSec)} | |`);
  const fc = r.floorRun.cpu;
  const floorLoop = r.floor.clientEventLoop;
  const sysLoop = r.eventLoop['load clients'];
  const loop = (l: { p99Ms: number; maxMs: number } | undefined): string => (l === undefined ? '' : `${l.p99Ms} / ${l.maxMs}`);
  lines.push(`| machine busy / other processes' CPU-s | ${fixed(fc.machineBusy * 100, 0)} % / ${fixed(fc.otherSeconds)} | ${fixed(r.cpu.machineBusy * 100, 0)} % / ${fixed(r.cpu.otherSeconds)} | |`);
  lines.push(`| load clients: CPU-s, event-loop delay p99 / max (ms) | ${fixed(fc.benchSeconds)}, ${loop(floorLoop)} | ${fixed(r.cpu.benchSeconds)}, ${loop(sysLoop)} | |`);
  lines.push('');
  const cpu = r.cpu;
  lines.push('| cost over the system run | |');
  lines.push('| --- | --- |');
  lines.push(
    `| Redis commands per message | ${fixed(r.redis.commandsPerMessage)} (${fixed(r.redis.usecPerMessage)} µs of Redis time)` +
      `${r.redis.exclusive ? '' : ', other clients of that Redis included'} |`,
  );
  lines.push(
    `| most called | ${r.redis.top
      .slice(0, 6)
      .map((c) => `${c.command} ${fixed(c.perMessage)}`)
      .join(', ')} |`,
  );
  if (r.redis.shards) lines.push(`| Redis commands per primary | ${describeShards(r.redis.shards)}${shardCpu(r.redis.shards)} |`);
  for (const p of s.redis.placement ?? []) {
    if (p.holds.length > 0) lines.push(`| on ${p.node} (${int(p.slots)} slots) | ${p.holds.join(', ')} |`);
  }
  lines.push(
    `| CPU-s per 1000 tokens | ${fixed(cpu.perThousandTokens.total, 3)}: gateways ${fixed(cpu.perThousandTokens.gateways, 3)}, ` +
      `workers ${fixed(cpu.perThousandTokens.workers, 3)}, simulator ${fixed(cpu.perThousandTokens.simulator, 3)}, ` +
      `Redis ${fixed(cpu.perThousandTokens.redis, 3)}${r.redis.shards ? ` (${r.redis.shards.primaries.length} primaries)` : ''} |`,
  );
  lines.push(
    `| CPU-s over ${fixed(cpu.wallSeconds)} s | ${Object.entries(cpu.byProcess)
      .map(([name, sec]) => `${name} ${fixed(sec)}`)
      .join(', ')}, load clients ${fixed(cpu.benchSeconds)}${cpu.standbySeconds === undefined ? '' : `, replicas${s.redis.mode === 'sentinel' ? ' and Sentinels' : ''} ${fixed(cpu.standbySeconds)}`} |`,
  );
  const cores = (sec: number): string => fixed(cpu.wallSeconds > 0 ? sec / cpu.wallSeconds : 0, 2);
  lines.push(
    `| cores busy (CPU-s per second) | gateways ${cores(cpu.seconds.gateways)}, workers ${cores(cpu.seconds.workers)}, ` +
      `simulator ${cores(cpu.seconds.simulator)}, Redis ${cores(cpu.seconds.redis)}, ` +
      `${cpu.standbySeconds === undefined ? '' : `replicas${s.redis.mode === 'sentinel' ? ' and Sentinels' : ''} ${cores(cpu.standbySeconds)}, `}load clients ${cores(cpu.benchSeconds)}, ` +
      `other processes ${cores(cpu.otherSeconds)}; ${r.machine.cores} cores, ${fixed(cpu.machineBusy * 100, 0)} % busy |`,
  );
  const loops = Object.entries(r.eventLoop).filter(([name]) => name !== 'load clients');
  if (loops.length > 0) {
    lines.push(
      `| event-loop delay p99 / max (ms, 10 ms sampling) | ${loops.map(([name, l]) => `${name} ${l.p99Ms} / ${l.maxMs}`).join(', ')} |`,
    );
  }
  for (const m of r.idle) {
    lines.push(
      `| gateway memory per idle connection, ${int(m.sockets)} sockets | ${kb(m.bytesPerConnection)} ` +
        `(RSS ${fixed(m.rssBeforeBytes / 2 ** 20)} → ${fixed(m.rssAfterBytes / 2 ** 20)} MiB on ${m.gateway}, ` +
        `${int(m.opened)} opened${m.failures > 0 ? `, ${m.failures} failed: ${m.firstError ?? ''}` : ''}) |`,
    );
  }
  for (const skip of r.idleSkipped) lines.push(`| ${int(skip.sockets)} idle sockets | skipped: ${skip.reason} |`);
  if (r.paced !== null && s.paced !== null) {
    const p = r.paced;
    lines.push(
      `| ${int(p.users)} users, one message every ${s.paced.thinkMs.min / 1000}–${s.paced.thinkMs.max / 1000} s, ${p.durationS} s | ` +
        `${pct(p.successRate)} whole of ${int(p.messages)}, first token p50 / p95 / p99 ${trio(p.ttftMs)} ms, ${fixed(p.messagesPerSec)} messages/s |`,
    );
    if (r.pacedRedis?.shards) {
      lines.push(`| Redis commands per primary, paced run | ${fixed(r.pacedRedis.commandsPerMessage)} a message; ${describeShards(r.pacedRedis.shards)}${shardCpu(r.pacedRedis.shards)} |`);
    }
  }
  lines.push('');
  lines.push('| goal | target | measured | |');
  lines.push('| --- | --- | --- | --- |');
  for (const g of r.goals) lines.push(`| ${g.goal} | ${g.target} | ${g.measured} | ${mark(g)} |`);
  return lines.join('\n');
}

/** `docs` with the bench section replaced (or appended when the markers are not there yet); other sections untouched. */
export function replaceDocsSection(docs: string, body: string): string {
  const section = `${DOCS_START}\n## Benchmark (npm run bench)\n\n${body.trim()}\n${DOCS_END}`;
  const start = docs.indexOf(DOCS_START);
  const end = docs.indexOf(DOCS_END);
  if (start >= 0 && end > start) return docs.slice(0, start) + section + docs.slice(end + DOCS_END.length);
  if (start >= 0 || end >= 0) throw new Error(`docs/performance.md has one bench marker without the other (${DOCS_START} … ${DOCS_END})`);
  return `${docs.trimEnd()}\n\n${section}\n`;
}
