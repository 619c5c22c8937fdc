// Renders a kustomization without kubectl: exactly the kustomize features infra/k8s uses
// (resources, namespace, images, strategic-merge patches from files, ConfigMap and Secret
// generators from literals or files with create/merge, labels and annotations, and the
// content-hash name suffix unless disabled). Any other field, generator
// option or patch directive is refused with an error rather than ignored, so the renderer
// never silently disagrees with `kubectl kustomize`; the manifest test compares the two
// wherever kubectl is installed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface KObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string; namespace?: string };
}

interface Item {
  obj: KObject;
  /** Set on generator output: the name before the hash suffix is appended. */
  generatedName?: string;
  /** Generator output with `options.disableNameSuffixHash`: keeps its name as it is. */
  noHash?: boolean;
}

const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'images',
  'patches',
  'configMapGenerator',
  'secretGenerator',
]);
const GENERATOR_FIELDS = new Set(['name', 'behavior', 'literals', 'files', 'options', 'type']);
const GENERATOR_OPTIONS = new Set(['labels', 'annotations', 'disableNameSuffixHash']);
const IMAGE_FIELDS = new Set(['name', 'newName', 'newTag', 'digest']);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

export class KustomizeError extends Error {
  constructor(where: string, detail: string) {
    super(`${where}: ${detail}`);
    this.name = 'KustomizeError';
  }
}

/** Renders the kustomization in `dir` to its list of objects, as `kubectl kustomize dir` does. */
export function renderKustomization(dir: string): KObject[] {
  const items = build(path.resolve(dir));
  const renamed = new Map<string, string>();
  for (const item of items) {
    if (item.generatedName === undefined || item.noHash === true) continue;
    const name = `${item.generatedName}-${contentHash(item.obj)}`;
    renamed.set(refKey(item.obj.kind, item.obj.metadata.namespace, item.generatedName), name);
    item.obj.metadata.name = name;
  }
  for (const item of items) fixReferences(item.obj, renamed);
  return items.map((i) => i.obj);
}

function build(dir: string): Item[] {
  const file = path.join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new KustomizeError(dir, 'no kustomization.yaml');
  const k = asObject(parse(readFileSync(file, 'utf8')), file);
  for (const field of Object.keys(k)) {
    if (!KUSTOMIZATION_FIELDS.has(field)) throw new KustomizeError(file, `field "${field}" is not supported by this renderer`);
  }

  const items: Item[] = [];
  const add = (item: Item, where: string): void => {
    const id = itemId(item.obj);
    if (items.some((i) => itemId(i.obj) === id)) throw new KustomizeError(where, `${id} is defined twice`);
    items.push(item);
  };

  for (const entry of stringList(k.resources, `${file} resources`)) {
    const target = path.resolve(dir, entry);
    if (!existsSync(target)) throw new KustomizeError(file, `resource ${entry} does not exist`);
    if (statSync(target).isDirectory()) for (const item of build(target)) add(item, target);
    else for (const obj of loadObjects(target)) add({ obj }, target);
  }

  for (const [field, kind] of [['configMapGenerator', 'ConfigMap'], ['secretGenerator', 'Secret']] as const) {
    for (const raw of objectList(k[field], `${file} ${field}`)) generate(raw, kind, items, add, dir, file);
  }

  for (const raw of objectList(k.patches, `${file} patches`)) {
    if (Object.keys(raw).some((key) => key !== 'path')) {
      throw new KustomizeError(file, 'only `patches: - path: <strategic merge patch file>` is supported');
    }
    const patchFile = path.resolve(dir, str(raw.path, `${file} patches.path`));
    const docs = loadObjects(patchFile);
    if (docs.length !== 1) throw new KustomizeError(patchFile, 'a patch file must hold exactly one patch');
    const patch = docs[0]!;
    const target = items.find((i) => i.obj.kind === patch.kind && i.obj.apiVersion === patch.apiVersion && (i.generatedName ?? i.obj.metadata.name) === patch.metadata.name);
    if (!target) throw new KustomizeError(patchFile, `no ${patch.kind} ${patch.metadata.name} to patch`);
    const { metadata, ...body } = patch;
    if (Object.keys(metadata).some((key) => key !== 'name' && key !== 'namespace')) {
      throw new KustomizeError(patchFile, 'a patch may name its target in metadata, nothing more');
    }
    target.obj = strategicMerge(target.obj, body, target.obj.kind, []) as KObject;
  }

  if (k.namespace !== undefined) {
    const namespace = str(k.namespace, `${file} namespace`);
    for (const item of items) if (!CLUSTER_SCOPED.has(item.obj.kind)) item.obj.metadata.namespace = namespace;
  }

  for (const raw of objectList(k.images, `${file} images`)) {
    for (const field of Object.keys(raw)) {
      if (!IMAGE_FIELDS.has(field)) throw new KustomizeError(file, `images field "${field}" is not supported`);
    }
    for (const item of items) for (const container of podContainers(item.obj)) retag(container, raw, file);
  }
  return items;
}

function generate(raw: JsonObject, kind: 'ConfigMap' | 'Secret', items: Item[], add: (item: Item, where: string) => void, dir: string, file: string): void {
  for (const field of Object.keys(raw)) {
    if (!GENERATOR_FIELDS.has(field) || (field === 'type' && kind !== 'Secret')) {
      throw new KustomizeError(file, `${kind} generator field "${field}" is not supported`);
    }
  }
  const name = str(raw.name, `${file} generator name`);
  const data: Record<string, string> = {};
  for (const literal of stringList(raw.literals, `${file} ${name} literals`)) {
    const eq = literal.indexOf('=');
    if (eq <= 0) throw new KustomizeError(file, `literal "${literal}" is not KEY=VALUE`);
    data[literal.slice(0, eq)] = unquote(literal.slice(eq + 1));
  }
  for (const source of stringList(raw.files, `${file} ${name} files`)) {
    const [key, value] = readFileSource(source, dir, file);
    if (key in data) throw new KustomizeError(file, `${kind} ${name} has the key ${key} twice`);
    data[key] = value;
  }
  const options = raw.options === undefined ? {} : asObject(raw.options, `${file} ${name} options`);
  for (const field of Object.keys(options)) {
    if (!GENERATOR_OPTIONS.has(field)) throw new KustomizeError(file, `generator option "${field}" is not supported`);
  }
  const behavior = raw.behavior === undefined ? 'create' : str(raw.behavior, `${file} ${name} behavior`);
  if (behavior !== 'create' && Object.keys(options).length > 0) {
    throw new KustomizeError(file, `generator options with behavior ${behavior} are not supported`);
  }
  const existing = items.find((i) => i.obj.kind === kind && i.generatedName === name);
  const encoded = kind === 'Secret' ? mapValues(data, base64Lines) : data;
  if (behavior === 'create') {
    if (existing) throw new KustomizeError(file, `${kind} ${name} already exists; use behavior: merge`);
    const obj: KObject = { apiVersion: 'v1', kind, metadata: { name } };
    for (const field of ['labels', 'annotations'] as const) {
      if (options[field] === undefined) continue;
      const map = asObject(options[field], `${file} ${name} options.${field}`);
      for (const [k, v] of Object.entries(map)) str(v, `${file} ${name} options.${field}.${k} (quote it: a label value is a string)`);
      obj.metadata[field] = map;
    }
    if (kind === 'Secret') obj.type = raw.type === undefined ? 'Opaque' : str(raw.type, `${file} ${name} type`);
    obj.data = encoded;
    const noHash = options.disableNameSuffixHash === undefined ? false : options.disableNameSuffixHash;
    if (typeof noHash !== 'boolean') throw new KustomizeError(file, `${name} options.disableNameSuffixHash: expected true or false`);
    add({ obj, generatedName: name, ...(noHash ? { noHash } : {}) }, file);
  } else if (behavior === 'merge' || behavior === 'replace') {
    if (!existing) throw new KustomizeError(file, `${kind} ${name} to ${behavior} is not generated by a base`);
    const before = behavior === 'merge' ? asObject(existing.obj.data ?? {}, `${kind} ${name} data`) : {};
    existing.obj.data = { ...before, ...encoded };
  } else {
    throw new KustomizeError(file, `generator behavior "${behavior}" is not supported`);
  }
}

/**
 * One `files:` entry, `path` or `key=path`: the key (the file's name unless given) and the
 * file's text. As kustomize's default load restrictor, a file outside the kustomization's
 * directory is refused; a file that is not UTF-8 (kustomize's binaryData) is refused too.
 */
function readFileSource(source: string, dir: string, file: string): [string, string] {
  const eq = source.indexOf('=');
  const rel = eq < 0 ? source : source.slice(eq + 1);
  const target = path.resolve(dir, rel);
  const inside = path.relative(dir, target);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    throw new KustomizeError(file, `security; file '${target}' is not in or below '${dir}'`);
  }
  if (!existsSync(target)) throw new KustomizeError(file, `file ${rel} does not exist`);
  const key = eq < 0 ? path.basename(target) : source.slice(0, eq);
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new KustomizeError(file, `"${key}" is not a valid ConfigMap key`);
  try {
    return [key, new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(target))];
  } catch {
    throw new KustomizeError(file, `file ${rel} is not UTF-8 text (binaryData is not supported)`);
  }
}

/**
 * kustomize's name suffix (api/hasher): sha256 of the JSON of kind, name, data (and a Secret's
 * type) with keys sorted, first 10 hex digits with 0, 1, 3, a, e swapped for g, h, k, m, t.
 * kustomize v5 looks the name up with a path it never finds, so it always hashes name "";
 * doing the same is what keeps the suffixes equal to kubectl's.
 */
export function contentHash(obj: KObject): string {
  const m: Record<string, Json> = { kind: obj.kind, name: '', data: obj.data ?? null };
  if (obj.kind === 'Secret') m.type = obj.type ?? '';
  const hex = createHash('sha256').update(goJson(m)).digest('hex').slice(0, 10);
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return hex.replace(/[013ae]/g, (c) => swap[c] ?? c);
}

/** Go's json.Marshal of maps: keys sorted, and <, >, & escaped as \u003c, \u003e, \u0026. */
function goJson(value: Json): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029');
  }
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${goJson(k)}:${goJson(value[k]!)}`).join(',')}}`;
}

/**
 * A strategic merge patch: maps merge, null deletes a key, the lists Kubernetes declares with
 * a merge key (containers, env, ports, volumes, volumeMounts) merge by it, and every other
 * list is replaced. kustomize may merge lists of custom resources by an inferred key, so a
 * patch of such a list must restate it whole (then both readings agree).
 */
export function strategicMerge(base: Json | undefined, patch: Json, kind: string, at: string[]): Json {
  if (isObject(patch)) {
    const out: JsonObject = isObject(base) ? { ...base } : {};
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) throw new KustomizeError(`${kind} ${at.join('.')}`, `patch directive ${key} is not supported`);
      if (value === null) delete out[key];
      else out[key] = strategicMerge(out[key], value, kind, [...at, key]);
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const key = mergeKey(kind, at);
    if (key === undefined || !Array.isArray(base)) return structuredClone(patch);
    // kustomize's order: the patch's elements first, merged with their namesakes, then the
    // base's other elements.
    const merged = patch.map((element) => {
      const id = isObject(element) ? element[key] : undefined;
      if (id === undefined) throw new KustomizeError(`${kind} ${at.join('.')}`, `a patch element lacks its merge key ${key}`);
      const namesake = base.find((e) => isObject(e) && e[key] === id);
      return strategicMerge(namesake, element, kind, [...at, `[${key}=${JSON.stringify(id)}]`]);
    });
    const patched = new Set(patch.map((element) => (isObject(element) ? element[key] : undefined)));
    return [...merged, ...base.filter((e) => !(isObject(e) && patched.has(e[key])))];
  }
  return patch;
}

function mergeKey(kind: string, at: string[]): string | undefined {
  const p = at.filter((s) => !s.startsWith('[')).join('.');
  if (/(^|\.)(containers|initContainers)$/.test(p)) return 'name';
  if (/(^|\.)(containers|initContainers)\.env$/.test(p)) return 'name';
  if (/(^|\.)(containers|initContainers)\.ports$/.test(p)) return 'containerPort';
  if (/(^|\.)(containers|initContainers)\.volumeMounts$/.test(p)) return 'mountPath';
  if (p === 'spec.template.spec.volumes') return 'name';
  if (kind === 'Service' && p === 'spec.ports') return 'port';
  return undefined;
}

/** kustomize's image transformer on one container: `name[:tag][@digest]` matched by name. */
function retag(container: JsonObject, rule: JsonObject, file: string): void {
  const image = str(container.image, 'container image');
  const { name, tag, digest } = splitImage(image);
  if (name !== str(rule.name, `${file} images.name`)) return;
  const newName = rule.newName === undefined ? name : str(rule.newName, `${file} images.newName`);
  if (rule.digest !== undefined) container.image = `${newName}@${str(rule.digest, `${file} images.digest`)}`;
  else if (rule.newTag !== undefined) container.image = `${newName}:${str(rule.newTag, `${file} images.newTag`)}`;
  else container.image = `${newName}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
}

export function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const [withTag, digest] = image.split('@', 2) as [string, string | undefined];
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  if (colon > slash) return { name: withTag.slice(0, colon), tag: withTag.slice(colon + 1), ...(digest ? { digest } : {}) };
  return { name: withTag, ...(digest ? { digest } : {}) };
}

/** Every container (and init container) of a workload's pod template. */
export function podContainers(obj: KObject): JsonObject[] {
  if (!WORKLOADS.has(obj.kind)) return [];
  const podSpec = dig(obj, ['spec', 'template', 'spec']);
  if (!isObject(podSpec)) return [];
  return [podSpec.containers, podSpec.initContainers].flatMap((list) => (Array.isArray(list) ? list.filter(isObject) : []));
}

/** Points ConfigMap and Secret references of pod templates at the suffixed names. */
function fixReferences(obj: KObject, renamed: Map<string, string>): void {
  const namespace = obj.metadata.namespace;
  const rename = (ref: Json | undefined, field: string, kind: 'ConfigMap' | 'Secret'): void => {
    if (!isObject(ref) || typeof ref[field] !== 'string') return;
    const to = renamed.get(refKey(kind, namespace, ref[field]));
    if (to !== undefined) ref[field] = to;
  };
  for (const container of podContainers(obj)) {
    for (const from of Array.isArray(container.envFrom) ? container.envFrom : []) {
      if (!isObject(from)) continue;
      rename(from.configMapRef, 'name', 'ConfigMap');
      rename(from.secretRef, 'name', 'Secret');
    }
    for (const env of Array.isArray(container.env) ? container.env : []) {
      const valueFrom = isObject(env) ? env.valueFrom : undefined;
      if (!isObject(valueFrom)) continue;
      rename(valueFrom.configMapKeyRef, 'name', 'ConfigMap');
      rename(valueFrom.secretKeyRef, 'name', 'Secret');
    }
  }
  const volumes = dig(obj, ['spec', 'template', 'spec', 'volumes']);
  for (const volume of WORKLOADS.has(obj.kind) && Array.isArray(volumes) ? volumes : []) {
    if (!isObject(volume)) continue;
    rename(volume.configMap, 'name', 'ConfigMap');
    rename(volume.secret, 'secretName', 'Secret');
  }
}

export function loadObjects(file: string): KObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new KustomizeError(file, doc.errors[0]!.message);
      return doc.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined)
    .map((value) => asKObject(value, file));
}

function asKObject(value: unknown, where: string): KObject {
  const obj = asObject(value, where);
  const metadata = obj.metadata;
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || !isObject(metadata) || typeof metadata.name !== 'string') {
    throw new KustomizeError(where, 'an object without apiVersion, kind and metadata.name');
  }
  return obj as KObject;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: unknown, where: string): JsonObject {
  if (!isObject(value)) throw new KustomizeError(where, 'expected a mapping');
  return value;
}

function objectList(value: Json | undefined, where: string): JsonObject[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new KustomizeError(where, 'expected a list');
  return value.map((v) => asObject(v, where));
}

function stringList(value: Json | undefined, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new KustomizeError(where, 'expected a list of strings');
  return value as string[];
}

function str(value: Json | undefined, where: string): string {
  if (typeof value !== 'string') throw new KustomizeError(where, 'expected a string');
  return value;
}

/** kustomize writes Secret data as base64 cut into 70-character lines, each ending in \n once
 * there is more than one; the hash covers that text, and the API server's decoder skips the
 * newlines. */
export function base64Lines(value: string): string {
  const b64 = Buffer.from(value, 'utf8').toString('base64');
  if (b64.length < 70) return b64;
  return (b64.match(/.{1,70}/g) ?? []).map((line) => `${line}\n`).join('');
}

function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/s.exec(value);
  return m ? m[2]! : value;
}

function mapValues(data: Record<string, string>, f: (v: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, f(v)]));
}

export function dig(value: Json | undefined, keys: string[]): Json | undefined {
  let at = value;
  for (const key of keys) at = isObject(at) ? at[key] : undefined;
  return at;
}

function refKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export function itemId(obj: KObject): string {
  return `${obj.apiVersion.split('/').length > 1 ? obj.apiVersion.split('/')[0] : 'core'}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}
