/**
 * Ring vs postMessage, saturation throughput across two threads, in the same run (tinybench):
 * the main thread sends BATCH small messages (64-byte payload) to a worker and waits until the
 * worker has received them all. Modes: the SAB ring (waits for space when full), postMessage of a
 * plain object, postMessage of a transferred ArrayBuffer. Writes bench/results/ring.json.
 */
import { Worker } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { RingBuffer, WriteStatus } from '../../src/runtime/ring/ring-buffer.js';
import { createWaitStrategy } from '../../src/runtime/ring/wait-strategy.js';
import { writeResult } from '../support/results.js';

const BATCH = 50_000;
const echo = new URL('../support/ring-echo.worker.js', import.meta.url);

function start(mode: 'ring' | 'objects' | 'transfer', sab: SharedArrayBuffer) {
  const done = new SharedArrayBuffer(4);
  const worker = new Worker(echo, { workerData: { mode, sab, done, batch: BATCH } });
  return { worker, counter: new Int32Array(done) };
}

async function waitDone(counter: Int32Array, target: number): Promise<void> {
  while (Atomics.load(counter, 0) < target) {
    const r = Atomics.waitAsync(counter, 0, Atomics.load(counter, 0), 1000);
    if (r.async) await r.value;
  }
}

const ring = RingBuffer.create(1 << 20);
const r = start('ring', ring.sab);
const o = start('objects', new SharedArrayBuffer(4));
const t = start('transfer', new SharedArrayBuffer(4));
await Promise.all([r, o, t].map((x) => new Promise((res) => x.worker.once('online', res))));
const payload = new Uint8Array(64).fill(7);
const wait = createWaitStrategy('wait', 50);
let rounds = { ring: 0, objects: 0, transfer: 0 };

const bench = new Bench({ time: 3000, warmupTime: 500, iterations: 5 });
bench
  .add('ring', async () => {
    for (let i = 0; i < BATCH; i++) {
      while (ring.tryWriteParts(payload, 64, payload, 0) === WriteStatus.FULL) ring.waitForSpace(64, wait, 100);
    }
    await waitDone(r.counter, ++rounds.ring);
  })
  .add('postMessage objects', async () => {
    for (let i = 0; i < BATCH; i++) o.worker.postMessage({ seq: i, kind: 1, firstSeenNs: 0, body: 'x'.repeat(0), n: 64 });
    await waitDone(o.counter, ++rounds.objects);
  })
  .add('postMessage transfer', async () => {
    for (let i = 0; i < BATCH; i++) {
      const b = new ArrayBuffer(64);
      t.worker.postMessage(b, [b]);
    }
    await waitDone(t.counter, ++rounds.transfer);
  });
await bench.run();
const perSec = (name: string) => {
  const task = bench.tasks.find((x) => x.name === name)!;
  const res = task.result as unknown as { latency?: { p50?: number }; period?: number };
  const ms = res.latency?.p50 ?? res.period ?? Number.NaN;
  return Math.round((BATCH / ms) * 1000);
};
const ringRate = perSec('ring');
const objRate = perSec('postMessage objects');
const trRate = perSec('postMessage transfer');
for (const x of [r, o, t]) await x.worker.terminate();
process.stderr.write(`ring ${ringRate} msg/s, postMessage objects ${objRate} msg/s, transfer ${trRate} msg/s → ring ${(ringRate / objRate).toFixed(2)}× objects, ${(ringRate / trRate).toFixed(2)}× transfer\n`);
writeResult('ring', {
  ringMsgPerSec: ringRate,
  postMessageObjectsMsgPerSec: objRate,
  postMessageTransferMsgPerSec: trRate,
  ringVsPostMessageObjects: Math.round((ringRate / objRate) * 100) / 100,
  ringVsPostMessageTransfer: Math.round((ringRate / trRate) * 100) / 100,
}, { batch: BATCH, note: 'median time per batch of 50k messages (tinybench)' });
