import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxBaseFee } from '../../../src/actors/submitter/bundle.js';
import { nextBaseFee } from '../../../src/actors/base-fee.js';
import { bumpFee, replacementFees } from '../../../src/actors/submitter/fee-bump.js';
import { mulberry32 } from '../../support/prng.js';

const GWEI = 1_000_000_000n;

/** geth's txpool check: a replacement must reach `old × (100 + bump) / 100` on both fields (integer division). */
function gethAccepts(old: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }, next: typeof old, bump = 10n): boolean {
  const cap = (old.maxFeePerGas * (100n + bump)) / 100n;
  const tip = (old.maxPriorityFeePerGas * (100n + bump)) / 100n;
  return next.maxFeePerGas >= cap && next.maxPriorityFeePerGas >= tip;
}

describe('fee-bump', () => {
  it('default: bumpFee raises by the percentage, rounded up, and by at least 1 wei', () => {
    assert.equal(bumpFee(100n, 10), 110n);
    assert.equal(bumpFee(101n, 10), 112n, '111.1 rounds up');
    assert.equal(bumpFee(GWEI, 10), 1_100_000_000n);
    assert.equal(bumpFee(0n, 10), 1n, 'a zero tip rises too');
    assert.equal(bumpFee(5n, 10), 6n);
    assert.equal(bumpFee(100n, 25), 125n);
  });

  it('behavior: a replacement clears the node price bump on both fields, over a seeded random set of fees and base fees', () => {
    const rnd = mulberry32(0xfee);
    for (let i = 0; i < 2000; i++) {
      const tip = BigInt(Math.floor(rnd() * 5e9));
      const old = { maxFeePerGas: tip + BigInt(Math.floor(rnd() * 80e9)), maxPriorityFeePerGas: tip };
      const nextBase = BigInt(Math.floor(rnd() * 100e9));
      const blocks = 1 + Math.floor(rnd() * 4);
      const r = replacementFees(old, 10, nextBase, blocks);
      assert.ok(gethAccepts(old, r), `${JSON.stringify(old, (_, v) => String(v))} → ${r.maxFeePerGas}/${r.maxPriorityFeePerGas}`);
      assert.ok(r.maxFeePerGas > old.maxFeePerGas && r.maxPriorityFeePerGas > old.maxPriorityFeePerGas, 'strictly higher (anvil and reth want that)');
      assert.ok(r.maxFeePerGas >= maxBaseFee(nextBase, blocks) + r.maxPriorityFeePerGas, 'includable for the blocks left');
    }
  });

  it('behavior: the cap follows a base fee that rose past the old cap; otherwise it is the bumped cap', () => {
    const old = { maxFeePerGas: 30n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    assert.deepEqual(replacementFees(old, 10, 10n * GWEI, 1), { maxFeePerGas: 33n * GWEI, maxPriorityFeePerGas: 2_200_000_000n });
    const risen = replacementFees(old, 10, 40n * GWEI, 2);
    assert.equal(risen.maxFeePerGas, maxBaseFee(40n * GWEI, 2) + 2_200_000_000n);
  });

  it('default: nextBaseFee follows EIP-1559 (±1/8 toward a half-full block; 0 before London)', () => {
    const limit = 30_000_000n;
    assert.equal(nextBaseFee({ baseFeePerGas: 8n * GWEI, gasUsed: limit / 2n, gasLimit: limit }), 8n * GWEI);
    assert.equal(nextBaseFee({ baseFeePerGas: 8n * GWEI, gasUsed: limit, gasLimit: limit }), 9n * GWEI);
    assert.equal(nextBaseFee({ baseFeePerGas: 8n * GWEI, gasUsed: 0n, gasLimit: limit }), 7n * GWEI);
    assert.equal(nextBaseFee({ baseFeePerGas: null, gasUsed: 0n, gasLimit: limit }), 0n);
  });
});
