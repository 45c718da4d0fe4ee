import { V3MathError } from './errors.js';
import { MAX_UINT256, TWO_256, divRoundingUp, mulDiv, mulDivRoundingUp } from './full-math.js';

/** 2^96, the Q64.96 unit (`FixedPoint96.Q96`). */
export const Q96 = 1n << 96n;
const MAX_UINT160 = (1n << 160n) - 1n;
const INT256_BOUND = 1n << 255n;

/** `SafeCast.toUint160`. */
function toUint160(y: bigint): bigint {
  if (y > MAX_UINT160) throw new V3MathError('UINT160_OVERFLOW', 'SafeCast.toUint160');
  return y;
}

/** `SafeCast.toInt256` (of a uint256). */
export function toInt256(y: bigint): bigint {
  if (y >= INT256_BOUND) throw new V3MathError('INT256_OVERFLOW', 'SafeCast.toInt256');
  return y;
}

/**
 * `SqrtPriceMath.getNextSqrtPriceFromAmount0RoundingUp`: the price after adding (or removing)
 * `amount` of token0, rounded up. The contract's overflow checks on `amount * sqrtPX96` are done in
 * 256-bit wrapping arithmetic, so they are emulated here rather than skipped: they choose which of
 * two formulas runs, and the two round differently.
 */
export function getNextSqrtPriceFromAmount0RoundingUp(sqrtPX96: bigint, liquidity: bigint, amount: bigint, add: boolean): bigint {
  // The contract short-circuits because the formula need not return the input price exactly.
  if (amount === 0n) return sqrtPX96;
  const numerator1 = liquidity << 96n;
  const fullProduct = amount * sqrtPX96;
  const productFits = fullProduct <= MAX_UINT256;
  if (add) {
    if (productFits) {
      const denominator = (numerator1 + fullProduct) % TWO_256;
      if (denominator >= numerator1) return mulDivRoundingUp(numerator1, sqrtPX96, denominator);
    }
    const sum = numerator1 / sqrtPX96 + amount;
    if (sum > MAX_UINT256) throw new V3MathError('ADD_OVERFLOW', 'LowGasSafeMath.add');
    return divRoundingUp(numerator1, sum);
  }
  // If the product overflows, the denominator would underflow.
  if (!(productFits && numerator1 > fullProduct)) {
    throw new V3MathError('PRICE_UNDERFLOW', 'SqrtPriceMath.getNextSqrtPriceFromAmount0RoundingUp');
  }
  return toUint160(mulDivRoundingUp(numerator1, sqrtPX96, numerator1 - fullProduct));
}

/** `SqrtPriceMath.getNextSqrtPriceFromAmount1RoundingDown`: the price after adding (or removing) `amount` of token1, rounded down. */
export function getNextSqrtPriceFromAmount1RoundingDown(sqrtPX96: bigint, liquidity: bigint, amount: bigint, add: boolean): bigint {
  if (add) {
    // Solidity divides by liquidity with no check; EVM division by zero yields 0.
    const quotient = amount <= MAX_UINT160 ? (liquidity === 0n ? 0n : (amount << 96n) / liquidity) : mulDiv(amount, Q96, liquidity);
    const sum = sqrtPX96 + quotient;
    if (sum > MAX_UINT256) throw new V3MathError('ADD_OVERFLOW', 'LowGasSafeMath.add');
    return toUint160(sum);
  }
  const quotient = amount <= MAX_UINT160 ? divRoundingUp(amount << 96n, liquidity) : mulDivRoundingUp(amount, Q96, liquidity);
  if (!(sqrtPX96 > quotient)) throw new V3MathError('PRICE_UNDERFLOW', 'SqrtPriceMath.getNextSqrtPriceFromAmount1RoundingDown');
  return sqrtPX96 - quotient;
}

/** `SqrtPriceMath.getNextSqrtPriceFromInput`: the price after `amountIn` goes in, rounded so the target is never overshot. */
export function getNextSqrtPriceFromInput(sqrtPX96: bigint, liquidity: bigint, amountIn: bigint, zeroForOne: boolean): bigint {
  if (!(sqrtPX96 > 0n)) throw new V3MathError('SQRT_PRICE_ZERO', 'SqrtPriceMath.getNextSqrtPriceFromInput');
  if (!(liquidity > 0n)) throw new V3MathError('LIQUIDITY_ZERO', 'SqrtPriceMath.getNextSqrtPriceFromInput');
  return zeroForOne
    ? getNextSqrtPriceFromAmount0RoundingUp(sqrtPX96, liquidity, amountIn, true)
    : getNextSqrtPriceFromAmount1RoundingDown(sqrtPX96, liquidity, amountIn, true);
}

/** `SqrtPriceMath.getNextSqrtPriceFromOutput`: the price after `amountOut` leaves, rounded so the target is reached. */
export function getNextSqrtPriceFromOutput(sqrtPX96: bigint, liquidity: bigint, amountOut: bigint, zeroForOne: boolean): bigint {
  if (!(sqrtPX96 > 0n)) throw new V3MathError('SQRT_PRICE_ZERO', 'SqrtPriceMath.getNextSqrtPriceFromOutput');
  if (!(liquidity > 0n)) throw new V3MathError('LIQUIDITY_ZERO', 'SqrtPriceMath.getNextSqrtPriceFromOutput');
  return zeroForOne
    ? getNextSqrtPriceFromAmount1RoundingDown(sqrtPX96, liquidity, amountOut, false)
    : getNextSqrtPriceFromAmount0RoundingUp(sqrtPX96, liquidity, amountOut, false);
}

/** Unsigned `SqrtPriceMath.getAmount0Delta`: token0 between two prices for `liquidity` (uint128). */
export function getAmount0Delta(sqrtRatioAX96: bigint, sqrtRatioBX96: bigint, liquidity: bigint, roundUp: boolean): bigint {
  if (sqrtRatioAX96 > sqrtRatioBX96) {
    const t = sqrtRatioAX96;
    sqrtRatioAX96 = sqrtRatioBX96;
    sqrtRatioBX96 = t;
  }
  const numerator1 = liquidity << 96n;
  const numerator2 = sqrtRatioBX96 - sqrtRatioAX96;
  if (!(sqrtRatioAX96 > 0n)) throw new V3MathError('SQRT_PRICE_ZERO', 'SqrtPriceMath.getAmount0Delta');
  return roundUp
    ? divRoundingUp(mulDivRoundingUp(numerator1, numerator2, sqrtRatioBX96), sqrtRatioAX96)
    : mulDiv(numerator1, numerator2, sqrtRatioBX96) / sqrtRatioAX96;
}

/** Unsigned `SqrtPriceMath.getAmount1Delta`: token1 between two prices for `liquidity` (uint128). */
export function getAmount1Delta(sqrtRatioAX96: bigint, sqrtRatioBX96: bigint, liquidity: bigint, roundUp: boolean): bigint {
  const diff = sqrtRatioAX96 > sqrtRatioBX96 ? sqrtRatioAX96 - sqrtRatioBX96 : sqrtRatioBX96 - sqrtRatioAX96;
  return roundUp ? mulDivRoundingUp(liquidity, diff, Q96) : mulDiv(liquidity, diff, Q96);
}

/** Signed `getAmount0Delta` for a liquidity delta (int128): positive (rounded up) when adding, negative (rounded down) when removing. */
export function getAmount0DeltaSigned(sqrtRatioAX96: bigint, sqrtRatioBX96: bigint, liquidity: bigint): bigint {
  return liquidity < 0n
    ? -toInt256(getAmount0Delta(sqrtRatioAX96, sqrtRatioBX96, -liquidity, false))
    : toInt256(getAmount0Delta(sqrtRatioAX96, sqrtRatioBX96, liquidity, true));
}

/** Signed `getAmount1Delta` for a liquidity delta (int128): positive (rounded up) when adding, negative (rounded down) when removing. */
export function getAmount1DeltaSigned(sqrtRatioAX96: bigint, sqrtRatioBX96: bigint, liquidity: bigint): bigint {
  return liquidity < 0n
    ? -toInt256(getAmount1Delta(sqrtRatioAX96, sqrtRatioBX96, -liquidity, false))
    : toInt256(getAmount1Delta(sqrtRatioAX96, sqrtRatioBX96, liquidity, true));
}
