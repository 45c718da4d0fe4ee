import { parentPort } from 'node:worker_threads';
import { SCHEMA_HASH } from '../../src/messages/schema.js';

/** Posts this thread's schema hash. */
parentPort!.postMessage(SCHEMA_HASH);
