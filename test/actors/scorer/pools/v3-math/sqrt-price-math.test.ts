import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { V3MathError } from '../../../../../src/actors/scorer/pools/v3-math/errors.js';
import { MAX_UINT256 } from '../../../../../src/actors/scorer/pools/v3-math/full-math.js';
import {
  getAmount0Delta,
  getAmount0DeltaSigned,
  getAmount1Delta,
  getAmount1DeltaSigned,
  getNextSqrtPriceFromInput,
  getNextSqrtPriceFromOutput,
} from '../../../../../src/actors/scorer/pools/v3-math/sqrt-price-math.js';
import { E18, encodePriceSqrt, isCode } from '../../../../support/v3.js';



// Cases from v3-core test/SqrtPriceMath.spec.ts (final revision, matching the contracts in node_modules).
describe('SqrtPriceMath', () => {
  it('default: getNextSqrtPriceFromInput values', () => {
    assert.equal(getNextSqrtPriceFromInput(encodePriceSqrt(1n, 1n), E18, E18 / 10n, false), 87150978765690771352898345369n);
    assert.equal(getNextSqrtPriceFromInput(encodePriceSqrt(1n, 1n), E18, E18 / 10n, true), 72025602285694852357767227579n);
    assert.equal(getNextSqrtPriceFromInput(encodePriceSqrt(1n, 1n), 10n * E18, 1n << 100n, true), 624999999995069620n);
    assert.equal(getNextSqrtPriceFromInput(encodePriceSqrt(1n, 1n), 1n, MAX_UINT256 / 2n, true), 1n);
    assert.equal(getNextSqrtPriceFromInput(1n, 1n, 1n << 255n, true), 1n);
  });

  it('default: returns the input price for a zero amount', () => {
    const p = encodePriceSqrt(1n, 1n);
    for (const z of [true, false]) {
      assert.equal(getNextSqrtPriceFromInput(p, E18 / 10n, 0n, z), p);
      assert.equal(getNextSqrtPriceFromOutput(p, E18 / 10n, 0n, z), p);
    }
  });

  it('default: returns the minimum price for max inputs', () => {
    const sqrtP = (1n << 160n) - 1n;
    const liquidity = (1n << 128n) - 1n;
    const maxAmountNoOverflow = MAX_UINT256 - (liquidity << 96n) / sqrtP;
    assert.equal(getNextSqrtPriceFromInput(sqrtP, liquidity, maxAmountNoOverflow, true), 1n);
  });

  it('default: getNextSqrtPriceFromOutput values', () => {
    assert.equal(getNextSqrtPriceFromOutput(encodePriceSqrt(1n, 1n), E18, E18 / 10n, false), 88031291682515930659493278152n);
    assert.equal(getNextSqrtPriceFromOutput(encodePriceSqrt(1n, 1n), E18, E18 / 10n, true), 71305346262837903834189555302n);
    assert.equal(getNextSqrtPriceFromOutput(20282409603651670423947251286016n, 1024n, 262143n, true), 77371252455336267181195264n);
  });

  it('behavior: sqrtP * sqrtQ overflow case from the spec', () => {
    const sqrtP = 1025574284609383690408304870162715216695788925244n;
    const liquidity = 50015962439936049619261659728067971248n;
    const sqrtQ = getNextSqrtPriceFromInput(sqrtP, liquidity, 406n, true);
    assert.equal(sqrtQ, 1025574284609383582644711336373707553698163132913n);
    assert.equal(getAmount0Delta(sqrtP, sqrtQ, liquidity, true), 406n);
  });

  it('error: zero price or liquidity reverts', () => {
    assert.throws(() => getNextSqrtPriceFromInput(0n, 1n, E18 / 10n, false), isCode('SQRT_PRICE_ZERO'));
    assert.throws(() => getNextSqrtPriceFromInput(1n, 0n, E18 / 10n, true), isCode('LIQUIDITY_ZERO'));
    assert.throws(() => getNextSqrtPriceFromOutput(0n, 1n, E18 / 10n, false), isCode('SQRT_PRICE_ZERO'));
    assert.throws(() => getNextSqrtPriceFromOutput(1n, 0n, E18 / 10n, true), isCode('LIQUIDITY_ZERO'));
  });

  it('error: an input that overflows the price reverts', () => {
    assert.throws(() => getNextSqrtPriceFromInput((1n << 160n) - 1n, 1024n, 1024n, false), isCode('UINT160_OVERFLOW'));
  });

  it('error: output at or above the virtual reserves reverts', () => {
    const price = 20282409603651670423947251286016n;
    assert.throws(() => getNextSqrtPriceFromOutput(price, 1024n, 4n, false), isCode('PRICE_UNDERFLOW'));
    assert.throws(() => getNextSqrtPriceFromOutput(price, 1024n, 5n, false), isCode('PRICE_UNDERFLOW'));
    assert.throws(() => getNextSqrtPriceFromOutput(price, 1024n, 262144n, true), isCode('PRICE_UNDERFLOW'));
    assert.throws(() => getNextSqrtPriceFromOutput(price, 1024n, 262145n, true), isCode('PRICE_UNDERFLOW'));
    assert.throws(() => getNextSqrtPriceFromOutput(encodePriceSqrt(1n, 1n), 1n, MAX_UINT256, true), V3MathError);
    assert.throws(() => getNextSqrtPriceFromOutput(encodePriceSqrt(1n, 1n), 1n, MAX_UINT256, false), V3MathError);
  });

  it('default: getAmount0Delta / getAmount1Delta for 1 → 1.21', () => {
    const a = encodePriceSqrt(1n, 1n);
    const b = encodePriceSqrt(121n, 100n);
    assert.equal(getAmount0Delta(b, a, E18, true), 90909090909090910n);
    assert.equal(getAmount0Delta(b, a, E18, false), 90909090909090909n);
    assert.equal(getAmount1Delta(a, b, E18, true), 100000000000000000n);
    assert.equal(getAmount1Delta(a, b, E18, false), 99999999999999999n);
    assert.equal(getAmount0Delta(encodePriceSqrt(2n, 1n), a, 0n, true), 0n);
    assert.equal(getAmount1Delta(a, a, E18, true), 0n);
  });

  it('behavior: getAmount0Delta works for prices whose product overflows', () => {
    const up = getAmount0Delta(encodePriceSqrt(1n << 96n, 1n), encodePriceSqrt(1n << 90n, 1n), E18, true);
    const down = getAmount0Delta(encodePriceSqrt(1n << 96n, 1n), encodePriceSqrt(1n << 90n, 1n), E18, false);
    assert.equal(up, down + 1n);
  });

  it('args: signed deltas round up when adding and down (negated) when removing', () => {
    const a = encodePriceSqrt(1n, 1n);
    const b = encodePriceSqrt(121n, 100n);
    assert.equal(getAmount0DeltaSigned(a, b, E18), 90909090909090910n);
    assert.equal(getAmount0DeltaSigned(a, b, -E18), -90909090909090909n);
    assert.equal(getAmount1DeltaSigned(a, b, E18), 100000000000000000n);
    assert.equal(getAmount1DeltaSigned(a, b, -E18), -99999999999999999n);
  });

  it('error: getAmount0Delta with a zero price reverts', () => {
    assert.throws(() => getAmount0Delta(0n, 1n << 96n, E18, true), isCode('SQRT_PRICE_ZERO'));
  });
});
