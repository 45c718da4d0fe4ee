import type { Packr, Unpackr } from 'msgpackr';
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
  recordId,
} from './envelope.js';
import { type Kind, KIND_NAMES, createPackr, createUnpackr } from './schema.js';

/**
 * Writes envelope + msgpack payload records to one ring. The envelope is assembled in a reused
 * 32-byte header and the payload packed into msgpackr's reused buffer; the ring copies both once.
 */
export class RecordWriter {
  private readonly header = new Uint8Array(ENVELOPE_BYTES);
  private readonly view = new DataView(this.header.buffer);
  private bodyLen = 0;
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
    this.body = this.packr.pack(data);
    this.bodyLen = this.body.length;
    return this.retry();
  }

  /** Writes the last encoded record again (after FULL), with a fresh enqueue time. */
  retry(): WriteStatus {
    this.view.setFloat64(OFF_ENQUEUE, monoNs(), true);
    return this.ring.tryWriteParts(this.header, ENVELOPE_BYTES, this.body, this.bodyLen);
  }

  /** Size in bytes of the last encoded record, envelope included. */
  lastRecordBytes(): number {
    return ENVELOPE_BYTES + this.bodyLen;
  }
}

/**
 * Reads records from one ring: copies each out of shared memory into a reused buffer (unpacking
 * from a SharedArrayBuffer view is ~19x slower), then decodes the envelope and payload.
 */
export class RecordReader {
  private readonly scratch: Uint8Array;
  private readonly view: DataView;
  private readonly range = { start: ENVELOPE_BYTES, end: 0 };
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
    return this.decode(len);
  }

  private decode(len: number): Message {
    const v = this.view;
    if (len < ENVELOPE_BYTES || v.getUint8(OFF_VERSION) !== ENVELOPE_VERSION) {
      throw new OrionError('ORION_ERR_DECODE', `record of ${len} bytes has no valid envelope`);
    }
    const kind = v.getUint8(OFF_KIND) as Kind;
    if (KIND_NAMES[kind] === undefined) throw new OrionError('ORION_ERR_DECODE', `unknown record kind ${kind}`);
    const seq = v.getFloat64(OFF_SEQ, true);
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

  /** Copy of the bytes of the record last returned by {@link next} (for dead letters). */
  lastRecordCopy(): Uint8Array {
    return this.scratch.slice(0, this.lastRecordBytes);
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
