// The fleet's health in one table: every gateway's /health and every worker's (on its metrics
// port), once or refreshed every second.
import { probeHealth, isHealthy, type HealthBody, type InstanceHealth } from './health-probe.js';
import { LiveBlock } from './live-block.js';
import { START_HINT, type Fleet } from './fleet-endpoints.js';
import type { Style, Terminal } from './terminal.js';
import { formatTable, formatUptime, type Cell, type Column } from './text-table.js';

const COLUMNS: Column[] = [
  { header: 'instance' },
  { header: 'address' },
  { header: 'status' },
  { header: 'redis (rtt)' },
  { header: 'conns', align: 'right' },
  { header: 'sessions', align: 'right' },
  { header: 'queue', align: 'right' },
  { header: 'active', align: 'right' },
  { header: 'uptime', align: 'right' },
];

const NONE = '–';
const count = (n: number | null | undefined): string => (n === undefined || n === null ? NONE : String(n));

/** `:8088` for this machine, else host:port: the table fits 80 columns. */
function address(url: string): string {
  const hostPort = url.replace(/^https?:\/\//, '');
  return hostPort.replace(/^(127\.0\.0\.1|localhost|\[::1\])(?=:)/, '');
}

function statusCell(h: InstanceHealth, style: Style): Cell {
  if (h.body === undefined) return { text: 'down', paint: style.red };
  if (h.body.draining === true) return { text: 'draining', paint: style.yellow };
  if (isHealthy(h)) return { text: h.body.status, paint: style.green };
  return { text: h.body.status, paint: style.yellow };
}

function redisCell(b: HealthBody, style: Style): Cell {
  if (b.redis !== 'up') return { text: b.redis, paint: style.red };
  return { text: b.redisRttMs === null ? 'up' : `up ${b.redisRttMs < 10 ? b.redisRttMs.toFixed(1) : Math.round(b.redisRttMs)} ms` };
}

function row(h: InstanceHealth, style: Style): Array<Cell | string> {
  const b = h.body;
  // An instance that did not answer: the reason follows its status (see formatHealth).
  if (b === undefined) return [{ text: `${h.kind} ?`, paint: style.dim }, address(h.url), statusCell(h, style)];
  return [
    b.instance,
    address(h.url),
    statusCell(h, style),
    redisCell(b, style),
    h.kind === 'gateway' ? count(b.connections) : NONE,
    h.kind === 'gateway' ? count(b.sessions) : NONE,
    count(b.queueDepth),
    h.kind === 'worker' ? count(b.activeGenerations) : NONE,
    b.uptimeSeconds === undefined ? NONE : formatUptime(b.uptimeSeconds),
  ];
}

export async function probeFleet(fleet: Fleet): Promise<InstanceHealth[]> {
  return Promise.all([
    ...fleet.gateways.map((url) => probeHealth('gateway', url)),
    ...fleet.workers.map((url) => probeHealth('worker', url)),
  ]);
}

/** The table and a summary line under it. */
export function formatHealth(rows: readonly InstanceHealth[], style: Style): string[] {
  const [header, ...lines] = formatTable(
    COLUMNS,
    rows.map((h) => row(h, style)),
    style.bold,
  );
  const table = [header!, ...lines.map((line, i) => (rows[i]!.body === undefined ? `${line}  ${style.dim(rows[i]!.problem ?? '')}` : line))];
  const bad = rows.filter((h) => !isHealthy(h));
  const gateways = rows.filter((h) => h.kind === 'gateway').length;
  const workers = rows.length - gateways;
  const what = `${gateways} gateway${gateways === 1 ? '' : 's'}, ${workers} worker${workers === 1 ? '' : 's'}`;
  let summary: string;
  if (bad.length === 0) summary = style.green(`${what}: all ok`);
  else if (rows.every((h) => h.body === undefined)) summary = style.red(`nothing answers: ${START_HINT}`);
  else summary = style.yellow(`${what}: ${bad.length} not ok`);
  return [...table, '', summary];
}

/** Prints the table once; true when every instance is healthy. */
export async function showHealth(fleet: Fleet, term: Terminal): Promise<boolean> {
  const rows = await probeFleet(fleet);
  for (const line of formatHealth(rows, term.style)) term.line(line);
  return rows.every(isHealthy);
}

/** Redraws the table every second until `signal` aborts. */
export async function watchHealth(fleet: Fleet, term: Terminal, signal: AbortSignal, everyMs = 1000): Promise<void> {
  const block = new LiveBlock(term);
  while (!signal.aborted) {
    const started = Date.now();
    const rows = await probeFleet(fleet);
    if (signal.aborted) break;
    const stamp = term.style.dim(`${new Date().toLocaleTimeString()} · every ${everyMs / 1000} s · Ctrl-C stops`);
    block.draw([stamp, ...formatHealth(rows, term.style), ...(term.tty ? [] : [''])]);
    await sleep(Math.max(0, everyMs - (Date.now() - started)), signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
