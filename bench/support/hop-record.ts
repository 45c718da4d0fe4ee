/**
 * The record of the ring-hop benchmark (64 bytes, read as a Float64Array):
 *
 * ```
 * f64 | field        | meaning
 * ----+--------------+------------------------------------------------------------
 *  0  | enqueueNs    | monoNs() just before the write: the hop starts here
 *  1  | scheduledNs  | when the record was due by the rate (= enqueueNs at saturation)
 *  2  | seq          | sequence number
 *  3  | measured     | 1 after the warm-up; 0 records are discarded
 * ```
 * A record of length 0 ends the run.
 */
export const HOP_RECORD_BYTES = 64;
export const HOP_ENQUEUE = 0;
export const HOP_SCHEDULED = 1;
export const HOP_SEQ = 2;
export const HOP_MEASURED = 3;

/** What a hop consumer reports (latencies in µs). */
export interface HopConsumerResult {
  received: number;
  measured: number;
  /** Dequeue − enqueue stamp: the hop. */
  hopUs: import('../../src/runtime/metrics.js').Percentiles;
  /** Dequeue − scheduled send time: includes the producer's own lateness (coordinated-omission free). */
  fromScheduleUs: import('../../src/runtime/metrics.js').Percentiles;
  /** Measured records per second, first to last measured dequeue. */
  msgPerSec: number;
  /** Waits that returned without data. */
  emptyWakes: number;
  /** Records seen in the consumer's largest batch (a proxy for queue depth). */
  maxBatch: number;
}

/** What a hop producer reports. */
export interface HopProducerResult {
  sent: number;
  /** Times the producer found the ring FULL and waited for space. */
  fullWaits: number;
  /** How late the producer woke for its next due record (µs). */
  wakeLatenessUs: import('../../src/runtime/metrics.js').Percentiles;
  /** Largest number of due records sent in one wake-up. */
  maxBurst: number;
  /** Largest ring occupancy seen, in bytes. */
  maxUsedBytes: number;
}
