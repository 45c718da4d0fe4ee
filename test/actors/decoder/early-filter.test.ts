import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EarlyFilter, type StrategyName } from '../../../src/actors/decoder/early-filter.js';
import type { DecodedTx, SwapIntent, SwapLeg } from '../../../src/messages/schema.js';
import { testBlock } from '../../support/records.js';
import { testLeg } from '../../support/swap-leg.js';

const ALL: StrategyName[] = ['sandwich', 'backrun', 'arbitrage', 'liquidation'];
const ROUTER = '0x7a250d5630b4cf539739df2c5dacb4c659f2488d';

function leg(deadline: bigint | null): SwapLeg {
  return testLeg({ amountIn: 1n, amountOutMin: 1n, deadline });
}

function tx(fields: Partial<DecodedTx>): DecodedTx {
  return {
    hash: `0x${'11'.repeat(32)}`, type: 2, chainId: 1n, nonce: 0n, from: `0x${'22'.repeat(20)}`, to: `0x${'33'.repeat(20)}`, value: 0n, gas: 21000n,
    gasPrice: null, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n, maxFeePerBlobGas: null, input: new Uint8Array(), accessList: [],
    blobVersionedHashes: null, authorizationList: null, v: 0n, r: 1n, s: 1n, size: 100, raw: new Uint8Array(), firstSeenNs: 0, source: 0,
    hashMismatch: false, intent: null, ...fields,
  };
}

const swap = (deadlines: (bigint | null)[]): SwapIntent => ({ router: ROUTER, kind: 'v2-router02', method: 'swapExactTokensForTokens', legs: deadlines.map(leg) });
const call = (selector: string) => Uint8Array.from(Buffer.from(`${selector}${'00'.repeat(64)}`, 'hex'));

describe('EarlyFilter', () => {
  it('default: keeps swaps and unknown contract calls', () => {
    const f = new EarlyFilter({ enabled: true, strategies: ALL, dropExpired: true });
    assert.equal(f.check(tx({ intent: swap([null]) }), null), null);
    assert.equal(f.check(tx({ input: call('deadbeef') }), testBlock()), null);
  });

  it('behavior: drops what cannot move a pool price, each with its reason', () => {
    const f = new EarlyFilter({ enabled: true, strategies: ALL, dropExpired: true });
    assert.equal(f.check(tx({ to: null, input: call('60806040') }), null), 'contract-creation');
    assert.equal(f.check(tx({ value: 10n ** 18n }), null), 'no-calldata');
    assert.equal(f.check(tx({ input: call('a9059cbb') }), null), 'token-transfer');
    assert.equal(f.check(tx({ input: call('23b872dd') }), null), 'token-transfer');
    assert.equal(f.check(tx({ input: call('095ea7b3') }), null), 'approval');
  });

  it('behavior: a swap whose deadline is before the head can only revert', () => {
    const f = new EarlyFilter({ enabled: true, strategies: ALL, dropExpired: true });
    const head = testBlock({ timestamp: 1_000 });
    assert.equal(f.check(tx({ intent: swap([999n]) }), head), 'expired');
    assert.equal(f.check(tx({ intent: swap([1_000n]) }), head), null);
    assert.equal(f.check(tx({ intent: swap([2_000n, 999n]) }), head), 'expired', 'a multicall reverts when any leg expired');
    assert.equal(f.check(tx({ intent: swap([999n]) }), null), null, 'no head yet: cannot tell');
    assert.equal(new EarlyFilter({ enabled: true, strategies: ALL, dropExpired: false }).check(tx({ intent: swap([999n]) }), head), null);
  });

  it('behavior: sandwich alone needs a classified swap; unknown calls are dropped as no-swap', () => {
    const f = new EarlyFilter({ enabled: true, strategies: ['sandwich'], dropExpired: true });
    assert.equal(f.check(tx({ input: call('deadbeef') }), null), 'no-swap');
    assert.equal(f.check(tx({ intent: swap([null]) }), null), null);
    assert.equal(new EarlyFilter({ enabled: true, strategies: [], dropExpired: true }).check(tx({ intent: swap([null]) }), null), 'no-swap');
  });

  it('args: enabled false passes everything', () => {
    const f = new EarlyFilter({ enabled: false, strategies: ['sandwich'], dropExpired: true });
    assert.equal(f.check(tx({ value: 1n }), null), null);
    assert.equal(f.check(tx({ intent: swap([1n]) }), testBlock({ timestamp: 5 })), null);
  });
});
