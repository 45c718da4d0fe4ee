import { parentPort, workerData } from 'node:worker_threads';
import { EMPTY, RingBuffer } from '../../src/runtime/ring/ring-buffer.js';
import { type WaitStrategyName, createWaitStrategy } from '../../src/runtime/ring/wait-strategy.js';
import { type SizeMix, checkRecord, mulberry32, sizePicker } from './prng.js';

/** Options of the verifying consumer: the producer's seed and size mix. */
export interface RingConsumerData {
  sab: SharedArrayBuffer;
  count: number;
  seed: number;
  sizes: SizeMix;
  strategy: WaitStrategyName;
  abort: Int32Array;
  /** Give up when nothing arrives this long. */
  idleMs?: number;
}

/** What the consumer reports: the first mismatch (or null) and how the waiting went. */
export interface RingConsumerResult {
  error: string | null;
  read: number;
  /** Waits that returned without data (timeouts and stale or deliberate wake-ups). */
  emptyWakes: number;
  elapsedMs: number;
}

// Reads `count` records, checking each one's length against the replayed size sequence and its bytes
// against its sequence number, and commits once per batch of what was readable.
const d = workerData as RingConsumerData;
const ring = new RingBuffer(d.sab);
const wait = createWaitStrategy(d.strategy, 50);
const rng = mulberry32(d.seed);
const pick = sizePicker(d.sizes);
const buf = new Uint8Array(ring.maxRecordBytes);
const idleMs = d.idleMs ?? 10_000;
const t0 = performance.now();
let error: string | null = null;
let seq = 0;
let emptyWakes = 0;
let idleEnd = 0;
while (seq < d.count && error === null) {
  if (!ring.waitForData(wait, 100)) {
    emptyWakes++;
    if (Atomics.load(d.abort, 0) !== 0) process.exit(0);
    const now = performance.now();
    if (idleEnd === 0) idleEnd = now + idleMs;
    else if (now > idleEnd) error = `nothing arrived for ${idleMs} ms after record ${seq - 1}`;
    continue;
  }
  idleEnd = 0;
  for (let len = ring.readInto(buf); len !== EMPTY; len = ring.readInto(buf)) {
    const want = pick(rng, ring.maxRecordBytes);
    if (len !== want) {
      error = `record ${seq}: length ${len}, expected ${want}`;
      break;
    }
    const bad = checkRecord(buf, seq, len);
    if (bad >= 0) {
      error = `record ${seq} (${len} bytes): byte ${bad} is ${buf[bad]}`;
      break;
    }
    if (++seq === d.count) break;
  }
  ring.commit(seq - 1);
}
if (error === null && ring.readable()) error = `a record beyond the ${d.count} written is readable`;
parentPort!.postMessage({ error, read: seq, emptyWakes, elapsedMs: performance.now() - t0 } satisfies RingConsumerResult);
