// Gateway memory per idle connection: RSS of one gateway before and after it holds N quiet sockets.
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayHandle } from '@chat-fleet/stack';
import type { IdleMeasurement } from './bench-result.js';
import { closeSockets, createSessions, gatewayConnections, openIdleSockets } from './idle-sockets.js';
import { readRssBytes } from './proc-stats.js';

export interface IdleMemoryOptions {
  readonly sockets: number;
  /** Holds the sockets; its RSS is measured. */
  readonly gateway: GatewayHandle;
  /** Where sessions are created, so the REST work lands elsewhere than the measured gateway. */
  readonly restUrl: string;
  readonly userPrefix: string;
  /** Pause before each RSS reading, for the heap and the allocator to settle. */
  readonly settleMs: number;
  readonly say: (line: string) => void;
}

async function untilConnections(url: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await gatewayConnections(url).catch(() => -1)) === n) return;
    await sleep(200);
  }
}

/**
 * Opens and closes a few sockets so that one-time costs (compiled code, the first subscription,
 * pools) are paid before a measurement; few enough that the freed memory they leave is noise.
 */
export async function warmIdlePath(o: Pick<IdleMemoryOptions, 'gateway' | 'restUrl' | 'userPrefix'>, sockets = 20): Promise<void> {
  const sessions = await createSessions(o.restUrl, sockets, `${o.userPrefix}-warm`);
  const opened = await openIdleSockets(sessions.map((s, i) => o.gateway.socketUrl(s.sessionId, `warm-${i}`, s.token)));
  await closeSockets(opened.sockets);
  await untilConnections(o.gateway.url, 0, 15_000);
}

export async function measureIdleMemory(o: IdleMemoryOptions): Promise<IdleMeasurement> {
  const t0 = performance.now();
  const sessions = await createSessions(o.restUrl, o.sockets, o.userPrefix);
  o.say(`idle ${o.sockets}: ${sessions.length} sessions created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const urls = sessions.map((s, i) => o.gateway.socketUrl(s.sessionId, `idle-${i}`, s.token));
  await sleep(o.settleMs);
  const pid = o.gateway.process.pid;
  const rssBeforeBytes = readRssBytes(pid);
  const t1 = performance.now();
  const opened = await openIdleSockets(urls);
  o.say(
    `idle ${o.sockets}: ${opened.sockets.length} sockets open on ${o.gateway.instance} in ` +
      `${((performance.now() - t1) / 1000).toFixed(1)} s${opened.failures > 0 ? `, ${opened.failures} failed (${opened.firstError ?? ''})` : ''}`,
  );
  try {
    await sleep(o.settleMs);
    const connectionsReported = await gatewayConnections(o.gateway.url);
    const rssAfterBytes = readRssBytes(pid);
    const n = opened.sockets.length;
    return {
      sockets: o.sockets,
      opened: n,
      failures: opened.failures,
      ...(opened.firstError === undefined ? {} : { firstError: opened.firstError }),
      gateway: o.gateway.instance,
      connectionsReported,
      rssBeforeBytes,
      rssAfterBytes,
      bytesPerConnection: n === 0 ? 0 : Math.round((rssAfterBytes - rssBeforeBytes) / n),
      settleMs: o.settleMs,
    };
  } finally {
    await closeSockets(opened.sockets);
    await untilConnections(o.gateway.url, 0, 15_000);
  }
}
