// A bench result as markdown: printed at the end of a run and kept in docs/performance.md between markers.
import type { BenchResult, BuildInfo, GoalCheck, ShardCost } from './bench-result.js';
import type { Figure, LevelSummary } from './bench-summary.js';
import type { Percentiles } from '@chat-fleet/loadgen';

export const DOCS_START = '<!-- bench:start -->';
export const DOCS_END = '<!-- bench:end -->';

const trio = (p: Percentiles): string => `${p.p50} / ${p.p95} / ${p.p99}`;
const fixed = (n: number, digits = 1): string => n.toFixed(digits);
const pct = (n: number): string => `${n.toFixed(2)} %`;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

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

const num = (n: number | null | undefined, digits: number): string => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));
const ratioText = (n: number | null | undefined): string => (n === null || n === undefined ? '' : n.toFixed(2));
const think = (t: { min: number; max: number }): string => `${t.min / 1000}–${t.max / 1000} s`;

function buildLine(b: BuildInfo): string {
  const commit = b.commit === null ? 'unknown commit' : b.commit.slice(0, 7);
  if (b.build === 'new') return `new = this checkout at ${commit}`;
  const how = b.reused === true ? 'built before, reused' : `built in ${b.buildSeconds ?? '?'} s`;
  const subject = (b.subject ?? '').length > 72 ? `${(b.subject ?? '').slice(0, 71)}…` : (b.subject ?? '');
  return `baseline = \`${b.ref ?? '?'}\` = ${commit} "${subject}" (a git worktree; node_modules ${b.install === 'npm ci' ? 'from npm ci' : 'linked to this checkout\'s'}; ${how})`;
}

/** A table of figures: both builds and their ratio, or the new build alone. */
function figureTable(lines: string[], head: string, figures: readonly Figure[], withBaseline: boolean): void {
  if (withBaseline) {
    lines.push(`| ${head} | baseline | new | new / baseline |`);
    lines.push('| --- | --- | --- | --- |');
    for (const f of figures) lines.push(`| ${f.name} | ${num(f.baseline, f.digits)} | ${num(f.new, f.digits)} | ${ratioText(f.ratio)} |`);
  } else {
    lines.push(`| ${head} | new |`);
    lines.push('| --- | --- |');
    for (const f of figures) lines.push(`| ${f.name} | ${num(f.new, f.digits)} |`);
  }
}

function levelTitle(l: LevelSummary): string {
  return `${int(l.users)} users${l.paced ? ' at a realistic pace' : ''}, ${think(l.thinkMs)} think, ${l.replyTokens}-token replies`;
}

function wholeLine(l: LevelSummary, withBaseline: boolean): string {
  const w = (b: 'baseline' | 'new'): string => {
    const x = l.whole[b];
    return x === undefined ? '–' : `${x.messages - x.failures} of ${x.messages}`;
  };
  return withBaseline ? `| whole replies (all runs) | ${w('baseline')} | ${w('new')} | |` : `| whole replies (all runs) | ${w('new')} |`;
}

/** The markdown section: setup, each level's figures for both builds, the cost split, idle memory, every run, goals. */
export function formatReport(r: BenchResult): string {
  const s = r.setup;
  const sum = r.summary;
  const withBaseline = r.builds.some((b) => b.build === 'baseline');
  const lines: string[] = [];
  const commit = r.source.commit === null ? '' : ` at ${r.source.commit.slice(0, 7)}`;
  const dirty = r.source.uncommitted.length > 0 ? ` plus uncommitted changes to ${r.source.uncommitted.length} files of apps/ and packages/` : '';
  lines.push(`Measured ${r.finishedAt.slice(0, 10)}${commit}${dirty} with \`npm run bench${r.args.length > 0 ? ` -- ${r.args.join(' ')}` : ''}\`.`);
  lines.push('');
  lines.push(`- Machine: ${machineLine(r)}. Load average at the start ${r.machine.loadAverage.join(' / ')}.`);
  lines.push(`- Builds: ${r.builds.map(buildLine).join('; ')}. The load runner, the simulator (the model) and the measuring code are this checkout's for both.`);
  lines.push(
    `- Order: ${r.runs.length} metered runs, each on a fresh stack of its build (${s.gateways} gateways, ${s.workers} workers) and its own key prefix` +
      `${withBaseline ? '; baseline and new back to back at each level and reply length, the round repeated' : ', repeated'} ${s.repeat} time${s.repeat === 1 ? '' : 's'}. ` +
      `Each figure is the median over the repetitions${withBaseline ? '; the ratio is new / baseline of the medians' : ''}.`,
  );
  lines.push(
    `- Load: simulator at first token ${s.sim.ttftMs} ms, ${s.sim.tokensPerSec} tokens/s, replies of ${s.replyTokens.join(' and ')} tokens ` +
      `(the figures and goals at ${s.sim.replyTokens}); ${s.cache}. Levels of ${s.users.join(' and ')} users, think ${s.thinkMs.min}–${s.thinkMs.max} ms, ` +
      `${s.durationS} s after a ${s.rampS} s ramp${s.warmupS > 0 ? `, after ${s.warmupS} s of unmeasured warm-up on each fresh stack` : ''}` +
      `${s.paced === null ? '' : `; paced: ${s.paced.users} users, ${think(s.paced.thinkMs)} think, ${s.paced.durationS} s after a ${s.paced.rampS} s ramp`}.`,
  );
  const env = Object.entries(s.env);
  if (env.length > 0) lines.push(`- Settings given: ${env.map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`);
  lines.push(
    '- Floor: at each level, once, the same clients streaming straight from the simulator with the `openai` SDK (no gateway, worker or Redis); ' +
      'first-token overhead is the fleet\'s first token minus the floor\'s at the same percentile. CPU per 1000 tokens counts the gateways, ' +
      'workers and Redis (not the simulator or the load clients).',
  );
  lines.push(
    '- Redis commands: *executed* is INFO commandstats, where a script\'s own commands count as well as the EVALSHA that ran it; ' +
      '*sent by clients* counts each script call once: per command, the executions times the share MONITOR showed coming from a client ' +
      `rather than from \`lua\`, in a ${s.censusS} s census load after each build's first run at a level (not metered). ` +
      'The commands goal is judged on commands sent by clients.',
  );
  if (r.idle.length > 0) {
    lines.push(
      '- Idle memory: on each build\'s fresh gateways, before any load, sockets that only wait on gateway-1 (sessions created through ' +
        'gateway-2), VmRSS after minus before, divided by the sockets open (no forced GC).',
    );
  }
  for (const f of r.floors) if (f.disturbed !== null) lines.push(`- **Warning** (${f.users} users${f.paced ? ', paced' : ''}): ${f.disturbed}.`);
  for (const l of sum.levels) {
    lines.push('');
    lines.push(`**${levelTitle(l)}** (floor first token p50 / p95 / p99 ${l.floorTtftMs === null ? '–' : trio(l.floorTtftMs)} ms)`);
    lines.push('');
    figureTable(lines, 'figure (median)', l.figures, withBaseline);
    lines.push(wholeLine(l, withBaseline));
  }
  for (const sp of sum.splits) {
    lines.push('');
    lines.push(`**Cost per message and per token, ${int(sp.users)} users** (CPU = a·messages + b·tokens, solved from the ${sp.lengths[0]}- and ${sp.lengths[1]}-token runs)`);
    lines.push('');
    if (withBaseline) {
      lines.push('| process | a: CPU-ms per message, baseline / new / ratio | b: CPU-µs per token, baseline / new / ratio |');
      lines.push('| --- | --- | --- |');
    } else {
      lines.push('| process | a: CPU-ms per message | b: CPU-µs per token |');
      lines.push('| --- | --- | --- |');
    }
    for (const role of sp.roles) {
      const a = (b: 'baseline' | 'new'): number | undefined => role[b]?.msPerMessage;
      const bb = (b: 'baseline' | 'new'): number | undefined => role[b]?.usPerToken;
      const name = role.role === 'fleet' ? 'fleet (gateways + workers + Redis)' : role.role === 'redis' ? 'Redis' : role.role;
      if (withBaseline) {
        const ra = a('baseline') === undefined || a('new') === undefined || a('baseline') === 0 ? '' : ratioText((a('new') ?? 0) / (a('baseline') ?? 1));
        const rb = bb('baseline') === undefined || bb('new') === undefined || bb('baseline') === 0 ? '' : ratioText((bb('new') ?? 0) / (bb('baseline') ?? 1));
        lines.push(`| ${name} | ${num(a('baseline'), 2)} / ${num(a('new'), 2)} / ${ra} | ${num(bb('baseline'), 1)} / ${num(bb('new'), 1)} / ${rb} |`);
      } else {
        lines.push(`| ${name} | ${num(a('new'), 2)} | ${num(bb('new'), 1)} |`);
      }
    }
    const f = sp.fleetPerThousand;
    lines.push(
      withBaseline
        ? `| ${f.name} | ${num(f.baseline, 3)} / ${num(f.new, 3)} / ${ratioText(f.ratio)} | |`
        : `| ${f.name} | ${num(f.new, 3)} | |`,
    );
  }
  if (sum.idle.length > 0 || r.idleSkipped.length > 0) {
    lines.push('');
    figureTable(
      lines,
      'gateway memory per idle socket (KB)',
      sum.idle.map((f) => ({ ...f, baseline: f.baseline === null ? null : f.baseline / 1024, new: f.new === null ? null : f.new / 1024, digits: 2 })),
      withBaseline,
    );
    for (const skip of r.idleSkipped) lines.push(`| ${int(skip.sockets)} sockets | skipped: ${skip.reason} |${withBaseline ? ' | |' : ''}`);
  }
  lines.push('');
  lines.push('<details><summary>Every run, in the order run</summary>');
  lines.push('');
  lines.push('| # | build | users | tokens | repetition | messages/s | whole | first token p50 / p99 (ms) | fleet CPU-s per 1000 tokens | Redis commands per message (executed) | machine busy |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const run of r.runs) {
    const fleet = run.cpu.seconds.gateways + run.cpu.seconds.workers + run.cpu.seconds.redis;
    lines.push(
      `| ${run.index} | ${run.build} | ${int(run.users)}${run.paced ? ' paced' : ''} | ${run.replyTokens} | ${run.repetition} | ${fixed(run.system.messagesPerSec)} | ` +
        `${pct(run.system.successRate)} | ${run.system.ttftMs.p50} / ${run.system.ttftMs.p99} | ${run.system.tokens === 0 ? '–' : fixed(fleet / (run.system.tokens / 1000), 3)} | ` +
        `${fixed(run.redis.commandsPerMessage)} | ${fixed(run.cpu.machineBusy * 100, 0)} % |`,
    );
  }
  lines.push('');
  lines.push('</details>');
  lines.push('');
  lines.push('| goal (issue 17) | target | measured | |');
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
