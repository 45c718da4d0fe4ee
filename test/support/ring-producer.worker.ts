import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer, WriteStatus } from '../../src/runtime/ring/ring-buffer.js';
import { type WaitStrategyName, createWaitStrategy } from '../../src/runtime/ring/wait-strategy.js';
import { type SizeMix, fillRecord, mulberry32, sizePicker } from './prng.js';

/** Options of the seeded producer; the consumer side replays the same seed and size mix. */
export interface RingProducerData {
  sab: SharedArrayBuffer;
  count: number;
  seed: number;
  sizes: SizeMix;
  strategy: WaitStrategyName;
  /** Shared Int32Array whose slot 0 turns 1 when the test gives up: stop waiting and exit. */
  abort: Int32Array;
  /** Sleep this long before the first write (to let the other side go to sleep first). */
  startDelayMs?: number;
  /** Give up when the ring stays full this long. */
  stallMs?: number;
}

/** What the producer reports when it has written everything. */
export interface RingProducerResult {
  written: number;
  fullWaits: number;
  elapsedMs: number;
}

// Writes `count` seeded records (content derived from the sequence number), waiting for space when
// the ring is full rather than dropping.
const d = workerData as RingProducerData;
const ring = new RingBuffer(d.sab);
const wait = createWaitStrategy(d.strategy, 50);
const rng = mulberry32(d.seed);
const pick = sizePicker(d.sizes);
const buf = new Uint8Array(ring.maxRecordBytes);
const none = new Uint8Array(0);
const stallMs = d.stallMs ?? 10_000;
if (d.startDelayMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, d.startDelayMs);
const t0 = performance.now();
let fullWaits = 0;
for (let seq = 0; seq < d.count; seq++) {
  const len = pick(rng, ring.maxRecordBytes);
  fillRecord(buf, seq, len);
  let stallEnd = 0;
  while (ring.tryWriteParts(buf, len, none, 0) === WriteStatus.FULL) {
    fullWaits++;
    // False is a timeout or a stale wake-up: re-check the abort flag, then try again.
    if (ring.waitForSpace(len, wait, 100)) continue;
    if (Atomics.load(d.abort, 0) !== 0) process.exit(0); // the test already failed; nothing to report
    const now = performance.now();
    if (stallEnd === 0) stallEnd = now + stallMs;
    else if (now > stallEnd) throw new Error(`producer stalled ${stallMs} ms on record ${seq} (${len} bytes, ${ring.freeBytes()} free)`);
  }
}
parentPort!.postMessage({ written: d.count, fullWaits, elapsedMs: performance.now() - t0 } satisfies RingProducerResult);
