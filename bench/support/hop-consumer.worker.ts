import { parentPort, workerData } from 'node:worker_threads';
import { monoNs } from '../../src/runtime/clock.js';
import { createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';
import { EMPTY, RingBuffer } from '../../src/runtime/ring/ring-buffer.js';
import { createWaitStrategy } from '../../src/runtime/ring/wait-strategy.js';

/** Reads stamped records with the default wait strategy; records enqueue → dequeue after a warm-up. */
const { sab, warmupS } = workerData as { sab: SharedArrayBuffer; warmupS: number };
const ring = new RingBuffer(sab);
const wait = createWaitStrategy('wait', Number(process.env.ORION_BENCH_SPIN_MICROS ?? 50));
const buf = new Uint8Array(ring.maxRecordBytes);
const view = new DataView(buf.buffer);
const h = createHistogram();
const from = monoNs() + warmupS * 1e9;
let n = 0;
const t0 = monoNs();
for (;;) {
  if (!ring.waitForData(wait, 1000)) continue;
  let len = ring.readInto(buf);
  let stop = false;
  for (; len !== EMPTY; len = ring.readInto(buf)) {
    const stamp = view.getFloat64(0, true);
    if (stamp < 0) stop = true;
    else {
      const now = monoNs();
      if (now >= from) recordNs(h, now - stamp);
      n++;
    }
  }
  ring.commit(0);
  if (stop) break;
}
parentPort!.postMessage({ hopUs: percentilesUs(h), msgPerSec: Math.round(n / ((monoNs() - t0) / 1e9)) });
