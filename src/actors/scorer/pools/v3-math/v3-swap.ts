import { V3MathError } from './errors.js';
import { mulDiv } from './full-math.js';
import { toInt256 } from './sqrt-price-math.js';
import { type SwapStep, computeSwapStep, newSwapStep } from './swap-math.js';
import { MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK, getSqrtRatioAtTick, getTickAtSqrtRatio } from './tick-math.js';

/** One initialized tick: its index (a multiple of tickSpacing) and the liquidity added when it is crossed left to right. */
export interface V3Tick {
  readonly tick: number;
  readonly liquidityNet: bigint;
}

/**
 * The part of a V3 pool a swap reads. `ticks` must hold every initialized tick (liquidityGross > 0,
 * even when liquidityNet is 0) sorted ascending: the contract stops a step at each initialized tick
 * and at each 256-tick bitmap word edge, and every step rounds, so a missing tick changes the wei.
 */
export interface V3PoolState {
  readonly sqrtPriceX96: bigint;
  readonly tick: number;
  readonly liquidity: bigint;
  /** Fee in hundredths of a bip (3000 = 0.3%). */
  readonly fee: number;
  readonly tickSpacing: number;
  readonly ticks: readonly V3Tick[];
}

/** What `swap` returns: pool deltas (positive = paid into the pool) and the pool's state after. */
export interface V3SwapResult {
  amount0: bigint;
  amount1: bigint;
  sqrtPriceX96: bigint;
  tick: number;
  liquidity: bigint;
  /** Growth of feeGrowthGlobal{0|1}X128 (input token) with no protocol fee, as the pool would add it. */
  feeGrowthGlobalX128Delta: bigint;
  /** Initialized ticks crossed. */
  ticksCrossed: number;
  /** computeSwapStep calls, as the contract's loop makes them. */
  steps: number;
}

const Q128 = 1n << 128n;
// Scratch for the swap loop: swaps run synchronously on one thread, so one of each suffices.
const STEP: SwapStep = newSwapStep();
const NEXT_TICK = new Int32Array(1);
const MAX_UINT128 = Q128 - 1n;
const INT256_MAX = (1n << 255n) - 1n;
const INT256_MIN = -(1n << 255n);

/** `LiquidityMath.addDelta`: reverts `LS` on underflow and `LA` on overflow of uint128. */
export function addDelta(x: bigint, y: bigint): bigint {
  if (y < 0n) {
    if (-y > x) throw new V3MathError('LS', 'LiquidityMath.addDelta');
    return x + y;
  }
  const z = x + y;
  if (z > MAX_UINT128) throw new V3MathError('LA', 'LiquidityMath.addDelta');
  return z;
}

// Index of the last tick with ticks[i].tick <= t, or -1.
function lastAtOrBelow(ticks: readonly V3Tick[], t: number): number {
  let lo = 0;
  let hi = ticks.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((ticks[mid] as V3Tick).tick <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * `TickBitmap.nextInitializedTickWithinOneWord` over a sorted tick array: the next initialized tick
 * at or left of `tick` (lte) or right of it, but no further than the edge of the 256-tick bitmap
 * word, which the contract returns (uninitialized) when the word holds none. Returns the array index
 * of the initialized tick found, or -1, and writes the tick to `nextOut[0]`.
 */
function nextInitializedTickWithinOneWord(ticks: readonly V3Tick[], tick: number, tickSpacing: number, lte: boolean, nextOut: Int32Array): number {
  // Round toward negative infinity, as the contract's `compressed--` does for negative ticks.
  const compressed = Math.floor(tick / tickSpacing);
  if (lte) {
    // bitPos = compressed mod 256 (uint8 of the two's complement), word starts bitPos below.
    const wordStart = compressed - (compressed & 255);
    const i = lastAtOrBelow(ticks, compressed * tickSpacing);
    if (i >= 0 && (ticks[i] as V3Tick).tick >= wordStart * tickSpacing) {
      nextOut[0] = (ticks[i] as V3Tick).tick;
      return i;
    }
    nextOut[0] = wordStart * tickSpacing;
    return -1;
  }
  const c = compressed + 1;
  const wordEnd = c + (255 - (c & 255));
  const i = lastAtOrBelow(ticks, c * tickSpacing - 1) + 1;
  if (i < ticks.length && (ticks[i] as V3Tick).tick <= wordEnd * tickSpacing) {
    nextOut[0] = (ticks[i] as V3Tick).tick;
    return i;
  }
  nextOut[0] = wordEnd * tickSpacing;
  return -1;
}

/** A fresh zeroed `V3SwapResult`, for callers that reuse one across swaps. */
export function newV3SwapResult(): V3SwapResult {
  return { amount0: 0n, amount1: 0n, sqrtPriceX96: 0n, tick: 0, liquidity: 0n, feeGrowthGlobalX128Delta: 0n, ticksCrossed: 0, steps: 0 };
}

/**
 * `UniswapV3Pool.swap` on a snapshot of pool state, to the wei: `amountSpecified` > 0 is exact
 * input, < 0 exact output; the loop steps tick by tick (and bitmap word by word) exactly as the
 * contract does. Reverts `AS` / `SPL` as the pool does, and wherever the math reverts. Does not
 * modify `state`; writes into `out` (a new object if omitted). Protocol fee is assumed off (it
 * only splits the fee; it never changes amounts or price).
 */
export function swap(state: V3PoolState, zeroForOne: boolean, amountSpecified: bigint, sqrtPriceLimitX96: bigint, out: V3SwapResult = newV3SwapResult()): V3SwapResult {
  if (amountSpecified === 0n) throw new V3MathError('AS', 'UniswapV3Pool.swap');
  const ok = zeroForOne
    ? sqrtPriceLimitX96 < state.sqrtPriceX96 && sqrtPriceLimitX96 > MIN_SQRT_RATIO
    : sqrtPriceLimitX96 > state.sqrtPriceX96 && sqrtPriceLimitX96 < MAX_SQRT_RATIO;
  if (!ok) throw new V3MathError('SPL', 'UniswapV3Pool.swap');

  const exactInput = amountSpecified > 0n;
  const { ticks, tickSpacing, fee } = state;
  let remaining = amountSpecified;
  let calculated = 0n;
  let sqrtPriceX96 = state.sqrtPriceX96;
  let tick = state.tick;
  let liquidity = state.liquidity;
  let feeGrowth = 0n;
  let crossed = 0;
  let steps = 0;
  const step = STEP;
  const next = NEXT_TICK;

  while (remaining !== 0n && sqrtPriceX96 !== sqrtPriceLimitX96) {
    const sqrtPriceStartX96 = sqrtPriceX96;
    const index = nextInitializedTickWithinOneWord(ticks, tick, tickSpacing, zeroForOne, next);
    // The bitmap knows nothing of the tick bounds; clamp as the contract does.
    let tickNext = next[0] as number;
    if (tickNext < MIN_TICK) tickNext = MIN_TICK;
    else if (tickNext > MAX_TICK) tickNext = MAX_TICK;
    const sqrtPriceNextX96 = getSqrtRatioAtTick(tickNext);
    const target = (zeroForOne ? sqrtPriceNextX96 < sqrtPriceLimitX96 : sqrtPriceNextX96 > sqrtPriceLimitX96) ? sqrtPriceLimitX96 : sqrtPriceNextX96;
    computeSwapStep(sqrtPriceX96, target, liquidity, remaining, fee, step);
    steps++;
    sqrtPriceX96 = step.sqrtRatioNextX96;

    if (exactInput) {
      remaining -= toInt256(step.amountIn + step.feeAmount);
      calculated = signedSub(calculated, toInt256(step.amountOut));
    } else {
      remaining += toInt256(step.amountOut);
      calculated = signedAdd(calculated, toInt256(step.amountIn + step.feeAmount));
    }
    // Fee growth wraps mod 2^256 on chain; a delta from 0 over one swap never gets near that.
    if (liquidity > 0n) feeGrowth += mulDiv(step.feeAmount, Q128, liquidity);

    if (sqrtPriceX96 === sqrtPriceNextX96) {
      if (index >= 0) {
        const net = (ticks[index] as V3Tick).liquidityNet;
        // Moving left, liquidityNet applies with the opposite sign.
        liquidity = addDelta(liquidity, zeroForOne ? -net : net);
        crossed++;
      }
      tick = zeroForOne ? tickNext - 1 : tickNext;
    } else if (sqrtPriceX96 !== sqrtPriceStartX96) {
      // Recompute unless we sit on a lower tick boundary we already transitioned and did not move.
      tick = getTickAtSqrtRatio(sqrtPriceX96);
    }
  }

  const specifiedUsed = amountSpecified - remaining;
  if (zeroForOne === exactInput) {
    out.amount0 = specifiedUsed;
    out.amount1 = calculated;
  } else {
    out.amount0 = calculated;
    out.amount1 = specifiedUsed;
  }
  out.sqrtPriceX96 = sqrtPriceX96;
  out.tick = tick;
  out.liquidity = liquidity;
  out.feeGrowthGlobalX128Delta = feeGrowth;
  out.ticksCrossed = crossed;
  out.steps = steps;
  return out;
}

// LowGasSafeMath signed add/sub: revert when the int256 result overflows.
function signedAdd(x: bigint, y: bigint): bigint {
  const z = x + y;
  if (z > INT256_MAX || z < INT256_MIN) throw new V3MathError('INT_OVERFLOW', 'LowGasSafeMath.add');
  return z;
}
function signedSub(x: bigint, y: bigint): bigint {
  const z = x - y;
  if (z > INT256_MAX || z < INT256_MIN) throw new V3MathError('INT_OVERFLOW', 'LowGasSafeMath.sub');
  return z;
}

/** A single-pool quote: what goes in, what comes out, and where the price ends. */
export interface V3Quote {
  amountIn: bigint;
  amountOut: bigint;
  sqrtPriceX96After: bigint;
  tickAfter: number;
  ticksCrossed: number;
}

function defaultLimit(zeroForOne: boolean): bigint {
  return zeroForOne ? MIN_SQRT_RATIO + 1n : MAX_SQRT_RATIO - 1n;
}

function toQuote(r: V3SwapResult, zeroForOne: boolean): V3Quote {
  return {
    amountIn: zeroForOne ? r.amount0 : r.amount1,
    amountOut: zeroForOne ? -r.amount1 : -r.amount0,
    sqrtPriceX96After: r.sqrtPriceX96,
    tickAfter: r.tick,
    ticksCrossed: r.ticksCrossed,
  };
}

/**
 * Quoter-style exact-input quote on one pool. With no limit the price may run to the bound, as the
 * Quoter's 0 limit does; when liquidity runs out first, `amountIn` is less than asked: check it.
 * @remarks Allocates the returned quote.
 */
export function quoteExactInput(state: V3PoolState, zeroForOne: boolean, amountIn: bigint, sqrtPriceLimitX96: bigint = defaultLimit(zeroForOne)): V3Quote {
  if (amountIn <= 0n) throw new V3MathError('AS', 'quoteExactInput');
  return toQuote(swap(state, zeroForOne, amountIn, sqrtPriceLimitX96), zeroForOne);
}

/**
 * Quoter-style exact-output quote on one pool. When liquidity or the limit stops the swap first,
 * `amountOut` is less than asked (QuoterV1 would revert there with no limit): check it.
 * @remarks Allocates the returned quote.
 */
export function quoteExactOutput(state: V3PoolState, zeroForOne: boolean, amountOut: bigint, sqrtPriceLimitX96: bigint = defaultLimit(zeroForOne)): V3Quote {
  if (amountOut <= 0n) throw new V3MathError('AS', 'quoteExactOutput');
  return toQuote(swap(state, zeroForOne, -amountOut, sqrtPriceLimitX96), zeroForOne);
}
