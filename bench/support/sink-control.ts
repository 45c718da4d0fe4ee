/**
 * Control block shared between a benchmark's main thread and its ring sink worker
 * (Int32Array over its own SharedArrayBuffer):
 *
 * ```
 * slot | field    | written by
 * -----+----------+-----------------------------------------------------------
 *   0  | target   | main: acknowledge once this many records were read in total
 *   1  | consumed | sink: records read so far (published at each batch commit)
 *   2  | done     | sink: the last target reached; main sleeps on this slot
 *   3  | stop     | main: 1 = leave the loop
 *   4  | checksum | sink: sum of first bytes, so the reads cannot be optimised away
 * ```
 */
export const SINK_TARGET = 0;
export const SINK_CONSUMED = 1;
export const SINK_DONE = 2;
export const SINK_STOP = 3;
export const SINK_CHECKSUM = 4;
export const SINK_SLOTS = 8;
