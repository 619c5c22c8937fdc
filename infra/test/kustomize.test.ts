// The kustomize renderer on small kustomizations written for each test. Expected names and
// orders are what `kubectl kustomize` (kustomize v5.5) prints for the same input; where
// kubectl is installed each case is also compared with it live.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { dig, itemId, renderKustomization, type KObject } from './kustomize.js';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

/** Writes `files` (path -> text) into a fresh directory and returns it. */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kustomize-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function render(dir: string): KObject[] {
  const objects = renderKustomization(dir);
  if (hasKubectl) {
    const theirs = parseAllDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).map((d) => d.toJS() as KObject);
    const sort = (objs: KObject[]): KObject[] => [...objs].sort((a, b) => itemId(a).localeCompare(itemId(b)));
    expect(sort(objects)).toEqual(sort(theirs));
  }
  return objects;
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
        - name: c1
          image: example/app:1.0
          envFrom:
            - configMapRef: {name: settings}
          env:
            - {name: A, value: "1"}
            - {name: B, value: "2"}
            - {name: C, value: "3"}
            - name: S
              valueFrom:
                secretKeyRef: {name: keys, key: S}
        - name: c2
          image: localhost:5000/side:2
`;

describe('kustomize renderer', () => {
  test('generated names carry kustomize content hashes', () => {
    const dir = fixture({
      'kustomization.yaml': `configMapGenerator:
  - name: x
    literals:
      - A=b
      - "URL=https://a.example/?q=1&r=<2>"
      - Q="quoted"
secretGenerator:
  - name: s
    literals:
      - LONG=0123456789012345678901234567890123456789012345678901234567890123456789
`,
    });
    const [cm, secret] = render(dir);
    expect(cm!.metadata.name).toBe('x-bgm5f4775m');
    expect(cm!.data).toEqual({ A: 'b', URL: 'https://a.example/?q=1&r=<2>', Q: 'quoted' });
    expect(secret!.metadata.name).toBe('s-697ttdh742');
    expect(secret!.type).toBe('Opaque');
    // Long base64 comes in 70-character lines, as kustomize writes it.
    expect(dig(secret, ['data', 'LONG'])).toBe('MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMT\nIzNDU2Nzg5MDEyMzQ1Njc4OQ==\n');
  });

  test('an overlay merges into a generated ConfigMap, patches, retags and moves everything to its namespace', () => {
    const dir = fixture({
      'base/kustomization.yaml': `resources: [deployment.yaml]
configMapGenerator:
  - name: settings
    literals: [A=base, B=base]
`,
      'base/deployment.yaml': deployment,
      'overlay/kustomization.yaml': `namespace: team
resources: [../base, ns.yaml]
configMapGenerator:
  - name: settings
    behavior: merge
    literals: [B=overlay]
images:
  - name: example/app
    newTag: "1.1"
  - name: localhost:5000/side
    newName: registry.example/side
    digest: sha256:${'a'.repeat(64)}
patches:
  - path: patch.yaml
`,
      'overlay/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n',
      'overlay/patch.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: c2
          args: [--fast]
        - name: c1
          env:
            - {name: N, value: "n"}
            - {name: C, value: "33"}
`,
    });
    const objects = render(path.join(dir, 'overlay'));
    const cm = objects.find((o) => o.kind === 'ConfigMap')!;
    expect(cm.data).toEqual({ A: 'base', B: 'overlay' });
    expect(cm.metadata).toEqual({ name: expect.stringMatching(/^settings-[a-z0-9]{10}$/), namespace: 'team' });
    expect(objects.find((o) => o.kind === 'Namespace')!.metadata).toEqual({ name: 'team' });

    const app = objects.find((o) => o.kind === 'Deployment')!;
    expect(app.metadata.namespace).toBe('team');
    const [c2, c1] = dig(app, ['spec', 'template', 'spec', 'containers']) as KObject[];
    // Patched list elements first, in the patch's order, then the rest in the base's.
    expect(c2).toMatchObject({ name: 'c2', args: ['--fast'], image: `registry.example/side@sha256:${'a'.repeat(64)}` });
    expect(c1).toMatchObject({ name: 'c1', image: 'example/app:1.1' });
    expect((c1!.env as { name: string }[]).map((e) => e.name)).toEqual(['N', 'C', 'A', 'B', 'S']);
    expect(dig(c1, ['envFrom'])).toEqual([{ configMapRef: { name: cm.metadata.name } }]);
    // A Secret the build does not generate keeps its name: it is created outside.
    expect(dig(c1, ['env'])).toContainEqual({ name: 'S', valueFrom: { secretKeyRef: { name: 'keys', key: 'S' } } });
  });

  test('a generator reads files, labels its object and may keep its name unhashed', () => {
    const json = '{"title": "<dash> & more",\n "panels": []}\n';
    const dir = fixture({
      'obs/kustomization.yaml': `configMapGenerator:
  - name: dash
    files:
      - grafana/d.json
      - copy.json=grafana/d.json
    options:
      disableNameSuffixHash: true
      labels:
        grafana_dashboard: "1"
  - name: hashed
    literals: [A=b]
    files: [grafana/d.json]
    options:
      labels: {team: chat}
      annotations: {note: kept}
`,
      'obs/grafana/d.json': json,
      'overlay/kustomization.yaml': 'namespace: team\nresources: [../obs]\n',
    });
    const [dash, hashed] = render(path.join(dir, 'overlay'));
    expect(dash).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dash', namespace: 'team', labels: { grafana_dashboard: '1' } }, data: { 'd.json': json, 'copy.json': json } });
    expect(hashed!.metadata).toEqual({ name: 'hashed-bt8h78b6c4', namespace: 'team', labels: { team: 'chat' }, annotations: { note: 'kept' } });
    expect(hashed!.data).toEqual({ A: 'b', 'd.json': json });
  });

  test.each([
    ['an unsupported field', 'commonLabels: {a: b}\n', /field "commonLabels" is not supported/],
    ['a generator reading a file outside its directory', 'configMapGenerator:\n  - name: x\n    files: [../a.yaml]\n', /is not in or below/],
    ['an unsupported generator option', 'configMapGenerator:\n  - name: x\n    literals: [A=b]\n    options: {immutable: true}\n', /option "immutable" is not supported/],
    ['a label value that is not a string', 'configMapGenerator:\n  - name: x\n    literals: [A=b]\n    options: {labels: {a: 1}}\n', /quote it/],
    ['an inline or targeted patch', 'patches:\n  - target: {kind: Deployment}\n    patch: "[]"\n', /only `patches: - path/],
    ['a merge without a base', 'configMapGenerator:\n  - name: x\n    behavior: merge\n    literals: [A=b]\n', /not generated by a base/],
    ['an object defined twice', 'resources: [a.yaml, a.yaml]\n', /defined twice/],
    ['a patch with no target', 'resources: [a.yaml]\npatches:\n  - path: p.yaml\n', /no Deployment other to patch/],
    ['a patch directive', 'resources: [a.yaml]\npatches:\n  - path: d.yaml\n', /directive \$patch is not supported/],
  ])('refuses %s', (_what, kustomization, error) => {
    const dir = fixture({
      'kustomization.yaml': kustomization,
      'a.yaml': deployment,
      'p.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: other\nspec:\n  replicas: 2\n',
      'd.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      $patch: delete\n',
    });
    expect(() => renderKustomization(dir)).toThrow(error);
  });
});
