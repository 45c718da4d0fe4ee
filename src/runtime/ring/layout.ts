/**
 * Shared-memory layout of a {@link RingBuffer}: a 256-byte control header followed by the data area.
 *
 * ```
 * byte  | Int32 slot | field                | written by
 * ------+------------+----------------------+-----------------------------------------
 *    0  |  0         | writeIndex (u32)     | producer   ── cache line 0 (producer-owned)
 *   64  | 16         | readIndex (u32)      | consumer   ── cache line 1 (consumer-owned)
 *   72  | (f64 #9)   | lastCommittedId      | consumer      (plain write, published by readIndex)
 *  128  | 32         | consumerSleeping     | consumer   ── cache line 2 (wake-up flags)
 *  132  | 33         | producerSleeping     | producer
 *  192  | 48         | drops (u32)          | producer   ── cache line 3 (counters, identity)
 *  196  | 49         | written (u32)        | producer
 *  200  | 50         | capacity             | creator (immutable)
 *  204  | 51         | magic                | creator (immutable)
 *  256  |  –         | data[capacity]       | records: u32 length, payload, padding to 4 bytes
 * ```
 *
 * Indices are free-running u32 counters of bytes; `index & (capacity - 1)` is the offset in the data
 * area, and `(write - read) >>> 0` the bytes in use, which is exact while capacity ≤ 2^30.
 */
export const HEADER_BYTES = 256;
export const WRITE_INDEX = 0;
export const READ_INDEX = 16;
/** Index into a Float64Array over the header. */
export const LAST_ID_F64 = 9;
export const CONSUMER_SLEEPING = 32;
export const PRODUCER_SLEEPING = 33;
export const DROPS = 48;
export const WRITTEN = 49;
export const CAPACITY = 50;
export const MAGIC = 51;

/** "ORNG" v1: guards against wrapping a buffer that is not a ring of this layout. */
export const RING_MAGIC = 0x4f524e31;
/** Each record starts with a u32 byte length. */
export const RECORD_HEADER_BYTES = 4;
export const MIN_CAPACITY = 16;
export const MAX_CAPACITY = 1 << 30;

/** Bytes a record of `len` payload bytes occupies in the data area (header + payload, 4-byte aligned). */
export function recordSpan(len: number): number {
  return (RECORD_HEADER_BYTES + len + 3) & ~3;
}
