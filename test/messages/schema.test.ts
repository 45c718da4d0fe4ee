import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { type BlockEvent, KIND_NAMES, Kind, type Opportunity, SCHEMA_HASH, type SimulatedTx, type SyntheticTx, createPackr, createUnpackr } from '../../src/messages/schema.js';

import { testBlock } from '../support/records.js';

const hashWorker = new URL('../support/schema-hash.worker.js', import.meta.url);

/** The shared-structure list msgpackr keeps on a packer (not in its typings). */
function structuresOf(packr: object): unknown[] {
  return (packr as { structures: unknown[] }).structures;
}

/** Encodes with one packer and decodes with a fresh unpacker, as two threads would. */
function roundTrip(value: unknown): unknown {
  return createUnpackr().unpack(createPackr().pack(value));
}

function tx(body: Uint8Array, hops = 0): SyntheticTx {
  return { body, hops };
}

function block(overrides: Partial<BlockEvent> = {}): BlockEvent {
  return testBlock({ number: 19_000_000, baseFeePerGas: 30_000_000_000n, gasUsed: 12_345_678n, excessBlobGas: 0n, ...overrides });
}

function assertTx(actual: unknown, expected: SyntheticTx): void {
  const got = actual as SyntheticTx;
  assert.ok(got.body instanceof Uint8Array, 'body decodes as bytes');
  assert.deepEqual(new Uint8Array(got.body), expected.body);
  assert.deepEqual(Object.keys(got), ['body', 'hops']);
  assert.equal(got.hops, expected.hops);
}

describe('schema', () => {
  it('default', () => {
    assert.match(SCHEMA_HASH, /^[0-9a-f]{64}$/);
    assert.deepEqual(KIND_NAMES, { [Kind.SyntheticTx]: 'SyntheticTx', [Kind.BlockEvent]: 'BlockEvent', [Kind.RawTx]: 'RawTx', [Kind.DecodedTx]: 'DecodedTx', [Kind.SimulatedTx]: 'SimulatedTx', [Kind.Opportunity]: 'Opportunity', [Kind.Submission]: 'Submission' });
    assert.ok(Object.isFrozen(KIND_NAMES));
  });

  it('behavior: an Opportunity round-trips with its plan, gas and bigint amounts intact', () => {
    const opp: Opportunity = {
      id: `0x${'ab'.repeat(32)}`, kind: 'v2-sandwich', victimHashes: [`0x${'01'.repeat(32)}`], targetBlock: 19_000_001, pools: ['0x' + '11'.repeat(20)],
      tokenPath: ['0x' + '22'.repeat(20), '0x' + '33'.repeat(20), '0x' + '22'.repeat(20)], amountIn: 10n ** 30n + 7n,
      profit: { token: '0x' + '22'.repeat(20), gross: 5n, gasCost: 3n, net: 2n, grossWei: 5n, gasCostWei: 3n, netWei: 2n },
      plan: [
        { kind: 'v2-router-exact-in', router: '0x' + '44'.repeat(20), method: 'swapExactTokensForTokens', amountIn: 1n, amountOutMin: 2n ** 255n, path: ['0x' + '22'.repeat(20), '0x' + '33'.repeat(20)], pools: ['0x' + '11'.repeat(20)] },
        { kind: 'victim', hash: `0x${'01'.repeat(32)}` },
        { kind: 'v2-pair-swap', pair: '0x' + '11'.repeat(20), amount0Out: 0n, amount1Out: 9n, to: null },
      ],
      timings: { firstSeenNs: 123, scoredNs: 456, verifiedNs: 789 }, verification: 'verified', simulatedNet: -1n, rejectReason: null, baseFee: 7n,
      gas: [{ gasUsed: 100_000n, gasLimit: 120_000n, priorityFee: 3n }, null, { gasUsed: 1n, gasLimit: 2n, priorityFee: 0n }], searcher: '0x' + '55'.repeat(20), revision: 1,
    };
    assert.deepEqual(roundTrip(opp), opp);
  });

  it('behavior: a SimulatedTx round-trips with pools and balance changes', () => {
    const sim: Omit<SimulatedTx, 'tx'> & { tx: null } = {
      tx: null, block: 5, status: 'revert', gasUsed: 21_000n, logs: [{ address: '0x' + '11'.repeat(20), topics: ['0x' + '00'.repeat(32)], data: '0x' }],
      revertReason: 'UniswapV2: K', error: 'revert', pools: [{ address: '0x' + '11'.repeat(20), protocol: 'uniswap-v3', before: [2n ** 96n, -5n, 7n], after: [2n ** 97n, 887_272n, 0n] }],
      balanceChanges: [{ token: 'eth', delta: -(10n ** 18n) }], simulatedNs: 99,
    };
    assert.deepEqual(roundTrip(sim), sim);
  });

  it('behavior: every kind is a distinct non-zero byte', () => {
    const ids = Object.values(Kind);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.ok(Number.isInteger(id) && id > 0 && id < 256, `kind ${id}`);
  });

  it('behavior: SCHEMA_HASH is the same in another thread', async () => {
    const worker = new Worker(hashWorker);
    const [hash] = (await once(worker, 'message')) as [string];
    await once(worker, 'exit');
    assert.equal(hash, SCHEMA_HASH);
  });

  it('behavior: a SyntheticTx round-trips, body bytes included', () => {
    const big = new Uint8Array(70_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff;
    for (const t of [tx(new Uint8Array(0)), tx(new Uint8Array([0, 1, 255]), 5), tx(big, 2 ** 32 + 1), tx(new Uint8Array(300).fill(7), 2 ** 53 - 1)]) {
      assertTx(roundTrip(t), t);
    }
  });

  it('behavior: a BlockEvent round-trips, with bigint or null base fee and numbers past 32 bits', () => {
    const fees: (bigint | null)[] = [null, 0n, 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 64n - 1n, 2n ** 64n, 2n ** 64n + 1n, 2n ** 200n + 12345n, 2n ** 256n - 1n];
    for (const baseFeePerGas of fees) {
      const b = block({ baseFeePerGas, number: 2 ** 33 + 7, timestamp: 2 ** 40 });
      const got = roundTrip(b) as BlockEvent;
      assert.deepEqual(got, b);
      assert.deepEqual(Object.keys(got), Object.keys(b));
      assert.equal(typeof got.baseFeePerGas, baseFeePerGas === null ? 'object' : 'bigint');
    }
  });

  it('behavior: known shapes travel without their field names', () => {
    const packr = createPackr();
    const bytes = Buffer.from(packr.pack(block()));
    for (const name of ['number', 'parentHash', 'baseFeePerGas']) assert.equal(bytes.includes(name), false, `"${name}" is not on the wire`);
    assert.equal(Buffer.from(packr.pack(tx(new Uint8Array(4)))).includes('hops'), false);
  });

  it('behavior: two packers encode a known shape to the same bytes', () => {
    const value = block({ baseFeePerGas: 2n ** 70n });
    assert.deepEqual(Buffer.from(createPackr().pack(value)), Buffer.from(createPackr().pack(value)));
  });

  it('behavior: an unknown shape round-trips self-described and does not grow the shared structures', () => {
    const packr = createPackr();
    const shared = structuresOf(packr).length;
    const before = Buffer.from(packr.pack(block()));
    const shapes: unknown[] = [];
    for (let i = 0; i < 200; i++) shapes.push({ [`field${i}`]: i, nested: { big: 2n ** 64n + BigInt(i), list: [i, `s${i}`] }, bytes: new Uint8Array([i & 0xff]) });
    const encoded = shapes.map((s) => Buffer.from(packr.pack(s)));
    assert.equal(structuresOf(packr).length, shared, 'the shared structures stay as they were');
    // Each record decodes alone, in any order, with an unpacker that saw nothing before it.
    for (let i = encoded.length - 1; i >= 0; i--) {
      const got = createUnpackr().unpack(encoded[i]!) as { bytes: Uint8Array };
      const want = shapes[i] as { bytes: Uint8Array };
      assert.deepEqual({ ...got, bytes: new Uint8Array(got.bytes) }, want);
    }
    assert.ok(encoded[5]!.includes('field5'), 'an unknown shape carries its field names');
    assert.deepEqual(Buffer.from(packr.pack(block())), before, 'known shapes encode as before');
    // An unpacker that decoded unknown shapes still decodes known ones.
    const unpackr = createUnpackr();
    for (const e of encoded.slice(0, 70)) unpackr.unpack(e);
    assert.deepEqual(unpackr.unpack(createPackr().pack(block())), block());
  });

  it('behavior: a known shape nested in an unknown one round-trips', () => {
    const value = { blocks: [block(), block({ baseFeePerGas: null })], tx: tx(new Uint8Array([1, 2])) };
    const got = roundTrip(value) as typeof value;
    assert.deepEqual(got.blocks, value.blocks);
    assertTx(got.tx, value.tx);
  });

  it('behavior: an object with the fields of a known shape in another order round-trips', () => {
    const value = { hops: 3, body: new Uint8Array([9]) };
    const got = roundTrip(value) as SyntheticTx;
    assert.equal(got.hops, 3);
    assert.deepEqual(new Uint8Array(got.body), value.body);
  });
});
