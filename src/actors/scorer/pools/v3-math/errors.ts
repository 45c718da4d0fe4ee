/**
 * Why a Uniswap V3 math function refused its input. The letters are the revert strings of
 * v3-core (`T`, `R`, `SPL`, `AS`, `LS`, `LA`); the rest name a bare `require` that reverts with no
 * reason in Solidity, so callers can still tell an overflow from a price out of range.
 */
export type V3MathErrorCode =
  | 'T' // TickMath: |tick| > MAX_TICK
  | 'R' // TickMath: sqrtPrice outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO)
  | 'SPL' // UniswapV3Pool.swap: price limit on the wrong side or out of bounds
  | 'AS' // UniswapV3Pool.swap: amountSpecified == 0
  | 'LS' // LiquidityMath.addDelta: liquidity underflow
  | 'LA' // LiquidityMath.addDelta: liquidity overflow
  | 'MUL_DIV_OVERFLOW' // FullMath: denominator == 0 or result >= 2^256
  | 'ROUNDING_OVERFLOW' // FullMath.mulDivRoundingUp: result + 1 == 2^256
  | 'SQRT_PRICE_ZERO' // SqrtPriceMath: sqrtPX96 == 0 or sqrtRatioAX96 == 0
  | 'LIQUIDITY_ZERO' // SqrtPriceMath: liquidity == 0 for a next-price computation
  | 'PRICE_UNDERFLOW' // SqrtPriceMath: removing more than the price range holds
  | 'ADD_OVERFLOW' // LowGasSafeMath.add over 2^256
  | 'INT_OVERFLOW' // LowGasSafeMath signed add/sub out of int256
  | 'UINT160_OVERFLOW' // SafeCast.toUint160
  | 'INT256_OVERFLOW'; // SafeCast.toInt256

/**
 * The one error the V3 math throws: thrown exactly where the Solidity code reverts, with `reason`
 * holding the Solidity revert string ('' for a bare `require`). Never fatal: the caller skips the
 * candidate and counts it.
 */
export class V3MathError extends Error {
  override name = 'V3MathError';
  readonly code: V3MathErrorCode;
  /** The revert string the contract returns ('' for a bare `require`). */
  readonly reason: string;
  readonly fatal = false;

  constructor(code: V3MathErrorCode, where: string) {
    super(`${where} reverted (${code})`);
    this.code = code;
    this.reason = code.length <= 3 ? code : '';
  }
}
