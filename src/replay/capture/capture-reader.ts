import { closeSync, fstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Unpackr } from 'msgpackr';
import {
  CAPTURE_FORMAT_VERSION,
  CAPTURE_MAGIC,
  type CaptureRecord,
  CaptureError,
  FRAME_BYTES,
  MAX_HEADER_BYTES,
  MAX_RECORD_BYTES,
  OFF_HEADER_CRC,
  OFF_HEADER_LEN,
  OFF_VERSION,
  PREFIX_BYTES,
  RESERVED_RECORD_TYPES,
  type SegmentHeader,
  createCaptureUnpackr,
  parseSegmentFileName,
} from './format.js';

/** Options of {@link openCapture}. */
export interface CaptureReadOptions {
  /**
   * Accept a torn last record (or torn header) at the end of the last segment, as a crash of the
   * writer leaves it: iteration ends there and `stats.truncatedTail` says where. Off by default, so
   * a cut-off capture is never taken for a complete one. Damage anywhere else is always an error.
   */
  allowTruncatedTail?: boolean;
  /**
   * Skip records of a type this build does not know (counted in `stats.skipped`) instead of failing.
   * Off by default: a replay that silently dropped, say, state reads would be quietly wrong.
   */
  skipUnknownTypes?: boolean;
  /** Segment prefix to read when a directory holds several captures. */
  prefix?: string;
  /** Read buffer size in bytes. Default 1 MiB. */
  readBufferBytes?: number;
}

/** One segment file of an open capture. */
export interface CaptureSegmentInfo {
  path: string;
  index: number;
  /** File size when the capture was opened. */
  bytes: number;
  /** Null only for a last segment torn inside its header (with `allowTruncatedTail`). */
  header: SegmentHeader | null;
  /** Offset of the first record. */
  dataOffset: number;
}

/** Where a capture's torn tail starts. */
export interface TruncatedTail {
  file: string;
  /** Offset of the torn record (or of the segment start for a torn header). */
  offset: number;
  /** Bytes of it present. */
  presentBytes: number;
  /** Bytes it needed (at least; 8 when even the frame header is cut), or -1 for a zero-filled tail. */
  neededBytes: number;
}

/** Counters of one pass over a capture; reset when a pass starts. */
export interface CaptureReadStats {
  /** Segment files in the capture. */
  segments: number;
  /** Segments whose records this pass has started to read. */
  segmentsRead: number;
  /** Records returned. */
  records: number;
  /** Bytes consumed: prefixes, headers and frames of the records returned or skipped. */
  bytes: number;
  /** Records returned per type. */
  byType: Record<string, number>;
  /** Records skipped per unknown type (`skipUnknownTypes`). */
  skipped: Record<string, number>;
  /** Set when the capture ended in a torn record that `allowTruncatedTail` accepted. */
  truncatedTail: TruncatedTail | null;
}

const DEFAULT_READ_BUFFER = 1024 * 1024;
const NEED = 1;
const DONE = 2;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const isHexString = (x: unknown): x is string => typeof x === 'string' && x.startsWith('0x');

/** Why `b` is not a {@link MinedBlock}, or null when it is one. */
function checkMinedBlock(b: unknown): string | null {
  if (!isPlainObject(b)) return `'block' must be a map`;
  if (!Number.isSafeInteger(b.number) || !isHexString(b.hash) || !isHexString(b.parentHash) || typeof b.timestamp !== 'number') {
    return `'block' needs number (integer), hash, parentHash (0x-hex) and timestamp (number)`;
  }
  if (b.baseFeePerGas !== null && !isHexString(b.baseFeePerGas)) return `'block.baseFeePerGas' must be a 0x-hex string or nil`;
  if (!Array.isArray(b.txs)) return `'block.txs' must be an array`;
  for (let i = 0; i < b.txs.length; i++) {
    const x: unknown = b.txs[i];
    if (
      !isPlainObject(x) ||
      !isHexString(x.hash) ||
      !isHexString(x.from) ||
      (x.to !== null && !isHexString(x.to)) ||
      !Number.isSafeInteger(x.nonce) ||
      (x.status !== 0 && x.status !== 1 && x.status !== null) ||
      !Array.isArray(x.touched) ||
      !x.touched.every(isHexString)
    ) {
      return `'block.txs[${i}]' must be { hash, from, to (0x-hex or nil), nonce (integer), status (0, 1 or nil), touched (0x-hex array) }`;
    }
  }
  return null;
}

/** Reads exactly `length` bytes at `position` unless the file ends first; returns the count read. */
function readFully(fd: number, buf: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

async function readFullyAsync(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** Checks a decoded header and names the first bad field. */
function checkHeader(v: unknown, file: string): SegmentHeader {
  const bad = (what: string) => new CaptureError('bad-header', file, PREFIX_BYTES, what);
  if (!isPlainObject(v)) throw bad('the header is not a msgpack map');
  const int = (k: string) => {
    if (typeof v[k] !== 'number' || !Number.isSafeInteger(v[k]) || (v[k] as number) < 0) throw bad(`header field '${k}' must be a non-negative integer, got ${String(v[k])}`);
  };
  if (typeof v.captureId !== 'string') throw bad(`header field 'captureId' must be a string`);
  int('chainId');
  int('segment');
  if (typeof v.writer !== 'string') throw bad(`header field 'writer' must be a string`);
  if (typeof v.startedAt !== 'number') throw bad(`header field 'startedAt' must be a number`);
  if (typeof v.createdAt !== 'number') throw bad(`header field 'createdAt' must be a number`);
  if (v.firstTs !== null && typeof v.firstTs !== 'number') throw bad(`header field 'firstTs' must be a number or nil`);
  if (!Array.isArray(v.sources)) throw bad(`header field 'sources' must be an array`);
  v.sources.forEach((s: unknown, i: number) => {
    if (!isPlainObject(s) || !Number.isSafeInteger(s.id) || typeof s.name !== 'string' || typeof s.url !== 'string') {
      throw bad(`header field 'sources[${i}]' must be { id: integer, name: string, url: string }`);
    }
  });
  return v as unknown as SegmentHeader;
}

/**
 * Reads one segment's prefix and header. Returns null for a torn header when the caller accepts a
 * torn tail here (`tornOk`), recording where in `tail`.
 */
function readSegmentHeader(path: string, tornOk: boolean, hint: string, unpackr: Unpackr, tail: { value: TruncatedTail | null }): { bytes: number; header: SegmentHeader | null; dataOffset: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new CaptureError('io', path, -1, 'cannot open segment', { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    const pre = Buffer.alloc(PREFIX_BYTES);
    const got = readFully(fd, pre, PREFIX_BYTES, 0);
    const torn = (needed: number) => {
      if (tornOk) {
        tail.value = { file: path, offset: 0, presentBytes: size, neededBytes: needed };
        return { bytes: size, header: null, dataOffset: size };
      }
      throw new CaptureError('truncated', path, Math.min(size, got), `segment ends inside its prefix or header (${size} of at least ${needed} bytes present)${hint}`);
    };
    // The magic is checked on whatever bytes exist, so a short foreign file reads as "not a capture", not "truncated".
    const magicHave = Math.min(got, CAPTURE_MAGIC.length);
    if (Buffer.compare(pre.subarray(0, magicHave), CAPTURE_MAGIC.subarray(0, magicHave)) !== 0) {
      throw new CaptureError('bad-magic', path, 0, `not a capture segment: starts with ${hex(pre.subarray(0, magicHave))}, expected ${hex(CAPTURE_MAGIC)}`);
    }
    if (got < OFF_VERSION + 4) return torn(PREFIX_BYTES);
    const version = pre.readUInt32LE(OFF_VERSION);
    if (version !== CAPTURE_FORMAT_VERSION) {
      throw new CaptureError('bad-version', path, OFF_VERSION, `capture format version ${version} is not supported; this reader supports version ${CAPTURE_FORMAT_VERSION}${version > CAPTURE_FORMAT_VERSION ? ' (written by a newer orion: upgrade)' : ''}`);
    }
    if (got < PREFIX_BYTES) return torn(PREFIX_BYTES);
    const hlen = pre.readUInt32LE(OFF_HEADER_LEN);
    if (hlen === 0 || hlen > MAX_HEADER_BYTES) throw new CaptureError('bad-length', path, OFF_HEADER_LEN, `header length ${hlen} is outside 1..${MAX_HEADER_BYTES}`);
    if (size < PREFIX_BYTES + hlen) return torn(PREFIX_BYTES + hlen);
    const body = Buffer.alloc(hlen);
    if (readFully(fd, body, hlen, PREFIX_BYTES) < hlen) return torn(PREFIX_BYTES + hlen);
    const stored = pre.readUInt32LE(OFF_HEADER_CRC);
    const actual = crc32(body);
    if (stored !== actual) {
      throw new CaptureError('crc', path, PREFIX_BYTES, `header CRC mismatch (stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')})`);
    }
    let value: unknown;
    try {
      value = unpackr.unpack(body);
    } catch (err) {
      throw new CaptureError('bad-msgpack', path, PREFIX_BYTES, 'header is not valid msgpack', { cause: err });
    }
    return { bytes: size, header: checkHeader(value, path), dataOffset: PREFIX_BYTES + hlen };
  } finally {
    closeSync(fd);
  }
}

/**
 * Walks the frames of one segment over a caller-filled buffer, so the sync and async passes share
 * one parser: `step()` returns a record, DONE, or NEED after setting `wantPos`/`wantLen`, and the
 * driver then reads those bytes into `buf` and calls `filled`.
 */
class SegmentCursor {
  wantPos = 0;
  wantLen = 0;
  private pos: number;
  private bufStart = 0;
  private bufLen = 0;
  private minNeeded = 0;

  constructor(
    private readonly reader: CaptureReader,
    private readonly seg: CaptureSegmentInfo,
    private readonly size: number,
    private readonly last: boolean,
    private readonly io: { buf: Buffer },
  ) {
    this.pos = seg.dataOffset;
  }

  filled(n: number): void {
    if (n < this.minNeeded) throw new CaptureError('io', this.seg.path, this.wantPos + n, `segment shrank while being read (wanted ${this.minNeeded} bytes, got ${n})`);
    this.bufStart = this.wantPos;
    this.bufLen = n;
  }

  step(): CaptureRecord | typeof NEED | typeof DONE {
    const { reader, seg, size } = this;
    for (;;) {
      const pos = this.pos;
      if (pos >= size) return DONE;
      const remaining = size - pos;
      if (remaining < FRAME_BYTES) return this.torn(pos, remaining, FRAME_BYTES);
      if (!this.has(pos, FRAME_BYTES)) return this.need(pos, FRAME_BYTES);
      const buf = this.io.buf;
      const o = pos - this.bufStart;
      const len = buf.readUInt32LE(o);
      if (len === 0 || len > MAX_RECORD_BYTES) {
        if (len === 0 && this.last && reader.options.allowTruncatedTail && remaining <= MAX_RECORD_BYTES) {
          // A crash after the size was extended but before the data landed leaves zeros (ext4/xfs writeback).
          if (!this.has(pos, remaining)) return this.need(pos, remaining);
          if (buf.subarray(o, o + remaining).every((b) => b === 0)) return this.torn(pos, remaining, -1);
        }
        throw new CaptureError('bad-length', seg.path, pos, `record length ${len} is outside 1..${MAX_RECORD_BYTES}: the frame is corrupt`);
      }
      const frame = FRAME_BYTES + len;
      if (remaining < frame) return this.torn(pos, remaining, frame);
      if (!this.has(pos, frame)) return this.need(pos, frame);
      const stored = buf.readUInt32LE(o + 4);
      const body = buf.subarray(o + FRAME_BYTES, o + frame);
      const actual = crc32(body);
      if (stored !== actual) {
        throw new CaptureError('crc', seg.path, pos, `record CRC mismatch (stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')}, ${len}-byte body)`);
      }
      let value: unknown;
      try {
        value = reader.unpackr.unpack(body);
      } catch (err) {
        throw new CaptureError('bad-msgpack', seg.path, pos, 'record body is not valid msgpack', { cause: err });
      }
      this.pos = pos + frame;
      const rec = reader.checkRecord(value, seg.path, pos);
      reader.stats.bytes += frame;
      if (rec === null) continue;
      reader.stats.records++;
      reader.stats.byType[rec.t] = (reader.stats.byType[rec.t] ?? 0) + 1;
      return rec;
    }
  }

  private has(pos: number, n: number): boolean {
    return pos >= this.bufStart && pos + n <= this.bufStart + this.bufLen;
  }

  private need(pos: number, n: number): typeof NEED {
    if (this.io.buf.length < n) {
      let cap = this.io.buf.length;
      while (cap < n) cap *= 2;
      this.io.buf = Buffer.allocUnsafe(cap);
      this.bufLen = 0;
    }
    this.wantPos = pos;
    // Read as much as fits: one read serves many frames.
    this.wantLen = Math.min(this.io.buf.length, this.size - pos);
    this.minNeeded = n;
    return NEED;
  }

  private torn(pos: number, present: number, needed: number): typeof DONE {
    const { reader, seg } = this;
    if (this.last && reader.options.allowTruncatedTail) {
      reader.stats.truncatedTail = { file: seg.path, offset: pos, presentBytes: present, neededBytes: needed };
      this.pos = this.size;
      return DONE;
    }
    const what = needed < 0 ? `zero-filled tail of ${present} bytes` : `record truncated: ${present} of ${needed} bytes present`;
    throw new CaptureError(
      'truncated',
      seg.path,
      pos,
      this.last
        ? `${what} at the end of the last segment (a torn tail, as a crash of the writer leaves it; open with allowTruncatedTail to accept it)`
        : `${what} at the end of a segment that is not the last: the capture is damaged`,
    );
  }
}

/**
 * An open capture (docs/capture-format.md): every segment's header checked, records read on demand
 * in order, sync (`records()`) or async (`recordsAsync()`). Errors are {@link CaptureError}s naming
 * the file, byte offset and kind.
 */
export class CaptureReader {
  /** The directory or file opened. */
  readonly path: string;
  /** Header of the first segment (the oldest one retention kept). */
  readonly header: SegmentHeader;
  /** Segment files in order. */
  readonly segments: readonly CaptureSegmentInfo[];
  /** Counters of the current (or last) pass. */
  readonly stats: CaptureReadStats;
  /** @internal */
  readonly options: Readonly<CaptureReadOptions>;
  /** @internal */
  readonly unpackr: Unpackr;
  private readonly sourceIds: Set<number>;
  private readonly openTail: TruncatedTail | null;
  private readonly readBufferBytes: number;

  /** Use {@link openCapture}. */
  constructor(path: string, segments: CaptureSegmentInfo[], openTail: TruncatedTail | null, options: CaptureReadOptions, unpackr: Unpackr) {
    this.path = path;
    this.segments = Object.freeze(segments);
    this.options = Object.freeze({ ...options });
    this.unpackr = unpackr;
    this.header = segments[0]!.header!;
    this.sourceIds = new Set(this.header.sources.map((s) => s.id));
    this.openTail = openTail;
    this.readBufferBytes = options.readBufferBytes ?? DEFAULT_READ_BUFFER;
    this.stats = this.freshStats();
  }

  /** All records of all segments in order. Starts a new pass (and resets `stats`) on each call. */
  *records(): Generator<CaptureRecord, void, undefined> {
    const io = this.startPass();
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (seg.header === null) continue;
      let fd: number;
      try {
        fd = openSync(seg.path, 'r');
      } catch (err) {
        throw new CaptureError('io', seg.path, -1, 'cannot open segment (deleted by retention while reading?)', { cause: err });
      }
      try {
        this.stats.segmentsRead++;
        this.stats.bytes += seg.dataOffset;
        const cursor = new SegmentCursor(this, seg, fstatSync(fd).size, i === this.segments.length - 1, io);
        for (;;) {
          const r = cursor.step();
          if (r === DONE) break;
          if (r === NEED) {
            cursor.filled(readFully(fd, io.buf, cursor.wantLen, cursor.wantPos));
            continue;
          }
          yield r;
        }
      } finally {
        closeSync(fd);
      }
    }
  }

  /** The same pass as {@link records} with asynchronous reads, so a long replay leaves the event loop free. */
  async *recordsAsync(): AsyncGenerator<CaptureRecord, void, undefined> {
    const io = this.startPass();
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (seg.header === null) continue;
      let fh: FileHandle;
      try {
        fh = await open(seg.path, 'r');
      } catch (err) {
        throw new CaptureError('io', seg.path, -1, 'cannot open segment (deleted by retention while reading?)', { cause: err });
      }
      try {
        this.stats.segmentsRead++;
        this.stats.bytes += seg.dataOffset;
        const cursor = new SegmentCursor(this, seg, (await fh.stat()).size, i === this.segments.length - 1, io);
        for (;;) {
          const r = cursor.step();
          if (r === DONE) break;
          if (r === NEED) {
            cursor.filled(await readFullyAsync(fh, io.buf, cursor.wantLen, cursor.wantPos));
            continue;
          }
          yield r;
        }
      } finally {
        await fh.close();
      }
    }
  }

  /** Same as {@link records}. */
  [Symbol.iterator](): Generator<CaptureRecord, void, undefined> {
    return this.records();
  }

  /** Reads every record once (CRCs, msgpack, record checks) and returns the stats; throws what a pass would. */
  verify(): CaptureReadStats {
    for (const _ of this.records());
    return this.stats;
  }

  /**
   * Checks a decoded record; null when it is of an unknown type being skipped.
   * @internal
   */
  checkRecord(v: unknown, file: string, offset: number): CaptureRecord | null {
    const bad = (what: string) => new CaptureError('bad-record', file, offset, what);
    if (!isPlainObject(v)) throw bad('record is not a msgpack map');
    const t = v.t;
    if (typeof t !== 'string') throw bad(`record has no string type 't'`);
    if (t === 'tx' || t === 'block') {
      if (typeof v.ts !== 'number' || !Number.isFinite(v.ts)) throw bad(`${t} record: 'ts' must be a number`);
      if (typeof v.src !== 'number' || !this.sourceIds.has(v.src)) throw bad(`${t} record: 'src' ${String(v.src)} is not a source id of the header`);
      if (t === 'tx') {
        const hasRaw = v.raw !== undefined;
        if (hasRaw === (v.rpc !== undefined)) throw bad(`tx record needs exactly one of 'raw' and 'rpc'`);
        if (hasRaw && !(v.raw instanceof Uint8Array)) throw bad(`tx record: 'raw' must be bytes`);
        if (!hasRaw && !isPlainObject(v.rpc)) throw bad(`tx record: 'rpc' must be a map`);
        if (v.hash !== undefined && typeof v.hash !== 'string') throw bad(`tx record: 'hash' must be a string`);
      } else {
        const b = v.block;
        if (!isPlainObject(b) || typeof b.number !== 'number' || typeof b.hash !== 'string') throw bad(`block record: 'block' must be a block event with number and hash`);
      }
      return v as unknown as CaptureRecord;
    }
    if (t === 'state' || t === 'mined' || t === 'meta') {
      // The tape's records name no ingest source: they come from the recording proxy, not a source.
      if (typeof v.ts !== 'number' || !Number.isFinite(v.ts)) throw bad(`${t} record: 'ts' must be a number`);
      if (t === 'state') {
        if (typeof v.m !== 'string') throw bad(`state record: 'm' (method) must be a string`);
        if (!Array.isArray(v.p)) throw bad(`state record: 'p' (params) must be an array`);
        const e = v.e;
        if ('r' in v === (e !== undefined)) throw bad(`state record needs exactly one of 'r' (result) and 'e' (error)`);
        if (e !== undefined && (!isPlainObject(e) || typeof e.code !== 'number' || typeof e.message !== 'string')) throw bad(`state record: 'e' must be { code: number, message: string }`);
      } else if (t === 'mined') {
        const why = checkMinedBlock(v.block);
        if (why !== null) throw bad(`mined record: ${why}`);
      } else if (!isPlainObject(v.meta)) {
        throw bad(`meta record: 'meta' must be a map`);
      }
      return v as unknown as CaptureRecord;
    }
    if (this.options.skipUnknownTypes) {
      this.stats.skipped[t] = (this.stats.skipped[t] ?? 0) + 1;
      return null;
    }
    const reserved = (RESERVED_RECORD_TYPES as readonly string[]).includes(t);
    throw new CaptureError(
      'unknown-type',
      file,
      offset,
      `record type '${t}' is ${reserved ? 'reserved for a later Orion and ' : ''}not known to this reader (format ${CAPTURE_FORMAT_VERSION}); upgrade, or open with skipUnknownTypes to skip such records`,
    );
  }

  private startPass(): { buf: Buffer } {
    Object.assign(this.stats, this.freshStats());
    return { buf: Buffer.allocUnsafe(this.readBufferBytes) };
  }

  private freshStats(): CaptureReadStats {
    return { segments: this.segments.length, segmentsRead: 0, records: 0, bytes: 0, byType: {}, skipped: {}, truncatedTail: this.openTail };
  }
}

/** Lists a directory's segments, in index order, checking there is exactly one capture and no gap. */
function listSegments(dir: string, prefix: string | undefined): { path: string; index: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new CaptureError('io', dir, -1, 'cannot list the capture directory', { cause: err });
  }
  const found = names.flatMap((name) => {
    const p = parseSegmentFileName(name);
    return p && (prefix === undefined || p.prefix === prefix) ? [{ path: join(dir, name), ...p }] : [];
  });
  if (found.length === 0) {
    throw new CaptureError('no-segments', dir, -1, `no capture segments (${prefix ?? '<prefix>'}-NNNNNN.orcap) in this directory`);
  }
  const prefixes = [...new Set(found.map((f) => f.prefix))];
  if (prefixes.length > 1) throw new CaptureError('segments', dir, -1, `holds several captures (prefixes ${prefixes.join(', ')}); pass { prefix } to pick one`);
  found.sort((a, b) => a.index - b.index);
  for (let i = 1; i < found.length; i++) {
    const prev = found[i - 1]!;
    const cur = found[i]!;
    if (cur.index === prev.index) throw new CaptureError('segments', cur.path, -1, `two files for segment ${cur.index}`);
    if (cur.index !== prev.index + 1) {
      throw new CaptureError('segments', dir, -1, `segments ${prev.index + 1}..${cur.index - 1} are missing between ${basename(prev.path)} and ${basename(cur.path)}: the capture has a hole`);
    }
  }
  return found.map(({ path, index }) => ({ path, index }));
}

/**
 * Opens a capture: a directory of segments or a single segment file. Checks every segment's magic,
 * version and header (all from one capture, indices without gaps) before any record is read, so a
 * wrong file fails at once; record damage is found as the records are read.
 */
export function openCapture(path: string, options: CaptureReadOptions = {}): CaptureReader {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new CaptureError('io', path, -1, 'cannot open the capture', { cause: err });
  }
  const unpackr = createCaptureUnpackr();
  const files = isDir ? listSegments(path, options.prefix) : [{ path, index: -1 }];
  const tail: { value: TruncatedTail | null } = { value: null };
  const segments: CaptureSegmentInfo[] = files.map((f, i) => {
    // Only the last segment of several may be torn in its header: with one segment there would be no header at all.
    const last = i === files.length - 1;
    const tornOk = options.allowTruncatedTail === true && last && files.length > 1;
    const hint = !last
      ? ' in a segment that is not the last: the capture is damaged'
      : files.length === 1
        ? ': the capture has no complete header'
        : ' (a torn tail, as a crash of the writer leaves it; open with allowTruncatedTail to accept it)';
    const h = readSegmentHeader(f.path, tornOk, hint, unpackr, tail);
    return { path: f.path, index: f.index < 0 ? (h.header?.segment ?? 0) : f.index, ...h };
  });
  const first = segments[0]!.header!;
  for (const s of segments) {
    if (s.header === null) continue;
    if (s.header.captureId !== first.captureId) {
      throw new CaptureError('segments', s.path, -1, `belongs to another capture (captureId ${s.header.captureId}, first segment has ${first.captureId})`);
    }
    if (s.header.segment !== s.index) throw new CaptureError('segments', s.path, -1, `header says segment ${s.header.segment} but the file name says ${s.index}`);
  }
  return new CaptureReader(path, segments, tail.value, options, unpackr);
}
