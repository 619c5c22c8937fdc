// Validates rendered objects against the Kubernetes OpenAPI schemas (kubernetes-models) and the
// CRD schemas of KEDA and prometheus-operator, strictly: a field the schema does not know
// (a typo such as `readinesProbe`) is an error, as with `kubectl apply --validate=strict`.
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { KObject } from './kustomize.js';

interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  readonly prototype: { validate(): void };
}

const MODELS: readonly ModelClass[] = [
  ConfigMap,
  Namespace,
  Secret,
  Service,
  ServiceAccount,
  Deployment,
  StatefulSet,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  NetworkPolicy,
  ServiceMonitor,
  PrometheusRule,
  ScaledObject,
];

/** Schema errors of one object; empty when it is valid. */
export function schemaErrors(obj: KObject): string[] {
  const model = MODELS.find((m) => m.apiVersion === obj.apiVersion && m.kind === obj.kind);
  if (!model) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  const tracked = trackFields(obj.kind === 'Secret' ? unwrapSecretData(obj) : obj);
  try {
    model.prototype.validate.call(tracked.proxy);
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
  return tracked.unknownFields().map((p) => `unknown field ${p}`);
}

/**
 * kustomize cuts long base64 values into lines; the API server's decoder skips the newlines,
 * the schema's `byte` format does not, so they are joined before validation.
 */
function unwrapSecretData(obj: KObject): KObject {
  const data = obj.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return obj;
  const joined = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/\n/g, '') : v]));
  return { ...obj, data: joined };
}

/**
 * Wraps an object so that every property the validator reads is recorded. The generated
 * validators read each property their schema declares and enumerate only free-form maps
 * (labels, data), so an own property never read is one the schema does not have.
 */
function trackFields(root: object): { proxy: object; unknownFields(): string[] } {
  interface Record {
    path: string;
    read: Set<string>;
    enumerated: boolean;
  }
  const records = new Map<object, Record>();
  const proxies = new WeakMap<object, object>();
  const wrap = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const known = proxies.get(value);
    if (known) return known;
    const rec: Record = { path, read: new Set(), enumerated: false };
    records.set(value, rec);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === 'string' && Object.hasOwn(target, key)) {
          rec.read.add(key);
          return wrap((target as { [k: string]: unknown })[key], `${path}/${key}`);
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
      has(target, key) {
        if (typeof key === 'string') rec.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        rec.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  const proxy = wrap(root, '') as object;
  return {
    proxy,
    unknownFields: () => {
      const out: string[] = [];
      for (const [value, rec] of records) {
        if (Array.isArray(value) || rec.enumerated) continue;
        for (const key of Object.keys(value)) if (!rec.read.has(key)) out.push(`${rec.path}/${key}`);
      }
      return out;
    },
  };
}
