import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { V3MathError } from '../../../../../src/actors/scorer/pools/v3-math/errors.js';
import { MAX_UINT256, divRoundingUp, mulDiv, mulDivRoundingUp } from '../../../../../src/actors/scorer/pools/v3-math/full-math.js';
import { mulberry32 } from '../../../../support/prng.js';

const Q128 = 1n << 128n;
const isCode = (code: string) => (e: unknown) => e instanceof V3MathError && e.code === code;

// Cases from v3-core test/FullMath.spec.ts.
describe('FullMath', () => {
  it('default: mulDiv of Q128 fractions', () => {
    assert.equal(mulDiv(Q128, (50n * Q128) / 100n, (150n * Q128) / 100n), Q128 / 3n);
    assert.equal(mulDiv(Q128, 35n * Q128, 8n * Q128), (4375n * Q128) / 1000n);
    assert.equal(mulDiv(Q128, 1000n * Q128, 3000n * Q128), Q128 / 3n);
    assert.equal(mulDiv(MAX_UINT256, MAX_UINT256, MAX_UINT256), MAX_UINT256);
  });

  it('default: mulDivRoundingUp rounds up only with a remainder', () => {
    assert.equal(mulDivRoundingUp(Q128, 1000n * Q128, 3000n * Q128), Q128 / 3n + 1n);
    assert.equal(mulDivRoundingUp(Q128, 35n * Q128, 8n * Q128), (4375n * Q128) / 1000n);
    assert.equal(mulDivRoundingUp(MAX_UINT256, MAX_UINT256, MAX_UINT256), MAX_UINT256);
  });

  it('error: denominator 0 and 256-bit overflow revert', () => {
    assert.throws(() => mulDiv(Q128, 5n, 0n), isCode('MUL_DIV_OVERFLOW'));
    assert.throws(() => mulDiv(Q128, Q128, 0n), isCode('MUL_DIV_OVERFLOW'));
    assert.throws(() => mulDiv(Q128, Q128, 1n), isCode('MUL_DIV_OVERFLOW'));
    assert.throws(() => mulDiv(MAX_UINT256, MAX_UINT256, MAX_UINT256 - 1n), isCode('MUL_DIV_OVERFLOW'));
    assert.throws(() => mulDivRoundingUp(Q128, Q128, 0n), isCode('MUL_DIV_OVERFLOW'));
  });

  it('error: mulDivRoundingUp reverts when rounding up reaches 2^256', () => {
    // From the spec: mulDiv gives MAX_UINT256 exactly-ish with a remainder, so +1 overflows.
    assert.throws(
      () => mulDivRoundingUp(535006138814359n, 432862656469423142931042426214547535783388063929571229938474969n, 2n),
      isCode('ROUNDING_OVERFLOW'),
    );
    assert.throws(
      () => mulDivRoundingUp(115792089237316195423570985008687907853269984659341747863450311749907997002549n, 115792089237316195423570985008687907853269984659341747863450311749907997002550n, 115792089237316195423570985008687907853269984653042931687443039491902864365164n),
      isCode('ROUNDING_OVERFLOW'),
    );
  });

  it('behavior: agrees with exact rational floor/ceil on seeded random inputs', () => {
    const rnd = mulberry32(4);
    const word = (bits: number): bigint => {
      let x = 0n;
      for (let i = 0; i < bits; i += 32) x = (x << 32n) | BigInt(Math.floor(rnd() * 2 ** 32));
      return x & ((1n << BigInt(bits)) - 1n);
    };
    for (let i = 0; i < 2000; i++) {
      const a = word(1 + Math.floor(rnd() * 256));
      const b = word(1 + Math.floor(rnd() * 256));
      const d = word(1 + Math.floor(rnd() * 256)) || 1n;
      const floor = (a * b) / d;
      const ceil = floor + ((a * b) % d > 0n ? 1n : 0n);
      if (floor > MAX_UINT256) assert.throws(() => mulDiv(a, b, d), V3MathError);
      else assert.equal(mulDiv(a, b, d), floor);
      if (ceil > MAX_UINT256) assert.throws(() => mulDivRoundingUp(a, b, d), V3MathError);
      else assert.equal(mulDivRoundingUp(a, b, d), ceil);
    }
  });

  it('args: divRoundingUp follows EVM division (x/0 = 0)', () => {
    assert.equal(divRoundingUp(7n, 2n), 4n);
    assert.equal(divRoundingUp(8n, 2n), 4n);
    assert.equal(divRoundingUp(5n, 0n), 0n);
  });
});
