// GET /health of one gateway or worker, read leniently: an instance that does not answer, or
// answers something else, is a row of the health view too.

export type InstanceKind = 'gateway' | 'worker';

export interface HealthBody {
  instance: string;
  status: string;
  redis: string;
  redisRttMs: number | null;
  uptimeSeconds: number | undefined;
  queueDepth: number | null | undefined;
  /** Gateways. */
  connections: number | undefined;
  sessions: number | undefined;
  inflightReplies: number | undefined;
  draining: boolean | undefined;
  /** Workers. */
  activeGenerations: number | undefined;
}

export interface InstanceHealth {
  kind: InstanceKind;
  url: string;
  /** The answer, when there was one that reads as a health body. */
  body: HealthBody | undefined;
  /** HTTP status, when the instance answered. */
  httpStatus: number | undefined;
  /** Why there is no body: "connection refused", "timed out", "HTTP 404" … */
  problem: string | undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function readBody(value: unknown): HealthBody | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const instance = str(v.instance);
  const status = str(v.status);
  if (instance === undefined || status === undefined) return undefined;
  return {
    instance,
    status,
    redis: str(v.redis) ?? '?',
    redisRttMs: num(v.redisRttMs) ?? null,
    uptimeSeconds: num(v.uptimeSeconds),
    queueDepth: v.queueDepth === null ? null : num(v.queueDepth),
    connections: num(v.connections),
    sessions: num(v.sessions),
    inflightReplies: num(v.inflightReplies),
    draining: typeof v.draining === 'boolean' ? v.draining : undefined,
    activeGenerations: num(v.activeGenerations),
  };
}

/** Why a fetch failed, in a few words. */
export function describeFetchError(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  const cause = err instanceof Error ? err.cause : undefined;
  const code = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code !== undefined) return code;
  if (cause instanceof Error) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** Never throws. A 503 with a health body (Redis down) is an answer, not a failure. */
export async function probeHealth(kind: InstanceKind, url: string, timeoutMs = 1500): Promise<InstanceHealth> {
  const base = url.replace(/\/+$/, '');
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const body = readBody(parsed);
    return { kind, url: base, body, httpStatus: res.status, problem: body === undefined ? `HTTP ${res.status}, not a health answer` : undefined };
  } catch (err) {
    return { kind, url: base, body: undefined, httpStatus: undefined, problem: describeFetchError(err) };
  }
}

/** Healthy: answered 200 with status ok. */
export function isHealthy(h: InstanceHealth): boolean {
  return h.httpStatus === 200 && h.body?.status === 'ok';
}
