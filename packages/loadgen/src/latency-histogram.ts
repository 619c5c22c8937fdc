// Latencies recorded in microseconds in HDR histograms, so percentiles stay exact to 3 digits and
// shards from several processes merge without loss. The load runner's and the bench's one histogram.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import type { Percentiles } from './load-options.js';

/** Percentiles with the count, mean and max, in ms to 0.1 ms. */
export interface LatencySummary extends Percentiles {
  count: number;
  mean: number;
  max: number;
}

export class LatencyHistogram {
  private readonly histogram: Histogram;

  constructor(encoded?: string) {
    this.histogram =
      encoded === undefined
        ? build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
        : decodeFromCompressedBase64(encoded);
  }

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  meanMs(): number {
    return this.count === 0 ? 0 : this.histogram.mean / 1000;
  }

  percentileMs(p: number): number {
    return this.count === 0 ? 0 : this.histogram.getValueAtPercentile(p) / 1000;
  }

  percentiles(): Percentiles {
    return { p50: round1(this.percentileMs(50)), p95: round1(this.percentileMs(95)), p99: round1(this.percentileMs(99)) };
  }

  summary(): LatencySummary {
    const max = this.count === 0 ? 0 : this.histogram.maxValue / 1000;
    return { count: this.count, mean: round1(this.meanMs()), max: round1(max), ...this.percentiles() };
  }

  merge(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  encode(): string {
    return encodeIntoCompressedBase64(this.histogram);
  }
}

/** To 0.1 (ms), the resolution worth printing. */
export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
