import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CANCEL_SLOTS, CONTROL, controlBuffer, readControl, requestCancel, requestControl, takeCancels } from '../../../src/actors/submitter/control.js';

const id = (i: number) => `0x${i.toString(16).padStart(64, '0')}`;

describe('control', () => {
  it('default: a fresh buffer reads as running, dry, closed breakers and an empty queue', () => {
    const sab = controlBuffer();
    assert.deepEqual(readControl(sab), {
      live: false,
      paused: 'running',
      breakers: { flashbots: 'closed', 'mev-blocker': 'closed', 'private-rpc': 'closed', public: 'closed' },
      queueDepth: 0,
      sendsInFlight: 0,
    });
    assert.deepEqual(takeCancels(sab, 0), { ids: [], taken: 0 });
  });

  it('behavior: cancel requests go through the mailbox in order, and a full mailbox refuses instead of overwriting', () => {
    const sab = controlBuffer();
    for (let i = 0; i < CANCEL_SLOTS; i++) assert.equal(requestCancel(sab, id(i)), true);
    assert.equal(requestCancel(sab, id(99)), false, 'full until the submitter takes them');
    const a = takeCancels(sab, 0);
    assert.deepEqual(a.ids, Array.from({ length: CANCEL_SLOTS }, (_, i) => id(i)));
    assert.equal(requestCancel(sab, id(100)), true, 'taken slots are free again');
    assert.equal(requestCancel(sab, `0x${'AB'.repeat(32)}`), true);
    assert.deepEqual(takeCancels(sab, a.taken).ids, [id(100), `0x${'ab'.repeat(32)}`], 'ids come back lowercase');
    requestControl(sab, 'pause');
    assert.equal(new Int32Array(sab)[CONTROL.PAUSE_SEQ], 1, 'the other requests are untouched');
  });

  it('behavior: requests written on one thread are taken whole on another (seeded ids, a real Worker)', async () => {
    const sab = controlBuffer();
    const ids = Array.from({ length: 200 }, (_, i) => `0x${((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(8)}`);
    const src = `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const { takeCancels } = await import(${JSON.stringify(new URL('../../../src/actors/submitter/control.js', import.meta.url).href)});
        let taken = 0; const got = [];
        while (got.length < workerData.n) { const r = takeCancels(workerData.sab, taken); taken = r.taken; got.push(...r.ids); await new Promise((s) => setTimeout(s, 1)); }
        parentPort.postMessage(got);
      })();`;
    const w = new Worker(src, { eval: true, workerData: { sab, n: ids.length } });
    const got = new Promise<string[]>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    for (const x of ids) while (!requestCancel(sab, x)) await new Promise((r) => setTimeout(r, 1));
    assert.deepEqual(await got, ids);
    await w.terminate();
  });

  it('error: a cancel id that is not 0x + 64 hex digits is refused', () => {
    const sab = controlBuffer();
    for (const bad of ['', '0x12', `0x${'g'.repeat(64)}`, 'ab'.repeat(32), `0x${'a'.repeat(66)}`]) assert.throws(() => requestCancel(sab, bad), TypeError);
    assert.deepEqual(takeCancels(sab, 0).ids, []);
  });
});
