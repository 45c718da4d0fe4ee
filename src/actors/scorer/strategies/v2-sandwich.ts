import type { DecodedTx, SwapLeg } from '../../../messages/schema.js';
import { makeProfit, opportunityId, type Opportunity, type TokenPrice, type TxSpec } from '../opportunity.js';
import { BPS, getAmountIn, getAmountOut, minAmountIn, type V2PairState } from '../pools/v2-math.js';

/**
 * V2 sandwich sizing, exact to the wei: the front-run that maximises the searcher's profit while
 * the victim still gets its `amountOutMin` (exact-in) or pays at most its `amountInMax`
 * (exact-out). The search runs on the exact integer math of the router and pair, so simulating
 * front-run → victim → back-run with `getAmountOut` at each step gives exactly the predicted
 * profit. Sequence: a float closed form guesses the largest front-run the victim tolerates, a
 * gallop + bisection on the exact integer check pins it, a float golden-section search finds the
 * continuous profit optimum below it, and a small integer scan plus a climb over ±4-wei windows settles it.
 *
 * Multi-hop victims: only the first hop is sandwiched; later hops (distinct pairs, untouched by
 * the searcher) translate the victim's bound into a bound on the first hop's output.
 */

/** Outcome of one sized sandwich on a single pair, all amounts exact. */
export interface SandwichSize {
  /** Front-run input (tokenIn) and output (tokenOut). */
  frontIn: bigint;
  frontOut: bigint;
  /** Victim's first-hop input and output after the front-run. */
  victimIn: bigint;
  victimOut: bigint;
  /** Back-run sells all of `frontOut` for `backOut` tokenIn. */
  backIn: bigint;
  backOut: bigint;
  /** `backOut - frontIn`, in tokenIn, before gas. */
  gross: bigint;
}

/** Victim's first hop as the sizing sees it. */
export interface SandwichVictimHop {
  exact: 'in' | 'out';
  /** Exact-in: the input. Exact-out: ignored. */
  amountIn: bigint;
  /** Exact-in: least first-hop output the victim accepts (≥ 1). Exact-out: ignored. */
  amountOutMin: bigint;
  /** Exact-out: the first-hop output. Exact-in: ignored. */
  amountOut: bigint;
  /** Exact-out: most the victim pays. Exact-in: ignored. */
  amountInMax: bigint;
}

/** Integer scan radius around the continuous optimum, in the finer of the two tokens. */
const SCAN = 4n;
/** Window-climb cap: the continuous optimum is within a few units, so this only guards a bug. */
const CLIMB_MAX = 256;

// One evaluation's results, kept in module scratch so the search itself allocates no objects.
let sFrontOut = 0n;
let sVictimIn = 0n;
let sVictimOut = 0n;
let sBackOut = 0n;

/**
 * Runs front-run `x` → victim → back-run on (rIn, rOut) and returns the gross profit, or null when
 * any step reverts or the victim's bound fails. Results land in the module scratch.
 */
function evaluate(x: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): bigint | null {
  if (x <= 0n) return null;
  const a = getAmountOut(x, rIn, rOut, fee);
  if (a === null || a <= 0n) return null;
  const r1In = rIn + x;
  const r1Out = rOut - a;
  let vin: bigint;
  let vout: bigint;
  if (v.exact === 'in') {
    vin = v.amountIn;
    const o = getAmountOut(vin, r1In, r1Out, fee);
    if (o === null || o < v.amountOutMin || o <= 0n) return null;
    vout = o;
  } else {
    vout = v.amountOut;
    const i = getAmountIn(vout, r1In, r1Out, fee);
    if (i === null || i > v.amountInMax) return null;
    vin = i;
  }
  const b = getAmountOut(a, r1Out - vout, r1In + vin, fee);
  if (b === null || b <= 0n) return null;
  sFrontOut = a;
  sVictimIn = vin;
  sVictimOut = vout;
  sBackOut = b;
  return b - x;
}

/** True when the victim's bound still holds after a front-run of `x` (monotone: true, then false). */
function tolerated(x: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): boolean {
  const a = getAmountOut(x, rIn, rOut, fee);
  if (a === null || a <= 0n) return false;
  if (v.exact === 'in') {
    const o = getAmountOut(v.amountIn, rIn + x, rOut - a, fee);
    return o !== null && o > 0n && o >= v.amountOutMin;
  }
  const i = getAmountIn(v.amountOut, rIn + x, rOut - a, fee);
  return i !== null && i <= v.amountInMax;
}

/** Continuous largest tolerated front-run (root of a quadratic), or 0 when none. */
function maxFrontFloat(rIn: number, rOut: number, g: number, v: SandwichVictimHop): number {
  let a2: number;
  let a1: number;
  let a0: number;
  if (v.exact === 'in') {
    // (rIn + g·x)(rIn + x + g·V) ≤ g·V·rOut·rIn / m, from the victim's continuous output.
    const V = Number(v.amountIn);
    const m = Number(v.amountOutMin);
    a2 = g;
    a1 = rIn * (1 + g) + g * g * V;
    a0 = rIn * (rIn + g * V) - (g * V * rOut * rIn) / m;
  } else {
    // (rIn + x)(rIn + g·x)·o ≤ M·g·(rIn·rOut − o·(rIn + g·x)), from the continuous getAmountIn.
    const o = Number(v.amountOut);
    const M = Number(v.amountInMax);
    a2 = g * o;
    a1 = o * rIn * (1 + g) + M * g * g * o;
    a0 = o * rIn * rIn + M * g * o * rIn - M * g * rIn * rOut;
  }
  if (!(a0 < 0)) return 0;
  // The stable root form: no cancellation when a0 is small next to a1².
  return (-2 * a0) / (a1 + Math.sqrt(a1 * a1 - 4 * a2 * a0));
}

/** Continuous gross profit of front-run `x`, for the golden-section search. */
function profitFloat(x: number, rIn: number, rOut: number, g: number, v: SandwichVictimHop): number {
  const a = (g * x * rOut) / (rIn + g * x);
  const x1 = rIn + x;
  const y1 = rOut - a;
  let x2: number;
  let y2: number;
  if (v.exact === 'in') {
    const V = Number(v.amountIn);
    x2 = x1 + V;
    y2 = y1 - (g * V * y1) / (x1 + g * V);
  } else {
    const o = Number(v.amountOut);
    x2 = x1 + (x1 * o) / (g * (y1 - o));
    y2 = y1 - o;
  }
  return (g * a * x2) / (y2 + g * a) - x;
}

// Best candidate of the integer scan (module scratch, like the evaluation results).
let cBest = 0n;
let cBestP: bigint | null = null;

/** Keeps `x` as the scan's best when it is tolerated and more profitable (ties: smaller x). */
function consider(x: bigint, xMax: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): void {
  if (x < 1n || x > xMax) return;
  const p = evaluate(x, rIn, rOut, fee, v);
  if (p !== null && (cBestP === null || p > cBestP || (p === cBestP && x < cBest))) {
    cBestP = p;
    cBest = x;
  }
}

/** Largest x ≥ 1 with `tolerated(x)`, starting from a guess; 0 when even x = 1 is not tolerated. */
function maxFront(guess: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): bigint {
  let lo: bigint;
  let hi: bigint;
  // The float guess is off by rounding (~1e-12 relative) plus integer floors: start the gallop small.
  let step = guess >> 36n;
  if (step < 1n) step = 1n;
  if (guess < 1n) guess = 1n;
  if (tolerated(guess, rIn, rOut, fee, v)) {
    lo = guess;
    while (tolerated(lo + step, rIn, rOut, fee, v)) {
      lo += step;
      step <<= 1n;
    }
    hi = lo + step;
  } else {
    hi = guess;
    for (;;) {
      const next = hi - step;
      if (next < 1n) {
        if (!tolerated(1n, rIn, rOut, fee, v)) return 0n;
        lo = 1n;
        break;
      }
      if (tolerated(next, rIn, rOut, fee, v)) {
        lo = next;
        break;
      }
      hi = next;
      step <<= 1n;
    }
  }
  // Invariant: tolerated(lo), !tolerated(hi).
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n;
    if (tolerated(mid, rIn, rOut, fee, v)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Sizes the most profitable sandwich of one victim hop on a pair with reserves (`reserveIn`,
 * `reserveOut`) in the victim's direction. Returns null when no front-run of at least 1 wei leaves
 * the victim within its bound or the best gross profit is not positive.
 */
export function sizeSandwich(reserveIn: bigint, reserveOut: bigint, feeBps: bigint, victim: SandwichVictimHop): SandwichSize | null {
  if (reserveIn <= 0n || reserveOut <= 0n) return null;
  // A victim that already fails its bound reverts with or without us.
  if (evaluateVictimAlone(reserveIn, reserveOut, feeBps, victim) === false) return null;
  const rInF = Number(reserveIn);
  const rOutF = Number(reserveOut);
  const g = Number(BPS - feeBps) / Number(BPS);
  const guessF = maxFrontFloat(rInF, rOutF, g, victim);
  const xMax = maxFront(BigInt(Math.floor(Math.min(guessF, 1e300))), reserveIn, reserveOut, feeBps, victim);
  if (xMax < 1n) return null;

  // Golden-section search of the continuous profit on [0, xMax]; it is unimodal there.
  let lo = 0;
  let hi = Number(xMax);
  const phi = (Math.sqrt(5) - 1) / 2;
  let c = hi - phi * (hi - lo);
  let d = lo + phi * (hi - lo);
  let fc = profitFloat(c, rInF, rOutF, g, victim);
  let fd = profitFloat(d, rInF, rOutF, g, victim);
  for (let i = 0; i < 80 && hi - lo > 1; i++) {
    if (fc < fd) {
      lo = c;
      c = d;
      fc = fd;
      d = lo + phi * (hi - lo);
      fd = profitFloat(d, rInF, rOutF, g, victim);
    } else {
      hi = d;
      d = c;
      fd = fc;
      c = hi - phi * (hi - lo);
      fc = profitFloat(c, rInF, rOutF, g, victim);
    }
  }
  let xc = BigInt(Math.round((lo + hi) / 2));
  if (xc > xMax) xc = xMax;
  if (xc < 1n) xc = 1n;

  // Integer scan around the continuous optimum, in the finer token. When tokenOut is the coarser
  // one, many x buy the same front-run output and the smallest of them is best (the victim and
  // back-run only move by less than the extra wei), so candidates are minAmountIn(a).
  cBest = 0n;
  cBestP = null;
  if (reserveIn >= reserveOut) {
    const ac = getAmountOut(xc, reserveIn, reserveOut, feeBps) ?? 0n;
    for (let a = ac - SCAN; a <= ac + SCAN; a++) {
      if (a < 1n) continue;
      const x = minAmountIn(a, reserveIn, reserveOut, feeBps);
      if (x !== null) consider(x, xMax, reserveIn, reserveOut, feeBps, victim);
    }
  } else {
    for (let x = xc - SCAN; x <= xc + SCAN; x++) consider(x, xMax, reserveIn, reserveOut, feeBps, victim);
  }
  consider(xMax, xMax, reserveIn, reserveOut, feeBps, victim);
  if (cBestP === null) return null;
  // Window climb: move to any better front-run within ±SCAN until none is, so no near neighbour
  // pays more (floors make the exact profit jagged by a wei or two around the optimum).
  for (let i = 0; i < CLIMB_MAX; i++) {
    const from = cBest;
    for (let x = from - SCAN; x <= from + SCAN; x++) consider(x, xMax, reserveIn, reserveOut, feeBps, victim);
    if (cBest === from) break;
  }
  const best = cBest;
  const gross = evaluate(best, reserveIn, reserveOut, feeBps, victim);
  if (gross === null || gross <= 0n) return null;
  return { frontIn: best, frontOut: sFrontOut, victimIn: sVictimIn, victimOut: sVictimOut, backIn: sFrontOut, backOut: sBackOut, gross };
}

/** False when the victim fails its own bound with no front-run; true otherwise. */
function evaluateVictimAlone(rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): boolean {
  if (v.exact === 'in') {
    const o = getAmountOut(v.amountIn, rIn, rOut, fee);
    return o !== null && o > 0n && o >= v.amountOutMin;
  }
  const i = getAmountIn(v.amountOut, rIn, rOut, fee);
  return i !== null && i <= v.amountInMax;
}

/** Per-call inputs of {@link planV2Sandwich} that do not come from the victim. */
export interface SandwichContext {
  /** Router02 the searcher's front-run and back-run go through. */
  router: string;
  /** Gas of front-run plus back-run, in units. */
  gasUnits: bigint;
  /** Effective gas price the bundle pays, in wei. */
  gasPrice: bigint;
  /** Price of the victim's input token (the profit token) in token units per wei. */
  price: Readonly<TokenPrice>;
  targetBlock: number;
  /** Monotonic ns now, for the timings. */
  nowNs: number;
}

/**
 * Translates a victim leg into its first-hop bound: for exact-in, the least first-hop output that
 * still gives `amountOutMin` at the end of the path (`ethValue` stands in for a null amountIn or
 * amountInMax when the victim pays in ETH) (later hops are untouched by the sandwich);
 * for exact-out, the first-hop output the router's `getAmountsIn` fixes. Null when a later hop
 * cannot be priced.
 */
export function firstHopBound(leg: SwapLeg, amountIn: bigint | null, ethValue: bigint, pairs: readonly V2PairState[]): SandwichVictimHop | null {
  const path = leg.path;
  if (pairs.length !== path.length - 1 || pairs.length < 1) return null;
  if (leg.exact === 'in') {
    if (amountIn === null || amountIn <= 0n) return null;
    let need = leg.amountOutMin ?? 0n;
    if (need < 1n) need = 1n;
    for (let h = pairs.length - 1; h >= 1; h--) {
      const p = pairs[h]!;
      const [rIn, rOut] = directed(p, path[h]!, path[h + 1]!);
      if (rIn === null) return null;
      const m = minAmountIn(need, rIn, rOut, p.feeBps);
      if (m === null) return null;
      need = m;
    }
    return { exact: 'in', amountIn, amountOutMin: need, amountOut: 0n, amountInMax: 0n };
  }
  const amountInMax = leg.amountInMax ?? (leg.ethIn ? ethValue : null);
  if (leg.amountOut === null || amountInMax === null) return null;
  let out = leg.amountOut;
  for (let h = pairs.length - 1; h >= 1; h--) {
    const p = pairs[h]!;
    const [rIn, rOut] = directed(p, path[h]!, path[h + 1]!);
    if (rIn === null) return null;
    const i = getAmountIn(out, rIn, rOut, p.feeBps);
    if (i === null) return null;
    out = i;
  }
  return { exact: 'out', amountIn: 0n, amountOutMin: 0n, amountOut: out, amountInMax };
}

/** Reserves of `pair` ordered (in, out) for a swap tokenIn → tokenOut, or [null, 0n] on a mismatch. */
function directed(pair: V2PairState, tokenIn: string, tokenOut: string): [bigint, bigint] | [null, bigint] {
  if (pair.token0 === tokenIn && pair.token1 === tokenOut) return [pair.reserve0, pair.reserve1];
  if (pair.token1 === tokenIn && pair.token0 === tokenOut) return [pair.reserve1, pair.reserve0];
  return [null, 0n];
}

/**
 * Full sandwich opportunity for a victim whose intent is one Uniswap V2 leg (a multicall with more
 * legs could touch the pair again, so it is skipped): `pairs` are the pairs along the leg's path,
 * in hop order, at the pending state. Only the first hop is sandwiched. Returns null when the
 * victim does not fit or the net profit after gas is not positive.
 * @remarks Allocates the result; the sizing itself only allocates bigints.
 */
export function planV2Sandwich(victim: DecodedTx, pairs: readonly V2PairState[], ctx: SandwichContext): Opportunity | null {
  const intent = victim.intent;
  if (intent === null || intent.legs.length !== 1) return null;
  const leg = intent.legs[0]!;
  // Fee-on-transfer tokens break the reserve arithmetic the bound relies on.
  if (leg.protocol !== 'uniswap-v2' || leg.feeOnTransfer || leg.path.length < 2) return null;
  const amountIn = leg.amountIn ?? (leg.ethIn ? victim.value : null);
  const hop = firstHopBound(leg, amountIn, victim.value, pairs);
  if (hop === null) return null;
  const pair = pairs[0]!;
  const tokenIn = leg.path[0]!;
  const tokenOut = leg.path[1]!;
  const [rIn, rOut] = directed(pair, tokenIn, tokenOut);
  if (rIn === null) return null;
  const size = sizeSandwich(rIn, rOut, pair.feeBps, hop);
  if (size === null) return null;
  const profit = makeProfit(tokenIn, size.gross, ctx.gasUnits * ctx.gasPrice, ctx.price);
  if (profit.net <= 0n) return null;
  const plan: TxSpec[] = [
    { kind: 'v2-router-exact-in', router: ctx.router, method: 'swapExactTokensForTokens', amountIn: size.frontIn, amountOutMin: size.frontOut, path: [tokenIn, tokenOut], pools: [pair.address] },
    { kind: 'victim', hash: victim.hash },
    { kind: 'v2-router-exact-in', router: ctx.router, method: 'swapExactTokensForTokens', amountIn: size.backIn, amountOutMin: size.backOut, path: [tokenOut, tokenIn], pools: [pair.address] },
  ];
  const pools = [pair.address];
  const tokenPath = [tokenIn, tokenOut, tokenIn];
  return {
    id: opportunityId('v2-sandwich', [victim.hash], ctx.targetBlock, pools, tokenPath, [size.frontIn, size.frontOut, size.backOut]),
    kind: 'v2-sandwich',
    victimHashes: [victim.hash],
    targetBlock: ctx.targetBlock,
    pools,
    tokenPath,
    amountIn: size.frontIn,
    profit,
    plan,
    timings: { firstSeenNs: victim.firstSeenNs, scoredNs: ctx.nowNs, verifiedNs: 0 },
    verification: 'unverified',
    simulatedNet: null,
    rejectReason: null,
    baseFee: 0n,
    gas: [],
    searcher: null,
  };
}
