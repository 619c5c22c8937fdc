// Where the running stack is: the gateways and workers given on the command line, or the ones
// `npm start` opens by default (gateways 8088, 8089; worker metrics 9464, 9465, …).
import { probeHealth } from './health-probe.js';

export const DEFAULT_GATEWAYS: readonly string[] = ['http://127.0.0.1:8088', 'http://127.0.0.1:8089'];
/** `npm start` gives its workers METRICS_PORT 9464, 9465 and so on (WORKERS=n). */
const DEFAULT_WORKER_PORTS = { first: 9464, listed: 2, scanned: 16 } as const;

export const START_HINT = 'start the stack with npm start (in another terminal), then run npm run demo again; or point at one with --gateways URL,URL';

export interface Fleet {
  gateways: string[];
  workers: string[];
}

/**
 * Workers to show: the given ones, else 9464 and 9465 (listed even when down, so a dead worker
 * shows) and any of the next ports whose /health answers as a worker (WORKERS=4 npm start).
 */
export async function findWorkers(given: string[] | undefined): Promise<string[]> {
  if (given !== undefined) return given;
  const { first, listed, scanned } = DEFAULT_WORKER_PORTS;
  const urls = Array.from({ length: scanned }, (_, i) => `http://127.0.0.1:${first + i}`);
  const extra = await Promise.all(
    urls.slice(listed).map(async (url) => {
      const h = await probeHealth('worker', url, 500);
      return h.body?.activeGenerations !== undefined ? url : undefined;
    }),
  );
  return [...urls.slice(0, listed), ...extra.filter((u): u is string => u !== undefined)];
}

/** The gateways whose /health answers at all (a degraded one still serves what it can). */
export async function answeringGateways(gateways: readonly string[]): Promise<string[]> {
  const probes = await Promise.all(gateways.map((url) => probeHealth('gateway', url, 1500)));
  return probes.filter((p) => p.body !== undefined).map((p) => p.url);
}

export class NoStackError extends Error {
  constructor(gateways: readonly string[]) {
    super(`no chat-fleet gateway answers at ${gateways.join(', ')}: ${START_HINT}`);
  }
}
