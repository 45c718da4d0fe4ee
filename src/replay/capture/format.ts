import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import type { BlockEvent, RpcTransaction } from '../../messages/schema.js';
import { OrionError } from '../../runtime/errors.js';

/**
 * The capture file format (docs/capture-format.md): a capture is a directory of segment files, each
 * a fixed prefix, a msgpack header and length-prefixed, CRC-checked msgpack records.
 *
 * ```
 * offset  size  field
 * 0       8     MAGIC  89 4F 52 43 41 50 0D 0A   ("\x89ORCAP\r\n")
 * 8       4     u32 LE format version (CAPTURE_FORMAT_VERSION)
 * 12      4     u32 LE header length H
 * 16      4     u32 LE crc32 of the header bytes
 * 20      H     header: msgpack map (SegmentHeader)
 * 20+H    …     records: u32 LE length L | u32 LE crc32(body) | body (L bytes of msgpack)
 * ```
 */

/** Version written in every segment's prefix; readers refuse any other. Bumped only for changes an older reader would misread. */
export const CAPTURE_FORMAT_VERSION = 1;

/** The 8 magic bytes that open every segment (PNG-style: a high byte and CR LF catch text-mode mangling). */
export const CAPTURE_MAGIC: Readonly<Uint8Array> = new Uint8Array([0x89, 0x4f, 0x52, 0x43, 0x41, 0x50, 0x0d, 0x0a]);

/** Byte offsets of the fixed segment prefix. */
export const OFF_MAGIC = 0;
/** Offset of the u32 format version. */
export const OFF_VERSION = 8;
/** Offset of the u32 header length. */
export const OFF_HEADER_LEN = 12;
/** Offset of the u32 header crc32. */
export const OFF_HEADER_CRC = 16;
/** Size of the fixed prefix; the header starts here. */
export const PREFIX_BYTES = 20;
/** Size of a record frame's header (length + crc32). */
export const FRAME_BYTES = 8;
/** Largest record body; a larger length field is corruption, not a record (a blob tx with 9 blobs is ~1.3 MB). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Largest segment header; a larger length field is corruption. */
export const MAX_HEADER_BYTES = 1024 * 1024;
/** Segment file extension. */
export const SEGMENT_EXT = '.orcap';
/** Default segment file prefix (`capture-000000.orcap`). */
export const DEFAULT_PREFIX = 'capture';

/**
 * Record types this build reads and writes: ingest events (`tx`, `block`, stamped with a source) and,
 * since issue 7, the replay tape's source-less records (`state`, `mined`, `meta`), added without a
 * format version bump.
 */
export const RECORD_TYPES = ['tx', 'block', 'state', 'mined', 'meta'] as const;
/** Type names reserved for later record types; writers must not use them for anything else. None at present. */
export const RESERVED_RECORD_TYPES = [] as const;

/** One ingest source as a capture names it; records refer to it by `id`. */
export interface CaptureSource {
  /** What records carry in `src` (the ingest source index). */
  id: number;
  /** Human label (`rpc-ws`, `local-geth`, …). */
  name: string;
  /** Endpoint with credentials, query values and key-like path segments redacted (see {@link redactUrl}). */
  url: string;
}

/** The msgpack header at the start of every segment. Readers ignore fields they do not know. */
export interface SegmentHeader {
  /** Random id shared by all segments of one capture, so segments of two captures are never mixed. */
  captureId: string;
  chainId: number;
  sources: CaptureSource[];
  /** Program that wrote it (`orion-mev/0.1.0`). */
  writer: string;
  /** Segment index, equal to the number in the file name. */
  segment: number;
  /** Wall clock (unix ms) at the capture's ts 0; the same in every segment. */
  startedAt: number;
  /** Wall clock (unix ms) when this segment was created. */
  createdAt: number;
  /** `ts` of this segment's first record, or null for a segment written without records (an empty capture). */
  firstTs: number | null;
}

/** A pending transaction as a source delivered it: exactly one of `raw` and `rpc`. */
export interface TxRecord {
  t: 'tx';
  /** Nanoseconds since the capture's start on the monotonic clock. */
  ts: number;
  /** Source id (a {@link CaptureSource.id}). */
  src: number;
  /** Signed transaction bytes (canonical typed encoding, or the EIP-4844 network form). */
  raw?: Uint8Array;
  /** The JSON-RPC transaction object, exactly as received. */
  rpc?: RpcTransaction;
  /** Hash the source announced (lowercase 0x-hex). */
  hash?: string;
}

/** A new head as a source announced it. */
export interface BlockRecord {
  t: 'block';
  /** Nanoseconds since the capture's start on the monotonic clock. */
  ts: number;
  /** Source id (a {@link CaptureSource.id}). */
  src: number;
  block: BlockEvent;
}

/** A JSON-RPC error answer as a node gave it; `data` (revert data, say) only when the node sent one. */
export interface RpcErrorAnswer {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * One JSON-RPC read and its answer, as the replay tape records it (docs/capture-format.md): `r` when
 * the node answered with a result (which may be null), `e` when it answered with a JSON-RPC error.
 */
export interface StateRecord {
  t: 'state';
  /** Nanoseconds since the capture's start on the monotonic clock (when the call reached the recorder). */
  ts: number;
  /** JSON-RPC method. */
  m: string;
  /** Params as sent (JSON values; `[]` when the call had none). */
  p: unknown[];
  /** The result (a JSON value); exactly one of `r` and `e` is present. */
  r?: unknown;
  /** The JSON-RPC error answer. */
  e?: RpcErrorAnswer;
}

/** One transaction of a {@link MinedBlock}. */
export interface MinedTx {
  /** Lowercase 0x-hex. */
  hash: string;
  from: string;
  /** Null for a contract creation. */
  to: string | null;
  nonce: number;
  /** Receipt status; null when the receipt has none (pre-Byzantium) or could not be read. */
  status: 0 | 1 | null;
  /**
   * Lowercase addresses of the contracts that emitted a Uniswap V2 `Sync`/`Swap` or V3 `Swap` log in
   * this transaction, each once, in the order of their first such log.
   */
  touched: string[];
}

/** A block as it was mined, for backtests against what landed; hashes and addresses lowercase 0x-hex. */
export interface MinedBlock {
  number: number;
  hash: string;
  parentHash: string;
  /** Unix seconds. */
  timestamp: number;
  /** 0x-hex quantity as the node gave it (lowercase), or null before London. */
  baseFeePerGas: string | null;
  txs: MinedTx[];
}

/** A mined block (the tape's record of what landed). */
export interface MinedRecord {
  t: 'mined';
  /** Nanoseconds since the capture's start on the monotonic clock (when it was recorded). */
  ts: number;
  block: MinedBlock;
}

/** Facts about the capture run (engine config, versions), written once at the start of the tape. */
export interface MetaRecord {
  t: 'meta';
  ts: number;
  meta: Record<string, unknown>;
}

/** Every record type this build knows. */
export type CaptureRecord = TxRecord | BlockRecord | StateRecord | MinedRecord | MetaRecord;

/** What went wrong, for code that reacts to a capture error rather than printing it. */
export type CaptureErrorKind =
  | 'no-segments'
  | 'segments'
  | 'io'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-header'
  | 'truncated'
  | 'bad-length'
  | 'crc'
  | 'bad-msgpack'
  | 'bad-record'
  | 'unknown-type'
  | 'closed';

/**
 * A capture that cannot be read or written: `ORION_ERR_CAPTURE` with the file, byte offset and
 * kind, so replay can say exactly where a capture is damaged.
 */
export class CaptureError extends OrionError {
  override name = 'CaptureError';
  readonly kind: CaptureErrorKind;
  /** The segment file (or directory) concerned. */
  readonly file: string;
  /** Byte offset in `file` where the problem starts, or -1 when it concerns no single offset. */
  readonly offset: number;

  constructor(kind: CaptureErrorKind, file: string, offset: number, what: string, options: { cause?: unknown; details?: string; fatal?: boolean } = {}) {
    // A damaged file stays damaged: restarting the reader cannot help, so reader errors default to fatal.
    super('ORION_ERR_CAPTURE', `${offset >= 0 ? `${file} at byte ${offset}` : file}: ${what} [${kind}]`, { fatal: true, ...options });
    this.kind = kind;
    this.file = file;
    this.offset = offset;
  }
}

function msgpackOptions() {
  return {
    // Plain msgpack maps, no msgpackr record extension: every record is self-describing and any
    // msgpack library can read it, and no record depends on structures defined by an earlier one.
    useRecords: false,
    mapsAsObjects: true,
    // Bigints that fit 64 bits become int64/uint64 (read back as bigint); larger ones ext type 0x42.
    useBigIntExtension: true,
    // The reader decodes out of a reused read buffer: byte fields must not alias it.
    copyBuffers: true,
  };
}

/** A packer for capture headers and records. @remarks One per writer: msgpackr packers are not re-entrant. */
export function createCapturePackr(): Packr {
  return new Packr(msgpackOptions());
}

/** An unpacker for capture headers and records. */
export function createCaptureUnpackr(): Unpackr {
  return new Unpackr(msgpackOptions());
}

/** File name of segment `index`: `<prefix>-<6-digit index>.orcap`. */
export function segmentFileName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(6, '0')}${SEGMENT_EXT}`;
}

/** Parses a segment file name into prefix and index, or null when it is not one. */
export function parseSegmentFileName(name: string): { prefix: string; index: number } | null {
  const m = /^(.+)-(\d{6,})\.orcap$/.exec(name);
  if (!m) return null;
  return { prefix: m[1]!, index: Number(m[2]) };
}

/**
 * An endpoint URL safe to store: no user or password, query values and key-like path segments
 * (20+ chars of `[A-Za-z0-9_-]`, as Infura/Alchemy/QuickNode keys are) replaced by `***`, no fragment.
 * Captures get shared; a key that leaked into one would leak with it.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not a URL (an IPC path, a label): still drop anything that looks like userinfo or a query.
    return url.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '');
  }
  u.username = '';
  u.password = '';
  u.hash = '';
  u.pathname = u.pathname.split('/').map((seg) => (/^[A-Za-z0-9_-]{20,}$/.test(seg) ? '***' : seg)).join('/');
  if (u.search) {
    const keys = [...new Set(u.searchParams.keys())];
    u.search = keys.map((k) => `${encodeURIComponent(k)}=***`).join('&');
  }
  return u.toString();
}

/**
 * The fixed prefix and header of a segment, ready to write.
 * @remarks Allocates; once per segment.
 */
export function encodeSegmentStart(header: SegmentHeader, packr: Packr = createCapturePackr()): Buffer {
  const body = packr.pack(header);
  const out = Buffer.allocUnsafe(PREFIX_BYTES + body.length);
  out.set(CAPTURE_MAGIC, OFF_MAGIC);
  out.writeUInt32LE(CAPTURE_FORMAT_VERSION, OFF_VERSION);
  out.writeUInt32LE(body.length, OFF_HEADER_LEN);
  out.writeUInt32LE(crc32(body), OFF_HEADER_CRC);
  out.set(body, PREFIX_BYTES);
  return out;
}

/**
 * One framed record (`length | crc32 | body`) around an already packed body; for tools and tests.
 * @remarks Allocates; the writer frames in place instead.
 */
export function encodeFrame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_BYTES + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  out.set(body, FRAME_BYTES);
  return out;
}

/** Most bytes {@link encodeRawTxBody} writes beyond the raw tx itself (map, keys, ts, src, bin header, an 85-char hash). */
export const RAW_TX_BODY_OVERHEAD = 320;

/** Longest hash (UTF-16 units) {@link encodeRawTxBody} takes: 85 × 3 UTF-8 bytes still fits a str8. */
const FAST_HASH_MAX = 85;

// Constant parts of a raw tx body: map16 header, then fixstr keys, as msgpackr writes them.
const KEY_T_TX = Buffer.from([0xa1, 0x74, 0xa2, 0x74, 0x78]); // "t": "tx"
const KEY_TS = Buffer.from([0xa2, 0x74, 0x73]); // "ts"
const KEY_SRC = Buffer.from([0xa3, 0x73, 0x72, 0x63]); // "src"
const KEY_RAW = Buffer.from([0xa3, 0x72, 0x61, 0x77]); // "raw"
const KEY_HASH = Buffer.from([0xa4, 0x68, 0x61, 0x73, 0x68]); // "hash"

/** Writes a JS number the way msgpackr does (smallest int up to 32 bits, else float64); returns the end. */
function writeNumber(b: Buffer, at: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x80) {
      b[at] = v;
      return at + 1;
    }
    if (v < 0x100) {
      b[at] = 0xcc;
      b[at + 1] = v;
      return at + 2;
    }
    if (v < 0x10000) {
      b[at] = 0xcd;
      b.writeUInt16BE(v, at + 1);
      return at + 3;
    }
    b[at] = 0xce;
    b.writeUInt32BE(v, at + 1);
    return at + 5;
  }
  if (v >> 0 === v) {
    if (v >= -0x20) {
      b[at] = 0x100 + v;
      return at + 1;
    }
    if (v >= -0x80) {
      b[at] = 0xd0;
      b.writeInt8(v, at + 1);
      return at + 2;
    }
    if (v >= -0x8000) {
      b[at] = 0xd1;
      b.writeInt16BE(v, at + 1);
      return at + 3;
    }
    b[at] = 0xd2;
    b.writeInt32BE(v, at + 1);
    return at + 5;
  }
  b[at] = 0xcb;
  b.writeDoubleBE(v, at + 1);
  return at + 9;
}

/**
 * Writes the body of `{ t: 'tx', ts, src, raw, hash? }` straight into `target` at `at`, byte for
 * byte what the capture packer writes, and returns the end offset; -1 when the hash is too long
 * for this path (use the packer). `target` needs `raw.length + RAW_TX_BODY_OVERHEAD` bytes free.
 * The writer's hot path: for a 200-byte tx msgpackr took 0.6–1.0 µs here and this 0.3 µs, which cut
 * the whole append from 1.7 to 0.67 µs (bench/micro/capture).
 */
export function encodeRawTxBody(target: Buffer, at: number, ts: number, src: number, raw: Uint8Array, hash: string | null | undefined): number {
  const hasHash = hash != null;
  if (hasHash && hash.length > FAST_HASH_MAX) return -1;
  let p = at;
  target[p] = 0xde; // map16, as msgpackr writes every map
  target[p + 1] = 0;
  target[p + 2] = hasHash ? 5 : 4;
  p += 3;
  target.set(KEY_T_TX, p);
  p += KEY_T_TX.length;
  target.set(KEY_TS, p);
  p = writeNumber(target, p + KEY_TS.length, ts);
  target.set(KEY_SRC, p);
  p = writeNumber(target, p + KEY_SRC.length, src);
  target.set(KEY_RAW, p);
  p += KEY_RAW.length;
  const n = raw.length;
  if (n < 0x100) {
    target[p] = 0xc4;
    target[p + 1] = n;
    p += 2;
  } else if (n < 0x10000) {
    target[p] = 0xc5;
    target.writeUInt16BE(n, p + 1);
    p += 3;
  } else {
    target[p] = 0xc6;
    target.writeUInt32BE(n, p + 1);
    p += 5;
  }
  target.set(raw, p);
  p += n;
  if (hasHash) {
    target.set(KEY_HASH, p);
    p += KEY_HASH.length;
    // Written after a str8 header, then moved one byte left when it fits a fixstr (< 32 bytes).
    const len = target.write(hash, p + 2, 'utf8');
    if (len < 0x20) {
      target[p] = 0xa0 | len;
      target.copyWithin(p + 1, p + 2, p + 2 + len);
      p += 1 + len;
    } else {
      target[p] = 0xd9;
      target[p + 1] = len;
      p += 2 + len;
    }
  }
  return p;
}

let cachedWriterName: string | undefined;

/** `orion-mev/<package version>`, read once from package.json (dist/src/replay/capture → root). */
export function writerName(): string {
  if (cachedWriterName === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
      cachedWriterName = `${pkg.name ?? 'orion-mev'}/${pkg.version ?? 'unknown'}`;
    } catch {
      cachedWriterName = 'orion-mev/unknown';
    }
  }
  return cachedWriterName;
}
