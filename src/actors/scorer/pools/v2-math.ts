/**
 * Uniswap V2 constant-product math in bigint, exact to the wei: `UniswapV2Library.getAmountOut` /
 * `getAmountIn` and the pair's own `swap` checks (including the K invariant), generalised from the
 * hard-coded 997/1000 to a fee in basis points so forks with other fees use the same code.
 *
 * Conditions under which the contracts revert are expected on the hot path (empty pools, dust), so
 * they come back as `null` or as a {@link V2Revert} reason, never as a thrown error.
 */

/** Uniswap V2's fee: 30 bps, i.e. the 997/1000 of `UniswapV2Library`. */
export const V2_FEE_BPS = 30n;

/** Basis-point denominator; `x * (10000 - 30) / 10000` equals `x * 997 / 1000` exactly after flooring. */
export const BPS = 10_000n;

/** The revert strings of the library and the pair, without their `UniswapV2:`/`UniswapV2Library:` prefix. */
export type V2Revert = 'INSUFFICIENT_INPUT_AMOUNT' | 'INSUFFICIENT_OUTPUT_AMOUNT' | 'INSUFFICIENT_LIQUIDITY' | 'K';

/**
 * `UniswapV2Library.getAmountOut`: output for an exact input. Null where the library reverts
 * (zero input: INSUFFICIENT_INPUT_AMOUNT; an empty reserve: INSUFFICIENT_LIQUIDITY).
 */
export function getAmountOut(amountIn: bigint, reserveIn: bigint, reserveOut: bigint, feeBps: bigint = V2_FEE_BPS): bigint | null {
  if (amountIn <= 0n || reserveIn <= 0n || reserveOut <= 0n) return null;
  const amountInWithFee = amountIn * (BPS - feeBps);
  return (amountInWithFee * reserveOut) / (reserveIn * BPS + amountInWithFee);
}

/**
 * `UniswapV2Library.getAmountIn`: input the router charges for an exact output (`floor + 1`, so
 * it can exceed the minimal input by one wei, as on chain). Null where the library reverts (zero
 * output, an empty reserve, or an output that drains the pool: a SafeMath underflow on chain).
 */
export function getAmountIn(amountOut: bigint, reserveIn: bigint, reserveOut: bigint, feeBps: bigint = V2_FEE_BPS): bigint | null {
  if (amountOut <= 0n || reserveIn <= 0n || reserveOut <= 0n || amountOut >= reserveOut) return null;
  return (reserveIn * amountOut * BPS) / ((reserveOut - amountOut) * (BPS - feeBps)) + 1n;
}

/**
 * The smallest input whose `getAmountOut` is at least `amountOut` (a ceiling, where the library's
 * `getAmountIn` adds one unconditionally). Strategies size trades with it so no wei is overpaid.
 */
export function minAmountIn(amountOut: bigint, reserveIn: bigint, reserveOut: bigint, feeBps: bigint = V2_FEE_BPS): bigint | null {
  if (amountOut <= 0n || reserveIn <= 0n || reserveOut <= 0n || amountOut >= reserveOut) return null;
  const num = reserveIn * amountOut * BPS;
  const den = (reserveOut - amountOut) * (BPS - feeBps);
  return (num + den - 1n) / den;
}

/** Why {@link getAmountOut} would revert, or null when it would not. */
export function amountOutRevert(amountIn: bigint, reserveIn: bigint, reserveOut: bigint): V2Revert | null {
  if (amountIn <= 0n) return 'INSUFFICIENT_INPUT_AMOUNT';
  if (reserveIn <= 0n || reserveOut <= 0n) return 'INSUFFICIENT_LIQUIDITY';
  return null;
}

/** Why {@link getAmountIn} would revert, or null when it would not. */
export function amountInRevert(amountOut: bigint, reserveIn: bigint, reserveOut: bigint): V2Revert | null {
  if (amountOut <= 0n) return 'INSUFFICIENT_OUTPUT_AMOUNT';
  if (reserveIn <= 0n || reserveOut <= 0n || amountOut >= reserveOut) return 'INSUFFICIENT_LIQUIDITY';
  return null;
}

/**
 * `UniswapV2Pair.swap` checks, in the pair's order, for tokens already transferred in
 * (`amount0In`, `amount1In`) and the outputs asked for. Returns the revert reason, or null when the
 * swap succeeds. The K check is the pair's
 * `balance0Adjusted * balance1Adjusted >= reserve0 * reserve1 * 1000^2`, scaled to bps.
 */
export function pairSwapRevert(
  reserve0: bigint,
  reserve1: bigint,
  amount0In: bigint,
  amount1In: bigint,
  amount0Out: bigint,
  amount1Out: bigint,
  feeBps: bigint = V2_FEE_BPS,
): V2Revert | null {
  if (amount0Out <= 0n && amount1Out <= 0n) return 'INSUFFICIENT_OUTPUT_AMOUNT';
  if (amount0Out >= reserve0 || amount1Out >= reserve1) return 'INSUFFICIENT_LIQUIDITY';
  const balance0 = reserve0 + amount0In - amount0Out;
  const balance1 = reserve1 + amount1In - amount1Out;
  // The pair derives amountIn from balances: what arrived beyond the reserve left after the output.
  const in0 = balance0 > reserve0 - amount0Out ? balance0 - (reserve0 - amount0Out) : 0n;
  const in1 = balance1 > reserve1 - amount1Out ? balance1 - (reserve1 - amount1Out) : 0n;
  if (in0 <= 0n && in1 <= 0n) return 'INSUFFICIENT_INPUT_AMOUNT';
  const adjusted0 = balance0 * BPS - in0 * feeBps;
  const adjusted1 = balance1 * BPS - in1 * feeBps;
  return adjusted0 * adjusted1 >= reserve0 * reserve1 * BPS * BPS ? null : 'K';
}

/** One V2 pair's state as the strategies read it: reserves in token0/token1 order and the fee. */
export interface V2PairState {
  /** Pair address, lowercase 0x-hex. */
  address: string;
  token0: string;
  token1: string;
  reserve0: bigint;
  reserve1: bigint;
  /** Swap fee in bps (30 for Uniswap V2). */
  feeBps: bigint;
}

/**
 * Exact-input swap on `pair`, `zeroForOne` selling token0: returns the output and, as on chain,
 * moves the reserves (`reserveIn += amountIn`, `reserveOut -= amountOut`). Null (and no change)
 * where the router or pair would revert.
 */
export function swapExactIn(pair: V2PairState, zeroForOne: boolean, amountIn: bigint): bigint | null {
  const rIn = zeroForOne ? pair.reserve0 : pair.reserve1;
  const rOut = zeroForOne ? pair.reserve1 : pair.reserve0;
  const out = getAmountOut(amountIn, rIn, rOut, pair.feeBps);
  if (out === null || out <= 0n) return null;
  if (zeroForOne) {
    pair.reserve0 = rIn + amountIn;
    pair.reserve1 = rOut - out;
  } else {
    pair.reserve1 = rIn + amountIn;
    pair.reserve0 = rOut - out;
  }
  return out;
}
