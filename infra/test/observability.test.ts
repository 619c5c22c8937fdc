// infra/observability: the alert rules, the PrometheusRule written from them and the Grafana
// dashboard. Every query parses with the Prometheus project's grammar and names only metrics,
// labels and label values the processes export: the metric catalog is read from the real
// registries (GatewayMetrics, WorkerMetrics, RedisClientMetrics) in the built dist files of
// apps/gateway, apps/llm-worker and packages/shared, so a renamed metric fails here.
// Wherever promtool is installed (CI installs Debian's `prometheus`), the rules also go through
// `promtool check rules` and the unit tests of chat-fleet-alerts.test.yaml.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { ERROR_CODES } from '@chat-fleet/shared';
import { parse } from 'yaml';
import { dig, loadObjects } from './kustomize.js';
import { buildCatalog, labelProblems, selectors, syntaxErrors, type Catalog, type FamilyInfo, type MetricType } from './promql.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OBS = `${ROOT}infra/observability/`;
const RULES_FILE = `${OBS}prometheus/chat-fleet-alerts.yaml`;
const RULES_TEST_FILE = `${OBS}prometheus/chat-fleet-alerts.test.yaml`;
const PROMETHEUS_RULE_FILE = `${OBS}prometheus-rule.yaml`;
const DASHBOARD_FILE = `${OBS}grafana/chat-fleet-dashboard.json`;
const OPERATIONS_DOC = `${ROOT}docs/operations.md`;
const DIST = {
  gateway: `${ROOT}apps/gateway/dist/metrics.js`,
  worker: `${ROOT}apps/llm-worker/dist/metrics.js`,
  shared: `${ROOT}packages/shared/dist/index.js`,
};

/**
 * Values the code gives each enumerated label (apps/gateway/src/metrics.ts and its callers,
 * apps/llm-worker/src/generation.ts, run-worker.ts, packages/shared/src/telemetry): a query
 * matching `result="failure"` matches nothing, and this catches it.
 */
const LABEL_VALUES: Record<string, Record<string, readonly string[]>> = {
  chat_messages_total: { result: ['accepted', 'completed', 'cancelled', 'failed', 'rejected'] },
  chat_cache_requests_total: { result: ['hit', 'coalesced', 'miss'] },
  chat_resumes_total: { result: ['replayed', 'not_found', 'failed'] },
  chat_cancels_total: { result: ['running', 'queued', 'finished', 'not_found'] },
  chat_errors_total: { code: ERROR_CODES },
  llm_tokens_total: { kind: ['prompt', 'completion'] },
  llm_replies_total: { source: ['model', 'cache', 'coalesced'] },
  llm_budget_waits_total: { reason: ['rpm', 'tpm'] },
  llm_request_duration_seconds: { outcome: ['ok', 'error', 'cancelled'] },
  chat_queue_jobs: { state: ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] },
  chat_redis_command_seconds: { client: ['commands', 'subscriber', 'bullmq'] },
  chat_redis_reconnects_total: { client: ['commands', 'subscriber', 'bullmq'] },
  chat_redis_up: { client: ['commands', 'subscriber', 'bullmq'] },
};

interface Registry {
  getMetricsAsJSON(): Promise<{ name: string; type: string }[]>;
  getSingleMetric(name: string): { labelNames?: readonly string[] } | undefined;
  clear(): void;
}

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: Rule[];
}

const rulesText = readFileSync(RULES_FILE, 'utf8');
const groups = (parse(rulesText) as { groups: RuleGroup[] }).groups;
const alerts = groups.flatMap((g) => g.rules);
/** The parts of Grafana's dashboard model the tests read (checked at run time below). */
interface Target {
  expr: string;
  refId: string;
  datasource?: unknown;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: unknown;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  definition?: string;
  [key: string]: unknown;
}
interface Dashboard {
  uid: string;
  id: unknown;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}
const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
const operations = existsSync(OPERATIONS_DOC) ? readFileSync(OPERATIONS_DOC, 'utf8') : '';

/** Families of the three registries, each as prom-client describes it. */
let families: (FamilyInfo & { process: 'gateway' | 'worker' | 'redis' })[] = [];
let catalog: Catalog = new Map();

beforeAll(async () => {
  for (const file of Object.values(DIST)) {
    if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx turbo run build)`);
  }
  // Loaded at run time from the built files, so typecheck and lint need no build of the apps.
  const gatewayModule = (await import(pathToFileURL(DIST.gateway).href)) as { GatewayMetrics: new (labels: Record<string, string>) => { registry: Registry } };
  const workerModule = (await import(pathToFileURL(DIST.worker).href)) as {
    WorkerMetrics: new (labels: Record<string, string>, counts: () => Promise<Record<string, number>>) => { registry: Registry };
  };
  const sharedModule = (await import(pathToFileURL(DIST.shared).href)) as { RedisClientMetrics: new (registry: Registry) => unknown };
  // prom-client as packages/shared resolves it: the Registry class RedisClientMetrics expects.
  const promClientPath = createRequire(DIST.shared).resolve('prom-client');
  const promClient = (await import(pathToFileURL(promClientPath).href)) as { Registry: new () => Registry };

  const gateway = new gatewayModule.GatewayMetrics({ instance: 'test-gateway' }).registry;
  const worker = new workerModule.WorkerMetrics({ instance: 'test-worker' }, () => Promise.resolve({ waiting: 0, active: 0 })).registry;
  const redis = new promClient.Registry();
  new sharedModule.RedisClientMetrics(redis);

  const describeRegistry = async (registry: Registry, process: 'gateway' | 'worker' | 'redis'): Promise<typeof families> =>
    (await registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: m.type as MetricType, labelNames: registry.getSingleMetric(m.name)?.labelNames ?? [], process }));
  families = [...(await describeRegistry(gateway, 'gateway')), ...(await describeRegistry(worker, 'worker')), ...(await describeRegistry(redis, 'redis'))];
  for (const r of [gateway, worker, redis]) r.clear();
  catalog = buildCatalog(families, LABEL_VALUES);
});

describe('the metric catalog', () => {
  test('holds every family the brief names, from the real registries', () => {
    const names = new Set(families.map((f) => f.name));
    for (const name of [
      'chat_ws_connections', 'chat_sessions_active', 'chat_messages_total', 'chat_first_token_seconds', 'chat_response_seconds',
      'chat_cache_requests_total', 'chat_rate_limited_total', 'chat_errors_total', 'chat_accept_seconds', 'chat_inflight_replies',
      'chat_resumes_total', 'chat_cancels_total', 'chat_ws_closes_total', 'llm_request_duration_seconds', 'llm_first_token_seconds',
      'llm_tokens_total', 'chat_queue_wait_seconds', 'llm_upstream_errors_total', 'llm_active_generations', 'llm_replies_total',
      'llm_budget_waits_total', 'llm_upstream_retries_total', 'llm_reply_restarts_total', 'chat_queue_jobs', 'llm_cancels_total',
      'chat_redis_command_seconds', 'chat_redis_reconnects_total', 'chat_redis_up', 'process_cpu_seconds_total',
      'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes',
    ]) {
      expect([name, names.has(name)]).toEqual([name, true]);
    }
    // Histograms are stored as three series, with `le` on the buckets.
    expect(catalog.get('chat_first_token_seconds_bucket')?.labels.has('le')).toBe(true);
    expect(catalog.has('chat_first_token_seconds_count')).toBe(true);
    expect([...(catalog.get('chat_redis_command_seconds_bucket')?.labels ?? [])].sort()).toEqual(['client', 'command', 'le']);
    // Every enumerated label of the table above is a label of its family.
    for (const [family, labels] of Object.entries(LABEL_VALUES)) {
      const f = families.find((x) => x.name === family);
      for (const label of Object.keys(labels)) expect([family, label, f?.labelNames.includes(label)]).toEqual([family, label, true]);
    }
  });

  test('the checker itself rejects what it should', () => {
    expect(syntaxErrors('sum(rate(chat_messages_total[5m])')).not.toEqual([]);
    expect(syntaxErrors('sum by (result) (rate(chat_messages_total[5m]))')).toEqual([]);
    const problems = (q: string): string[] => labelProblems(q, catalog);
    expect(problems('rate(chat_message_total[5m])')).toEqual([expect.stringContaining('chat_message_total is not exported')]);
    expect(problems('chat_messages_total{status="failed"}')).toEqual([expect.stringContaining('label "status"')]);
    expect(problems('chat_messages_total{result="failure"}')).toEqual([expect.stringContaining('no such value')]);
    expect(problems('chat_queue_jobs{state=~"waiting|queued"}')).toEqual([expect.stringContaining('"queued" is not a value')]);
    expect(problems('rate(chat_ws_connections[5m])')).toEqual([expect.stringContaining('a gauge')]);
    expect(problems('rate(chat_messages_total)')).toEqual([expect.stringContaining('needs a range vector')]);
    expect(problems('histogram_quantile(0.9, sum by (instance) (rate(chat_first_token_seconds_bucket[5m])))')).toEqual([expect.stringContaining('without "le"')]);
    expect(problems('histogram_quantile(0.9, rate(chat_first_token_seconds_count[5m]))')).toEqual([
      expect.stringContaining('without "le"'),
      expect.stringContaining('not a _bucket'),
    ]);
    expect(problems('sum by (code) (rate(chat_messages_total[5m]))')).toEqual([expect.stringContaining('label "code"')]);
    expect(problems('sum by (instance) (chat_ws_connections) / on (result) sum by (instance) (chat_sessions_active)')).toHaveLength(2);
    expect(problems('sum(rate(chat_messages_total[5m])) / ignoring (result) group_left (kind) sum(rate(llm_tokens_total[5m]))')).toEqual([
      expect.stringContaining('group_left (kind)'),
    ]);
    expect(problems('max by (namespace, state) (chat_queue_jobs{state=~"waiting|prioritized"}) and on (namespace, instance) chat_ws_connections')).toEqual([
      expect.stringContaining('label "instance"'),
    ]);
    expect(problems('sum by (namespace, le) (rate(chat_redis_command_seconds_bucket{client="commands", command="xadd"}[5m]))')).toEqual([]);
  });
});

describe('alert rules', () => {
  test('are a rule file of alerts with a window, a severity, a summary, a description and a runbook', () => {
    expect(groups.length).toBeGreaterThan(0);
    const names = alerts.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of alerts) {
      const name = r.alert ?? `record ${r.record}`;
      expect([name, typeof r.alert, typeof r.expr]).toEqual([name, 'string', 'string']);
      expect([name, r.for]).toEqual([name, expect.stringMatching(/^\d+[smh]$/)]);
      expect([name, r.labels?.severity]).toEqual([name, expect.stringMatching(/^(warning|critical)$/)]);
      expect([name, Object.keys(r.annotations ?? {}).sort()]).toEqual([name, ['description', 'runbook_url', 'summary']]);
      expect([name, r.annotations?.runbook_url]).toEqual([name, `docs/operations.md#${r.alert?.toLowerCase()}`]);
    }
  });

  test('cover what the issue asks for', () => {
    const exprOf = (name: string): string => alerts.find((r) => r.alert === name)?.expr ?? '';
    expect(exprOf('ChatFirstTokenP99High')).toMatch(/histogram_quantile\(0\.99, .*chat_first_token_seconds_bucket/);
    expect(exprOf('ChatErrorRatioHigh')).toContain('chat_messages_total{result="failed"}');
    expect(exprOf('ChatQueueBacklog')).toContain('chat_queue_jobs');
    expect(exprOf('ChatQueueWaitHigh')).toContain('chat_queue_wait_seconds_bucket');
    expect(exprOf('ChatRedisDown')).toMatch(/chat_redis_up\) == 0/);
    expect(exprOf('ChatRedisUpAbsent')).toContain('absent(chat_redis_up)');
    expect(exprOf('ChatGatewayEventLoopLagHigh')).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(exprOf('ChatGatewayCpuSaturated')).toContain('process_cpu_seconds_total');
    expect(exprOf('ChatGatewayConnectionsHigh')).toContain('chat_ws_connections');
    expect(exprOf('ChatWorkersDown')).toContain('llm_active_generations');
    expect(exprOf('ChatQueueStalled')).toContain('chat_queue_wait_seconds_count');
    expect(exprOf('ChatUpstreamErrorRatioHigh')).toContain('llm_upstream_errors_total');
    // chat_queue_jobs is fleet-wide: every worker reports it, so it is never summed over workers.
    for (const r of alerts) if (r.expr.includes('chat_queue_jobs')) expect(r.expr).toMatch(/max by \([^)]*\) \(chat_queue_jobs/);
  });

  test.each(alerts.map((r) => [r.alert!, r.expr] as const))('%s parses and names only exported metrics and labels', (_name, expr) => {
    expect(syntaxErrors(expr)).toEqual([]);
    expect(labelProblems(expr, catalog)).toEqual([]);
  });

  test('the PrometheusRule applied by infra/k8s holds exactly these groups, and is up to date', () => {
    const [rule, ...rest] = loadObjects(PROMETHEUS_RULE_FILE);
    expect(rest).toEqual([]);
    expect(rule!.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule!.kind).toBe('PrometheusRule');
    expect(dig(rule, ['spec', 'groups'])).toEqual(groups);
    // Byte for byte what the script writes: `npm run rules -w @chat-fleet/infra` after an edit.
    const check = spawnSync(process.execPath, [`${OBS}sync-prometheus-rule.mjs`, '--check'], { encoding: 'utf8' });
    expect([check.status, check.stderr]).toEqual([0, '']);
  });

  test('each runbook link is a section of docs/operations.md', () => {
    const anchors = headingAnchors(operations);
    for (const r of alerts) {
      const anchor = r.annotations!.runbook_url!.split('#')[1]!;
      expect([r.alert, anchors.has(anchor)]).toEqual([r.alert, true]);
    }
  });

  (hasPromtool || process.env.CI === 'true' ? test : test.skip)('promtool checks the rules and passes their unit tests', () => {
    // CI installs promtool (.ci/run); on a machine without it this test is skipped.
    const check = spawnSync('promtool', ['check', 'rules', RULES_FILE], { encoding: 'utf8' });
    expect([check.status, check.stderr]).toEqual([0, '']);
    expect(check.stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
    const unit = spawnSync('promtool', ['test', 'rules', RULES_TEST_FILE], { encoding: 'utf8' });
    expect([unit.status, `${unit.stdout}${unit.stderr}`]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  test('every alert has a unit test that makes it fire', () => {
    const tests = (parse(readFileSync(RULES_TEST_FILE, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests;
    const fired = new Set(tests.flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    for (const r of alerts) expect([r.alert, fired.has(r.alert!)]).toEqual([r.alert, true]);
  });
});

describe('Grafana dashboard', () => {
  const panels = dashboard.panels;
  const queryPanels = panels.filter((p) => p.type !== 'row');
  const variables = dashboard.templating.list;
  const targets = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  test('is a dashboard of schema 39 or later with a Prometheus datasource variable and instance/job filters', () => {
    expect(dashboard.uid).toBe('chat-fleet');
    expect(dashboard.id).toBeNull();
    expect(Number(dashboard.schemaVersion)).toBeGreaterThanOrEqual(39);
    const byName = new Map(variables.map((v) => [v.name, v]));
    expect(byName.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['namespace', 'job', 'instance']) {
      expect(byName.get(name)).toMatchObject({ type: 'query', includeAll: true, allValue: '.*', datasource: { type: 'prometheus', uid: '${datasource}' } });
    }
  });

  test('has the rows an operator asks for, each with panels', () => {
    const rows = panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Overview', 'Traffic', 'Latency', 'Errors', 'Cache', 'Capacity', 'Usage', 'Tools', 'Admin']);
    const titles = queryPanels.map((p) => p.title);
    for (const t of ['Messages / s by result', 'WebSocket connections', 'First token (gateway)', 'Error ratio', 'Replies by source (gateway)', 'Queue jobs by state', 'Event-loop lag p99', 'Redis command p99 by command', 'Redis clients up']) {
      expect(titles).toContain(t);
    }
  });

  test('every panel queries the datasource variable, and the panels fit the grid without overlapping', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const title = p.title;
      expect([title, typeof title, typeof p.id]).toEqual([title, 'string', 'number']);
      if (p.type !== 'row') {
        expect([title, p.datasource]).toEqual([title, { type: 'prometheus', uid: '${datasource}' }]);
        const ts = p.targets ?? [];
        expect([title, ts.length > 0]).toEqual([title, true]);
        for (const t of ts) expect([title, t.datasource, typeof t.expr, typeof t.refId]).toEqual([title, { type: 'prometheus', uid: '${datasource}' }, 'string', 'string']);
      }
      const g = p.gridPos;
      expect([title, g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0]).toEqual([title, true]);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect([title, cells.has(`${x},${y}`)]).toEqual([title, false]);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  test('every query parses and names only exported metrics, labels and values', () => {
    const problems = targets.flatMap(({ panel, expr }) => {
      const q = grafanaInterpolate(expr);
      return [...syntaxErrors(q), ...labelProblems(q, catalog)].map((p) => `${panel}: ${p}`);
    });
    expect(problems).toEqual([]);
    // The variables' own queries: label_values(<selector>, <label>).
    for (const v of variables.filter((x) => x.type === 'query')) {
      const m = /^label_values\((.+), (\w+)\)$/.exec(v.definition ?? '');
      expect([v.name, m !== null]).toEqual([v.name, true]);
      const q = grafanaInterpolate(m![1]!);
      expect([v.name, syntaxErrors(q), labelProblems(q, catalog), catalog.get(selectors(q)[0]!.metric)?.labels.has(m![2]!) || ['namespace', 'job', 'instance'].includes(m![2]!)]).toEqual([v.name, [], [], true]);
    }
  });

  test('every selector honours the namespace, job and instance filters', () => {
    for (const { panel, expr } of targets) {
      for (const s of selectors(expr)) {
        const filters = s.matchers.filter((m) => m.op === '=~').map((m) => `${m.label}=${m.value}`);
        expect([panel, s.metric, filters]).toEqual([panel, s.metric, expect.arrayContaining(['namespace=$namespace', 'job=$job', 'instance=$instance'])]);
      }
    }
  });

  test('shows every chat_* and llm_* family the processes export', () => {
    const used = new Set(targets.flatMap(({ expr }) => selectors(expr).map((s) => catalog.get(s.metric)?.family ?? s.metric)));
    const ours = [...new Set(families.map((f) => f.name))].filter((n) => /^(chat|llm)_/.test(n));
    expect(ours.filter((n) => !used.has(n))).toEqual([]);
  });
});

describe('docs/operations.md', () => {
  test('explains every chat_* and llm_* metric and every alert', () => {
    const ours = [...new Set(families.map((f) => f.name))].filter((n) => /^(chat|llm)_/.test(n));
    expect(ours.filter((n) => !operations.includes(`\`${n}\``))).toEqual([]);
    const anchors = headingAnchors(operations);
    expect(alerts.map((r) => r.alert!).filter((a) => !anchors.has(a.toLowerCase()))).toEqual([]);
  });

  test('states each alert threshold as the rule file has it', () => {
    // The section of each alert quotes its expression, so a changed threshold shows up here.
    for (const r of alerts) {
      const section = sectionOf(operations, r.alert!);
      expect([r.alert, section.includes(r.expr.trim())]).toEqual([r.alert, true]);
      expect([r.alert, section.includes(`for: ${r.for}`) || section.includes(`for ${r.for}`)]).toEqual([r.alert, true]);
    }
  });
});

/** Grafana's variables as a query reaches Prometheus with every filter on "All". */
function grafanaInterpolate(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{?(\w+)\}?/g, (whole, name: string) => (['namespace', 'job', 'instance'].includes(name) ? '.*' : whole));
}

/** GitHub's anchor of each heading: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return out;
}

/** The text under the heading named `title`, to the next heading of the same or a higher level. */
function sectionOf(markdown: string, title: string): string {
  const m = new RegExp(`^(#{1,6}) ${title}\\s*$`, 'm').exec(markdown);
  if (!m) return '';
  const rest = markdown.slice(m.index + m[0].length);
  const end = new RegExp(`^#{1,${m[1]!.length}} `, 'm').exec(rest);
  return end ? rest.slice(0, end.index) : rest;
}
