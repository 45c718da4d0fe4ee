import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Packr } from 'msgpackr';
import type { BlockEvent, RpcTransaction } from '../../messages/schema.js';
import { monoNs } from '../../runtime/clock.js';
import {
  type CaptureRecord,
  type CaptureSource,
  type MinedBlock,
  type RpcErrorAnswer,
  type StateRecord,
  CaptureError,
  DEFAULT_PREFIX,
  FRAME_BYTES,
  MAX_RECORD_BYTES,
  RAW_TX_BODY_OVERHEAD,
  type SegmentHeader,
  createCapturePackr,
  encodeRawTxBody,
  encodeSegmentStart,
  parseSegmentFileName,
  redactUrl,
  segmentFileName,
  writerName,
} from './format.js';

/** Options of {@link CaptureWriter}. */
export interface CaptureWriterOptions {
  chainId: number;
  /** The ingest sources records may name; URLs are redacted before they are stored. */
  sources: readonly CaptureSource[];
  /** A segment is closed and the next one started before it would pass this size. Default 64 MiB. */
  segmentBytes?: number;
  /** Oldest segments are deleted while the capture is larger than this. Default 1 GiB; 0 = keep all. */
  retainBytes?: number;
  /** A segment is also closed once it has been open this long (wall clock, ms), so age retention has segments to drop. Default 0: size only. */
  segmentMs?: number;
  /** Closed segments are deleted once their last record is older than this (wall clock, ms). Default 0: no age limit. */
  retainMs?: number;
  /** Longest a buffered record waits before it is written (checked on append, by `maybeFlush` and an unref'd timer). Default 100. */
  flushMs?: number;
  /** Buffered bytes that trigger a write. Default 256 KiB. */
  flushBytes?: number;
  /** Segment file prefix. Default `capture`. */
  prefix?: string;
  /** Monotonic ns ({@link monoNs}) that is ts 0. Default: now. Pass 0 to store timestamps unchanged. */
  startNs?: number;
  /** Wall clock (unix ms) at ts 0. Default: now. */
  startedAt?: number;
}

/** Counters of a {@link CaptureWriter}. */
export interface CaptureWriterStats {
  /** Records appended (buffered or written). */
  records: number;
  /** Bytes appended, segment prefixes and headers included. */
  bytes: number;
  /** Segment files created. */
  segments: number;
  /** Segment files deleted by retention. */
  deletedSegments: number;
  /** Bytes of the capture on disk now (retained segments plus what the current one has written). */
  diskBytes: number;
  /** Bytes appended but not yet written. */
  bufferedBytes: number;
  /** `writeSync` calls. */
  writes: number;
}

/** A tx as {@link CaptureWriter.writeTx} takes it: exactly one of `raw` and `rpc`. */
export interface CaptureTxInput {
  raw?: Uint8Array | null;
  rpc?: RpcTransaction | null;
  hash?: string | null;
}

/** Defaults of {@link CaptureWriterOptions}. */
export const CAPTURE_WRITER_DEFAULTS = Object.freeze({
  segmentBytes: 64 * 1024 * 1024,
  retainBytes: 1024 * 1024 * 1024,
  flushMs: 100,
  flushBytes: 256 * 1024,
  prefix: DEFAULT_PREFIX,
});

const MIN_SEGMENT_BYTES = 4096;

function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`capture writer: ${name} must be an integer, got ${String(v)}`);
  if (v < min) throw new RangeError(`capture writer: ${name} must be at least ${min}, got ${v}`);
  return v;
}

/**
 * Appends ingest events to a capture directory (docs/capture-format.md). Made to run inside the
 * ingest thread: an append packs the record into a reused buffer and returns; the buffer reaches the
 * file with one `writeSync` per `flushBytes` or `flushMs`, never an fsync per record. Segments
 * rotate at `segmentBytes`; retention deletes the oldest while the capture exceeds `retainBytes`.
 * A crash loses at most the buffered records and leaves at worst a torn last record, which the
 * reader recognises (`allowTruncatedTail`).
 */
export class CaptureWriter {
  /** The capture directory. */
  readonly dir: string;
  /** Monotonic ns that is ts 0. */
  readonly startNs: number;
  /** Shared by every segment of this capture. */
  readonly captureId: string = randomUUID();

  private readonly chainId: number;
  private readonly sources: CaptureSource[];
  private readonly sourceIds: Set<number>;
  private readonly segmentBytes: number;
  private readonly retainBytes: number;
  private readonly segmentMs: number;
  private readonly retainMs: number;
  /** Date.now() when the open segment was created, and when a record last went into it. */
  private segOpenedAt = 0;
  private segLastAt = 0;
  private readonly flushMs: number;
  private readonly flushBytes: number;
  private readonly prefix: string;
  private readonly startedAt: number;
  private readonly packr: Packr = createCapturePackr();

  private buf: Buffer;
  private bufLen = 0;
  /** performance.now() of the oldest unwritten record, or -1 when the buffer is empty. */
  private bufSince = -1;
  private fd = -1;
  /** Index of the open segment, or -1 between segments. */
  private segIndex = -1;
  private nextIndex = 0;
  private currentPath = '';
  /** Size of the current segment's prefix and header: a segment is never rotated before its first record. */
  private segmentStartBytes = 0;
  /** Bytes of the current segment, buffered ones included (the rotation measure). */
  private segBytes = 0;
  /** Bytes of the current segment already on disk. */
  private segDiskBytes = 0;
  /** Closed segments still on disk, oldest first. */
  private readonly retained: { path: string; bytes: number; lastRecordAt: number }[] = [];
  private retainedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private failed: unknown = undefined;
  private closed = false;
  private readonly counters = { records: 0, bytes: 0, segments: 0, deletedSegments: 0, writes: 0 };

  /** Creates `dir` if needed; throws if it already holds segments with this prefix (captures are never mixed). */
  constructor(dir: string, options: CaptureWriterOptions) {
    const o = { ...CAPTURE_WRITER_DEFAULTS, ...options };
    this.chainId = checkInt('chainId', o.chainId, 0);
    this.segmentBytes = checkInt('segmentBytes', o.segmentBytes, MIN_SEGMENT_BYTES);
    this.retainBytes = checkInt('retainBytes', o.retainBytes, 0);
    if (this.retainBytes !== 0 && this.retainBytes < this.segmentBytes) {
      throw new RangeError(`capture writer: retainBytes must be 0 or at least segmentBytes (${this.segmentBytes}), got ${this.retainBytes}`);
    }
    this.segmentMs = checkInt('segmentMs', o.segmentMs ?? 0, 0);
    this.retainMs = checkInt('retainMs', o.retainMs ?? 0, 0);
    this.flushMs = checkInt('flushMs', o.flushMs, 0);
    this.flushBytes = checkInt('flushBytes', o.flushBytes, 1);
    if (typeof o.prefix !== 'string' || !/^[A-Za-z0-9._]+(?:-[A-Za-z0-9._]+)*$/.test(o.prefix)) {
      throw new TypeError(`capture writer: prefix must be letters, digits, '.', '_' or inner '-', got ${JSON.stringify(o.prefix)}`);
    }
    this.prefix = o.prefix;
    if (!Array.isArray(o.sources)) throw new TypeError('capture writer: sources must be an array');
    this.sources = o.sources.map((s, i) => {
      checkInt(`sources[${i}].id`, s.id, 0);
      if (typeof s.name !== 'string') throw new TypeError(`capture writer: sources[${i}].name must be a string`);
      if (typeof s.url !== 'string') throw new TypeError(`capture writer: sources[${i}].url must be a string`);
      return { id: s.id, name: s.name, url: redactUrl(s.url) };
    });
    this.sourceIds = new Set(this.sources.map((s) => s.id));
    if (this.sourceIds.size !== this.sources.length) throw new RangeError('capture writer: sources[].id must be unique');
    this.startNs = o.startNs ?? monoNs();
    this.startedAt = o.startedAt ?? Date.now();
    this.dir = dir;

    mkdirSync(dir, { recursive: true });
    const existing = readdirSync(dir).filter((n) => parseSegmentFileName(n)?.prefix === this.prefix);
    if (existing.length > 0) {
      throw new CaptureError('segments', dir, -1, `already holds a capture (${existing.length} '${this.prefix}-*.orcap' segments); record into a new directory or another prefix`, { fatal: false });
    }
    this.buf = Buffer.allocUnsafe(Math.max(64 * 1024, Math.min(this.flushBytes * 2, 4 * 1024 * 1024)));
    if (this.flushMs > 0) {
      // Flushes an idle writer when the thread's event loop runs (I/O actors); unref'd so it never keeps a thread alive.
      this.timer = setInterval(() => this.timedFlush(), this.flushMs);
      this.timer.unref();
    }
  }

  /**
   * Appends a pending transaction seen at monotonic time `atNs` by source `src`.
   * Throws a TypeError unless exactly one of `raw` and `rpc` is given.
   */
  writeTx(atNs: number, src: number, tx: CaptureTxInput): void {
    const hasRaw = tx.raw != null;
    if (hasRaw === (tx.rpc != null)) throw new TypeError('capture writer: a tx record needs exactly one of raw and rpc');
    const ts = atNs - this.startNs;
    if (hasRaw) {
      // The common record, encoded in place: no intermediate object, no copy (encodeRawTxBody).
      const raw = tx.raw!;
      const at = this.beginFrame(ts, src, FRAME_BYTES + raw.length + RAW_TX_BODY_OVERHEAD, raw.length);
      const end = encodeRawTxBody(this.buf, at + FRAME_BYTES, ts, src, raw, tx.hash);
      if (end >= 0) {
        this.endFrame(at, end - at - FRAME_BYTES);
        return;
      }
    }
    // Only present fields are written: absent beats nil for other-language readers and saves bytes.
    let rec: CaptureRecord;
    // A raw tx lands here only when its hash was too long for the in-place encoder.
    if (hasRaw) rec = { t: 'tx', ts, src, raw: tx.raw!, hash: tx.hash! };
    else rec = tx.hash != null ? { t: 'tx', ts, src, rpc: tx.rpc!, hash: tx.hash } : { t: 'tx', ts, src, rpc: tx.rpc! };
    this.appendRecord(rec, ts, src);
  }

  /** Appends a block event seen at monotonic time `atNs` by source `src`. */
  writeBlock(atNs: number, src: number, block: BlockEvent): void {
    const ts = atNs - this.startNs;
    this.appendRecord({ t: 'block', ts, src, block }, ts, src);
  }

  /**
   * Appends a JSON-RPC read and its answer (the replay tape's `state` record) made at monotonic time
   * `atNs`: `result` when the node answered with one (null included), else `error`.
   * @remarks Allocates (msgpackr packs the JSON values); one call per recorded read.
   */
  writeState(atNs: number, method: string, params: unknown[], answer: { result: unknown } | { error: RpcErrorAnswer }): void {
    const ts = atNs - this.startNs;
    // Only the present one of r/e is written: a null result is `r: nil`, never confused with an error.
    const rec: StateRecord = 'error' in answer ? { t: 'state', ts, m: method, p: params, e: answer.error } : { t: 'state', ts, m: method, p: params, r: answer.result };
    this.appendRecord(rec, ts, null);
  }

  /** Appends a mined block (the tape's `mined` record) recorded at monotonic time `atNs`. */
  writeMined(atNs: number, block: MinedBlock): void {
    const ts = atNs - this.startNs;
    this.appendRecord({ t: 'mined', ts, block }, ts, null);
  }

  /** Appends facts about the run (the tape's `meta` record: engine config, versions) at monotonic time `atNs`. */
  writeMeta(atNs: number, meta: Record<string, unknown>): void {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new TypeError('capture writer: meta must be a plain object');
    const ts = atNs - this.startNs;
    this.appendRecord({ t: 'meta', ts, meta }, ts, null);
  }

  /**
   * Appends a record exactly as given, `ts` included (already relative to the capture's start): for
   * tools that copy or filter a capture record by record. A `tx` or `block` record must name one of
   * this capture's sources.
   * @remarks Allocates (msgpackr); not the ingest hot path, which uses {@link writeTx}.
   */
  append(rec: CaptureRecord): void {
    this.appendRecord(rec, rec.ts, rec.t === 'tx' || rec.t === 'block' ? rec.src : null);
  }

  /** Writes buffered records to the file (no fsync). */
  flush(): void {
    this.throwIfUnusable();
    this.writeBuffer();
  }

  /** Flushes if the oldest buffered record has waited `flushMs`; cheap enough to call from an idle loop. */
  maybeFlush(): void {
    if (this.bufSince >= 0 && performance.now() - this.bufSince >= this.flushMs) this.flush();
  }

  /**
   * Flushes, fsyncs and closes the current segment. A capture closed without records still gets one
   * header-only segment, so it can be opened and names its chain and sources. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      if (this.failed !== undefined) throw this.failed;
      if (this.counters.segments === 0) this.startSegment(null);
      this.writeBuffer();
      // One fsync per capture, at the end: durability of the whole file without a per-record cost.
      if (this.fd >= 0) fsyncSync(this.fd);
    } catch (err) {
      throw err instanceof CaptureError ? err : this.ioError('cannot close the capture', err);
    } finally {
      this.closeFd();
    }
  }

  /** Counters so far. @remarks Allocates; call from metrics, not per record. */
  stats(): CaptureWriterStats {
    return {
      ...this.counters,
      diskBytes: this.retainedBytes + this.segDiskBytes,
      bufferedBytes: this.bufLen,
    };
  }

  /** Packs and frames one record; `src` null for the tape's source-less records. */
  private appendRecord(rec: CaptureRecord, ts: number, src: number | null): void {
    this.throwIfUnusable();
    // The packer's output is a view of its own scratch buffer, valid until the next pack: copied at once.
    const body = this.packr.pack(rec);
    const at = this.beginFrame(ts, src, FRAME_BYTES + body.length, body.length);
    this.buf.set(body, at + FRAME_BYTES);
    this.endFrame(at, body.length);
  }

  /**
   * Checks a record, rotates or starts a segment as needed and reserves `maxFrame` bytes; returns
   * where the frame goes in the buffer. `bodyHint` is the body size known so far, for the limit.
   */
  private beginFrame(ts: number, src: number | null, maxFrame: number, bodyHint: number): number {
    this.throwIfUnusable();
    if (!Number.isFinite(ts)) throw new TypeError(`capture writer: timestamp must be a number, got ${String(ts)}`);
    if (src !== null && !this.sourceIds.has(src)) throw new RangeError(`capture writer: source id ${src} is not among the capture's sources`);
    if (bodyHint > MAX_RECORD_BYTES) throw new RangeError(`capture writer: a record of ${bodyHint} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit`);
    // maxFrame may overestimate (the in-place encoder's bound): a segment can end a little early, never late.
    if (this.segIndex >= 0 && this.segBytes > this.segmentStartBytes && (this.segBytes + maxFrame > this.segmentBytes || (this.segmentMs > 0 && Date.now() - this.segOpenedAt >= this.segmentMs))) this.rotate();
    if (this.segIndex < 0) this.startSegment(ts);
    if (this.retainMs > 0) this.segLastAt = Date.now();
    this.reserve(maxFrame);
    return this.bufLen;
  }

  /** Writes the frame header of a body already in place at `at + FRAME_BYTES`, and accounts for it. */
  private endFrame(at: number, len: number): void {
    const b = this.buf;
    const frame = FRAME_BYTES + len;
    if (len > MAX_RECORD_BYTES) throw new RangeError(`capture writer: a record of ${len} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit`);
    b.writeUInt32LE(len, at);
    b.writeUInt32LE(crc32(b.subarray(at + FRAME_BYTES, at + frame)), at + 4);
    this.bufLen = at + frame;
    this.segBytes += frame;
    this.counters.records++;
    this.counters.bytes += frame;
    const now = performance.now();
    if (this.bufSince < 0) this.bufSince = now;
    if (this.bufLen >= this.flushBytes || now - this.bufSince >= this.flushMs) this.writeBuffer();
  }

  private startSegment(firstTs: number | null): void {
    this.segOpenedAt = Date.now();
    const index = this.nextIndex;
    const path = join(this.dir, segmentFileName(this.prefix, index));
    const header: SegmentHeader = {
      captureId: this.captureId,
      chainId: this.chainId,
      sources: this.sources,
      writer: writerName(),
      segment: index,
      startedAt: this.startedAt,
      createdAt: Date.now(),
      firstTs,
    };
    // The buffer is empty here (rotate() and close() write it out first), so nothing of the
    // previous segment can land in this file.
    try {
      // 'wx': never append to or clobber a file someone else wrote.
      this.fd = openSync(path, 'wx');
    } catch (err) {
      throw this.ioError(`cannot create segment ${path}`, err);
    }
    this.segIndex = index;
    this.currentPath = path;
    this.nextIndex++;
    // Not this.packr: a record body packed by it may still sit in its scratch buffer, waiting to be copied.
    const start = encodeSegmentStart(header);
    this.reserve(start.length);
    this.buf.set(start, this.bufLen);
    this.bufLen += start.length;
    this.segBytes = start.length;
    this.segmentStartBytes = start.length;
    this.segDiskBytes = 0;
    this.counters.segments++;
    this.counters.bytes += start.length;
    if (this.bufSince < 0) this.bufSince = performance.now();
  }

  private rotate(): void {
    this.writeBuffer();
    this.retained.push({ path: this.currentPath, bytes: this.segDiskBytes, lastRecordAt: this.segLastAt || Date.now() });
    this.retainedBytes += this.segDiskBytes;
    this.segDiskBytes = 0;
    this.closeFd();
    // The next segment starts lazily with its first record, so its header can carry that record's ts.
    this.segIndex = -1;
  }

  /** Makes room for `n` more bytes in the buffer, writing or growing it as needed. */
  private reserve(n: number): void {
    if (this.bufLen + n <= this.buf.length) return;
    this.writeBuffer();
    if (n > this.buf.length) {
      let size = this.buf.length;
      while (size < n) size *= 2;
      this.buf = Buffer.allocUnsafe(size);
    }
  }

  private writeBuffer(): void {
    if (this.bufLen === 0) {
      this.bufSince = -1;
      return;
    }
    try {
      let off = 0;
      while (off < this.bufLen) {
        off += writeSync(this.fd, this.buf, off, this.bufLen - off);
        this.counters.writes++;
      }
    } catch (err) {
      this.failed = err;
      throw this.ioError(`cannot write segment ${this.currentPath}`, err);
    }
    this.segDiskBytes += this.bufLen;
    this.bufLen = 0;
    this.bufSince = -1;
    this.applyRetention();
  }

  private applyRetention(): void {
    if (this.retainBytes === 0 && this.retainMs === 0) return;
    const tooOld = this.retainMs > 0 ? Date.now() - this.retainMs : -Infinity;
    while (this.retained.length > 0 && ((this.retainBytes > 0 && this.retainedBytes + this.segDiskBytes > this.retainBytes) || this.retained[0]!.lastRecordAt < tooOld)) {
      const oldest = this.retained.shift()!;
      this.retainedBytes -= oldest.bytes;
      try {
        unlinkSync(oldest.path);
      } catch (err) {
        // Already gone (an operator cleaned up) is fine; anything else is reported.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.ioError(`cannot delete old segment ${oldest.path}`, err);
      }
      this.counters.deletedSegments++;
    }
  }

  private timedFlush(): void {
    // A throw in a timer would kill the thread: keep the error for the next call to report.
    try {
      if (!this.closed && this.failed === undefined) this.maybeFlush();
    } catch (err) {
      this.failed ??= err;
    }
  }

  private throwIfUnusable(): void {
    if (this.closed) throw new CaptureError('closed', this.dir, -1, 'the capture writer is closed', { fatal: false });
    if (this.failed !== undefined) {
      throw this.failed instanceof CaptureError ? this.failed : this.ioError('an earlier write failed', this.failed);
    }
  }

  private closeFd(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // Closing is best effort: the data was written or the write already reported its error.
      }
      this.fd = -1;
    }
  }

  private ioError(what: string, cause: unknown): CaptureError {
    // Disk full or a vanished directory may clear up: not fatal, the caller decides.
    return new CaptureError('io', this.currentPath || this.dir, -1, what, { cause, fatal: false });
  }
}
