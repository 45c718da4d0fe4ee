import { V3MathError } from '../../src/actors/scorer/pools/v3-math/errors.js';
import { bigintSqrt } from '../../src/actors/scorer/strategies/v2-arbitrage.js';

/** 10^18. */
export const E18 = 10n ** 18n;

/** An `assert.throws` matcher for a {@link V3MathError} with `code`. */
export const isCode = (code: string) => (e: unknown) => e instanceof V3MathError && e.code === code;

/**
 * v3-core's `encodePriceSqrt(reserve1, reserve0)` as bignumber.js computes it there: the ratio is
 * first rounded half-up to 40 decimal places (DECIMAL_PLACES: 40), which matters for 1/2^127
 * (5.9e-39, not 5.8775e-39), then floor(sqrt(ratio)·2^96).
 */
export function encodePriceSqrt(r1: bigint, r0: bigint): bigint {
  const ratio40 = (r1 * 10n ** 40n * 2n + r0) / (2n * r0);
  return bigintSqrt((ratio40 << 192n) / 10n ** 40n);
}
