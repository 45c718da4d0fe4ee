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
/** Radius of the first scan; the climb's ±SCAN windows then widen the check around the best. */
const FIRST_SCAN = 2n;
/** Window-climb cap: the continuous optimum is within a few units, so this only guards a bug. */
const CLIMB_MAX = 256;

// One evaluation's results, kept in module scratch so the search itself allocates no objects.
let sFrontOut = 0n;
let sVictimIn = 0n;
let sVictimOut = 0n;
let sBackOut = 0n;

// Per-sizing constants: BPS − fee and reserveIn·BPS, so each quote spends no bigint op on them.
let G = 0n;
let RIN_BPS = 0n;

/** `getAmountOut` for positive amounts, with `rInBps` = reserveIn·BPS and the fee factor in `G`. */
function quote(x: bigint, rInBps: bigint, rOut: bigint): bigint {
  const xg = x * G;
  return (xg * rOut) / (rInBps + xg);
}

/**
 * Runs front-run `x` → victim → back-run on (rIn, rOut) and returns the gross profit, or null when
 * any step reverts or the victim's bound fails. Results land in the module scratch. Needs `G` and
 * `RIN_BPS` set for (rIn, fee), which {@link sizeSandwich} does.
 */
function evaluate(x: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): bigint | null {
  if (x <= 0n) return null;
  const a = quote(x, RIN_BPS, rOut);
  if (a <= 0n) return null;
  const r1In = rIn + x;
  const r1Out = rOut - a;
  let vin: bigint;
  let vout: bigint;
  if (v.exact === 'in') {
    vin = v.amountIn;
    const o = quote(vin, r1In * BPS, r1Out);
    if (o < v.amountOutMin || o <= 0n) return null;
    vout = o;
  } else {
    vout = v.amountOut;
    const i = getAmountIn(vout, r1In, r1Out, fee);
    if (i === null || i > v.amountInMax) return null;
    vin = i;
  }
  const b = quote(a, (r1Out - vout) * BPS, r1In + vin);
  if (b <= 0n) return null;
  sFrontOut = a;
  sVictimIn = vin;
  sVictimOut = vout;
  sBackOut = b;
  return b - x;
}

/** True when the victim's bound still holds after a front-run of `x` (monotone: true, then false). Needs `G`, `RIN_BPS`. */
function tolerated(x: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): boolean {
  if (x <= 0n) return false;
  const a = quote(x, RIN_BPS, rOut);
  if (a <= 0n) return false;
  if (v.exact === 'in') {
    const o = quote(v.amountIn, (rIn + x) * BPS, rOut - a);
    return o > 0n && o >= v.amountOutMin;
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

/**
 * Continuous gross profit of front-run `x`, for the golden-section search. `V` is the victim's
 * amountIn (exact-in) or amountOut (exact-out) as a double, converted once per sizing.
 */
function profitFloat(x: number, rIn: number, rOut: number, g: number, exactIn: boolean, V: number): number {
  const a = (g * x * rOut) / (rIn + g * x);
  const x1 = rIn + x;
  const y1 = rOut - a;
  let x2: number;
  let y2: number;
  if (exactIn) {
    x2 = x1 + V;
    y2 = y1 - (g * V * y1) / (x1 + g * V);
  } else {
    x2 = x1 + (x1 * V) / (g * (y1 - V));
    y2 = y1 - V;
  }
  return (g * a * x2) / (y2 + g * a) - x;
}

// Best candidate of the integer scan (module scratch, like the evaluation results).
let cBest = 0n;
let cBestP: bigint | null = null;

// Profits already evaluated in this sizing (the climb's windows overlap the scan and each other),
// so no front-run is run twice. Module scratch: sizing is synchronous and single-threaded.
const MEMO_MAX = 64;
const memoX: bigint[] = new Array<bigint>(MEMO_MAX).fill(0n);
const memoP: (bigint | null)[] = new Array<bigint | null>(MEMO_MAX).fill(null);
let memoN = 0;

/** `evaluate(x)`'s profit, from the memo when this sizing already ran `x` (scratch results are not set then). */
function profitAt(x: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): bigint | null {
  for (let i = memoN - 1; i >= 0 && i >= memoN - MEMO_MAX; i--) if (memoX[i % MEMO_MAX] === x) return memoP[i % MEMO_MAX]!;
  const p = evaluate(x, rIn, rOut, fee, v);
  memoX[memoN % MEMO_MAX] = x;
  memoP[memoN % MEMO_MAX] = p;
  memoN++;
  return p;
}

/**
 * Keeps `x` as the scan's best when it is tolerated and more profitable; on a tie, the smaller x
 * unless `strict` (the climb moves on strict gains only, so it cannot walk a flat plateau).
 */
function consider(x: bigint, xMax: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop, strict: boolean): void {
  if (x < 1n || x > xMax) return;
  const p = profitAt(x, rIn, rOut, fee, v);
  if (p !== null && (cBestP === null || p > cBestP || (!strict && p === cBestP && x < cBest))) {
    cBestP = p;
    cBest = x;
  }
}

/**
 * How far the victim is inside its bound after front-run `x`, in its own units (exact-in: output
 * above amountOutMin; exact-out: amountInMax above the input), or null when a swap reverts.
 * Decreasing in x; only steers the search, {@link tolerated} decides.
 */
function margin(x: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): bigint | null {
  const a = getAmountOut(x, rIn, rOut, fee);
  if (a === null || a <= 0n) return null;
  if (v.exact === 'in') {
    const o = getAmountOut(v.amountIn, rIn + x, rOut - a, fee);
    return o === null ? null : o - v.amountOutMin;
  }
  const i = getAmountIn(v.amountOut, rIn + x, rOut - a, fee);
  return i === null ? null : v.amountInMax - i;
}

/** Largest x ≥ 1 with `tolerated(x)`, starting from a guess; 0 when even x = 1 is not tolerated. */
function maxFront(guess: bigint, rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop): bigint {
  let lo: bigint;
  let hi: bigint;
  if (guess < 1n) guess = 1n;
  // The float guess is off by rounding (~1e-14 relative) plus integer floors. One secant step on
  // the exact margin moves it to within about one unit of the victim's token, whose width in x
  // is the gallop's first step; bisection then needs only log2 of that width.
  let step = guess >> 36n;
  const d = guess >> 40n;
  if (d > 0n && guess - d >= 1n) {
    const m0 = margin(guess, rIn, rOut, fee, v);
    const m1 = margin(guess - d, rIn, rOut, fee, v);
    if (m0 !== null && m1 !== null && m1 > m0) {
      const next = guess + (m0 * d) / (m1 - m0);
      if (next >= 1n) guess = next;
      step = d / (m1 - m0) + 1n;
    }
  }
  if (step < 1n) step = 1n;
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
  G = BPS - feeBps;
  RIN_BPS = reserveIn * BPS;
  const rInF = Number(reserveIn);
  const rOutF = Number(reserveOut);
  const g = Number(BPS - feeBps) / Number(BPS);
  const guessF = maxFrontFloat(rInF, rOutF, g, victim);
  const xMax = maxFront(BigInt(Math.floor(Math.min(guessF, 1e300))), reserveIn, reserveOut, feeBps, victim);
  if (xMax < 1n) return null;

  // Golden-section search of the continuous profit on [0, xMax]; it is unimodal there.
  const exactIn = victim.exact === 'in';
  const V = Number(exactIn ? victim.amountIn : victim.amountOut);
  let lo = 0;
  let hi = Number(xMax);
  const phi = (Math.sqrt(5) - 1) / 2;
  let c = hi - phi * (hi - lo);
  let d = lo + phi * (hi - lo);
  let fc = profitFloat(c, rInF, rOutF, g, exactIn, V);
  let fd = profitFloat(d, rInF, rOutF, g, exactIn, V);
  // Doubles resolve x to ~1e-16 relative, so narrowing further only spends iterations.
  const tol = Math.max(1, hi * 1e-15);
  for (let i = 0; i < 80 && hi - lo > tol; i++) {
    if (fc < fd) {
      lo = c;
      c = d;
      fc = fd;
      d = lo + phi * (hi - lo);
      fd = profitFloat(d, rInF, rOutF, g, exactIn, V);
    } else {
      hi = d;
      d = c;
      fd = fc;
      c = hi - phi * (hi - lo);
      fc = profitFloat(c, rInF, rOutF, g, exactIn, V);
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
  memoN = 0;
  if (reserveIn >= reserveOut) {
    const ac = getAmountOut(xc, reserveIn, reserveOut, feeBps) ?? 0n;
    for (let a = ac - FIRST_SCAN; a <= ac + FIRST_SCAN; a++) {
      if (a < 1n) continue;
      const x = minAmountIn(a, reserveIn, reserveOut, feeBps);
      if (x !== null) consider(x, xMax, reserveIn, reserveOut, feeBps, victim, false);
    }
  } else {
    for (let x = xc - FIRST_SCAN; x <= xc + FIRST_SCAN; x++) consider(x, xMax, reserveIn, reserveOut, feeBps, victim, false);
  }
  const coarseOut = reserveIn >= reserveOut;
  consider(coarseOut ? leastFor(xMax, reserveIn, reserveOut, feeBps) : xMax, xMax, reserveIn, reserveOut, feeBps, victim, false);
  if (cBestP === null) return null;
  // Window climb: move to any strictly better front-run within ±SCAN until none is, so no near
  // neighbour pays more (floors make the exact profit jagged by a wei or two around the optimum).
  // Strict gains only: near a binding bound the profit is flat over thousands of wei, and moving
  // on ties would walk that plateau SCAN wei per round.
  for (let i = 0; i < CLIMB_MAX; i++) {
    const from = cBest;
    for (let x = from - SCAN; x <= from + SCAN; x++) if (x !== from) consider(x, xMax, reserveIn, reserveOut, feeBps, victim, true);
    // With a coarse tokenOut, a smaller input buying the same front-run output pays one wei more
    // per wei saved: jump to the start of that plateau rather than walk it SCAN wei per round.
    if (coarseOut) consider(leastFor(cBest, reserveIn, reserveOut, feeBps), xMax, reserveIn, reserveOut, feeBps, victim, true);
    if (cBest === from) break;
  }
  const best = cBest;
  const gross = evaluate(best, reserveIn, reserveOut, feeBps, victim);
  if (gross === null || gross <= 0n) return null;
  return { frontIn: best, frontOut: sFrontOut, victimIn: sVictimIn, victimOut: sVictimOut, backIn: sFrontOut, backOut: sBackOut, gross };
}

/** The least input buying the same output as `x` (x itself when the pair cannot quote it). */
function leastFor(x: bigint, rIn: bigint, rOut: bigint, fee: bigint): bigint {
  const a = getAmountOut(x, rIn, rOut, fee);
  const m = a === null || a <= 0n ? null : minAmountIn(a, rIn, rOut, fee);
  return m === null || m > x ? x : m;
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
    revision: 0,
    simulatedNet: null,
    rejectReason: null,
    baseFee: 0n,
    gas: [],
    searcher: null,
  };
}
