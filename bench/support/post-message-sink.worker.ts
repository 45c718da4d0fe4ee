import { parentPort, workerData } from 'node:worker_threads';

/**
 * Counts postMessage'd messages (plain objects or transferred ArrayBuffers) and acks every `batch`
 * of them with one message, so the sender can time a batch end to end.
 */
const { batch } = workerData as { batch: number };
let count = 0;
let checksum = 0;
parentPort!.on('message', (m: unknown) => {
  // Touch each message so its delivery cannot be skipped.
  if (m instanceof ArrayBuffer) checksum = (checksum + new Uint8Array(m)[0]!) | 0;
  else checksum = (checksum + (m as { seq: number }).seq) | 0;
  if (++count % batch === 0) parentPort!.postMessage(checksum);
});
