// PromQL checks for the alert rules and the dashboard: the Prometheus project's own grammar
// (@prometheus-io/lezer-promql, the parser of Prometheus's web UI) for syntax, then a walk
// of the tree that follows which labels each sub-expression carries, so that a metric the
// processes do not export, a label a metric does not have (in a matcher, `by`, `on`,
// `group_left`), a label value that never occurs, `rate()` of a gauge or `histogram_quantile`
// without `le` is reported with the query it is in.
import { parser } from '@prometheus-io/lezer-promql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** One series name as Prometheus stores it (a histogram gives three: _bucket, _sum, _count). */
export interface SeriesInfo {
  /** The family it belongs to, as the registry names it. */
  family: string;
  type: MetricType;
  /** Labels of the family (and `le` on _bucket, `quantile` on a summary), without target labels. */
  labels: Set<string>;
  /** Known values of some labels; a matcher on these labels must be able to match one. */
  values: Map<string, Set<string>>;
  /** True for series that only grow (counters, histogram and summary parts): rate() them. */
  monotonic: boolean;
}

export type Catalog = Map<string, SeriesInfo>;

/**
 * Labels Prometheus attaches to every scraped series: `instance` (the processes also set it as a
 * default label), `job`, and what a ServiceMonitor adds in Kubernetes.
 */
export const TARGET_LABELS = new Set(['instance', 'job', 'namespace', 'pod', 'service', 'endpoint', 'container']);

/** A family as prom-client's getMetricsAsJSON() and getSingleMetric() describe it. */
export interface FamilyInfo {
  name: string;
  type: MetricType;
  labelNames: readonly string[];
}

/** The series names of every family, with their labels and, where given, label values. */
export function buildCatalog(families: readonly FamilyInfo[], knownValues: Record<string, Record<string, readonly string[]>>): Catalog {
  const catalog: Catalog = new Map();
  for (const f of families) {
    const values = new Map(Object.entries(knownValues[f.name] ?? {}).map(([label, list]) => [label, new Set(list)]));
    const labels = new Set(f.labelNames);
    const add = (name: string, extra: string[], monotonic: boolean): void => {
      catalog.set(name, { family: f.name, type: f.type, labels: new Set([...labels, ...extra]), values, monotonic });
    };
    if (f.type === 'histogram') {
      add(`${f.name}_bucket`, ['le'], true);
      add(`${f.name}_sum`, [], true);
      add(`${f.name}_count`, [], true);
    } else if (f.type === 'summary') {
      add(f.name, ['quantile'], false);
      add(`${f.name}_sum`, [], true);
      add(`${f.name}_count`, [], true);
    } else {
      add(f.name, [], f.type === 'counter');
    }
  }
  return catalog;
}

/** Syntax errors of a query, as "at <offset>: <text around it>"; empty when it parses. */
export function syntaxErrors(query: string): string[] {
  const errors: string[] = [];
  parser.parse(query).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${JSON.stringify(query.slice(Math.max(0, node.from - 20), node.to + 20))}`);
    },
  });
  return errors;
}

/** Every metric name a query selects. */
export function metricNames(query: string): string[] {
  const names: string[] = [];
  parser.parse(query).iterate({
    enter(node) {
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) names.push(query.slice(id.from, id.to));
      }
    },
  });
  return names;
}

/** Every vector selector of a query with its label matchers (label, operator, value). */
export function selectors(query: string): { metric: string; matchers: { label: string; op: string; value: string }[] }[] {
  const out: { metric: string; matchers: { label: string; op: string; value: string }[] }[] = [];
  parser.parse(query).iterate({
    enter(node) {
      if (node.name !== 'VectorSelector') return;
      const id = node.node.getChild('Identifier');
      out.push({ metric: id ? query.slice(id.from, id.to) : '', matchers: matchersOf(node.node, query) });
    },
  });
  return out;
}

function matchersOf(selector: SyntaxNode, query: string): { label: string; op: string; value: string }[] {
  const list = selector.getChild('LabelMatchers');
  if (!list) return [];
  const out: { label: string; op: string; value: string }[] = [];
  for (let m = list.firstChild; m; m = m.nextSibling) {
    if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') continue;
    const name = m.getChild('LabelName') ?? m.getChild('QuotedLabelName');
    const op = m.getChild('MatchOp');
    const value = m.getChild('StringLiteral');
    if (!name || !op || !value) continue;
    out.push({ label: unquote(query.slice(name.from, name.to)), op: query.slice(op.from, op.to), value: unquote(query.slice(value.from, value.to)) });
  }
  return out;
}

/** Range-vector functions; rate, irate and increase also need a series that only grows. */
const RANGE_FUNCTIONS = new Set([
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'predict_linear', 'changes', 'resets', 'absent_over_time', 'present_over_time',
  'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'quantile_over_time', 'stddev_over_time',
  'stdvar_over_time', 'last_over_time', 'mad_over_time', 'holt_winters', 'double_exponential_smoothing',
]);
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase']);
const GAUGE_FUNCTIONS = new Set(['delta', 'idelta', 'deriv', 'predict_linear']);
const SCALAR_FUNCTIONS = new Set(['time', 'vector', 'scalar', 'pi', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'hour', 'minute', 'month', 'year']);

interface Value {
  kind: 'vector' | 'range' | 'scalar' | 'string';
  /** Labels the series may carry; undefined: unknown (a metric outside the catalog). */
  labels: Set<string> | undefined;
  /** Series names selected inside, for the counter/gauge checks. */
  series: string[];
}

/**
 * Problems of one parsed query against the catalog: unknown metrics, unknown labels, impossible
 * label values, rate() of a gauge, aggregation or matching on a label the input lacks.
 * `external` names metrics that are fine though not in the catalog (none by default).
 */
export function labelProblems(query: string, catalog: Catalog, external: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  const text = (n: SyntaxNode): string => query.slice(n.from, n.to);
  const exprChildren = (n: SyntaxNode): SyntaxNode[] => {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) if (EXPR_NODES.has(c.name)) out.push(c);
    return out;
  };
  const groupingLabels = (n: SyntaxNode | null): string[] => {
    const g = n?.getChild('GroupingLabels');
    if (!g) return [];
    const out: string[] = [];
    for (let c = g.firstChild; c; c = c.nextSibling) if (c.name === 'LabelName' || c.name === 'QuotedLabelName') out.push(unquote(text(c)));
    return out;
  };
  const missing = (labels: string[], from: Set<string> | undefined, what: string): void => {
    if (from === undefined) return;
    for (const l of labels) if (!from.has(l)) problems.push(`${what}: label "${l}" is not on ${[...from].sort().join(', ') || '(no labels)'}`);
  };

  const visit = (n: SyntaxNode): Value => {
    switch (n.name) {
      case 'PromQL':
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
      case 'OffsetExpr': {
        const inner = exprChildren(n)[0];
        return inner ? visit(inner) : { kind: 'scalar', labels: new Set(), series: [] };
      }
      case 'NumberDurationLiteral':
        return { kind: 'scalar', labels: new Set(), series: [] };
      case 'StringLiteral':
        return { kind: 'string', labels: new Set(), series: [] };
      case 'VectorSelector':
        return selector(n);
      case 'MatrixSelector':
      case 'SubqueryExpr': {
        const inner = visit(exprChildren(n)[0]!);
        return { ...inner, kind: 'range' };
      }
      case 'FunctionCall':
        return call(n);
      case 'AggregateExpr':
        return aggregate(n);
      case 'BinaryExpr':
        return binary(n);
      default:
        problems.push(`unexpected node ${n.name} in ${JSON.stringify(text(n))}`);
        return { kind: 'vector', labels: undefined, series: [] };
    }
  };

  const selector = (n: SyntaxNode): Value => {
    const id = n.getChild('Identifier');
    const matchers = matchersOf(n, query);
    const name = id ? text(id) : matchers.find((m) => m.label === '__name__' && m.op === '=')?.value;
    if (name === undefined) {
      problems.push(`selector without a metric name: ${text(n)}`);
      return { kind: 'vector', labels: undefined, series: [] };
    }
    const info = catalog.get(name);
    if (!info) {
      if (!external.has(name)) problems.push(`metric ${name} is not exported by the gateway or the worker`);
      return { kind: 'vector', labels: undefined, series: [name] };
    }
    const labels = new Set([...info.labels, ...TARGET_LABELS]);
    for (const m of matchers) {
      if (m.label === '__name__') continue;
      if (!labels.has(m.label)) {
        problems.push(`${name}: label "${m.label}" is not on ${[...info.labels].sort().join(', ') || '(no labels of its own)'}`);
        continue;
      }
      const known = info.values.get(m.label);
      if (known === undefined || m.value.includes('$')) continue;
      if (m.op === '=' && !known.has(m.value)) problems.push(`${name}{${m.label}="${m.value}"}: no such value (${[...known].join(', ')})`);
      if (m.op === '=~') {
        // Each alternative of a plain a|b|c regex must be a value; a real regex must match one.
        const plain = /^[\w|]+$/.test(m.value);
        const re = new RegExp(`^(?:${m.value})$`);
        if (plain) {
          for (const alt of m.value.split('|')) if (!known.has(alt)) problems.push(`${name}{${m.label}=~"${m.value}"}: "${alt}" is not a value (${[...known].join(', ')})`);
        } else if (![...known].some((v) => re.test(v))) {
          problems.push(`${name}{${m.label}=~"${m.value}"}: matches no value (${[...known].join(', ')})`);
        }
      }
    }
    return { kind: 'vector', labels, series: [name] };
  };

  const call = (n: SyntaxNode): Value => {
    const fn = text(n.getChild('FunctionIdentifier')!);
    const args = exprChildren(n.getChild('FunctionCallBody')!).map((a) => ({ node: a, value: visit(a) }));
    const vectorArg = args.find((a) => a.value.kind === 'vector' || a.value.kind === 'range');
    if (RANGE_FUNCTIONS.has(fn)) {
      const range = args.find((a) => a.value.kind === 'range');
      if (!range) problems.push(`${fn}() needs a range vector: ${text(n)}`);
      for (const s of range?.value.series ?? []) {
        const info = catalog.get(s);
        if (!info) continue;
        if (COUNTER_FUNCTIONS.has(fn) && !info.monotonic) problems.push(`${fn}() of ${s}, a ${info.type}: use it on counters (or *_over_time / deriv on gauges)`);
        if (GAUGE_FUNCTIONS.has(fn) && info.monotonic) problems.push(`${fn}() of ${s}, which only grows: use rate() or increase()`);
      }
      return { kind: 'vector', labels: range?.value.labels, series: range?.value.series ?? [] };
    }
    if (fn === 'histogram_quantile') {
      const v = args[1]?.value;
      if (v?.labels !== undefined && !v.labels.has('le')) problems.push(`histogram_quantile over series without "le": ${text(n)}`);
      if (v !== undefined && v.series.some((s) => catalog.has(s) && !s.endsWith('_bucket'))) problems.push(`histogram_quantile of a series that is not a _bucket: ${text(n)}`);
      return { kind: 'vector', labels: v?.labels && new Set([...v.labels].filter((l) => l !== 'le')), series: v?.series ?? [] };
    }
    if (fn === 'absent') return { kind: 'vector', labels: new Set(), series: vectorArg?.value.series ?? [] };
    if (fn === 'label_replace' || fn === 'label_join') {
      const dst = args[1] ? unquote(text(args[1].node)) : '';
      const labels = vectorArg?.value.labels;
      return { kind: 'vector', labels: labels && new Set([...labels, dst]), series: vectorArg?.value.series ?? [] };
    }
    if (SCALAR_FUNCTIONS.has(fn) && fn !== 'vector') return { kind: 'scalar', labels: new Set(), series: [] };
    if (fn === 'vector') return { kind: 'vector', labels: new Set(), series: [] };
    return { kind: 'vector', labels: vectorArg?.value.labels, series: vectorArg?.value.series ?? [] };
  };

  const aggregate = (n: SyntaxNode): Value => {
    const op = text(n.getChild('AggregateOp')!);
    const modifier = n.getChild('AggregateModifier');
    const args = exprChildren(n.getChild('FunctionCallBody')!).map((a) => ({ node: a, value: visit(a) }));
    const input = args[args.length - 1]?.value ?? { kind: 'vector', labels: undefined, series: [] };
    const grouping = groupingLabels(modifier);
    const by = modifier?.getChild('By') !== null && modifier !== null;
    if (by) missing(grouping, input.labels, `${op} by (${grouping.join(', ')})`);
    let labels: Set<string> | undefined;
    if (op === 'topk' || op === 'bottomk' || op === 'limitk' || op === 'limit_ratio') labels = input.labels;
    else if (modifier === null) labels = new Set();
    else if (by) labels = new Set(grouping);
    else labels = input.labels && new Set([...input.labels].filter((l) => !grouping.includes(l)));
    if (op === 'count_values' && labels && args[0]) labels = new Set([...labels, unquote(text(args[0].node))]);
    return { kind: 'vector', labels, series: input.series };
  };

  const binary = (n: SyntaxNode): Value => {
    const [lhsNode, rhsNode] = exprChildren(n);
    const lhs = visit(lhsNode!);
    const rhs = visit(rhsNode!);
    const series = [...lhs.series, ...rhs.series];
    if (lhs.kind === 'scalar') return { ...rhs, series };
    if (rhs.kind === 'scalar') return { ...lhs, series };
    let opText = '';
    for (let c = lhsNode!.nextSibling; c && c.from < rhsNode!.from; c = c.nextSibling) if (!['MatchingModifierClause', 'BoolModifier'].includes(c.name)) opText = text(c);
    const clause = n.getChild('MatchingModifierClause');
    const on = clause?.getChild('On') ? groupingLabels(clause) : undefined;
    const ignoring = clause?.getChild('Ignoring') ? groupingLabels(clause) : undefined;
    // group_left/right (labels): the labels are in a second GroupingLabels of the clause.
    const groupNodes = clause ? clause.getChildren('GroupingLabels') : [];
    const include = groupNodes.length > 1 ? labelsIn(groupNodes[1]!) : [];
    const groupLeft = clause?.getChild('GroupLeft') !== null && clause !== null;
    const groupRight = clause?.getChild('GroupRight') !== null && clause !== null;
    const where = JSON.stringify(text(n).slice(0, 80));
    if (on) {
      missing(on, lhs.labels, `on (${on.join(', ')}), left side of ${where}`);
      missing(on, rhs.labels, `on (${on.join(', ')}), right side of ${where}`);
    }
    if (include.length > 0) missing(include, groupLeft ? rhs.labels : lhs.labels, `group_${groupLeft ? 'left' : 'right'} (${include.join(', ')}) in ${where}`);
    if (opText === 'and' || opText === 'unless') return { kind: 'vector', labels: lhs.labels, series };
    if (opText === 'or') return { kind: 'vector', labels: lhs.labels && rhs.labels && new Set([...lhs.labels, ...rhs.labels]), series };
    if (groupLeft) return { kind: 'vector', labels: lhs.labels && new Set([...lhs.labels, ...include]), series };
    if (groupRight) return { kind: 'vector', labels: rhs.labels && new Set([...rhs.labels, ...include]), series };
    if (on) return { kind: 'vector', labels: new Set(on), series };
    if (ignoring) return { kind: 'vector', labels: lhs.labels && new Set([...lhs.labels].filter((l) => !ignoring.includes(l))), series };
    return { kind: 'vector', labels: lhs.labels, series };
  };

  const labelsIn = (g: SyntaxNode): string[] => {
    const out: string[] = [];
    for (let c = g.firstChild; c; c = c.nextSibling) if (c.name === 'LabelName' || c.name === 'QuotedLabelName') out.push(unquote(text(c)));
    return out;
  };

  visit(parser.parse(query).topNode);
  return problems;
}

const EXPR_NODES = new Set([
  'AggregateExpr', 'BinaryExpr', 'FunctionCall', 'MatrixSelector', 'NumberDurationLiteral', 'OffsetExpr', 'ParenExpr', 'StringLiteral',
  'SubqueryExpr', 'UnaryExpr', 'VectorSelector', 'StepInvariantExpr',
]);

function unquote(s: string): string {
  const m = /^(["'`])(.*)\1$/s.exec(s);
  if (!m) return s;
  return m[1] === '`' ? m[2]! : m[2]!.replace(/\\(.)/g, '$1');
}
