import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer } from '../../src/runtime/ring/ring-buffer.js';
import { type WaitStrategyName, createWaitStrategy } from '../../src/runtime/ring/wait-strategy.js';

/** One blocking `waitForData` on a ring; reports what it returned and how long it took. */
const d = workerData as { sab: SharedArrayBuffer; strategy: WaitStrategyName; spinMicros: number; timeoutMs: number };
const ring = new RingBuffer(d.sab);
const t0 = performance.now();
const ready = ring.waitForData(createWaitStrategy(d.strategy, d.spinMicros), d.timeoutMs);
parentPort!.postMessage({ ready, elapsedMs: performance.now() - t0 });
