// The last hour of the fleet in five small charts, from the gateways' 10 s buckets.
import { useMemo } from 'preact/hooks';
import type { AdminApi } from './admin-api.js';
import { figure } from './format.js';
import { LineChart } from './line-chart.js';
import { ProblemNote } from './problem-note.js';
import { chartData } from './series.js';
import { SLOW_MS, usePoll } from './use-poll.js';

const ms = (v: number): string => `${Math.round(v)} ms`;
const percent = (v: number): string => `${Math.round(v * 100)} %`;

export function ChartsSection({ api }: { api: AdminApi }) {
  // A new bucket every 10 s: asking more often would redraw the same lines.
  const series = usePoll(() => api.series(60), SLOW_MS, []);
  const data = useMemo(() => (series.data === undefined ? undefined : chartData(series.data)), [series.data]);
  return (
    <section class="card" data-testid="admin-charts" aria-labelledby="charts-title">
      <h2 id="charts-title">Last hour</h2>
      <ProblemNote error={series.error} prefix="Could not refresh the charts:" />
      {data === undefined ? (
        <p class="muted">Loading…</p>
      ) : (
        <div class="charts">
          <LineChart id="messages" title="Messages" lines={data.messagesPerSec} times={data.times} format={(v) => `${figure(v)}/s`} />
          <LineChart id="first-token" title="First token" lines={data.firstTokenMs} times={data.times} format={ms} />
          <LineChart id="tokens" title="Tokens" lines={data.tokensPerSec} times={data.times} format={(v) => `${figure(v)}/s`} />
          <LineChart id="errors" title="Errors by code" lines={data.errorsPerMin} times={data.times} format={(v) => `${figure(v)}/min`} empty="none in the hour" named />
          <LineChart id="hit-ratio" title="Cache and coalescing hits" lines={data.hitRatio} times={data.times} format={percent} top={1} />
        </div>
      )}
    </section>
  );
}
