import { workerData } from 'node:worker_threads';
import { monoNs } from '../../src/runtime/clock.js';
import { RingBuffer, WriteStatus } from '../../src/runtime/ring/ring-buffer.js';
import { createWaitStrategy } from '../../src/runtime/ring/wait-strategy.js';

/** Writes records stamped with their enqueue time at `rate`/s (0 = as fast as possible) for `seconds`. */
const { sab, rate, seconds } = workerData as { sab: SharedArrayBuffer; rate: number; seconds: number };
const ring = new RingBuffer(sab);
const wait = createWaitStrategy('wait', 50);
const rec = new Uint8Array(64);
const view = new DataView(rec.buffer);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const t0 = monoNs();
const end = t0 + seconds * 1e9;
const interval = rate > 0 ? 1e9 / rate : 0;
let i = 0;
for (let now = monoNs(); now < end; now = monoNs()) {
  const due = t0 + i * interval;
  if (interval > 0 && due > now) {
    Atomics.wait(sleeper, 0, 0, (due - now) / 1e6); // pace by sleeping, never by spinning
    continue;
  }
  view.setFloat64(0, monoNs(), true);
  while (ring.tryWriteParts(rec, 64, rec, 0) === WriteStatus.FULL) ring.waitForSpace(64, wait, 100);
  i++;
}
view.setFloat64(0, -1, true); // end marker
while (ring.tryWriteParts(rec, 64, rec, 0) === WriteStatus.FULL) ring.waitForSpace(64, wait, 100);
