import { MAX_UINT256 } from './full-math.js';
import { V3MathError } from './errors.js';

/** The lowest tick a V3 pool can reach, `TickMath.MIN_TICK` (log base √1.0001 of 2^-128). */
export const MIN_TICK = -887272;
/** The highest tick, `TickMath.MAX_TICK`. */
export const MAX_TICK = 887272;
/** `getSqrtRatioAtTick(MIN_TICK)`, the lowest sqrtPriceX96 a pool can hold. */
export const MIN_SQRT_RATIO = 4295128739n;
/** `getSqrtRatioAtTick(MAX_TICK)`; a pool price is always strictly below it. */
export const MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342n;

// 1/√1.0001^(2^i) in Q128.128 for bit i of |tick|, bit 0 first; copied from TickMath.sol so the
// rounding of every intermediate product matches the contract's.
const FACTORS: readonly bigint[] = [
  0xfffcb933bd6fad37aa2d162d1a594001n,
  0xfff97272373d413259a46990580e213an,
  0xfff2e50f5f656932ef12357cf3c7fdccn,
  0xffe5caca7e10e4e61c3624eaa0941cd0n,
  0xffcb9843d60f6159c9db58835c926644n,
  0xff973b41fa98c081472e6896dfb254c0n,
  0xff2ea16466c96a3843ec78b326b52861n,
  0xfe5dee046a99a2a811c461f1969c3053n,
  0xfcbe86c7900a88aedcffc83b479aa3a4n,
  0xf987a7253ac413176f2b074cf7815e54n,
  0xf3392b0822b70005940c7a398e4b70f3n,
  0xe7159475a2c29b7443b29c7fa6e889d9n,
  0xd097f3bdfd2022b8845ad8f792aa5825n,
  0xa9f746462d870fdf8a65dc1f90e061e5n,
  0x70d869a156d2a1b890bb3df62baf32f7n,
  0x31be135f97d08fd981231505542fcfa6n,
  0x9aa508b5b7a84e1c677de54f3e99bc9n,
  0x5d6af8dedb81196699c329225ee604n,
  0x2216e584f5fa1ea926041bedfe98n,
  0x48a170391f7dc42444e8fa2n,
];
const Q128 = 1n << 128n;
const MASK32 = (1n << 32n) - 1n;

/**
 * `TickMath.getSqrtRatioAtTick`: sqrt(1.0001^tick) as a Q64.96, rounded up so that
 * `getTickAtSqrtRatio` of the result gives `tick` back. Reverts with `T` when |tick| > MAX_TICK.
 */
export function getSqrtRatioAtTick(tick: number): bigint {
  const absTick = tick < 0 ? -tick : tick;
  if (!(absTick <= MAX_TICK) || !Number.isInteger(tick)) throw new V3MathError('T', 'TickMath.getSqrtRatioAtTick');
  let ratio = absTick & 1 ? (FACTORS[0] as bigint) : Q128;
  // Bits 1..19 of |tick| each multiply in one factor; absTick < 2^20 so the loop is exhaustive.
  for (let i = 1, bit = 2; i < 20; i++, bit <<= 1) {
    if (absTick & bit) ratio = (ratio * (FACTORS[i] as bigint)) >> 128n;
  }
  if (tick > 0) ratio = MAX_UINT256 / ratio;
  // Q128.128 → Q128.96, rounding up (the contract's `ratio % (1 << 32) == 0 ? 0 : 1`).
  return (ratio >> 32n) + ((ratio & MASK32) === 0n ? 0n : 1n);
}

const MSB_SHIFTS: readonly bigint[] = [128n, 64n, 32n, 16n, 8n, 4n, 2n, 1n];
const LOG_SQRT10001 = 255738958999603826347141n;
const TICK_LOW_OFFSET = 3402992956809132418596140100660247210n;
const TICK_HI_OFFSET = 291339464771989622907027621153398088495n;

/**
 * `TickMath.getTickAtSqrtRatio`: the greatest tick whose sqrt ratio is ≤ `sqrtPriceX96`. Reverts
 * with `R` outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO). Ported step for step (msb, 14 squarings of
 * the log2 approximation, then the tickLow/tickHi check) so edge prices resolve as on chain.
 */
export function getTickAtSqrtRatio(sqrtPriceX96: bigint): number {
  if (!(sqrtPriceX96 >= MIN_SQRT_RATIO && sqrtPriceX96 < MAX_SQRT_RATIO)) {
    throw new V3MathError('R', 'TickMath.getTickAtSqrtRatio');
  }
  const ratio = sqrtPriceX96 << 32n;
  // The assembly's binary search for the most significant bit; ratio < 2^192 so it is < 192.
  let r = ratio;
  let msb = 0n;
  for (const shift of MSB_SHIFTS) {
    if (r >= 1n << shift) {
      msb |= shift;
      r >>= shift;
    }
  }
  r = msb >= 128n ? ratio >> (msb - 127n) : ratio << (127n - msb);
  let log2 = (msb - 128n) << 64n;
  // Low 64 bits of log2 are zero, so OR-ing in the fraction bits is the same on negative bigints.
  for (let bit = 63n; bit >= 50n; bit--) {
    r = (r * r) >> 127n;
    const f = r >> 128n;
    log2 |= f << bit;
    r >>= f;
  }
  const logSqrt10001 = log2 * LOG_SQRT10001;
  // Arithmetic shifts: bigint >> floors like the EVM's sar on int256.
  const tickLow = Number((logSqrt10001 - TICK_LOW_OFFSET) >> 128n);
  const tickHi = Number((logSqrt10001 + TICK_HI_OFFSET) >> 128n);
  if (tickLow === tickHi) return tickLow;
  return getSqrtRatioAtTick(tickHi) <= sqrtPriceX96 ? tickHi : tickLow;
}
