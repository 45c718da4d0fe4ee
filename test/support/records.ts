import { Kind, type BlockEvent, type SyntheticTx } from '../../src/messages/schema.js';
import { fillRecord, mulberry32 } from './prng.js';

/** One record of a seeded sequence, as a producer writes it and a consumer expects it. */
export interface SeededRecord {
  kind: Kind;
  seq: number;
  sub: number;
  firstSeenNs: number;
  data: SyntheticTx | BlockEvent;
}

/**
 * Record `seq` of the sequence `seed`: mostly synthetic transactions with bodies of 0..300 bytes,
 * every 10th a block event whose numbers and base fee exceed 32 and 64 bits (or whose fee is null).
 */
export function seededRecord(seed: number, seq: number): SeededRecord {
  const rng = mulberry32((seed * 1_000_003 + seq) >>> 0);
  const firstSeenNs = 1e15 + seq * 1000 + 0.5;
  if (seq % 10 === 9) {
    const hex = (n: number) => `0x${Math.floor(rng() * 2 ** 32).toString(16).padStart(8, '0')}${n.toString(16).padStart(56, '0')}`;
    const data: BlockEvent = {
      number: 2 ** 33 + seq,
      hash: hex(seq),
      parentHash: hex(seq - 1),
      timestamp: 1_700_000_000 + seq,
      baseFeePerGas: seq % 3 === 0 ? null : BigInt(seq) * 2n ** 64n + BigInt(Math.floor(rng() * 1e9)),
      gasLimit: 30_000_000n,
      gasUsed: BigInt(seq),
      miner: `0x${seq.toString(16).padStart(40, '0')}`,
      prevRandao: hex(seq + 1),
      excessBlobGas: seq % 2 === 0 ? null : 2n ** 70n + BigInt(seq),
      reorg: seq % 7 === 0,
    };
    return { kind: Kind.BlockEvent, seq, sub: 0, firstSeenNs, data };
  }
  const body = new Uint8Array(Math.floor(rng() * 301));
  fillRecord(body, seq, body.length);
  return { kind: Kind.SyntheticTx, seq, sub: seq % 3, firstSeenNs, data: { body, hops: seq % 7 } };
}

/** A block event with every field set; `fields` override the defaults. */
export function testBlock(fields: Partial<BlockEvent> = {}): BlockEvent {
  return {
    number: 1,
    hash: `0x${'ab'.repeat(32)}`,
    parentHash: `0x${'cd'.repeat(32)}`,
    timestamp: 1_700_000_000,
    baseFeePerGas: 1_000_000_000n,
    gasLimit: 30_000_000n,
    gasUsed: 0n,
    miner: `0x${'00'.repeat(20)}`,
    prevRandao: `0x${'00'.repeat(32)}`,
    excessBlobGas: null,
    reorg: false,
    ...fields,
  };
}
