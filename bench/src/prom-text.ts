// Reading single samples out of a Prometheus text exposition (the gateways' and workers' /metrics).

/** The value of the first sample named exactly `name` (any labels), or undefined. */
export function promSample(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = rest.startsWith('{') ? rest.slice(rest.indexOf('}') + 1) : rest;
    const n = Number(value.trim().split(/\s+/)[0]);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

export interface EventLoopLag {
  /** prom-client samples the loop every 10 ms, so an idle loop reads about 10 ms here. */
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** prom-client's event-loop delay since its previous scrape (each scrape resets the histogram). */
export function eventLoopLag(text: string): EventLoopLag | undefined {
  const p99 = promSample(text, 'nodejs_eventloop_lag_p99_seconds');
  const max = promSample(text, 'nodejs_eventloop_lag_max_seconds');
  if (p99 === undefined || max === undefined) return undefined;
  return { p99Ms: Math.round(p99 * 10_000) / 10, maxMs: Math.round(max * 10_000) / 10 };
}

export async function scrape(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}
