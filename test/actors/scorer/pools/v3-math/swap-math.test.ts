import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getNextSqrtPriceFromInput, getNextSqrtPriceFromOutput } from '../../../../../src/actors/scorer/pools/v3-math/sqrt-price-math.js';
import { computeSwapStep, newSwapStep } from '../../../../../src/actors/scorer/pools/v3-math/swap-math.js';
import { E18, encodePriceSqrt } from '../../../../support/v3.js';


// Cases from v3-core test/SwapMath.spec.ts.
describe('SwapMath.computeSwapStep', () => {
  it('default: exact in capped at the price target, one for zero', () => {
    const price = encodePriceSqrt(1n, 1n);
    const target = encodePriceSqrt(101n, 100n);
    const s = computeSwapStep(price, target, 2n * E18, E18, 600);
    assert.deepEqual(s, { sqrtRatioNextX96: target, amountIn: 9975124224178055n, amountOut: 9925619580021728n, feeAmount: 5988667735148n });
    assert.ok(s.amountIn + s.feeAmount < E18);
    assert.ok(s.sqrtRatioNextX96 < getNextSqrtPriceFromInput(price, 2n * E18, E18, false));
  });

  it('default: exact out capped at the price target, one for zero', () => {
    const price = encodePriceSqrt(1n, 1n);
    const target = encodePriceSqrt(101n, 100n);
    const s = computeSwapStep(price, target, 2n * E18, -E18, 600);
    assert.deepEqual(s, { sqrtRatioNextX96: target, amountIn: 9975124224178055n, amountOut: 9925619580021728n, feeAmount: 5988667735148n });
  });

  it('default: exact in fully spent, one for zero', () => {
    const price = encodePriceSqrt(1n, 1n);
    const s = computeSwapStep(price, encodePriceSqrt(1000n, 100n), 2n * E18, E18, 600);
    assert.equal(s.amountIn, 999400000000000000n);
    assert.equal(s.feeAmount, 600000000000000n);
    assert.equal(s.amountOut, 666399946655997866n);
    assert.equal(s.sqrtRatioNextX96, getNextSqrtPriceFromInput(price, 2n * E18, E18 - s.feeAmount, false));
  });

  it('default: exact out fully received, one for zero', () => {
    const price = encodePriceSqrt(1n, 1n);
    const s = computeSwapStep(price, encodePriceSqrt(10000n, 100n), 2n * E18, -E18, 600);
    assert.equal(s.amountIn, 2000000000000000000n);
    assert.equal(s.feeAmount, 1200720432259356n);
    assert.equal(s.amountOut, E18);
    assert.equal(s.sqrtRatioNextX96, getNextSqrtPriceFromOutput(price, 2n * E18, E18, false));
  });

  it('behavior: amount out is capped at the desired amount out', () => {
    const s = computeSwapStep(417332158212080721273783715441582n, 1452870262520218020823638996n, 159344665391607089467575320103n, -1n, 1);
    assert.deepEqual(s, { sqrtRatioNextX96: 417332158212080721273783715441581n, amountIn: 1n, amountOut: 1n, feeAmount: 1n });
  });

  it('behavior: target price of 1 uses partial input amount', () => {
    const s = computeSwapStep(2n, 1n, 1n, 3915081100057732413702495386755767n, 1);
    assert.deepEqual(s, { sqrtRatioNextX96: 1n, amountIn: 39614081257132168796771975168n, amountOut: 0n, feeAmount: 39614120871253040049813n });
  });

  it('behavior: entire input amount taken as fee', () => {
    const s = computeSwapStep(2413n, 79887613182836312n, 1985041575832132834610021537970n, 10n, 1872);
    assert.deepEqual(s, { sqrtRatioNextX96: 2413n, amountIn: 0n, amountOut: 0n, feeAmount: 10n });
  });

  it('behavior: intermediate insufficient liquidity, zero for one exact output', () => {
    const sqrtP = 20282409603651670423947251286016n;
    const target = (sqrtP * 11n) / 10n;
    const s = computeSwapStep(sqrtP, target, 1024n, -4n, 3000);
    assert.deepEqual(s, { sqrtRatioNextX96: target, amountIn: 26215n, amountOut: 0n, feeAmount: 79n });
  });

  it('behavior: intermediate insufficient liquidity, one for zero exact output', () => {
    const sqrtP = 20282409603651670423947251286016n;
    const target = (sqrtP * 9n) / 10n;
    const s = computeSwapStep(sqrtP, target, 1024n, -263000n, 3000);
    assert.deepEqual(s, { sqrtRatioNextX96: target, amountIn: 1n, amountOut: 26214n, feeAmount: 1n });
  });

  it('args: writes into the given out object', () => {
    const out = newSwapStep();
    const r = computeSwapStep(encodePriceSqrt(1n, 1n), encodePriceSqrt(101n, 100n), 2n * E18, E18, 600, out);
    assert.equal(r, out);
    assert.equal(out.amountIn, 9975124224178055n);
  });
});
