import { monoNs } from '../../../runtime/clock.js';
import { OrionError } from '../../../runtime/errors.js';
import { type CaptureReader, openCapture } from '../../../replay/capture/capture-reader.js';
import type { CaptureRecord } from '../../../replay/capture/format.js';
import { keccak256 } from '../../decoder/tx/keccak.js';
import { toHex } from '../../decoder/tx/hex.js';
import type { Source, SourceSink, SourceStats } from './source.js';

/** Options of {@link CaptureFileSource}. */
export interface CaptureFileSourceOptions {
  path: string;
  /** `max`, or a multiple of the recorded pace (1 = as recorded). */
  speed: 'max' | number;
  /** Called once when the last record was delivered (or the capture failed). */
  onFinished?: () => void;
  /**
   * The engine's start gate (an Int32 that turns non-zero once every stage is ready): nothing is
   * delivered before, so a replay's records do not pile up in the rings while later stages start,
   * and its pacing and timings start with the pipeline.
   */
  gate?: SharedArrayBuffer;
}

/** Records delivered per event-loop turn at `max` speed, so timers and the heartbeat still run. */
const CHUNK = 512;

/**
 * A capture read back as a source: delivers its transactions and heads in recorded order, either
 * as fast as the ingest ring takes them or at the recorded pace scaled by `speed`. Lossless: the
 * ingest actor waits for ring space for this source instead of shedding, since a replay that drops
 * records differs from the run it replays.
 */
export class CaptureFileSource implements Source {
  readonly lossless = true;
  private reader: CaptureReader | null = null;
  private iter: Generator<CaptureRecord, void, undefined> | null = null;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private startNs = 0;
  private firstTs = 0;
  private stopped = false;
  private finished = false;
  private readonly counts = { frames: 0, txs: 0, blocks: 0 };
  private lastError: string | null = null;

  constructor(
    readonly id: number,
    readonly name: string,
    private readonly options: CaptureFileSourceOptions,
    private readonly sink: SourceSink,
  ) {}

  start(): void {
    try {
      this.reader = openCapture(this.options.path, { allowTruncatedTail: true });
      this.iter = this.reader.records();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.sink.status(this.id, { type: 'connected', endpoint: `capture:${this.options.path}`, reconnect: false });
    this.firstTs = this.reader.header.firstTs ?? 0;
    const gate = this.options.gate ? new Int32Array(this.options.gate) : null;
    if (gate === null || Atomics.load(gate, 0) !== 0) return this.go();
    const w = Atomics.waitAsync(gate, 0, 0);
    if (!w.async) return this.go();
    void w.value.then(() => this.go());
  }

  private go(): void {
    if (this.stopped || this.timer !== null) return;
    this.startNs = monoNs();
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = delayMs > 0 ? setTimeout(() => this.pump(), delayMs) : setImmediate(() => this.pump());
  }

  private pending: CaptureRecord | null = null;

  private pump(): void {
    this.timer = null;
    const paced = this.options.speed !== 'max';
    const scale = paced ? 1 / (this.options.speed as number) : 0;
    try {
      for (let n = 0; n < CHUNK && !this.stopped; n++) {
        const rec = this.pending ?? this.next();
        this.pending = null;
        if (rec === null) return this.finish();
        // Only ingest events feed ingest; the replay tape's records (state, mined, meta) are not for it.
        if (rec.t !== 'tx' && rec.t !== 'block') continue;
        if (paced) {
          const dueNs = this.startNs + (rec.ts - this.firstTs) * scale;
          const waitMs = (dueNs - monoNs()) / 1e6;
          if (waitMs > 1) {
            this.pending = rec;
            return this.schedule(Math.floor(waitMs));
          }
        }
        this.deliver(rec);
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    this.schedule(0);
  }

  private next(): CaptureRecord | null {
    const r = this.iter!.next();
    return r.done ? null : r.value;
  }

  private deliver(rec: CaptureRecord): void {
    this.counts.frames++;
    const seenNs = monoNs();
    if (rec.t === 'tx') {
      this.counts.txs++;
      // The merge dedupes by hash: a record stored without one is keyed by the keccak of its bytes
      // (the tx hash, except for a blob tx in network form; the decoder computes the real one).
      const hash = rec.hash ?? (rec.raw ? toHex(keccak256(rec.raw)) : '');
      this.sink.tx(this.id, seenNs, hash, rec.raw ?? null, rec.rpc ?? null);
    } else if (rec.t === 'block') {
      this.counts.blocks++;
      this.sink.block(this.id, seenNs, rec.block);
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const tail = this.reader?.stats.truncatedTail;
    if (tail) {
      const error = new OrionError('ORION_ERR_CAPTURE', `capture ${this.options.path} ends in a torn record (${tail.file} at byte ${tail.offset}); records before it were delivered`);
      this.lastError = error.shortMessage;
      this.sink.status(this.id, { type: 'error', error });
    }
    this.sink.status(this.id, { type: 'stopped' });
    this.options.onFinished?.();
  }

  private fail(err: unknown): void {
    const e = err instanceof OrionError ? err : new OrionError('ORION_ERR_CAPTURE', `capture source ${this.name}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    this.lastError = e.shortMessage;
    this.sink.status(this.id, { type: 'error', error: e });
    this.finish();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
  }

  stats(): SourceStats {
    return {
      connected: this.reader !== null && !this.finished,
      connectAttempts: 1,
      reconnects: 0,
      frames: this.counts.frames,
      txs: this.counts.txs,
      blocks: this.counts.blocks,
      duplicatesSuppressed: 0,
      fetches: 0,
      fetchErrors: 0,
      fetchMissing: 0,
      backfilled: 0,
      badFrames: { 'not-json': 0, oversized: 0, 'unknown-subscription': 0, 'malformed-tx': 0, 'malformed-head': 0, 'rpc-error': 0, 'unexpected-frame': 0 },
      mode: 'full',
      lastError: this.lastError,
    };
  }
}
