import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { monoNs } from '../../src/runtime/clock.js';
import { createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';
import type { HopConsumerResult } from './hop-record.js';

/** One side of the postMessage hop: `producer` posts stamped objects as fast as it can, `consumer` times them. */
export interface HopPostMessageData {
  role: 'producer' | 'consumer';
  port: MessagePort;
  warmupMs: number;
  durationMs: number;
}

interface HopMessage {
  enqueueNs: number;
  seq: number;
  measured: number;
  end?: true;
}

const d = workerData as HopPostMessageData;
if (d.role === 'producer') {
  // Unbounded: postMessage never pushes back, so the sender outruns the receiver and the queue grows.
  const start = monoNs();
  const measureFrom = start + d.warmupMs * 1e6;
  const end = measureFrom + d.durationMs * 1e6;
  let seq = 0;
  for (let now = monoNs(); now < end; now = monoNs()) {
    for (let i = 0; i < 64; i++) d.port.postMessage({ enqueueNs: monoNs(), seq: seq++, measured: now >= measureFrom ? 1 : 0 } satisfies HopMessage);
  }
  d.port.postMessage({ enqueueNs: monoNs(), seq, measured: 0, end: true } satisfies HopMessage);
  parentPort!.postMessage({ sent: seq });
  d.port.close();
} else {
  const hop = createHistogram();
  let received = 0;
  let measured = 0;
  let firstAt = 0;
  let lastAt = 0;
  d.port.on('message', (m: HopMessage) => {
    const now = monoNs();
    if (m.end) {
      parentPort!.postMessage({
        received,
        measured,
        hopUs: percentilesUs(hop),
        fromScheduleUs: percentilesUs(hop),
        msgPerSec: lastAt > firstAt ? Math.round((measured - 1) / ((lastAt - firstAt) / 1e9)) : 0,
        emptyWakes: 0,
        maxBatch: 0,
      } satisfies HopConsumerResult);
      d.port.close();
      return;
    }
    received++;
    if (m.measured === 1) {
      recordNs(hop, now - m.enqueueNs);
      if (measured++ === 0) firstAt = now;
      lastAt = now;
    }
  });
}
