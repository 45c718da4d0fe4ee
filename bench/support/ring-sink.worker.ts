import { workerData } from 'node:worker_threads';
import { EMPTY, RingBuffer } from '../../src/runtime/ring/ring-buffer.js';
import { type WaitStrategyName, createWaitStrategy } from '../../src/runtime/ring/wait-strategy.js';
import { SINK_CHECKSUM, SINK_CONSUMED, SINK_DONE, SINK_STOP, SINK_TARGET } from './sink-control.js';

/** Records per commit, the engine's default `batchMaxRecords`. */
const BATCH = 256;

/** Options of the ring sink. */
export interface RingSinkData {
  ring: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  strategy: WaitStrategyName;
  spinMicros: number;
}

// Reads records as fast as they come, commits per batch, and tells the main thread through shared
// memory when the running total reaches its target: no postMessage on the measured path.
const d = workerData as RingSinkData;
const ring = new RingBuffer(d.ring);
const ctl = new Int32Array(d.ctl);
const wait = createWaitStrategy(d.strategy, d.spinMicros);
const buf = new Uint8Array(ring.maxRecordBytes);
let consumed = 0;
let checksum = 0;
while (Atomics.load(ctl, SINK_STOP) === 0) {
  if (!ring.waitForData(wait, 100)) continue;
  // Batches of at most BATCH records, each committed, as the actor host does.
  let n = 0;
  for (let len = ring.readInto(buf); len !== EMPTY; len = ring.readInto(buf)) {
    if (len > 0) checksum = (checksum + buf[0]!) | 0;
    if (++n === BATCH) break;
  }
  consumed += n;
  ring.commit(consumed - 1);
  Atomics.store(ctl, SINK_CONSUMED, consumed); // progress for observers; atomicity is all they need
  const target = Atomics.load(ctl, SINK_TARGET); // the main thread raised it before writing the batch
  if (consumed >= target && Atomics.load(ctl, SINK_DONE) !== target) {
    Atomics.store(ctl, SINK_CHECKSUM, checksum);
    Atomics.store(ctl, SINK_DONE, target); // seq-cst: the checksum above is visible with it
    Atomics.notify(ctl, SINK_DONE);
  }
}
