// infra/k8s: renders every kustomization without kubectl (and compares with `kubectl kustomize`
// where it is installed), validates every object against its schema, and checks the rules a
// platform team reviews: probes, security contexts, resources, drain timing, pinned images,
// budgets and selectors that select something, and no secret outside a Secret.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { loadGatewayConfig, loadWorkerConfig } from '@chat-fleet/shared';
import { parse, parseAllDocuments } from 'yaml';
import { schemaErrors } from './k8s-schemas.js';
import { dig, isObject, itemId, loadObjects, podContainers, renderKustomization, splitImage, type Json, type JsonObject, type KObject } from './kustomize.js';

const K8S = fileURLToPath(new URL('../k8s/', import.meta.url));
const DIRS = { root: K8S, base: `${K8S}base`, dev: `${K8S}overlays/dev`, prod: `${K8S}overlays/prod` } as const;
const rendered = {
  root: renderKustomization(DIRS.root),
  base: renderKustomization(DIRS.base),
  dev: renderKustomization(DIRS.dev),
  prod: renderKustomization(DIRS.prod),
};
const OVERLAYS = [
  { overlay: 'dev', namespace: 'chat-fleet-dev', objects: rendered.dev },
  { overlay: 'prod', namespace: 'chat-fleet', objects: rendered.prod },
] as const;
const SECRET_EXAMPLE = `${DIRS.prod}/secret.example.yaml`;
/** apps/llm-worker/src/main.ts: replies in progress get this long after SIGTERM. */
const WORKER_SHUTDOWN_DEADLINE_S = 25;
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

describe('rendering', () => {
  test('the root kustomization is the dev overlay: the whole fleet, self-contained', () => {
    expect(rendered.root).toEqual(rendered.dev);
    const ids = rendered.root.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort();
    expect(ids).toEqual(
      expect.arrayContaining([
        'Namespace/chat-fleet-dev',
        'ConfigMap/chat-fleet-config',
        'Secret/chat-fleet-secrets',
        'Deployment/gateway',
        'Deployment/llm-worker',
        'Deployment/llm-sim',
        'Deployment/mcp-tools',
        'StatefulSet/redis',
        'Service/gateway',
        'Service/llm-worker-metrics',
        'Service/redis',
        'Service/llm-sim',
        'Service/mcp-tools',
        'HorizontalPodAutoscaler/gateway',
        'ScaledObject/llm-worker',
        'PodDisruptionBudget/gateway',
        'PodDisruptionBudget/llm-worker',
        'ServiceMonitor/gateway',
        'ServiceMonitor/llm-worker',
        'PrometheusRule/chat-fleet-alerts',
        'ConfigMap/chat-fleet-dashboard',
        'NetworkPolicy/default-deny',
      ]),
    );
  });

  test('prod has no Redis, no simulator and no example tools server of its own', () => {
    const kinds = rendered.prod.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).not.toContain('StatefulSet/redis');
    expect(kinds).not.toContain('Deployment/llm-sim');
    expect(kinds).not.toContain('Deployment/mcp-tools');
  });

  test('dev workers name the tools server in MCP_SERVERS, at its Service and port', () => {
    const cm = rendered.dev.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('chat-fleet-config-'))!;
    const svc = rendered.dev.find((o) => o.kind === 'Service' && o.metadata.name === 'mcp-tools')!;
    const port = dig(asList(dig(svc, ['spec', 'ports']))[0], ['port']);
    expect(dig(cm, ['data', 'MCP_SERVERS'])).toBe(`tools=http://mcp-tools:${text(port)}/mcp`);
  });

  // CI has no kubectl; where it is installed the renderer must agree with it exactly.
  const kubectlRenders = hasKubectl ? Promise.all(Object.values(DIRS).map(kubectlKustomize)) : Promise.resolve([]);
  kubectlRenders.catch(() => undefined); // reported by the tests that await it
  (hasKubectl ? test.each(Object.entries(DIRS)) : test.skip.each(Object.entries(DIRS)))(
    '%s: the renderer and `kubectl kustomize` give the same objects',
    async (name) => {
      const out = (await kubectlRenders)[Object.keys(DIRS).indexOf(name)]!;
      const theirs = parseAllDocuments(out).map((d) => d.toJS() as KObject);
      const byId = (objs: KObject[]): Map<string, KObject> => new Map(objs.map((o) => [itemId(o), o]));
      const mine = byId(rendered[name as keyof typeof rendered]);
      const kubectl = byId(theirs);
      expect([...mine.keys()].sort()).toEqual([...kubectl.keys()].sort());
      for (const [id, obj] of kubectl) expect({ id, obj: mine.get(id) }).toEqual({ id, obj });
    },
  );
});

describe.each(OVERLAYS)('$overlay overlay', ({ overlay, namespace, objects }) => {
  const of = (kind: string): KObject[] => objects.filter((o) => o.kind === kind);
  const one = (kind: string, name: string): KObject => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`${overlay}: no ${kind} ${name}`);
    return found;
  };
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  const podLabels = (w: KObject): JsonObject => asMap(dig(w, ['spec', 'template', 'metadata', 'labels']));
  const podSpec = (w: KObject): JsonObject => asMap(dig(w, ['spec', 'template', 'spec']));
  const containerOf = (w: KObject): JsonObject => podContainers(w)[0]!;
  const configMap = (name: string): JsonObject => asMap(one('ConfigMap', name).data);
  /** The environment a container starts with: its ConfigMaps, then its literal env values. */
  const envOf = (container: JsonObject): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const from of asList(container.envFrom)) {
      const ref = dig(from, ['configMapRef', 'name']);
      if (typeof ref === 'string') Object.assign(env, configMap(ref));
    }
    for (const e of asList(container.env)) if (isObject(e) && typeof e.value === 'string') env[text(e.name)] = e.value;
    return env;
  };
  const secretRefs = (container: JsonObject): { name: string; key: string; optional: boolean }[] =>
    asList(container.env).flatMap((e) => {
      const ref = dig(e, ['valueFrom', 'secretKeyRef']);
      return isObject(ref) ? [{ name: text(ref.name), key: text(ref.key), optional: ref.optional === true }] : [];
    });

  test('every object passes its schema, strictly', () => {
    const failures = objects.flatMap((o) => schemaErrors(o).map((e) => `${o.kind}/${o.metadata.name}: ${e}`));
    expect(failures).toEqual([]);
  });

  test(`every namespaced object is in ${namespace}, which enforces the restricted pod security`, () => {
    for (const o of objects) if (o.kind !== 'Namespace') expect([o.kind, o.metadata.namespace]).toEqual([o.kind, namespace]);
    const ns = one('Namespace', namespace);
    expect(dig(ns, ['metadata', 'labels', 'pod-security.kubernetes.io/enforce'])).toBe('restricted');
  });

  test('every container has probes, requests and limits, and a pinned image', () => {
    for (const w of workloads) {
      for (const c of podContainers(w)) {
        const where = `${w.metadata.name}/${text(c.name)}`;
        expect([where, isObject(c.readinessProbe), isObject(c.livenessProbe)]).toEqual([where, true, true]);
        for (const path of [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'cpu'], ['limits', 'memory']]) {
          expect([where, path.join('.'), typeof dig(c.resources, path)]).toEqual([where, path.join('.'), 'string']);
        }
        const { tag, digest } = splitImage(text(c.image));
        expect([where, digest !== undefined || (tag !== undefined && tag !== 'latest')]).toEqual([where, true]);
        // A named probe port must be one the container declares.
        const ports = new Set(asList(c.ports).map((p) => dig(p, ['name'])));
        for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
          const port = dig(c[probe], ['httpGet', 'port']) ?? dig(c[probe], ['tcpSocket', 'port']);
          if (typeof port === 'string') expect([where, probe, ports.has(port)]).toEqual([where, probe, true]);
        }
      }
    }
  });

  test('every pod runs non-root, read-only, without privileges or a service-account token', () => {
    for (const w of workloads) {
      const spec = podSpec(w);
      const name = w.metadata.name;
      expect([name, spec.automountServiceAccountToken]).toEqual([name, false]);
      expect([name, dig(spec, ['securityContext', 'runAsNonRoot'])]).toEqual([name, true]);
      expect([name, dig(spec, ['securityContext', 'seccompProfile', 'type'])]).toEqual([name, 'RuntimeDefault']);
      const uid = dig(spec, ['securityContext', 'runAsUser']);
      expect([name, typeof uid === 'number' && uid > 0]).toEqual([name, true]);
      for (const c of podContainers(w)) {
        const sc = asMap(c.securityContext);
        expect([name, sc.allowPrivilegeEscalation, sc.readOnlyRootFilesystem, sc.privileged ?? false]).toEqual([name, false, true, false]);
        expect([name, dig(sc, ['capabilities', 'drop'])]).toEqual([name, ['ALL']]);
        expect([name, dig(sc, ['capabilities', 'add']) ?? []]).toEqual([name, []]);
      }
    }
  });

  test('the gateway is ready on /ready, alive on /health, and drains within its grace period', () => {
    const gateway = one('Deployment', 'gateway');
    const c = containerOf(gateway);
    expect(dig(c, ['readinessProbe', 'httpGet', 'path'])).toBe('/ready');
    expect(dig(c, ['livenessProbe', 'httpGet', 'path'])).toBe('/health');
    const preStop = dig(c, ['lifecycle', 'preStop', 'exec', 'command']);
    expect(preStop).toEqual(['sleep', expect.stringMatching(/^\d+$/)]);
    const preStopMs = Number((preStop as string[])[1]) * 1000;
    const drainMs = Number(envOf(c).DRAIN_TIMEOUT_MS ?? DEFAULT_DRAIN_TIMEOUT_MS);
    const graceMs = Number(podSpec(gateway).terminationGracePeriodSeconds) * 1000;
    // Past the grace period the kubelet kills the pod with its sockets still open.
    expect(graceMs).toBeGreaterThanOrEqual(preStopMs + drainMs + 5000);
  });

  test('the worker is checked on /health and has time to finish its replies', () => {
    const worker = one('Deployment', 'llm-worker');
    const c = containerOf(worker);
    expect(dig(c, ['readinessProbe', 'httpGet', 'path'])).toBe('/health');
    expect(dig(c, ['livenessProbe', 'httpGet', 'path'])).toBe('/health');
    expect(Number(podSpec(worker).terminationGracePeriodSeconds)).toBeGreaterThan(WORKER_SHUTDOWN_DEADLINE_S + 5);
  });

  test('gateway and worker scale automatically, keep a disruption budget, and leave the count to the autoscaler', () => {
    const hpa = one('HorizontalPodAutoscaler', 'gateway');
    expect(dig(hpa, ['spec', 'scaleTargetRef'])).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway' });
    expect(Number(dig(hpa, ['spec', 'minReplicas']))).toBeGreaterThanOrEqual(2);
    const metrics = asList(dig(hpa, ['spec', 'metrics']));
    const signals = metrics.map((m) => dig(m, ['resource', 'name']) ?? dig(m, ['pods', 'metric', 'name']));
    expect(signals).toEqual(expect.arrayContaining(['cpu', 'chat_ws_connections']));

    const scaled = one('ScaledObject', 'llm-worker');
    expect(dig(scaled, ['spec', 'scaleTargetRef', 'name'])).toBe('llm-worker');
    expect(Number(dig(scaled, ['spec', 'minReplicaCount']))).toBeGreaterThanOrEqual(2);
    const triggers = asList(dig(scaled, ['spec', 'triggers']));
    expect(triggers).toHaveLength(1);
    const query = text(dig(triggers[0], ['metadata', 'query']));
    // Queue depth of this namespace's fleet, counted once however many workers report it.
    expect(query).toContain('chat_queue_jobs');
    expect(query).toContain(`namespace="${namespace}"`);
    expect(query).toMatch(/max by \(state\)/);

    for (const name of ['gateway', 'llm-worker']) {
      const deployment = one('Deployment', name);
      expect([name, dig(deployment, ['spec', 'replicas'])]).toEqual([name, undefined]);
      const budgets = of('PodDisruptionBudget').filter((pdb) => selects(dig(pdb, ['spec', 'selector', 'matchLabels']), podLabels(deployment)));
      expect([name, budgets.length]).toEqual([name, 1]);
      expect([name, dig(budgets[0], ['spec', 'maxUnavailable'])]).toEqual([name, 1]);
    }
  });

  test('selectors select: workloads their pods, budgets and Services a workload, ServiceMonitors a Service port', () => {
    for (const w of workloads) {
      expect([w.metadata.name, selects(dig(w, ['spec', 'selector', 'matchLabels']), podLabels(w))]).toEqual([w.metadata.name, true]);
    }
    const selected = (selector: Json | undefined): KObject[] => workloads.filter((w) => selects(selector, podLabels(w)));
    for (const pdb of of('PodDisruptionBudget')) {
      expect([pdb.metadata.name, selected(dig(pdb, ['spec', 'selector', 'matchLabels'])).length]).toEqual([pdb.metadata.name, 1]);
    }
    for (const svc of of('Service')) {
      const targets = selected(dig(svc, ['spec', 'selector']));
      expect([svc.metadata.name, targets.length]).toEqual([svc.metadata.name, 1]);
      const declared = new Set(podContainers(targets[0]!).flatMap((c) => asList(c.ports).map((p) => dig(p, ['name']))));
      for (const port of asList(dig(svc, ['spec', 'ports']))) {
        const target = dig(port, ['targetPort']);
        if (typeof target === 'string') expect([svc.metadata.name, target, declared.has(target)]).toEqual([svc.metadata.name, target, true]);
      }
    }
    for (const sm of of('ServiceMonitor')) {
      const services = of('Service').filter((s) => selects(dig(sm, ['spec', 'selector', 'matchLabels']), asMap(s.metadata.labels)));
      expect([sm.metadata.name, services.length]).toEqual([sm.metadata.name, 1]);
      const portNames = asList(dig(services[0], ['spec', 'ports'])).map((p) => dig(p, ['name']));
      for (const endpoint of asList(dig(sm, ['spec', 'endpoints']))) expect(portNames).toContain(dig(endpoint, ['port']));
    }
    for (const np of of('NetworkPolicy')) {
      const selector = asMap(dig(np, ['spec', 'podSelector', 'matchLabels']) ?? {});
      if (Object.keys(selector).length > 0) expect([np.metadata.name, selected(selector).length]).toEqual([np.metadata.name, 1]);
    }
    for (const sts of of('StatefulSet')) {
      const svc = one('Service', text(dig(sts, ['spec', 'serviceName'])));
      expect(dig(svc, ['spec', 'clusterIP'])).toBe('None');
    }
  });

  test('traffic is denied unless a policy allows it, and workers take only Prometheus', () => {
    const deny = one('NetworkPolicy', 'default-deny');
    expect(dig(deny, ['spec', 'podSelector'])).toEqual({});
    expect(dig(deny, ['spec', 'policyTypes'])).toEqual(['Ingress', 'Egress']);
    const worker = one('NetworkPolicy', 'llm-worker');
    const from = asList(dig(worker, ['spec', 'ingress'])).flatMap((rule) => asList(dig(rule, ['from'])));
    expect(from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
  });

  test('ConfigMaps hold settings the processes know and accept, and no secret', () => {
    // The Grafana dashboard is a ConfigMap too (infra/observability); it holds no settings.
    const settings = of('ConfigMap').filter((cm) => dig(cm, ['metadata', 'labels', 'grafana_dashboard']) === undefined);
    expect(settings.map((cm) => cm.metadata.name)).toEqual([expect.stringMatching(/^chat-fleet-config-[a-z0-9]{10}$/)]);
    for (const cm of of('ConfigMap')) {
      const data = asMap(cm.data);
      for (const [key, value] of Object.entries(data)) {
        expect([key, /SECRET|PASSWORD|API_KEY|PRIVATE|CREDENTIAL|^REDIS_URL$/.test(key)]).toEqual([key, false]);
        expect([key, looksSecret(text(value))]).toEqual([key, false]);
      }
    }
    for (const name of ['gateway', 'llm-worker']) {
      const c = containerOf(one('Deployment', name));
      const env = { ...envOf(c), REDIS_URL: 'redis://redis:6379', AUTH_SECRET: 'x'.repeat(32) };
      const load = name === 'gateway' ? loadGatewayConfig : loadWorkerConfig;
      expect(() => load(env)).not.toThrow();
    }
    // Every key is a variable the gateway or the worker reads (config.ts); a typo is not.
    const env = envOf(containerOf(one('Deployment', 'gateway')));
    const known = new Set([...Object.keys(loadGatewayConfig(env)), ...Object.keys(loadWorkerConfig(env))]);
    for (const cm of settings) for (const key of Object.keys(asMap(cm.data))) expect([key, known.has(key)]).toEqual([key, true]);
  });

  test('secrets come from the Secret chat-fleet-secrets, which has every key the pods need', () => {
    const refs = ['gateway', 'llm-worker'].flatMap((name) => secretRefs(containerOf(one('Deployment', name))));
    // Prod's gateways also read the admin credential and (optionally) the backends' API keys.
    const identityKeys = overlay === 'prod' ? ['ADMIN_API_KEY', 'CHAT_API_KEYS'] : [];
    expect(refs.map((r) => r.key).sort()).toEqual([...identityKeys, 'AUTH_SECRET', 'OPENAI_API_KEY', 'REDIS_URL', 'REDIS_URL'].sort());
    const required = refs.filter((r) => !r.optional);
    const secrets = of('Secret');
    if (overlay === 'prod') {
      // Production renders no Secret; the example documents what to create.
      expect(secrets).toEqual([]);
      const example = loadObjects(SECRET_EXAMPLE)[0]!;
      for (const r of refs) {
        expect(r.name).toBe(example.metadata.name);
        expect(Object.keys(asMap(example.stringData))).toContain(r.key);
      }
    } else {
      expect(secrets).toHaveLength(1);
      for (const r of required) {
        expect(r.name).toBe(secrets[0]!.metadata.name);
        expect(Object.keys(asMap(secrets[0]!.data))).toContain(r.key);
      }
      const values = Object.fromEntries(Object.entries(asMap(secrets[0]!.data)).map(([k, v]) => [k, Buffer.from(text(v), 'base64').toString('utf8')]));
      expect(values.AUTH_SECRET).toMatch(/dev-only/);
      expect(values.OPENAI_API_KEY).toBeUndefined();
      expect(() => loadGatewayConfig({ ...envOf(containerOf(one('Deployment', 'gateway'))), ...values })).not.toThrow();
    }
  });
});

describe('prod specifics', () => {
  const prod = rendered.prod;
  const get = (kind: string, name: string): KObject => prod.find((o) => o.kind === kind && o.metadata.name === name)!;

  test('browsers are limited to named origins, and the gateways sit behind a load balancer', () => {
    const cm = prod.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('chat-fleet-config-'))!;
    expect(dig(cm, ['data', 'ALLOWED_ORIGINS'])).toMatch(/^https:\/\//);
    expect(dig(get('Service', 'gateway'), ['spec', 'type'])).toBe('LoadBalancer');
  });

  test('the Secret example is never rendered and its placeholders fail loudly', () => {
    const example = loadObjects(SECRET_EXAMPLE);
    expect(example).toHaveLength(1);
    const values = asMap(example[0]!.stringData);
    for (const [key, value] of Object.entries(values)) expect([key, value]).toEqual([key, expect.stringMatching(/^<.*>$/)]);
    expect(() => loadGatewayConfig({ REDIS_URL: text(values.REDIS_URL) })).toThrow(/REDIS_URL/);
    expect(() => loadGatewayConfig({ AUTH_SECRET: text(values.AUTH_SECRET) })).toThrow(/AUTH_SECRET/);
    expect(() => loadGatewayConfig({ ADMIN_API_KEY: text(values.ADMIN_API_KEY) })).toThrow(/ADMIN_API_KEY/);
    expect(() => loadGatewayConfig({ CHAT_API_KEYS: text(values.CHAT_API_KEYS) })).toThrow(/CHAT_API_KEYS/);
    for (const dir of [DIRS.root, DIRS.base, DIRS.dev, DIRS.prod]) {
      const kustomization = parse(readFileSync(`${dir}/kustomization.yaml`, 'utf8')) as { resources?: string[] };
      expect(kustomization.resources ?? []).not.toContain('secret.example.yaml');
    }
  });

  test('real users: jwt mode against the login\'s JWKS, and the admin credential from the Secret', () => {
    const cm = prod.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('chat-fleet-config-'))!;
    const data = asMap(cm.data);
    const config = loadGatewayConfig({ ...Object.fromEntries(Object.entries(data).map(([k, v]) => [k, text(v)])), REDIS_URL: 'redis://redis:6379' });
    expect(config.AUTH_MODE).toBe('jwt');
    expect(config.USER_JWKS_URL).toMatch(/^https:\/\//);
    expect(config.USER_JWT_SECRET).toBeUndefined();
    const gateway = podContainers(get('Deployment', 'gateway'))[0]!;
    const admin = asList(gateway.env).find((e) => dig(e, ['name']) === 'ADMIN_API_KEY');
    expect(dig(admin, ['valueFrom', 'secretKeyRef'])).toEqual({ name: expect.stringMatching(/^chat-fleet-secrets/), key: 'ADMIN_API_KEY' });
  });

  test('the gateway Service explains load-balancer idle timeouts', () => {
    const text = readFileSync(`${DIRS.base}/gateway-service.yaml`, 'utf8');
    expect(text).toMatch(/idle timeout/i);
    expect(text).toContain('WS_IDLE_TIMEOUT_SECONDS');
  });
});

function kubectlKustomize(dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('kubectl', ['kustomize', dir], { encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
}

function selects(selector: Json | undefined, labels: JsonObject): boolean {
  if (!isObject(selector) || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function looksSecret(value: string): boolean {
  return /:\/\/[^/\s@]*:[^/\s@]+@/.test(value) || /\bsk-[A-Za-z0-9_-]{8,}/.test(value) || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value);
}

function text(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value ?? null);
}

function asMap(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

function asList(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}
