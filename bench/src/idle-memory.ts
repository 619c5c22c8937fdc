// Gateway memory per idle connection: RSS of one gateway before and after it holds N quiet sockets.
// Sizes are reached by adding sockets, never by closing and reopening, so no size reuses memory an
// earlier one freed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayHandle } from '@chat-fleet/stack';
import type { IdleMeasurement } from './bench-result.js';
import { closeSockets, createSessions, gatewayConnections, idleSocketUrls, openIdleSockets, type IdleSocket } from './idle-sockets.js';
import { readRssBytes } from './proc-stats.js';

export interface IdleMemoryOptions {
  /** Socket counts; measured in ascending order. */
  readonly sizes: readonly number[];
  /** Holds the sockets; its RSS is measured. */
  readonly gateway: GatewayHandle;
  /** Where sessions are created, so the REST work lands elsewhere than the measured gateway. */
  readonly restUrl: string;
  readonly userPrefix: string;
  /** Pause before each RSS reading, for the heap and the allocator to settle. */
  readonly settleMs: number;
  /** Sockets opened and closed first, so one-time costs (compiled code, pools) are not counted. */
  readonly warmup: number;
  readonly say: (line: string) => void;
}

async function untilConnections(url: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await gatewayConnections(url).catch(() => -1)) === n) return;
    await sleep(200);
  }
}

const seconds = (since: number): string => ((performance.now() - since) / 1000).toFixed(1);

export async function measureIdleMemory(o: IdleMemoryOptions): Promise<IdleMeasurement[]> {
  const sizes = [...o.sizes].sort((a, b) => a - b);
  const largest = sizes.at(-1) ?? 0;
  if (largest === 0) return [];
  const t0 = performance.now();
  const sessions = await createSessions(o.restUrl, largest + o.warmup, o.userPrefix);
  o.say(`idle: ${sessions.length} sessions created through the other gateway in ${seconds(t0)} s`);
  const urls = idleSocketUrls(o.gateway.url, sessions);

  if (o.warmup > 0) {
    const warm = await openIdleSockets(urls.slice(largest));
    await closeSockets(warm.sockets);
    await untilConnections(o.gateway.url, 0, 15_000);
  }

  const pid = o.gateway.process.pid;
  await sleep(o.settleMs);
  const rssBeforeBytes = readRssBytes(pid);
  const held: IdleSocket[] = [];
  const results: IdleMeasurement[] = [];
  let failures = 0;
  let firstError: string | undefined;
  try {
    for (const size of sizes) {
      const t1 = performance.now();
      const opened = await openIdleSockets(urls.slice(held.length + failures, size));
      held.push(...opened.sockets);
      failures += opened.failures;
      firstError ??= opened.firstError;
      o.say(`idle: ${held.length} sockets open on ${o.gateway.instance} (+${opened.sockets.length} in ${seconds(t1)} s${failures > 0 ? `, ${failures} failed: ${firstError ?? ''}` : ''})`);
      await sleep(o.settleMs);
      const connectionsReported = await gatewayConnections(o.gateway.url);
      const rssAfterBytes = readRssBytes(pid);
      const m: IdleMeasurement = {
        sockets: size,
        opened: held.length,
        failures,
        ...(firstError === undefined ? {} : { firstError }),
        gateway: o.gateway.instance,
        connectionsReported,
        rssBeforeBytes,
        rssAfterBytes,
        bytesPerConnection: held.length === 0 ? 0 : Math.round((rssAfterBytes - rssBeforeBytes) / held.length),
        settleMs: o.settleMs,
      };
      o.say(`idle: ${(m.bytesPerConnection / 1024).toFixed(2)} KB per connection at ${size} (${connectionsReported} reported by the gateway)`);
      results.push(m);
    }
  } finally {
    await closeSockets(held);
    await untilConnections(o.gateway.url, 0, 15_000);
  }
  return results;
}
