import hdr from 'hdr-histogram-js';

type Histogram = hdr.Histogram;

/** Histograms hold ns from 1 ns to 100 s at 3 significant digits. */
const HIGHEST_NS = 100e9;

/** A latency histogram in ns. */
export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_NS,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
}

/** Records `ns` into `h`, clamped to the trackable range (a value over 100 s is recorded as 100 s). */
export function recordNs(h: Histogram, ns: number, count = 1): void {
  const v = ns < 1 ? 1 : ns > HIGHEST_NS ? HIGHEST_NS : Math.round(ns);
  if (count === 1) h.recordValue(v);
  else h.recordValueWithCount(v, count);
}

/** Percentiles of a histogram, in µs. */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Summarises an ns histogram as µs percentiles. */
export function percentilesUs(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: h.totalCount,
    p50: round3(h.getValueAtPercentile(50) / 1000),
    p90: round3(h.getValueAtPercentile(90) / 1000),
    p99: round3(h.getValueAtPercentile(99) / 1000),
    p999: round3(h.getValueAtPercentile(99.9) / 1000),
    max: round3(h.maxValue / 1000),
    mean: round3(h.mean / 1000),
  };
}

/** What an actor ships to the supervisor: cumulative since the actor (incarnation) started. */
export interface MetricsSnapshot {
  records: number;
  batches: number;
  duplicates: number;
  /** Compressed HDR histograms (ns). */
  service: string;
  queueWait: string;
  /** Stage-specific counters (rejections by code, …). */
  counters: Record<string, number>;
}

/**
 * Metrics of one stage inside its actor: service time and queue wait per record, counts, and named
 * counters. Recording allocates nothing; {@link snapshot} does (compression), once per interval.
 */
export class StageMetrics {
  readonly service = createHistogram();
  readonly queueWait = createHistogram();
  records = 0;
  batches = 0;
  duplicates = 0;
  readonly counters: Record<string, number> = Object.create(null);

  /** Adds `n` to a named counter. */
  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  /** @remarks Allocates; once per metrics interval, not per record. */
  snapshot(): MetricsSnapshot {
    return {
      records: this.records,
      batches: this.batches,
      duplicates: this.duplicates,
      service: hdr.encodeIntoCompressedBase64(this.service),
      queueWait: hdr.encodeIntoCompressedBase64(this.queueWait),
      counters: { ...this.counters },
    };
  }
}

/**
 * The supervisor's view of one stage across actor restarts: totals of finished incarnations plus
 * the latest snapshot of the live one.
 */
export class StageMetricsView {
  private readonly doneService = createHistogram();
  private readonly doneQueueWait = createHistogram();
  private doneRecords = 0;
  private doneBatches = 0;
  private doneDuplicates = 0;
  private readonly doneCounters: Record<string, number> = Object.create(null);
  private live: MetricsSnapshot | null = null;
  private liveService: Histogram | null = null;
  private liveQueueWait: Histogram | null = null;

  /** Takes the live incarnation's latest snapshot. */
  update(s: MetricsSnapshot): void {
    this.live = s;
    this.liveService = null;
    this.liveQueueWait = null;
  }

  /** The live incarnation ended (crash or stop): fold its last snapshot into the totals. */
  endIncarnation(): void {
    const s = this.live;
    if (!s) return;
    this.doneService.add(this.decodedLive('service'));
    this.doneQueueWait.add(this.decodedLive('queueWait'));
    this.doneRecords += s.records;
    this.doneBatches += s.batches;
    this.doneDuplicates += s.duplicates;
    for (const [k, v] of Object.entries(s.counters)) this.doneCounters[k] = (this.doneCounters[k] ?? 0) + v;
    this.live = null;
    this.liveService = this.liveQueueWait = null;
  }

  private decodedLive(which: 'service' | 'queueWait'): Histogram {
    const s = this.live!;
    if (which === 'service') return (this.liveService ??= decode(s.service));
    return (this.liveQueueWait ??= decode(s.queueWait));
  }

  /** Totals so far, as µs percentiles and counts. */
  summary(): { records: number; batches: number; duplicates: number; serviceUs: Percentiles; queueWaitUs: Percentiles; counters: Record<string, number> } {
    const service = createHistogram();
    const queueWait = createHistogram();
    service.add(this.doneService);
    queueWait.add(this.doneQueueWait);
    const counters: Record<string, number> = { ...this.doneCounters };
    let records = this.doneRecords;
    let batches = this.doneBatches;
    let duplicates = this.doneDuplicates;
    if (this.live) {
      service.add(this.decodedLive('service'));
      queueWait.add(this.decodedLive('queueWait'));
      records += this.live.records;
      batches += this.live.batches;
      duplicates += this.live.duplicates;
      for (const [k, v] of Object.entries(this.live.counters)) counters[k] = (counters[k] ?? 0) + v;
    }
    return { records, batches, duplicates, serviceUs: percentilesUs(service), queueWaitUs: percentilesUs(queueWait), counters };
  }
}

function decode(b64: string): Histogram {
  const h = hdr.decodeFromCompressedBase64(b64, 64, false) as Histogram;
  return h;
}
