// Writes prometheus-rule.yaml, the PrometheusRule (prometheus-operator) that infra/k8s applies,
// from prometheus/chat-fleet-alerts.yaml, the plain rule file and the one source of the rules.
//   npm run rules -w @chat-fleet/infra            write it
//   npm run rules -w @chat-fleet/infra -- --check  exit 1 if it is out of date
// infra/test/observability.test.ts fails when the two disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const source = fileURLToPath(new URL('prometheus/chat-fleet-alerts.yaml', import.meta.url));
const target = fileURLToPath(new URL('prometheus-rule.yaml', import.meta.url));

const { groups } = parse(readFileSync(source, 'utf8'));
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'chat-fleet-alerts',
    labels: {
      'app.kubernetes.io/name': 'chat-fleet-alerts',
      'app.kubernetes.io/component': 'monitoring',
      'app.kubernetes.io/part-of': 'chat-fleet',
    },
  },
  spec: { groups },
};
const text =
  '# GENERATED from prometheus/chat-fleet-alerts.yaml by sync-prometheus-rule.mjs: edit that file,\n' +
  '# then run `npm run rules -w @chat-fleet/infra`. If the Prometheus of the cluster selects rules\n' +
  '# by label (kube-prometheus-stack: release=<name>), add the label with a kustomize patch.\n' +
  stringify(rule, { lineWidth: 0 });

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing: out of date
  }
  if (current !== text) {
    process.stderr.write(`${target} is out of date: npm run rules -w @chat-fleet/infra\n`);
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
