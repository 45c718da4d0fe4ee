import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { V3MathError } from '../../../../../src/actors/scorer/pools/v3-math/errors.js';
import { MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK, getSqrtRatioAtTick, getTickAtSqrtRatio } from '../../../../../src/actors/scorer/pools/v3-math/tick-math.js';
import { mulberry32 } from '../../../../support/prng.js';

/** `../shared/data/uniswap` from the project root (this file runs from dist/test/actors/scorer/pools/v3-math/). */
const UNISWAP = fileURLToPath(new URL('../../../../../../../shared/data/uniswap/', import.meta.url));
const isCode = (code: string) => (e: unknown) => e instanceof V3MathError && e.code === code && e.reason === code;

interface TickCase {
  fn: 'getSqrtRatioAtTick' | 'getTickAtSqrtRatio';
  input: string;
  expected: string;
  test: string;
}

describe('TickMath', () => {
  it('default: reproduces the 41 v3-core TickMath snapshot values exactly', () => {
    const { cases } = JSON.parse(readFileSync(`${UNISWAP}v3_tickmath_snapshot.json`, 'utf8')) as { cases: TickCase[] };
    assert.equal(cases.length, 41);
    let matched = 0;
    for (const c of cases) {
      const got = c.fn === 'getSqrtRatioAtTick' ? getSqrtRatioAtTick(Number(c.input)).toString() : String(getTickAtSqrtRatio(BigInt(c.input)));
      assert.equal(got, c.expected, c.test);
      matched++;
    }
    assert.equal(matched, 41);
  });

  it('default: bounds match the contract constants', () => {
    assert.equal(getSqrtRatioAtTick(MIN_TICK), MIN_SQRT_RATIO);
    assert.equal(getSqrtRatioAtTick(MAX_TICK), MAX_SQRT_RATIO);
    assert.equal(getSqrtRatioAtTick(0), 1n << 96n);
    assert.equal(getTickAtSqrtRatio(MIN_SQRT_RATIO), MIN_TICK);
    assert.equal(getTickAtSqrtRatio(MAX_SQRT_RATIO - 1n), MAX_TICK - 1);
    // From TickMath.spec: the ratio just above min and just below max.
    assert.equal(getSqrtRatioAtTick(MIN_TICK + 1), 4295343490n);
    assert.equal(getSqrtRatioAtTick(MAX_TICK - 1), 1461373636630004318706518188784493106690254656249n);
  });

  it('error: tick outside ±887272 reverts with T', () => {
    assert.throws(() => getSqrtRatioAtTick(MIN_TICK - 1), isCode('T'));
    assert.throws(() => getSqrtRatioAtTick(MAX_TICK + 1), isCode('T'));
  });

  it('error: sqrt ratio outside [MIN, MAX) reverts with R', () => {
    assert.throws(() => getTickAtSqrtRatio(MIN_SQRT_RATIO - 1n), isCode('R'));
    assert.throws(() => getTickAtSqrtRatio(MAX_SQRT_RATIO), isCode('R'));
  });

  it('behavior: getTickAtSqrtRatio is the greatest tick at or below the price (seeded random ticks)', () => {
    const rnd = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const tick = Math.floor(rnd() * (MAX_TICK - MIN_TICK)) + MIN_TICK;
      const at = getSqrtRatioAtTick(tick);
      assert.equal(getTickAtSqrtRatio(at), tick);
      const next = getSqrtRatioAtTick(tick + 1);
      assert.equal(getTickAtSqrtRatio(next - 1n), tick);
      if (at > MIN_SQRT_RATIO) assert.equal(getTickAtSqrtRatio(at - 1n), tick - 1);
    }
  });
});
