import { makeProfit, opportunityId, type Opportunity, type TokenPrice, type TxSpec } from '../opportunity.js';
import { BPS, getAmountOut, minAmountIn, type V2PairState } from '../pools/v2-math.js';

/**
 * Cyclic arbitrage over Uniswap V2 pairs (2 or 3 hops), exact to the wei. A V2 swap is a Möbius map
 * `out = A·x / (B + C·x)`, and so is any chain of them, so the continuous optimum of a whole cycle
 * is closed form: `x* = (√(A·B) − B) / C`, profitable only when `A > B`. The integer answer is then
 * settled on the exact `getAmountOut` chain: candidates around x* (each replaced by the least input
 * giving the same final output, since a floor in a coarse intermediate token makes many inputs
 * equivalent) and a climb over ±4-wei windows, so the realized profit is exactly the predicted one.
 */

/** One hop of a cycle: a pair and the direction it is crossed. */
export interface V2Hop {
  pair: V2PairState;
  /** True when the hop sells token0 for token1. */
  zeroForOne: boolean;
}

/** A sized cycle. `hopOutputs[i]` is the output of hop i; the last one is the cycle's output. */
export interface ArbitrageSize {
  amountIn: bigint;
  amountOut: bigint;
  /** `amountOut - amountIn`, in the start token, before gas. */
  gross: bigint;
  hopOutputs: bigint[];
}

/** A profitable cycle found by {@link bestCycle}. */
export interface ArbitrageResult extends ArbitrageSize {
  /** Tokens along the cycle, starting and ending in the start token. */
  tokenPath: string[];
  /** Pair addresses in hop order. */
  pools: string[];
  hops: V2Hop[];
}

/** Radius of the integer scans around the continuous optimum. */
const SCAN = 4n;
/** Window-climb cap; the closed form is within a few units, so this only guards a bug. */
const CLIMB_MAX = 256;

/** Floor square root of a non-negative bigint: a float guess, then Newton steps. */
export function bigintSqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('bigintSqrt: negative input');
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Newton from the float guess converges in a couple of steps; the loops pin the exact floor.
  for (let i = 0; i < 8; i++) {
    if (x === 0n) x = 1n;
    const y = (x + n / x) >> 1n;
    if (y === x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

function reservesOf(h: V2Hop): [bigint, bigint] {
  return h.zeroForOne ? [h.pair.reserve0, h.pair.reserve1] : [h.pair.reserve1, h.pair.reserve0];
}

/** Output of the whole cycle for input `x`, or null when a hop would revert (zero output included). */
export function cycleOut(hops: readonly V2Hop[], x: bigint): bigint | null {
  let amt = x;
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i]!;
    const [rIn, rOut] = reservesOf(h);
    const o = getAmountOut(amt, rIn, rOut, h.pair.feeBps);
    if (o === null || o <= 0n) return null;
    amt = o;
  }
  return amt;
}

/** Least input whose cycle output is at least `z` (walks the hops backwards with exact ceilings). */
function leastInputFor(hops: readonly V2Hop[], z: bigint): bigint | null {
  let need = z;
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!;
    const [rIn, rOut] = reservesOf(h);
    const m = minAmountIn(need, rIn, rOut, h.pair.feeBps);
    if (m === null) return null;
    need = m;
  }
  return need;
}

// Scan state, module scratch so the search allocates no closures or objects.
let cBest = 0n;
let cBestP: bigint | null = null;

/**
 * Keeps `x` (or, when `least`, the least input giving the same output, which is never worse) as
 * the best when it pays more (ties: smaller input).
 */
function consider(hops: readonly V2Hop[], x: bigint, least: boolean): void {
  if (x < 1n) return;
  const out = cycleOut(hops, x);
  if (out === null) return;
  const li = least ? leastInputFor(hops, out) : null;
  const xi = li !== null && li < x ? li : x;
  const p = out - xi;
  if (cBestP === null || p > cBestP || (p === cBestP && xi < cBest)) {
    cBestP = p;
    cBest = xi;
  }
}

/** Continuous optimum of the cycle from the composed Möbius map; 0n when the cycle cannot pay. */
export function closedFormInput(hops: readonly V2Hop[]): bigint {
  // Each hop: out = f·rOut·x / (rIn·BPS + f·x). Composition (A1,B1,C1)∘then(A2,B2,C2) =
  // (A1·A2, B1·B2, B2·C1 + C2·A1).
  let A = 1n;
  let B = 1n;
  let C = 0n;
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i]!;
    const [rIn, rOut] = reservesOf(h);
    const f = BPS - h.pair.feeBps;
    const a2 = f * rOut;
    const b2 = rIn * BPS;
    const nA = A * a2;
    const nC = b2 * C + f * A;
    B = B * b2;
    A = nA;
    C = nC;
  }
  if (A <= B || C === 0n) return 0n;
  return (bigintSqrt(A * B) - B) / C;
}

/**
 * Sizes a cycle exactly: the input maximizing `cycleOut(x) - x`, or null when no input makes a
 * positive gross profit. Works for any hop count; the scorer uses 2 and 3.
 */
export function sizeCycle(hops: readonly V2Hop[], climb = true): ArbitrageSize | null {
  if (hops.length < 2) return null;
  const xc = closedFormInput(hops);
  if (xc < 1n) return null;
  cBest = 0n;
  cBestP = null;
  if (!climb) return quickSize(hops, xc);
  for (let x = xc - SCAN; x <= xc + SCAN; x++) consider(hops, x, true);
  // Also scan in output space: when an intermediate token is coarse, the useful inputs are the
  // least ones for each output near the optimum, which an input-space window can straddle.
  const zc = cycleOut(hops, xc);
  if (zc !== null) {
    for (let z = zc - SCAN; z <= zc + SCAN; z++) {
      if (z < 1n) continue;
      const x = leastInputFor(hops, z);
      if (x !== null) consider(hops, x, true);
    }
  }
  if (cBestP === null) return null;
  // Window climb on raw inputs: move to any better input within ±SCAN until none is, so no near
  // neighbour pays more (floors make the exact profit jagged by a wei or two). Raw, not least
  // inputs: with a coarse intermediate token the least inputs of neighbouring outputs form a
  // plateau, flat to within a wei over many steps, and climbing it costs time and earns nothing.
  for (let i = 0; climb && i < CLIMB_MAX; i++) {
    const from = cBest;
    for (let x = from - SCAN; x <= from + SCAN; x++) consider(hops, x, false);
    if (cBest === from) break;
  }
  const best = cBest;
  const bestP: bigint = cBestP;
  if (bestP <= 0n) return null;
  const hopOutputs: bigint[] = [];
  let amt = best;
  for (const h of hops) {
    const [rIn, rOut] = reservesOf(h);
    amt = getAmountOut(amt, rIn, rOut, h.pair.feeBps)!;
    hopOutputs.push(amt);
  }
  return { amountIn: best, amountOut: amt, gross: amt - best, hopOutputs };
}

/**
 * The scorer's sizing: the output of the continuous optimum and the next one, each bought with
 * its least input (a coarse intermediate token makes many inputs equivalent), the better of the
 * two. Four exact passes over the hops instead of the windows' dozens.
 */
function quickSize(hops: readonly V2Hop[], xc: bigint): ArbitrageSize | null {
  const z0 = cycleOut(hops, xc);
  if (z0 === null) return null;
  const l0 = leastInputFor(hops, z0);
  let best = l0 !== null && l0 < xc ? l0 : xc;
  let out = z0;
  const x1 = leastInputFor(hops, z0 + 1n);
  if (x1 !== null) {
    const z1 = cycleOut(hops, x1);
    if (z1 !== null && z1 - x1 > out - best) {
      best = x1;
      out = z1;
    }
  }
  if (out - best <= 0n) return null;
  const hopOutputs: bigint[] = [];
  let amt = best;
  for (const h of hops) {
    const [rIn, rOut] = reservesOf(h);
    amt = getAmountOut(amt, rIn, rOut, h.pair.feeBps)!;
    hopOutputs.push(amt);
  }
  return { amountIn: best, amountOut: amt, gross: amt - best, hopOutputs };
}

/**
 * Best cycle that starts and ends in `startToken` through `pairs` in the given order (2 pairs
 * sharing both tokens, or 3 pairs forming a triangle), trying both directions. Null when the pairs
 * do not form a cycle through `startToken` or neither direction pays (prices agree within fees).
 * @remarks Allocates the hop list and the result.
 */
export function bestCycle(pairs: readonly V2PairState[], startToken: string, climb = true, oneWay = false): ArbitrageResult | null {
  let best: ArbitrageResult | null = null;
  for (const order of oneWay ? [pairs] : [pairs, [...pairs].reverse()]) {
    const hops: V2Hop[] = [];
    const tokenPath = [startToken];
    let token = startToken;
    for (const pair of order) {
      if (pair.token0 === token) {
        hops.push({ pair, zeroForOne: true });
        token = pair.token1;
      } else if (pair.token1 === token) {
        hops.push({ pair, zeroForOne: false });
        token = pair.token0;
      } else break;
      tokenPath.push(token);
    }
    if (hops.length !== order.length || token !== startToken) continue;
    const size = sizeCycle(hops, climb);
    if (size !== null && (best === null || size.gross > best.gross)) {
      best = { ...size, tokenPath, pools: hops.map((h) => h.pair.address), hops };
    }
  }
  return best;
}

/** Per-call inputs of {@link planV2Arbitrage} that do not come from the pools. */
export interface ArbitrageContext {
  /** Gas of the searcher's transactions (transfer and swaps), in units. */
  gasUnits: bigint;
  /** Effective gas price, in wei. */
  gasPrice: bigint;
  /** Price of the start token in token units per wei (`WETH_PRICE` for WETH). */
  price: Readonly<TokenPrice>;
  targetBlock: number;
  /** Transactions this backrun follows (empty for a plain arbitrage). */
  victimHashes: readonly string[];
  /** First-seen ns of the triggering transaction, and now, for the timings. */
  firstSeenNs: number;
  nowNs: number;
  /**
   * Climb to the exact optimum after the closed-form window (default true). Off, the input is the
   * best of the continuous optimum, its least input and the least inputs of its output and the
   * next one: a few units of the coarsest token at most, for the scorer's latency budget.
   */
  climb?: boolean;
  /** Size only the given order of the pairs, not its reverse too (the caller already knows which pays). */
  oneWay?: boolean;
}

/**
 * Backrun/arbitrage opportunity over `pairs` (their post-victim state) starting in `startToken`:
 * the victims, a transfer into the first pair, then one `swap` per pair with the exact predicted
 * outputs (any state drift makes a pair revert with K rather than lose money). Null when the net
 * profit after gas is not positive.
 * @remarks Allocates; runs once per candidate cycle.
 */
export function planV2Arbitrage(pairs: readonly V2PairState[], startToken: string, ctx: ArbitrageContext): Opportunity | null {
  const r = bestCycle(pairs, startToken, ctx.climb ?? true, ctx.oneWay ?? false);
  if (r === null) return null;
  const profit = makeProfit(startToken, r.gross, ctx.gasUnits * ctx.gasPrice, ctx.price);
  if (profit.net <= 0n) return null;
  const plan: TxSpec[] = ctx.victimHashes.map((hash): TxSpec => ({ kind: 'victim', hash }));
  // Pair calls, not a router: two pairs on one token pair live on different factories, which one
  // Router02 path cannot express. Each pair pays the next one directly.
  plan.push({ kind: 'erc20-transfer', token: startToken, to: r.pools[0]!, amount: r.amountIn });
  for (let i = 0; i < r.hops.length; i++) {
    const h = r.hops[i]!;
    const out = r.hopOutputs[i]!;
    plan.push({ kind: 'v2-pair-swap', pair: h.pair.address, amount0Out: h.zeroForOne ? 0n : out, amount1Out: h.zeroForOne ? out : 0n, to: r.pools[i + 1] ?? null });
  }
  const kind = ctx.victimHashes.length > 0 ? 'backrun-arbitrage' : 'v2-arbitrage';
  return {
    id: opportunityId(kind, ctx.victimHashes, ctx.targetBlock, r.pools, r.tokenPath, [r.amountIn, r.amountOut]),
    kind,
    victimHashes: [...ctx.victimHashes],
    targetBlock: ctx.targetBlock,
    pools: r.pools,
    tokenPath: r.tokenPath,
    amountIn: r.amountIn,
    profit,
    plan,
    timings: { firstSeenNs: ctx.firstSeenNs, scoredNs: ctx.nowNs, verifiedNs: 0 },
    verification: 'unverified',
    revision: 0,
    simulatedNet: null,
    rejectReason: null,
    baseFee: 0n,
    gas: [],
    searcher: null,
  };
}
