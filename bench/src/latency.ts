// Latencies in an HDR histogram (microsecond resolution, 3 significant digits), summarised in ms.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export interface LatencySummary extends Percentiles {
  readonly count: number;
  readonly mean: number;
  readonly max: number;
}

export class LatencyRecorder {
  private readonly histogram: Histogram = build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Compact text form, to carry a shard's histogram between processes. */
  encode(): string {
    return encodeIntoCompressedBase64(this.histogram);
  }

  /** Adds the samples of an encoded histogram. */
  addEncoded(encoded: string): void {
    this.histogram.add(decodeFromCompressedBase64(encoded));
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const ms = (us: number): number => roundMs(us / 1000);
    if (h.totalCount === 0) return { count: 0, mean: 0, max: 0, p50: 0, p95: 0, p99: 0 };
    return {
      count: h.totalCount,
      mean: ms(h.mean),
      max: ms(h.maxValue),
      p50: ms(h.getValueAtPercentile(50)),
      p95: ms(h.getValueAtPercentile(95)),
      p99: ms(h.getValueAtPercentile(99)),
    };
  }
}

/** To 0.1 ms, the resolution worth printing. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** What the fleet adds over the model alone, percentile by percentile. */
export function overhead(system: Percentiles, floor: Percentiles): Percentiles {
  return {
    p50: roundMs(system.p50 - floor.p50),
    p95: roundMs(system.p95 - floor.p95),
    p99: roundMs(system.p99 - floor.p99),
  };
}
