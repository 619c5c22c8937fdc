// A small line chart in inline SVG: a few lines over shared times, a round y scale from 0, the
// latest values as text beside the title (also the chart's text alternative). Written by hand: a
// chart library would outweigh the rest of the console.
import { useId } from 'preact/hooks';
import { latest, linePath, niceCeiling, type Line } from './series.js';

const WIDTH = 300;
const HEIGHT = 90;

export interface LineChartProps {
  /** `data-chart`, for tests. */
  id: string;
  title: string;
  lines: readonly Line[];
  times: readonly number[];
  /** A value with its unit, e.g. `420 ms`. */
  format: (value: number) => string;
  /** A fixed top for the scale (1 for a ratio); else the data's maximum, rounded up. */
  top?: number;
  /** What to say when there are no lines at all (e.g. no error in the hour). */
  empty?: string;
  /** Name every line in the legend and the text, even a single one (an error code says what it counts). */
  named?: boolean;
}

export function LineChart({ id, title, lines, times, format, top, empty = 'no data yet', named = lines.length > 1 }: LineChartProps) {
  const titleId = useId();
  const max = Math.max(0, ...lines.flatMap((l) => l.values.filter((v): v is number => v !== null)));
  const scaleTop = top ?? niceCeiling(max);
  const readings = lines.flatMap((l) => {
    const v = latest(l);
    return v === null ? [] : [named ? `${l.name} ${format(v)}` : format(v)];
  });
  const summary = readings.length > 0 ? `latest: ${readings.join(', ')}` : lines.length === 0 ? empty : 'no data yet';
  const span = times.length > 1 ? Math.round((Date.now() - times[0]!) / 60_000) : 0;

  return (
    <figure class="chart" data-testid="admin-chart" data-chart={id}>
      <figcaption id={titleId}>
        <span class="chart-title">{title}</span>
        <span class="chart-latest">{summary}</span>
      </figcaption>
      <div class="chart-plot">
        <span class="chart-top" aria-hidden="true">
          {format(scaleTop)}
        </span>
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-labelledby={titleId}>
          {[0, 0.5, 1].map((f) => (
            <line key={f} class="chart-grid" x1="0" x2={WIDTH} y1={f * HEIGHT} y2={f * HEIGHT} vector-effect="non-scaling-stroke" />
          ))}
          {lines.map((l, i) => (
            <path key={l.name} class={`chart-line series-${i % 5}`} d={linePath(l.values, scaleTop, WIDTH, HEIGHT)} vector-effect="non-scaling-stroke" />
          ))}
        </svg>
      </div>
      <div class="chart-axis" aria-hidden="true">
        <span>{span > 0 ? `${span} min ago` : ''}</span>
        <span>now</span>
      </div>
      {named && lines.length > 0 && (
        <ul class="chart-legend" aria-hidden="true">
          {lines.map((l, i) => (
            <li key={l.name}>
              <span class={`swatch series-${i % 5}`} />
              {l.name}
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}
