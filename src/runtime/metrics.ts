import v8 from 'node:v8';
import hdr from 'hdr-histogram-js';

type Histogram = hdr.Histogram;
type JsHistogram = hdr.JsHistogram;

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
  // Written so NaN lands on 1: hdr would count a NaN in totalCount but in no bucket.
  const v = ns >= 1 ? (ns > HIGHEST_NS ? HIGHEST_NS : Math.round(ns)) : 1;
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
    // The bucket top, as the percentiles are, so p50 never exceeds max.
    max: round3(h.getValueAtPercentile(100) / 1000),
    mean: round3(h.mean / 1000),
  };
}

/**
 * The non-zero buckets of an HDR histogram: bucket index and count. Shipping these costs a scan of
 * the counts array (~50 µs); compressing the histogram (hdr's base64 encoding) cost 1–6 ms per
 * snapshot and 10–40 ms to decode, enough to stall a stage.
 */
export interface SparseHistogram {
  index: Uint32Array;
  count: Float64Array;
}

/** Word views of histograms' count arrays, for {@link toSparse}. */
const countWords = new WeakMap<Float64Array, Int32Array>();

/**
 * Extracts the non-zero buckets of `h`. It runs once a second, so mostly unoptimized, where every
 * float64 read boxes a heap number and `TypedArray.from(array)` walks an iterator: it scans the ~28k
 * counts through an Int32Array over their bytes (ints need no box), sizes the result exactly, and
 * copies each count as its two words. The straightforward version (`getCountAtIndex`, `push`,
 * `from`) left ~200 KB of garbage per histogram per snapshot once a few thousand buckets were in
 * use: more, at 10k msg/s, than a forwarding stage's records themselves.
 * @remarks Allocates the two result arrays; once per metrics interval.
 */
export function toSparse(h: Histogram): SparseHistogram {
  // hdr-histogram-js keeps a Float64Histogram's counts in `_counts`; any other kind takes the slow path.
  const counts = (h as unknown as { _counts?: unknown })._counts;
  if (!(counts instanceof Float64Array)) return toSparseSlow(h as unknown as JsHistogram);
  let words = countWords.get(counts);
  if (words === undefined) countWords.set(counts, (words = new Int32Array(counts.buffer, counts.byteOffset, counts.length * 2)));
  const n = counts.length;
  let used = 0;
  for (let i = 0; i < n; i++) if ((words[2 * i]! | words[2 * i + 1]!) !== 0) used++;
  const index = new Uint32Array(used);
  const count = new Float64Array(used);
  const countWordsOut = new Int32Array(count.buffer);
  for (let i = 0, k = 0; k < used; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    if ((lo | hi) === 0) continue;
    index[k] = i;
    countWordsOut[2 * k] = lo;
    countWordsOut[2 * k + 1] = hi;
    k++;
  }
  return { index, count };
}

function toSparseSlow(js: JsHistogram): SparseHistogram {
  const index: number[] = [];
  const count: number[] = [];
  for (let i = 0, n = js.countsArrayLength; i < n; i++) {
    const c = js.getCountAtIndex(i);
    if (c !== 0) {
      index.push(i);
      count.push(c);
    }
  }
  return { index: Uint32Array.from(index), count: Float64Array.from(count) };
}

/** Adds sparse buckets (from a histogram built by {@link createHistogram}) into `h`. */
export function addSparse(h: Histogram, s: SparseHistogram): void {
  const js = h as unknown as JsHistogram;
  for (let i = 0; i < s.index.length; i++) h.recordValueWithCount(js.valueFromIndex(s.index[i]!), s.count[i]!);
}

/**
 * Memory of one thread's V8 isolate (bytes): what lets a soak tell which stage grows, and whether
 * in its heap (which space), in ArrayBuffers or in other external memory.
 */
export interface ThreadMemory {
  heapUsed: number;
  heapTotal: number;
  /** Committed size of each heap space, by V8's name (`new_space`, `old_space`, `code_space`, …). */
  spaces: Record<string, number>;
  /** Off-heap memory the isolate accounts for, ArrayBuffers included. */
  external: number;
  arrayBuffers: number;
  /** Memory V8 itself malloc'ed (outside the heap spaces). */
  malloced: number;
}

/** The calling thread's {@link ThreadMemory}. @remarks Allocates; once per metrics interval. */
export function threadMemory(): ThreadMemory {
  const h = v8.getHeapStatistics();
  const spaces: Record<string, number> = {};
  for (const sp of v8.getHeapSpaceStatistics()) if (sp.space_size > 0) spaces[sp.space_name] = sp.space_size;
  const m = process.memoryUsage();
  return { heapUsed: h.used_heap_size, heapTotal: h.total_heap_size, spaces, external: m.external, arrayBuffers: m.arrayBuffers, malloced: h.malloced_memory };
}

/** What an actor ships to the supervisor: cumulative since the actor (incarnation) started. */
export interface MetricsSnapshot {
  /** Metrics generation the histograms belong to (see `Engine.resetLatencyStats`). */
  gen: number;
  records: number;
  batches: number;
  duplicates: number;
  /** HDR histograms (ns) as their non-zero buckets. */
  service: SparseHistogram;
  queueWait: SparseHistogram;
  /** Stage-specific counters (rejections by code, …). */
  counters: Record<string, number>;
  /** Stage-specific latency histograms (ns), e.g. ingest's per-source lead time. */
  histograms: Record<string, SparseHistogram>;
  /** The actor thread's memory when the snapshot was taken. */
  memory?: ThreadMemory;
}

/**
 * Metrics of one stage inside its actor: service time and queue wait per record, counts, and named
 * counters. Recording allocates nothing; {@link snapshot} does, once per interval.
 */
export class StageMetrics {
  readonly service = createHistogram();
  readonly queueWait = createHistogram();
  records = 0;
  batches = 0;
  duplicates = 0;
  readonly counters: Record<string, number> = Object.create(null);
  private readonly named: Record<string, Histogram> = Object.create(null);

  /** Adds `n` to a named counter. */
  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  private readonly joined = new Map<string, Map<string, string>>();

  /**
   * Adds `n` to counter `<prefix>.<key>` (rejections by code, intents by kind). The joined name is
   * built once per pair: concatenating it per call and hashing the fresh string costs ~3× more.
   */
  countKeyed(prefix: string, key: string, n = 1): void {
    let byKey = this.joined.get(prefix);
    if (byKey === undefined) this.joined.set(prefix, (byKey = new Map()));
    let name = byKey.get(key);
    if (name === undefined) byKey.set(key, (name = `${prefix}.${key}`));
    this.count(name, n);
  }

  /** Histogram generation; snapshots carry it so the supervisor can drop stale histograms. */
  gen = 0;

  /** Empties every histogram (counts and counters stay) and moves to generation `gen`. */
  resetHistograms(gen: number): void {
    this.gen = gen;
    this.service.reset();
    this.queueWait.reset();
    for (const h of Object.values(this.named)) h.reset();
  }

  /** A named stage-specific histogram (ns), created on first use; keep the returned one, it is stable. */
  histogram(name: string): Histogram {
    return (this.named[name] ??= createHistogram());
  }

  /** @remarks Allocates; once per metrics interval, not per record. */
  snapshot(): MetricsSnapshot {
    return {
      gen: this.gen,
      records: this.records,
      batches: this.batches,
      duplicates: this.duplicates,
      service: toSparse(this.service),
      queueWait: toSparse(this.queueWait),
      counters: { ...this.counters },
      histograms: Object.fromEntries(Object.entries(this.named).map(([k, h]) => [k, toSparse(h)])),
      memory: threadMemory(),
    };
  }
}

/** Percentiles (µs) of dense bucket counts laid out as {@link createHistogram}'s. */
function percentilesOfCounts(counts: Float64Array, layout: JsHistogram): Percentiles {
  let total = 0;
  let last = -1;
  let weighted = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    total += c;
    last = i;
    weighted += c * layout.medianEquivalentValue(layout.valueFromIndex(i));
  }
  if (total === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  const at = (p: number): number => {
    // The same rank rule as HdrHistogram's getValueAtPercentile.
    const rank = Math.max(1, Math.floor((p / 100) * total + 0.5));
    let seen = 0;
    for (let i = 0; i <= last; i++) {
      seen += counts[i]!;
      if (seen >= rank) return layout.highestEquivalentValue(layout.valueFromIndex(i));
    }
    return layout.highestEquivalentValue(layout.valueFromIndex(last));
  };
  const us = (ns: number) => round3(ns / 1000);
  return { count: total, p50: us(at(50)), p90: us(at(90)), p99: us(at(99)), p999: us(at(99.9)), max: us(at(100)), mean: us(weighted / total) };
}

/**
 * The supervisor's view of one stage across actor restarts: totals of finished incarnations plus
 * the latest snapshot of the live one, kept as dense bucket counts so a summary is one scan, not a
 * histogram merge.
 */
export class StageMetricsView {
  private static layout: JsHistogram | null = null;
  private readonly doneService: Float64Array;
  private readonly doneQueueWait: Float64Array;
  private doneRecords = 0;
  private doneBatches = 0;
  private doneDuplicates = 0;
  private readonly doneCounters: Record<string, number> = Object.create(null);
  private readonly doneNamed: Record<string, Float64Array> = Object.create(null);
  private live: MetricsSnapshot | null = null;
  /** Histograms of snapshots older than this generation are ignored. */
  private minGen = 0;

  constructor() {
    const layout = (StageMetricsView.layout ??= createHistogram() as unknown as JsHistogram);
    this.doneService = new Float64Array(layout.countsArrayLength);
    this.doneQueueWait = new Float64Array(layout.countsArrayLength);
  }

  /** Takes the live incarnation's latest snapshot. */
  update(s: MetricsSnapshot): void {
    this.live = s;
  }

  /** The live incarnation's thread memory at its latest snapshot; null when none is live. */
  memory(): ThreadMemory | null {
    return this.live?.memory ?? null;
  }

  /** Drops every latency histogram recorded so far; snapshots from before generation `gen` keep only their counts. */
  resetHistograms(gen: number): void {
    this.minGen = gen;
    this.doneService.fill(0);
    this.doneQueueWait.fill(0);
    for (const d of Object.values(this.doneNamed)) d.fill(0);
  }

  /** The live incarnation ended (crash or stop): fold its last snapshot into the totals. */
  endIncarnation(): void {
    const s = this.live;
    if (!s) return;
    if (s.gen >= this.minGen) {
      addInto(this.doneService, s.service);
      addInto(this.doneQueueWait, s.queueWait);
      for (const [k, h] of Object.entries(s.histograms ?? {})) addInto((this.doneNamed[k] ??= this.dense()), h);
    }
    this.doneRecords += s.records;
    this.doneBatches += s.batches;
    this.doneDuplicates += s.duplicates;
    for (const [k, v] of Object.entries(s.counters)) this.doneCounters[k] = (this.doneCounters[k] ?? 0) + v;
    this.live = null;
  }

  private dense(): Float64Array {
    return new Float64Array(StageMetricsView.layout!.countsArrayLength);
  }

  /** Totals so far, as µs percentiles and counts. @remarks Allocates; for stats, not the hot path. */
  summary(): {
    records: number;
    batches: number;
    duplicates: number;
    serviceUs: Percentiles;
    queueWaitUs: Percentiles;
    counters: Record<string, number>;
    histogramsUs: Record<string, Percentiles>;
  } {
    const service = this.doneService.slice();
    const queueWait = this.doneQueueWait.slice();
    const counters: Record<string, number> = { ...this.doneCounters };
    let records = this.doneRecords;
    let batches = this.doneBatches;
    let duplicates = this.doneDuplicates;
    const liveHist = this.live !== null && this.live.gen >= this.minGen;
    if (this.live) {
      if (liveHist) {
        addInto(service, this.live.service);
        addInto(queueWait, this.live.queueWait);
      }
      records += this.live.records;
      batches += this.live.batches;
      duplicates += this.live.duplicates;
      for (const [k, v] of Object.entries(this.live.counters)) counters[k] = (counters[k] ?? 0) + v;
    }
    const named: Record<string, Float64Array> = {};
    for (const [k, d] of Object.entries(this.doneNamed)) named[k] = d.slice();
    if (liveHist) for (const [k, h] of Object.entries(this.live!.histograms ?? {})) addInto((named[k] ??= this.dense()), h);
    const layout = StageMetricsView.layout!;
    const histogramsUs: Record<string, Percentiles> = {};
    for (const k of Object.keys(named).sort()) histogramsUs[k] = percentilesOfCounts(named[k]!, layout);
    return { records, batches, duplicates, serviceUs: percentilesOfCounts(service, layout), queueWaitUs: percentilesOfCounts(queueWait, layout), counters, histogramsUs };
  }
}

function addInto(dense: Float64Array, s: SparseHistogram): void {
  for (let i = 0; i < s.index.length; i++) dense[s.index[i]!]! += s.count[i]!;
}
