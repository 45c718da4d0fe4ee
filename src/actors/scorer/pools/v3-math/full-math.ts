import { V3MathError } from './errors.js';

/** 2^256 − 1, `type(uint256).max`. */
export const MAX_UINT256 = (1n << 256n) - 1n;
/** 2^256, the modulus of EVM word arithmetic. */
export const TWO_256 = 1n << 256n;

/**
 * `FullMath.mulDiv`: floor(a·b / denominator) with a 512-bit intermediate. Reverts where Solidity
 * does: denominator == 0, or a result that does not fit 256 bits (the `denominator > prod1` check
 * is exactly that condition). Inputs are uint256.
 */
export function mulDiv(a: bigint, b: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new V3MathError('MUL_DIV_OVERFLOW', 'FullMath.mulDiv');
  const result = (a * b) / denominator;
  if (result > MAX_UINT256) throw new V3MathError('MUL_DIV_OVERFLOW', 'FullMath.mulDiv');
  return result;
}

/** `FullMath.mulDivRoundingUp`: ceil(a·b / denominator); reverts like `mulDiv`, and when the rounded result would be 2^256. */
export function mulDivRoundingUp(a: bigint, b: bigint, denominator: bigint): bigint {
  const result = mulDiv(a, b, denominator);
  if ((a * b) % denominator > 0n) {
    if (result >= MAX_UINT256) throw new V3MathError('ROUNDING_OVERFLOW', 'FullMath.mulDivRoundingUp');
    return result + 1n;
  }
  return result;
}

/** `UnsafeMath.divRoundingUp`: ceil(x / y) with EVM semantics (division by zero gives 0, no revert). */
export function divRoundingUp(x: bigint, y: bigint): bigint {
  if (y === 0n) return 0n;
  const q = x / y;
  return x % y > 0n ? q + 1n : q;
}
