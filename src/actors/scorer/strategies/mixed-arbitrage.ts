import { makeProfit, opportunityId, type Opportunity, type TxSpec } from '../opportunity.js';
import { BPS, getAmountOut, type V2PairState } from '../pools/v2-math.js';
import type { V2PoolRegistry } from '../pools/v2-pool-registry.js';
import type { V3Pool, V3PoolRegistry } from '../pools/v3-pool-registry.js';
import { MAX_SQRT_RATIO, MIN_SQRT_RATIO } from '../pools/v3-math/tick-math.js';
import { newV3SwapResult, swap, type V3SwapResult } from '../pools/v3-math/v3-swap.js';
import type { ArbitrageContext, ArbitrageSize } from './v2-arbitrage.js';

/**
 * Cyclic arbitrage of 2 or 3 hops mixing Uniswap V2 pairs and V3 pools, exact to the wei.
 *
 * The cycle's output is concave in its input (each hop is: V2 a Möbius map, V3 piecewise Möbius
 * with a continuous marginal rate), so profit is unimodal and its optimum is where the product of
 * the hops' marginal rates falls to 1. The search runs on the exact integer math: each probe swaps
 * the input through `getAmountOut` and the v3 `swap` port, and reads the marginal rates (a float)
 * off the post-trade state; a safeguarded regula falsi (Illinois) on that product finds where it
 * is 1 to float precision in about ten probes, from a first guess given by the Möbius closed form
 * on V3 virtual reserves. The integer answer is then settled as planV2Arbitrage does: the least
 * input for the output found, and a climb over ±4-wei windows, so no input within ±4 wei pays more
 * and the realized profit is exactly the predicted one. Beyond the window, rounding can make some
 * input pay more by about one unit of an intermediate token per hop (a wei with 18 decimals; with a
 * 6-decimal token that unit is worth ~1e9 wei): the continuous profit is flat there over far more
 * inputs than any scan could visit.
 *
 * A V3 hop is trusted only while its price stays inside the tick range the registry's tick list
 * covers; a larger input counts as infeasible, so the optimum found is the best the known state
 * can price exactly.
 */

/** One hop of a mixed cycle: a V2 pair or a V3 pool and the direction it is crossed. */
export type MixedHop =
  | { readonly kind: 'v2'; readonly pool: V2PairState; readonly zeroForOne: boolean }
  | { readonly kind: 'v3'; readonly pool: V3Pool; readonly zeroForOne: boolean };

/** Per-call inputs of {@link planMixedArbitrage}: the V2 ones plus the V3 SwapRouter V3 hops go through. */
export type MixedArbitrageContext = ArbitrageContext & { v3Router: string };

/** Radius of the integer windows around the optimum. */
const SCAN = 4n;
/** Window-climb cap; the root is within a few units, so this only guards a bug. */
const CLIMB_MAX = 256;
/** Probe cap of the root search (bracketing plus regula falsi). */
const ROOT_MAX = 96;
/** |rate − 1| below which the float product cannot tell the root apart (a few ulps of 1). */
const ROOT_EPS = 1e-14;
const Q96F = 2 ** 96;
const ONE_MILLION = 1_000_000;
const MIN_LIMIT = MIN_SQRT_RATIO + 1n;
const MAX_LIMIT = MAX_SQRT_RATIO - 1n;
// Scratch: the scorer runs synchronously on one thread, so one of each suffices.
const SWAP_OUT = newV3SwapResult();
/** The product of the hops' marginal rates after the last {@link probe}. */
let pRate = 0;

/** The token a hop sells. */
export function hopTokenIn(h: MixedHop): string {
  return h.zeroForOne ? h.pool.token0 : h.pool.token1;
}

/** The token a hop buys. */
export function hopTokenOut(h: MixedHop): string {
  return h.zeroForOne ? h.pool.token1 : h.pool.token0;
}

/**
 * Exact output of one hop for `amountIn`, or null where the chain would revert or the math cannot
 * be trusted: zero output, a V3 swap that stops short of the input (the router's default price
 * limit), that ends outside the pool's known tick range, or whose math reverts.
 */
export function hopOut(h: MixedHop, amountIn: bigint): bigint | null {
  if (amountIn <= 0n) return null;
  if (h.kind === 'v2') {
    const p = h.pool;
    const o = h.zeroForOne ? getAmountOut(amountIn, p.reserve0, p.reserve1, p.feeBps) : getAmountOut(amountIn, p.reserve1, p.reserve0, p.feeBps);
    return o === null || o <= 0n ? null : o;
  }
  const p = h.pool;
  let r: V3SwapResult;
  try {
    r = swap(p, h.zeroForOne, amountIn, h.zeroForOne ? MIN_LIMIT : MAX_LIMIT, SWAP_OUT);
  } catch {
    return null;
  }
  const used = h.zeroForOne ? r.amount0 : r.amount1;
  const o = h.zeroForOne ? -r.amount1 : -r.amount0;
  if (used !== amountIn || o <= 0n || r.tick < p.tickLo || r.tick > p.tickHi) return null;
  return o;
}

/** Exact output of the whole cycle for input `x`, or null when a hop would revert or leave its known range. */
export function mixedCycleOut(hops: readonly MixedHop[], x: bigint): bigint | null {
  let amt: bigint | null = x;
  for (let i = 0; i < hops.length && amt !== null; i++) amt = hopOut(hops[i]!, amt);
  return amt;
}

/**
 * Runs the cycle on `x` and leaves in `pRate` the product of the hops'
 * marginal rates (output per input at the margin) at the post-trade states. False when infeasible.
 */
function probe(hops: readonly MixedHop[], x: bigint): boolean {
  let amt = x;
  let rate = 1;
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i]!;
    const o = hopOut(h, amt);
    if (o === null) return false;
    if (h.kind === 'v2') {
      // d/dx of f·x·rOut / (rIn·BPS + f·x) = f·rOut·rIn·BPS / (rIn·BPS + f·x)².
      const p = h.pool;
      const f = Number(BPS - p.feeBps);
      const rIn = Number(h.zeroForOne ? p.reserve0 : p.reserve1);
      const rOut = Number(h.zeroForOne ? p.reserve1 : p.reserve0);
      const d = rIn * 10_000 + f * Number(amt);
      rate *= (f * rOut * rIn * 10_000) / (d * d);
    } else {
      // Within a tick range dy/dx = (1 − fee) · P at the price reached, in either direction.
      const s = Number(SWAP_OUT.sqrtPriceX96) / Q96F;
      const g = (ONE_MILLION - h.pool.fee) / ONE_MILLION;
      rate *= h.zeroForOne ? g * s * s : g / (s * s);
    }
    amt = o;
  }
  pRate = rate;
  return true;
}

/**
 * Marginal rate of the whole cycle at zero input (spot prices and fees) and the first guess of the
 * optimal input from the Möbius closed form: each hop as `r·x / (1 + k·x)` (a V3 pool on its
 * virtual reserves at the current tick), composed, optimum `(√r − 1) / k`. Writes `[r, guess]`.
 */
function spot(hops: readonly MixedHop[], out: Float64Array): void {
  let r = 1;
  let k = 0;
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i]!;
    let ri: number;
    let ki: number;
    if (h.kind === 'v2') {
      const p = h.pool;
      const f = Number(BPS - p.feeBps) / 10_000;
      const rIn = Number(h.zeroForOne ? p.reserve0 : p.reserve1);
      const rOut = Number(h.zeroForOne ? p.reserve1 : p.reserve0);
      ri = (f * rOut) / rIn;
      ki = f / rIn;
    } else {
      const p = h.pool;
      const s = Number(p.sqrtPriceX96) / Q96F;
      const g = (ONE_MILLION - p.fee) / ONE_MILLION;
      const L = Number(p.liquidity);
      // Virtual reserves: token0 L/√P, token1 L·√P.
      const vIn = h.zeroForOne ? L / s : L * s;
      ri = h.zeroForOne ? g * s * s : g / (s * s);
      ki = g / vIn;
    }
    k += ki * r;
    r *= ri;
  }
  out[0] = r;
  out[1] = r > 1 && k > 0 && Number.isFinite(k) ? (Math.sqrt(r) - 1) / k : 0;
}
const SPOT = new Float64Array(2);

/**
 * Gross profit (start-token units, a double) of `hops` at the continuous optimum of the Möbius
 * model of {@link spot} (V3 pools on their virtual reserves at the current price, so tick crossings
 * are ignored), or 0 when the cycle does not pay at the margin. Only ranks and prunes candidates
 * before exact sizing (≈10 µs per V3 swap); amounts come from {@link sizeMixedCycle}.
 */
export function estimateMixedGross(hops: readonly MixedHop[]): number {
  spot(hops, SPOT);
  const r = SPOT[0]!;
  const x = SPOT[1]!;
  if (!(r > 1) || !(x > 0) || !Number.isFinite(x)) return 0;
  // r·x/(1 + k·x) − x at x = (√r − 1)/k is (√r − 1)²/k = x·(√r − 1).
  return x * (Math.sqrt(r) - 1);
}

/** Least input `<= x` whose cycle output is at least `z` (outputs do not fall as inputs grow). */
function leastInputFor(hops: readonly MixedHop[], z: bigint, x: bigint): bigint {
  let good = x;
  let bad = 0n;
  // Gallop down, then bisect: with 18-decimal tokens the first probe below already falls short.
  for (let step = 1n; ; step *= 2n) {
    const c = good - step;
    if (c < 1n) break;
    const o = mixedCycleOut(hops, c);
    if (o === null || o < z) {
      bad = c;
      break;
    }
    good = c;
  }
  while (good - bad > 1n) {
    const mid = (good + bad) >> 1n;
    const o = mid < 1n ? null : mixedCycleOut(hops, mid);
    if (o !== null && o >= z) good = mid;
    else bad = mid;
  }
  return good;
}

// Best of the integer search, module scratch so the search allocates no closures or objects.
let cBest = 0n;
let cBestP: bigint | null = null;

/**
 * Makes `x` (or, when `least`, the least input giving the same output, which pays more when it
 * differs) the best when it pays strictly more: moving only on strict gains keeps the climb off
 * the plateaus where profit is flat.
 */
function consider(hops: readonly MixedHop[], x: bigint, least: boolean): void {
  if (x < 1n) return;
  const out = mixedCycleOut(hops, x);
  if (out === null) return;
  const xi = least ? leastInputFor(hops, out, x) : x;
  const p = out - xi;
  if (cBestP === null || p > cBestP) {
    cBestP = p;
    cBest = xi;
  }
}

/**
 * Continuous optimum of the cycle to a relative 1e-9, found on the exact math (see the module
 * comment); 0n when the cycle cannot pay at the margin or nothing feasible is found.
 */
export function mixedOptimumEstimate(hops: readonly MixedHop[]): bigint {
  spot(hops, SPOT);
  const r0 = SPOT[0]!;
  if (!(r0 > 1)) return 0n;
  // Bracket: g(x) = rate(x) − 1 is positive at lo and not at hi (an infeasible hi counts as not).
  let lo = 0n;
  let gLo = r0 - 1;
  const guess = SPOT[1]!;
  let hi = guess >= 1 && Number.isFinite(guess) ? BigInt(Math.ceil(guess * 2)) : 1n;
  let gHi = 0;
  let hiOk = false;
  let n = 0;
  for (; n < ROOT_MAX; n++) {
    if (probe(hops, hi)) {
      const g = pRate - 1;
      if (g <= 0) {
        gHi = g;
        hiOk = true;
        break;
      }
      lo = hi;
      gLo = g;
      hi *= 4n;
    } else {
      gHi = -1;
      break;
    }
  }
  if (n === ROOT_MAX) return lo;
  // Illinois regula falsi; bisection while hi is infeasible (its g is only a sign, not a value).
  // The answer is the feasible probe nearest the root; g at float resolution is the root.
  let best = lo;
  let bestG = gLo;
  if (hiOk && -gHi < bestG) {
    best = hi;
    bestG = -gHi;
  }
  let side = 0;
  for (; n < ROOT_MAX && bestG > ROOT_EPS && hi - lo > 1n && (hi - lo) * 1_000_000_000_000n > hi; n++) {
    let x: bigint;
    if (hiOk) {
      const w = gLo / (gLo - gHi);
      x = lo + BigInt(Math.floor(Number(hi - lo) * w));
    } else x = (lo + hi) >> 1n;
    if (x <= lo) x = lo + 1n;
    else if (x >= hi) x = hi - 1n;
    const ok = probe(hops, x);
    const g = ok ? pRate - 1 : -1;
    if (ok && Math.abs(g) < bestG) {
      best = x;
      bestG = Math.abs(g);
    }
    if (g > 0) {
      lo = x;
      gLo = g;
      // Illinois: the end kept twice in a row has its g halved, so the secant stops creeping.
      if (side === -1) gHi /= 2;
      side = -1;
    } else {
      hi = x;
      hiOk = ok;
      gHi = g;
      if (side === 1) gLo /= 2;
      side = 1;
    }
  }
  return best;
}

/**
 * Sizes a mixed cycle exactly: the input maximizing `mixedCycleOut(x) − x`, with no input within
 * ±4 of it paying more, or null when no input makes a positive gross profit.
 */
export function sizeMixedCycle(hops: readonly MixedHop[]): ArbitrageSize | null {
  if (hops.length < 2) return null;
  const xc = mixedOptimumEstimate(hops);
  if (xc < 1n) return null;
  cBest = 0n;
  cBestP = null;
  consider(hops, xc, false);
  if (cBestP === null) consider(hops, 1n, false);
  if (cBestP === null) return null;
  // Climb while a window, or the least input for the best output, pays strictly more. Near the
  // optimum the output moves one for one with the input, so profit is flat over thousands of wei
  // and only a strict gain is worth a move. On exit no input within ±SCAN pays more.
  for (let i = 0; i < CLIMB_MAX; i++) {
    const fromP: bigint = cBestP;
    const from = cBest;
    for (let x = from - SCAN; x <= from + SCAN; x++) if (x !== from) consider(hops, x, false);
    consider(hops, cBest, true);
    if (cBestP === fromP) break;
  }
  const best = cBest;
  const bestP: bigint = cBestP;
  if (bestP <= 0n) return null;
  const hopOutputs: bigint[] = [];
  let amt = best;
  for (const h of hops) {
    amt = hopOut(h, amt)!;
    hopOutputs.push(amt);
  }
  return { amountIn: best, amountOut: amt, gross: amt - best, hopOutputs };
}

/** True when `hops` walk from `startToken` back to it, each selling what the previous one bought. */
export function isCycle(hops: readonly MixedHop[], startToken: string): boolean {
  let token = startToken.toLowerCase();
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i]!;
    if (hopTokenIn(h) !== token) return false;
    token = hopTokenOut(h);
  }
  return hops.length > 0 && token === startToken.toLowerCase();
}

/**
 * Backrun/arbitrage opportunity over a mixed cycle (its post-victim state) starting in
 * `startToken`. The plan: the victims, then per hop either a transfer into a V2 pair (when the
 * searcher holds the input: first hop, or after a V3 hop) and the pair's `swap` with the exact
 * predicted outputs, paying the next pair directly when the next hop is V2; or a SwapRouter
 * `exactInputSingle` from the searcher's balance with `amountOutMinimum` the exact prediction. Any
 * state drift makes a call revert rather than lose money. Null when `cycle` is not a cycle through
 * `startToken`, a V3 pool must be re-read first, or the net profit after gas is not positive.
 * @remarks Allocates; runs once per candidate cycle.
 */
export function planMixedArbitrage(cycle: readonly MixedHop[], startToken: string, ctx: MixedArbitrageContext): Opportunity | null {
  if (!isCycle(cycle, startToken)) return null;
  for (const h of cycle) if (h.kind === 'v3' && (h.pool.tick < h.pool.tickLo || h.pool.tick > h.pool.tickHi)) return null;
  const size = sizeMixedCycle(cycle);
  if (size === null) return null;
  const start = startToken.toLowerCase();
  const profit = makeProfit(start, size.gross, ctx.gasUnits * ctx.gasPrice, ctx.price);
  if (profit.net <= 0n) return null;
  const plan: TxSpec[] = ctx.victimHashes.map((hash): TxSpec => ({ kind: 'victim', hash }));
  const pools: string[] = [];
  const tokenPath = [start];
  let amountIn = size.amountIn;
  for (let i = 0; i < cycle.length; i++) {
    const h = cycle[i]!;
    const out = size.hopOutputs[i]!;
    const tokenIn = hopTokenIn(h);
    const tokenOut = hopTokenOut(h);
    pools.push(h.pool.address);
    tokenPath.push(tokenOut);
    if (h.kind === 'v2') {
      if (i === 0 || cycle[i - 1]!.kind === 'v3') plan.push({ kind: 'erc20-transfer', token: tokenIn, to: h.pool.address, amount: amountIn });
      const next = cycle[i + 1];
      plan.push({
        kind: 'v2-pair-swap',
        pair: h.pool.address,
        amount0Out: h.zeroForOne ? 0n : out,
        amount1Out: h.zeroForOne ? out : 0n,
        to: next !== undefined && next.kind === 'v2' ? next.pool.address : null,
      });
    } else {
      plan.push({ kind: 'v3-router-exact-input-single', router: ctx.v3Router.toLowerCase(), tokenIn, tokenOut, fee: h.pool.fee, amountIn, amountOutMinimum: out, pool: h.pool.address });
    }
    amountIn = out;
  }
  const kind = ctx.victimHashes.length > 0 ? 'backrun-arbitrage' : 'mixed-arbitrage';
  return {
    id: opportunityId(kind, ctx.victimHashes, ctx.targetBlock, pools, tokenPath, [size.amountIn, size.amountOut]),
    kind,
    victimHashes: [...ctx.victimHashes],
    targetBlock: ctx.targetBlock,
    pools,
    tokenPath,
    amountIn: size.amountIn,
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

// ---------------------------------------------------------------------------------------------
// Candidate cycles.

type AnyPool = { kind: 'v2'; pool: V2PairState } | { kind: 'v3'; pool: V3Pool };

interface TokenGraph {
  v2Size: number;
  v3Size: number;
  /** token → neighbour tokens (sharing a V2 pair or a V3 pool), sorted. */
  adj: Map<string, string[]>;
}

const graphs = new WeakMap<V2PoolRegistry, WeakMap<V3PoolRegistry, TokenGraph>>();
const NO_TOKENS: readonly string[] = [];

/**
 * Token adjacency over both registries, rebuilt when either registry's size changes (a pool's
 * tokens never change, so a replaced pool leaves it valid). @remarks Allocates on a rebuild.
 */
function tokenGraph(v2: V2PoolRegistry, v3: V3PoolRegistry): TokenGraph {
  let byV3 = graphs.get(v2);
  if (!byV3) graphs.set(v2, (byV3 = new WeakMap()));
  const g = byV3.get(v3);
  if (g && g.v2Size === v2.size && g.v3Size === v3.size) return g;
  const sets = new Map<string, Set<string>>();
  const link = (a: string, b: string) => {
    let s = sets.get(a);
    if (!s) sets.set(a, (s = new Set()));
    s.add(b);
  };
  for (const p of [...v2.all(), ...v3.all()]) {
    link(p.token0, p.token1);
    link(p.token1, p.token0);
  }
  const adj = new Map<string, string[]>();
  for (const [t, s] of sets) adj.set(t, [...s].sort());
  const built = { v2Size: v2.size, v3Size: v3.size, adj };
  byV3.set(v3, built);
  return built;
}

function poolsOf(v2: V2PoolRegistry, v3: V3PoolRegistry, a: string, b: string, out: AnyPool[]): AnyPool[] {
  out.length = 0;
  for (const pool of v2.pools(a, b)) if (pool.reserve0 > 0n && pool.reserve1 > 0n) out.push({ kind: 'v2', pool });
  for (const pool of v3.pools(a, b)) if (!v3.needsRefresh(pool.address)) out.push({ kind: 'v3', pool });
  return out;
}

function hop(p: AnyPool, tokenIn: string): MixedHop {
  const zeroForOne = p.pool.token0 === tokenIn;
  return p.kind === 'v2' ? { kind: 'v2', pool: p.pool, zeroForOne } : { kind: 'v3', pool: p.pool, zeroForOne };
}

/**
 * Candidate cycles of 2 to `maxHops` (at most 3) hops starting and ending in `startToken` that go
 * through at least one `touched` pool (those the victim moved) and at least one V3 pool (all-V2
 * cycles are planV2Arbitrage's), both directions of each. V3 pools that need a re-read and empty
 * V2 pairs are left out. Sorted by their pool addresses, so the same registries and touched set
 * give the same list in any order of `touched`.
 * @remarks Allocates the cycles; the token adjacency is cached per registry pair.
 */
export function findMixedCycles(v2: V2PoolRegistry, v3: V3PoolRegistry, startToken: string, touched: readonly string[], maxHops = 3): MixedHop[][] {
  const start = startToken.toLowerCase();
  const found = new Map<string, MixedHop[]>();
  const add = (cycle: MixedHop[]) => {
    if (!cycle.some((h) => h.kind === 'v3')) return;
    const addresses = new Set(cycle.map((h) => h.pool.address));
    if (addresses.size !== cycle.length) return;
    found.set(cycle.map((h) => h.pool.address).join('>'), cycle);
  };
  const q: AnyPool[] = [];
  const r: AnyPool[] = [];
  const graph = maxHops >= 3 ? tokenGraph(v2, v3) : null;
  for (const address of touched) {
    const v2p = v2.get(address);
    const v3p = v2p ? undefined : v3.get(address);
    const p: AnyPool | null = v2p ? { kind: 'v2', pool: v2p } : v3p && !v3.needsRefresh(v3p.address) ? { kind: 'v3', pool: v3p } : null;
    if (p === null) continue;
    const { token0: a, token1: b } = p.pool;
    if (a === start || b === start) {
      const x = a === start ? b : a;
      if (maxHops >= 2) {
        for (const other of poolsOf(v2, v3, start, x, q)) {
          add([hop(p, start), hop(other, x)]);
          add([hop(other, start), hop(p, x)]);
        }
      }
      if (graph) {
        for (const y of graph.adj.get(x) ?? NO_TOKENS) {
          if (y === start) continue;
          poolsOf(v2, v3, y, start, r);
          if (r.length === 0) continue;
          for (const mid of poolsOf(v2, v3, x, y, q)) {
            for (const last of r) {
              add([hop(p, start), hop(mid, x), hop(last, y)]);
              add([hop(last, start), hop(mid, y), hop(p, x)]);
            }
          }
        }
      }
    } else if (graph) {
      const firsts = poolsOf(v2, v3, start, a, q);
      const lasts = poolsOf(v2, v3, b, start, r);
      for (const first of firsts) {
        for (const last of lasts) {
          add([hop(first, start), hop(p, a), hop(last, b)]);
          add([hop(last, start), hop(p, b), hop(first, a)]);
        }
      }
    }
  }
  return [...found.keys()].sort().map((k) => found.get(k)!);
}
