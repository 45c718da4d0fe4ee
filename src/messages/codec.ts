import { type Packr, RESET_BUFFER_MODE, REUSE_BUFFER_MODE, type Unpackr } from 'msgpackr';
import { monoNs } from '../runtime/clock.js';
import { OrionError } from '../runtime/errors.js';
import { EMPTY, type RingBuffer, WriteStatus } from '../runtime/ring/ring-buffer.js';
import {
  ENVELOPE_BYTES,
  ENVELOPE_VERSION,
  type Message,
  OFF_ENQUEUE,
  OFF_FIRST_SEEN,
  OFF_KIND,
  OFF_SEQ,
  OFF_SUB,
  OFF_VERSION,
  type RawMessage,
  recordId,
} from './envelope.js';
import { type Kind, KIND_NAMES, createPackr, createUnpackr } from './schema.js';

/**
 * msgpackr packs into the same buffer every time and returns that buffer with the payload's
 * `start`/`end`, instead of a fresh `subarray` per record and, every ~20 records, a fresh 8 KB
 * buffer once its running offset neared the end.
 */
const PACK_IN_PLACE = REUSE_BUFFER_MODE | RESET_BUFFER_MODE;

/** What msgpackr returns in {@link PACK_IN_PLACE} mode. */
type PackedInPlace = Uint8Array & { start: number; end: number };

/**
 * Writes envelope + msgpack payload records to one ring. The envelope is assembled in a reused
 * 32-byte header and the payload packed into msgpackr's reused buffer; the ring copies both once.
 */
export class RecordWriter {
  private readonly header = new Uint8Array(ENVELOPE_BYTES);
  private readonly view = new DataView(this.header.buffer);
  private bodyLen = 0;
  private bodyOff = 0;
  private body: Uint8Array = this.header;

  constructor(
    readonly ring: RingBuffer,
    private readonly packr: Packr = createPackr(),
  ) {
    this.header[OFF_VERSION] = ENVELOPE_VERSION;
  }

  /**
   * Encodes a record and tries once to write it. On FULL the encoded record is kept, and
   * {@link retry} writes it without encoding again.
   */
  write(kind: Kind, seq: number, sub: number, firstSeenNs: number, data: unknown): WriteStatus {
    const v = this.view;
    v.setUint8(OFF_KIND, kind);
    v.setUint32(OFF_SUB, sub, true);
    v.setFloat64(OFF_SEQ, seq, true);
    v.setFloat64(OFF_FIRST_SEEN, firstSeenNs, true);
    // The packed bytes stay valid until this packer packs again, which only write() does: a retry
    // after FULL still finds them.
    const packed = this.packr.pack(data, PACK_IN_PLACE) as unknown as PackedInPlace;
    this.body = packed;
    this.bodyOff = packed.start;
    this.bodyLen = packed.end - packed.start;
    return this.retry();
  }

  /**
   * Writes an already encoded payload, `bytes[start..end)`, with a new envelope, and tries once:
   * forwarding a record without decoding and re-encoding it. `bytes` must not change until the
   * record is written (a {@link retry} after FULL reads them again).
   */
  writeEncoded(kind: Kind, seq: number, sub: number, firstSeenNs: number, bytes: Uint8Array, start: number, end: number): WriteStatus {
    const v = this.view;
    v.setUint8(OFF_KIND, kind);
    v.setUint32(OFF_SUB, sub, true);
    v.setFloat64(OFF_SEQ, seq, true);
    v.setFloat64(OFF_FIRST_SEEN, firstSeenNs, true);
    this.body = bytes;
    this.bodyOff = start;
    this.bodyLen = end - start;
    return this.retry();
  }

  /** Writes the last encoded record again (after FULL), with a fresh enqueue time. */
  retry(): WriteStatus {
    this.view.setFloat64(OFF_ENQUEUE, monoNs(), true);
    return this.ring.tryWriteParts(this.header, ENVELOPE_BYTES, this.body, this.bodyLen, this.bodyOff);
  }

  /** Size in bytes of the last encoded record, envelope included. */
  lastRecordBytes(): number {
    return ENVELOPE_BYTES + this.bodyLen;
  }
}

/**
 * Reads records from one ring: copies each out of shared memory into a reused buffer (unpacking
 * from a SharedArrayBuffer view is ~19x slower), then decodes the envelope and payload
 * ({@link next}), or only the envelope ({@link nextRaw}) for stages that forward payloads as they are.
 */
export class RecordReader {
  private readonly scratch: Uint8Array;
  private readonly view: DataView;
  private readonly range = { start: ENVELOPE_BYTES, end: 0 };
  /** Where {@link nextRaw} puts the next record in `scratch`. */
  private rawAt = 0;
  /** Where the last record read lies in `scratch`. */
  private lastAt = 0;
  /** Time the last record was taken off the ring, for queue-wait metrics. */
  lastDequeueNs = 0;
  /** Byte length of the last record read. */
  lastRecordBytes = 0;

  constructor(
    readonly ring: RingBuffer,
    private readonly unpackr: Unpackr = createUnpackr(),
  ) {
    this.scratch = new Uint8Array(ring.maxRecordBytes);
    this.view = new DataView(this.scratch.buffer);
  }

  /**
   * The next record, or null when the ring is empty. Advances the private cursor only; commit on
   * the ring once the record is handled.
   * @throws OrionError `ORION_ERR_DECODE` when the record is not a valid envelope + payload.
   */
  next(): Message | null {
    const len = this.ring.readInto(this.scratch);
    if (len === EMPTY) return null;
    this.lastDequeueNs = monoNs();
    this.lastRecordBytes = len;
    this.lastAt = 0;
    const kind = this.checkEnvelope(0, len);
    const v = this.view;
    const seq = v.getFloat64(OFF_SEQ, true);
    this.range.start = ENVELOPE_BYTES;
    this.range.end = len;
    let data: unknown;
    try {
      data = this.unpackr.unpack(this.scratch, this.range);
    } catch (cause) {
      throw new OrionError('ORION_ERR_DECODE', `cannot unpack ${KIND_NAMES[kind]} record seq ${seq}`, { cause });
    }
    return {
      kind,
      seq,
      sub: v.getUint32(OFF_SUB, true),
      firstSeenNs: v.getFloat64(OFF_FIRST_SEEN, true),
      enqueueNs: v.getFloat64(OFF_ENQUEUE, true),
      data,
    };
  }

  /**
   * Reads the next record into `into` (a message object the caller reuses) without unpacking its
   * payload; false when the ring is empty. Records go one after another into the reader's buffer,
   * so every payload read since {@link rewindRaw} stays intact: call it before each batch (a batch
   * never holds more bytes than the ring). Do not mix with {@link next}, which reuses the front of
   * the buffer. Allocates nothing.
   * @throws OrionError `ORION_ERR_DECODE` when the envelope is invalid (the payload is not checked).
   */
  nextRaw(into: RawMessage): boolean {
    const need = this.ring.nextLength();
    if (need === EMPTY) return false;
    // Only a caller that never rewinds gets here with a full buffer: start again at the front.
    if (this.rawAt + need > this.scratch.length) this.rawAt = 0;
    const at = this.rawAt;
    const len = this.ring.readInto(this.scratch, at);
    this.lastDequeueNs = monoNs();
    this.lastRecordBytes = len;
    this.lastAt = at;
    this.rawAt = at + ((len + 3) & ~3); // word-aligned, so the ring copies it by words
    into.kind = this.checkEnvelope(at, len);
    const v = this.view;
    into.seq = v.getFloat64(at + OFF_SEQ, true);
    into.sub = v.getUint32(at + OFF_SUB, true);
    into.firstSeenNs = v.getFloat64(at + OFF_FIRST_SEEN, true);
    into.enqueueNs = v.getFloat64(at + OFF_ENQUEUE, true);
    into.bytes = this.scratch;
    into.start = at + ENVELOPE_BYTES;
    into.end = at + len;
    return true;
  }

  /** Starts the next {@link nextRaw} at the front of the buffer: raw messages read so far become invalid. */
  rewindRaw(): void {
    this.rawAt = 0;
  }

  /**
   * Unpacks the payload of a message from {@link nextRaw} (while it is still valid).
   * @throws OrionError `ORION_ERR_DECODE` when the payload is not valid msgpack of the schema.
   */
  decodeRaw(m: RawMessage): unknown {
    this.range.start = m.start;
    this.range.end = m.end;
    try {
      return this.unpackr.unpack(m.bytes, this.range);
    } catch (cause) {
      throw new OrionError('ORION_ERR_DECODE', `cannot unpack ${KIND_NAMES[m.kind]} record seq ${m.seq}`, { cause });
    }
  }

  private checkEnvelope(at: number, len: number): Kind {
    const v = this.view;
    if (len < ENVELOPE_BYTES || v.getUint8(at + OFF_VERSION) !== ENVELOPE_VERSION) {
      throw new OrionError('ORION_ERR_DECODE', `record of ${len} bytes has no valid envelope`);
    }
    const kind = v.getUint8(at + OFF_KIND) as Kind;
    if (KIND_NAMES[kind] === undefined) throw new OrionError('ORION_ERR_DECODE', `unknown record kind ${kind}`);
    return kind;
  }

  /** Copy of the bytes of the record last read by {@link next} or {@link nextRaw} (for dead letters). */
  lastRecordCopy(): Uint8Array {
    return this.scratch.slice(this.lastAt, this.lastAt + this.lastRecordBytes);
  }
}

/** Reads `(kind, seq, sub)` from raw record bytes without unpacking the payload. */
export function peekEnvelope(bytes: Uint8Array): { kind: number; seq: number; sub: number; id: number } | null {
  if (bytes.length < ENVELOPE_BYTES) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seq = v.getFloat64(OFF_SEQ, true);
  const sub = v.getUint32(OFF_SUB, true);
  return { kind: v.getUint8(OFF_KIND), seq, sub, id: recordId(seq, sub) };
}
