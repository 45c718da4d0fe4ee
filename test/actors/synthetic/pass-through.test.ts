import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, RESULTS_RING } from '../../../src/engine.js';
import { RecordWriter } from '../../../src/messages/codec.js';
import type { Message } from '../../../src/messages/envelope.js';
import { Kind, type SyntheticTx, createPackr, createUnpackr } from '../../../src/messages/schema.js';
import { bumpHops } from '../../../src/actors/synthetic/pass-through.actor.js';
import { WriteStatus } from '../../../src/runtime/ring/ring-buffer.js';
import { actorContract } from '../../support/actor-contract.js';
import { runUntil, testConfig } from '../../support/harness.js';

const worker = new URL('../../../src/actors/synthetic/pass-through.worker.js', import.meta.url);

const subject = (io: boolean) => ({
  worker,
  config: { workNs: 0, io, faults: [] },
  input: (i: number) =>
    i % 10 === 9
      ? { kind: Kind.BlockEvent, data: { number: i, hash: '0x01', parentHash: '0x00', timestamp: i, baseFeePerGas: 7n } }
      : { kind: Kind.SyntheticTx, data: { body: new Uint8Array([i & 0xff, 1, 2]), hops: 0 } satisfies SyntheticTx },
  verify: (outputs: { seq: number; kind: number; data: unknown }[], n: number) => {
    assert.equal(outputs.length, n);
    outputs.forEach((m, i) => {
      assert.equal(m.seq, i);
      if (i % 10 === 9) {
        assert.equal(m.kind, Kind.BlockEvent);
        assert.equal((m.data as { baseFeePerGas: bigint }).baseFeePerGas, 7n);
      } else {
        const tx = m.data as SyntheticTx;
        assert.equal(tx.hops, 1, 'passed through exactly one stage');
        assert.deepEqual([...tx.body], [i & 0xff, 1, 2]);
      }
    });
  },
});

describe('PassThrough (blocking wait)', () => actorContract(subject(false)));
describe('PassThrough (I/O mode: event loop between batches)', () => actorContract(subject(true)));

describe('PassThrough', () => {
  it('behavior: hops in any form, patched in place or not, come out one higher', async () => {
    const engine = new Engine(testConfig({ batchMaxRecords: 16 }), {
      pipeline: { rings: { in: 1 << 16, [RESULTS_RING]: 1 << 16 }, stages: [{ name: 'unit', worker, config: { workNs: 0, io: false, faults: [] }, input: 'in', outputs: { out: RESULTS_RING } }] },
    });
    const outputs: Message[] = [];
    engine.onOutput((m) => outputs.push(m));
    await engine.start();
    const writer = new RecordWriter(engine.supervisor.ring('in'));
    const hops = [0, 63, 126, 255, 300, 1.5];
    for (let seq = 0; seq < 100; seq++) {
      let st = writer.write(Kind.SyntheticTx, seq, 0, 0, { body: new Uint8Array(seq * 7).fill(seq), hops: hops[seq % hops.length]! } satisfies SyntheticTx);
      while (st === WriteStatus.FULL) st = writer.retry();
    }
    await runUntil(engine, () => outputs.length >= 100, 20_000);
    await engine.stop();
    outputs.forEach((m, seq) => {
      const tx = m.data as SyntheticTx;
      assert.equal(tx.hops, hops[seq % hops.length]! + 1, `seq ${seq}`);
      assert.deepEqual(tx.body, new Uint8Array(seq * 7).fill(seq));
    });
  });
});

describe('bumpHops', () => {
  const packr = createPackr();
  const unpackr = createUnpackr();
  const packed = (tx: unknown, pad = 0): Uint8Array => {
    const p = packr.pack(tx);
    const b = new Uint8Array(p.length + 2 * pad);
    b.set(p, pad);
    return b;
  };

  it('default: adds one to hops in place (fixint and uint8 forms), for bin8, bin16 and bin32 bodies, at an offset', () => {
    for (const size of [0, 3, 255, 256, 65535, 65536]) {
      for (const hops of [0, 1, 62, 64, 125, 126, 127, 254]) {
        const body = new Uint8Array(size).fill(size & 0xff);
        const b = packed({ body, hops }, 5);
        assert.equal(bumpHops(b, 5, b.length - 5), true, `size ${size} hops ${hops}`);
        const tx = unpackr.unpack(b.subarray(5, b.length - 5)) as SyntheticTx;
        assert.equal(tx.hops, hops + 1);
        assert.deepEqual(tx.body, body);
      }
    }
  });

  it('behavior: any other form is left untouched and refused', () => {
    const cases: [string, Uint8Array][] = [
      ['hops 63 (the last fixint: 0x40 is a record id)', packed({ body: new Uint8Array(3), hops: 63 })],
      ['hops 255 (uint8 at its top)', packed({ body: new Uint8Array(3), hops: 255 })],
      ['hops 256 (uint16)', packed({ body: new Uint8Array(3), hops: 256 })],
      ['hops 1.5 (float)', packed({ body: new Uint8Array(3), hops: 1.5 })],
      ['fields in another order', packed({ hops: 1, body: new Uint8Array(3) })],
      ['an extra field', packed({ body: new Uint8Array(3), hops: 1, extra: 2 })],
      ['a block event', packed({ number: 1, hash: '0x', parentHash: '0x', timestamp: 0, baseFeePerGas: null, gasLimit: 0n, gasUsed: 0n, miner: '', prevRandao: '', excessBlobGas: null, reorg: false })],
      ['truncated', packed({ body: new Uint8Array(3), hops: 1 }).subarray(0, 4)],
      ['empty', new Uint8Array(0)],
    ];
    for (const [what, b] of cases) {
      const before = b.slice();
      assert.equal(bumpHops(b, 0, b.length), false, what);
      assert.deepEqual(b, before, `${what}: untouched`);
    }
  });
});
