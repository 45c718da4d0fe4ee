import { parentPort, workerData } from 'node:worker_threads';
import { EMPTY, RingBuffer } from '../../src/runtime/ring/ring-buffer.js';
import { createWaitStrategy } from '../../src/runtime/ring/wait-strategy.js';

/**
 * Consumer side of the ring micro-benchmark: counts records from the ring (mode `ring`) or
 * messages from postMessage (modes `objects`, `transfer`), and reports each `batch` received.
 */
const { mode, sab, done, batch } = workerData as { mode: 'ring' | 'objects' | 'transfer'; sab: SharedArrayBuffer; done: SharedArrayBuffer; batch: number };
const counter = new Int32Array(done);
if (mode === 'ring') {
  const ring = new RingBuffer(sab);
  const wait = createWaitStrategy('wait', 50);
  const buf = new Uint8Array(ring.maxRecordBytes);
  let n = 0;
  for (;;) {
    if (!ring.waitForData(wait, 1000)) continue;
    while (ring.readInto(buf) !== EMPTY) {
      if (++n === batch) {
        n = 0;
        Atomics.add(counter, 0, 1); // the producer waits on this slot
        Atomics.notify(counter, 0);
      }
    }
    ring.commit(0);
  }
} else {
  let n = 0;
  parentPort!.on('message', () => {
    if (++n === batch) {
      n = 0;
      Atomics.add(counter, 0, 1);
      Atomics.notify(counter, 0);
    }
  });
}
