import { parentPort } from 'node:worker_threads';
import { hostActor } from '../../src/runtime/actor-host.js';

/** An actor that does nothing; it posts `{t: 'test:factory'}` when its factory runs, so a test sees whether it was built. */
hostActor(() => {
  parentPort!.postMessage({ t: 'test:factory' });
  return { onBatch() {} };
});
