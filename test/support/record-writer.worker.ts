import { parentPort, workerData } from 'node:worker_threads';
import { RecordWriter } from '../../src/messages/codec.js';
import { SCHEMA_HASH } from '../../src/messages/schema.js';
import { RingBuffer, WriteStatus } from '../../src/runtime/ring/ring-buffer.js';
import { createWaitStrategy } from '../../src/runtime/ring/wait-strategy.js';
import { seededRecord } from './records.js';

/** Writes records 0..count-1 of the seeded sequence with a RecordWriter, waiting when the ring is full. */
const { sab, count, seed } = workerData as { sab: SharedArrayBuffer; count: number; seed: number };
parentPort!.postMessage({ schemaHash: SCHEMA_HASH });
const writer = new RecordWriter(new RingBuffer(sab));
const wait = createWaitStrategy('wait', 50);
for (let seq = 0; seq < count; seq++) {
  const r = seededRecord(seed, seq);
  let status = writer.write(r.kind, r.seq, r.sub, r.firstSeenNs, r.data);
  while (status === WriteStatus.FULL) {
    writer.ring.waitForSpace(writer.lastRecordBytes(), wait, 100);
    status = writer.retry();
  }
  if (status !== WriteStatus.WRITTEN) throw new Error(`record ${seq}: write status ${status}`);
}
