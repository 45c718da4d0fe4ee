import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { Kind, type SyntheticTx } from '../../../src/messages/schema.js';
import { actorContract } from '../../support/actor-contract.js';

const subject = (io: boolean) => ({
  worker: new URL('../../../src/actors/synthetic/pass-through.worker.js', import.meta.url),
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
