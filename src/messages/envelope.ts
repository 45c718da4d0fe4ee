import type { Kind } from './schema.js';

/**
 * The envelope in front of every record's msgpack payload: fixed binary fields, so a stage, the
 * supervisor or a dead-letter writer can read kind and sequence without unpacking.
 *
 * ```
 * byte | field        | type
 * -----+--------------+------------------------------------------------------------
 *   0  | kind         | u8
 *   1  | version      | u8   envelope layout version
 *   2  | flags        | u16  reserved, 0
 *   4  | sub          | u32  index of this output among those derived from one input
 *   8  | seq          | f64  sequence number assigned at ingest (integer, < 2^53)
 *  16  | firstSeenNs  | f64  monotonic ns when ingest first saw the event
 *  24  | enqueueNs    | f64  monotonic ns when this record was written to its ring
 *  32  | payload…     | msgpack
 * ```
 *
 * `(seq, sub)` identifies a record and increases along every ring, which is what lets a consumer
 * drop a duplicate left by a producer that crashed between writing and committing.
 */
export const ENVELOPE_BYTES = 32;
export const ENVELOPE_VERSION = 1;
export const OFF_KIND = 0;
export const OFF_VERSION = 1;
export const OFF_SUB = 4;
export const OFF_SEQ = 8;
export const OFF_FIRST_SEEN = 16;
export const OFF_ENQUEUE = 24;

/** Identity and timing of a record. */
export interface Envelope {
  kind: Kind;
  seq: number;
  sub: number;
  firstSeenNs: number;
  enqueueNs: number;
}

/** A record as a stage sees it: envelope plus decoded payload. */
export interface Message<T = unknown> extends Envelope {
  data: T;
}

/**
 * A record whose payload is still msgpack: the envelope plus where the encoded bytes lie, for stages
 * that forward records without decoding them (`Actor.onRawBatch`). The bytes belong to the reader
 * and stay valid only until the batch they came in is handled.
 */
export interface RawMessage extends Envelope {
  /** The reader's buffer holding the payload. */
  bytes: Uint8Array;
  /** Payload range in {@link bytes}: `[start, end)`. */
  start: number;
  end: number;
}

/** Outputs one input may derive; `sub` must stay below this. */
export const MAX_SUB = 65536;

/**
 * `(seq, sub)` as one orderable number, exact while seq < 2^37 (16 days at 100k records/s; the
 * ring stores it as a float64).
 */
export function recordId(seq: number, sub: number): number {
  return seq * MAX_SUB + sub;
}
