/**
 * Topology: producer worker → SAB ring → consumer worker, default wait strategy (spin 50 µs, then
 * Atomics.wait). One-hop latency (enqueue → dequeue) at 1k msg/s, 20k msg/s and saturation, and
 * postMessage's hop latency at saturation for comparison (its queue grows without bound).
 * Writes bench/results/ring-hop.json. `ORION_BENCH_SPIN_MICROS=N` changes the consumer's spin window
 * (default 50 µs, the engine default) for experiments; the gate runs the default.
 */
import { Worker } from 'node:worker_threads';
import { createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';
import { RingBuffer } from '../../src/runtime/ring/ring-buffer.js';
import { writeResult } from '../support/results.js';

const SECONDS = 3.5;
const WARMUP = 0.5;
const producer = new URL('../support/hop-producer.worker.js', import.meta.url);
const consumer = new URL('../support/hop-consumer.worker.js', import.meta.url);

async function ringHop(rate: number) {
  const ring = RingBuffer.create(1 << 16);
  const c = new Worker(consumer, { workerData: { sab: ring.sab, warmupS: WARMUP } });
  const result = new Promise<{ hopUs: ReturnType<typeof percentilesUs>; msgPerSec: number }>((res) => c.once('message', res));
  await new Promise((res) => c.once('online', res));
  const p = new Worker(producer, { workerData: { sab: ring.sab, rate, seconds: SECONDS } });
  const r = await result;
  await Promise.all([p.terminate(), c.terminate()]);
  return r;
}

/** postMessage at saturation: the main thread posts stamped objects as fast as it can; a worker measures. */
async function postMessageHop() {
  const src = `const { parentPort } = require('node:worker_threads');
    const lat = []; parentPort.on('message', (m) => { if (m === 'end') { parentPort.postMessage(lat); return; }
    lat.push(performance.timeOrigin + performance.now() - m.t); });`;
  const w = new Worker(src, { eval: true });
  await new Promise((res) => w.once('online', res));
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) w.postMessage({ t: performance.timeOrigin + performance.now(), seq: n++ });
    await new Promise((res) => setImmediate(res));
  }
  w.postMessage('end');
  const lat = await new Promise<number[]>((res) => w.once('message', res));
  await w.terminate();
  const h = createHistogram();
  for (const ms of lat) recordNs(h, ms * 1e6);
  return { hopUs: percentilesUs(h), sent: n, received: lat.length };
}

const r1k = await ringHop(1_000);
const r20k = await ringHop(20_000);
const sat = await ringHop(0);
const pm = await postMessageHop();
for (const [name, r] of [['1k', r1k], ['20k', r20k], ['saturation', sat]] as const) {
  process.stderr.write(`ring hop @ ${name}: p50 ${r.hopUs.p50} µs, p99 ${r.hopUs.p99} µs, p99.9 ${r.hopUs.p999} µs, ${r.msgPerSec} msg/s\n`);
}
process.stderr.write(`postMessage @ saturation: p50 ${pm.hopUs.p50} µs, p99 ${pm.hopUs.p99} µs, max ${pm.hopUs.max} µs\n`);
writeResult(
  'ring-hop',
  {
    hop1kP50Us: r1k.hopUs.p50,
    hop1kP99Us: r1k.hopUs.p99,
    hop1kP999Us: r1k.hopUs.p999,
    hop20kP50Us: r20k.hopUs.p50,
    hop20kP99Us: r20k.hopUs.p99,
    hop20kP999Us: r20k.hopUs.p999,
    hopSaturationP99Us: sat.hopUs.p99,
    hopSaturationMsgPerSec: sat.msgPerSec,
    postMessageSaturationP99Us: pm.hopUs.p99,
    postMessageSaturationMaxUs: pm.hopUs.max,
  },
  { r1k, r20k, sat, postMessage: pm },
);
