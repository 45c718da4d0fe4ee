import { bytesToHex } from '../../messages/json.js';
import type { BlockEvent, DecodedTx, SimulatedTx, SwapLeg } from '../../messages/schema.js';
import { nextBaseFee } from '../base-fee.js';
import { type Opportunity, type PlanGas, type TokenPrice, WETH_PRICE, compareOpportunities, makeProfit } from './opportunity.js';
import { getAmountIn, getAmountOut } from './pools/v2-math.js';
import type { V2PoolRegistry } from './pools/v2-pool-registry.js';
import type { V2PairState } from './pools/v2-math.js';
import type { V3Pool, V3PoolRegistry } from './pools/v3-pool-registry.js';
import { MAX_SQRT_RATIO, MIN_SQRT_RATIO } from './pools/v3-math/tick-math.js';
import { newV3SwapResult, swap } from './pools/v3-math/v3-swap.js';
import type { ScorerConfig } from './scorer-config.js';
import { estimateMixedGross, findMixedCycles, type MixedHop, planMixedArbitrage } from './strategies/mixed-arbitrage.js';
import { planV2Arbitrage } from './strategies/v2-arbitrage.js';
import { planV2Sandwich } from './strategies/v2-sandwich.js';

/**
 * The scorer's closed-form core, free of threads and I/O so the benchmark and the tests call it
 * directly: for one pending transaction, the V2 sandwich of its swap and the best backrun
 * arbitrage on the pools it moves (V2 cycles, and V2↔V3 cycles when V3 pools are tracked), priced
 * for the next block, ranked.
 */

/** Gas a searcher step uses before the EVM measures it (deliberately high: a plan is dropped, not overpaid). */
export const GAS_ESTIMATE: Readonly<Record<string, bigint>> = Object.freeze({
  'v2-router-exact-in': 120_000n,
  'erc20-transfer': 45_000n,
  'v2-pair-swap': 80_000n,
  'v3-router-exact-input-single': 140_000n,
});

/** Why a transaction gave no opportunity; the scorer counts each as `skip.<reason>`. */
export type SkipReason =
  | 'no-head'
  /** The searcher's own transaction (a plan already sent): not a victim. */
  | 'own-tx'
  | 'no-intent'
  /** A V3 leg while no V3 pools are tracked. */
  | 'v3-leg'
  /** A V3 pool the victim swaps on must be re-read first, or the swap leaves its known tick range. */
  | 'v3-stale'
  | 'pair-direct'
  | 'fee-on-transfer'
  | 'amount-unknown'
  | 'pool-unknown'
  | 'would-revert'
  | 'reverted'
  | 'no-pools'
  | 'unprofitable';

/** What {@link ScoringCore.score} returns. */
export interface ScoreResult {
  /** Ranked best first ({@link compareOpportunities}). */
  opportunities: Opportunity[];
  /** Null when at least one opportunity was found. */
  skip: SkipReason | null;
  /** Pools named by the transaction that the registries do not hold, for discovery. */
  unknownPools: string[];
}

/** A resolved, frozen view of the config the core needs. */
interface CoreConfig {
  weth: string;
  sandwich: boolean;
  backrun: boolean;
  minNetProfitWei: bigint;
  searcher: string | null;
  priorityFee: bigint;
  frontrunBump: bigint;
  maxCyclesPerPool: number;
  /** factory → Router02 for the sandwich's own swaps. */
  routers: Map<string, string>;
}

/** The pools a transaction moves, as copies of their state after it (the registries are not touched). */
interface After {
  v2: Map<string, V2PairState>;
  v3: Map<string, V3Pool>;
}

/** Doubles of a pair's reserves and fee factor, for estimates; valid while the bigints are `r0`, `r1`. */
interface PairDoubles {
  r0: bigint;
  r1: bigint;
  f0: number;
  f1: number;
  /** 1 − fee. */
  g: number;
}

/** A candidate backrun cycle, ranked by its estimated net profit before exact sizing. */
interface Candidate {
  /** V2 pairs in hop order (V2 cycle) or null. */
  v2: V2PairState[] | null;
  /** Hops of a V2↔V3 cycle, or null. */
  mixed: MixedHop[] | null;
  /** Estimated net profit in wei (gross at the continuous optimum less the gas estimate). */
  estNet: number;
  /** Tolerance of the estimate, in wei: doubles round, so prune only below it. */
  slack: number;
  /** Enumeration order, the tie-break. */
  order: number;
}

/** Cycles sized exactly per transaction at most, best estimates first; later ones only while their estimate could still win. */
const EXACT_CANDIDATES = 2;
const V3_MIN_LIMIT = MIN_SQRT_RATIO + 1n;
const V3_MAX_LIMIT = MAX_SQRT_RATIO - 1n;
// Scratch for the victim's V3 swaps (the core runs synchronously on one thread).
const V3_OUT = newV3SwapResult();

/** Closed-form scoring over a {@link V2PoolRegistry} and, optionally, a {@link V3PoolRegistry}. */
export class ScoringCore {
  private readonly c: CoreConfig;
  /** Per pair object: doubles of its reserves, revalidated against the bigints on each use. */
  private readonly doubles = new WeakMap<V2PairState, PairDoubles>();
  // Top candidates of the current transaction: preallocated slots, so ranking allocates nothing.
  private readonly slots: Candidate[] = Array.from({ length: EXACT_CANDIDATES }, () => ({ v2: [], mixed: null, estNet: 0, slack: 0, order: 0 }));
  private nSlots = 0;
  private order = 0;
  private gasPerHop = 0;
  private gasFixed = 0;
  private readonly c3: V2PairState[] = [];

  /**
   * `v3` and `v3Routers` (pool → the SwapRouter of its factory) turn on V3 victims and V2↔V3
   * backruns; without them V3 legs are skipped (`v3-leg`).
   */
  constructor(
    readonly registry: V2PoolRegistry,
    config: ScorerConfig,
    readonly v3: V3PoolRegistry | null = null,
    readonly v3Routers: ReadonlyMap<string, string> = new Map(),
  ) {
    this.c = {
      weth: config.weth.toLowerCase(),
      sandwich: config.strategies.includes('v2-sandwich'),
      backrun: config.strategies.includes('backrun-arbitrage'),
      minNetProfitWei: BigInt(config.minNetProfitWei),
      searcher: config.searcher?.toLowerCase() ?? null,
      priorityFee: BigInt(config.gas.priorityFeeWei),
      frontrunBump: BigInt(config.gas.frontrunBumpWei),
      maxCyclesPerPool: config.maxCyclesPerPool,
      routers: new Map(config.v2Factories.filter((f) => f.router !== null).map((f) => [f.address.toLowerCase(), f.router!.toLowerCase()])),
    };
  }

  /**
   * Scores `tx` against the head state: from its swap intent (fast path) or, when `sim` is given,
   * from the pools the EVM saw it move. `nowNs` stamps the result.
   */
  score(tx: DecodedTx, sim: SimulatedTx | null, head: BlockEvent | null, nowNs: number): ScoreResult {
    const unknownPools: string[] = [];
    if (head === null) return { opportunities: [], skip: 'no-head', unknownPools };
    if (tx.from === this.c.searcher) return { opportunities: [], skip: 'own-tx', unknownPools };
    const baseFee = nextBaseFee(head);
    const victimTip = effectiveTip(tx, baseFee);
    const after: After = { v2: new Map(), v3: new Map() };
    const skip = this.applyTx(tx, sim, after, unknownPools);
    if (skip !== null) return { opportunities: [], skip, unknownPools };

    const out: Opportunity[] = [];
    const targetBlock = head.number + 1;
    if (this.c.sandwich && sim === null) {
      const s = this.sandwich(tx, baseFee, victimTip, targetBlock, nowNs);
      if (s !== null) out.push(s);
    }
    if (this.c.backrun) {
      const b = this.backrun(tx, after, baseFee, victimTip, targetBlock, nowNs);
      if (b !== null) out.push(b);
    }
    if (out.length > 1) out.sort(compareOpportunities);
    // The victim goes into the bundle as it was signed: its bytes travel with the plan.
    if (out.length > 0) {
      const raw = bytesToHex(tx.raw);
      for (const o of out) for (const st of o.plan) if (st.kind === 'victim' && st.hash === tx.hash) st.raw = raw;
    }
    return { opportunities: out, skip: out.length === 0 ? 'unprofitable' : null, unknownPools };
  }

  /**
   * The pools `tx` moves (from its intent, or from `sim`), as copies of their state after it; the
   * registries are unchanged. For tests and tools. @remarks Allocates.
   */
  effects(tx: DecodedTx, sim: SimulatedTx | null = null): { skip: SkipReason | null; v2: ReadonlyMap<string, V2PairState>; v3: ReadonlyMap<string, V3Pool>; unknownPools: string[] } {
    const after: After = { v2: new Map(), v3: new Map() };
    const unknownPools: string[] = [];
    const skip = this.applyTx(tx, sim, after, unknownPools);
    return { skip, v2: after.v2, v3: after.v3, unknownPools };
  }

  /** Fills `after` with the pools `tx` moves; a reason when it cannot be scored. */
  private applyTx(tx: DecodedTx, sim: SimulatedTx | null, after: After, unknownPools: string[]): SkipReason | null {
    let skip: SkipReason | null = null;
    if (sim !== null) {
      if (sim.status !== 'success') return 'reverted';
      for (const p of sim.pools) {
        if (p.protocol === 'uniswap-v2') {
          const pool = this.registry.get(p.address);
          if (pool === undefined) unknownPools.push(p.address);
          else after.v2.set(pool.address, pairCopy(pool, p.after[0]!, p.after[1]!));
        } else if (p.protocol === 'uniswap-v3' && this.v3 !== null) {
          const pool = this.v3.get(p.address);
          if (pool === undefined) unknownPools.push(p.address);
          // Price and active liquidity as the EVM left them; a swap never changes the ticks.
          else if (p.after.length >= 3) after.v3.set(pool.address, v3Copy(pool, p.after[0]!, Number(p.after[1]!), p.after[2]!));
        }
      }
      if (after.v2.size === 0 && after.v3.size === 0) skip = unknownPools.length > 0 ? 'pool-unknown' : 'no-pools';
    } else if (tx.intent === null) return 'no-intent';
    else {
      for (const leg of tx.intent.legs) {
        skip = leg.protocol === 'uniswap-v3' ? this.applyV3Leg(tx, leg, after, unknownPools) : this.applyLeg(tx, leg, after.v2, unknownPools);
        if (skip !== null) break;
      }
    }
    return skip;
  }

  /** Moves the pools of one V2 leg in `after` as the victim's swap would; a reason when it cannot. */
  private applyLeg(tx: DecodedTx, leg: SwapLeg, after: Map<string, V2PairState>, unknown: string[]): SkipReason | null {
    if (leg.path.length < 2) return 'pair-direct';
    if (leg.feeOnTransfer) return 'fee-on-transfer';
    const hops = leg.path.length - 1;
    if (leg.pools.length !== hops) return 'pool-unknown';
    const pairs: V2PairState[] = [];
    for (const addr of leg.pools) {
      const p = after.get(addr) ?? this.registry.get(addr);
      if (p === undefined) {
        unknown.push(addr);
        return 'pool-unknown';
      }
      pairs.push(p);
    }
    const amounts: bigint[] = new Array<bigint>(hops + 1);
    if (leg.exact === 'in') {
      const amountIn = leg.amountIn ?? (leg.ethIn ? tx.value : null);
      if (amountIn === null || amountIn <= 0n) return 'amount-unknown';
      let amt: bigint = amountIn;
      amounts[0] = amt;
      for (let h = 0; h < hops; h++) {
        const p = pairs[h]!;
        const zeroIn = p.token0 === leg.path[h];
        if (!zeroIn && p.token1 !== leg.path[h]) return 'pool-unknown';
        const o = zeroIn ? getAmountOut(amt, p.reserve0, p.reserve1, p.feeBps) : getAmountOut(amt, p.reserve1, p.reserve0, p.feeBps);
        if (o === null) return 'would-revert';
        amounts[h + 1] = o;
        amt = o;
      }
      if (leg.amountOutMin !== null && amt < leg.amountOutMin) return 'would-revert';
    } else {
      const amountOut = leg.amountOut;
      const max = leg.amountInMax ?? (leg.ethIn ? tx.value : null);
      if (amountOut === null || max === null) return 'amount-unknown';
      let amt: bigint = amountOut;
      amounts[hops] = amt;
      for (let h = hops - 1; h >= 0; h--) {
        const p = pairs[h]!;
        const zeroIn = p.token0 === leg.path[h];
        if (!zeroIn && p.token1 !== leg.path[h]) return 'pool-unknown';
        const i = zeroIn ? getAmountIn(amt, p.reserve0, p.reserve1, p.feeBps) : getAmountIn(amt, p.reserve1, p.reserve0, p.feeBps);
        if (i === null) return 'would-revert';
        amounts[h] = i;
        amt = i;
      }
      if (amt > max) return 'would-revert';
    }
    for (let h = 0; h < hops; h++) {
      const p = pairs[h]!;
      const zeroIn = p.token0 === leg.path[h];
      const inAmt = amounts[h]!;
      const outAmt = amounts[h + 1]!;
      after.set(p.address, pairCopy(p, zeroIn ? p.reserve0 + inAmt : p.reserve0 - outAmt, zeroIn ? p.reserve1 - outAmt : p.reserve1 + inAmt));
    }
    return null;
  }

  /**
   * Moves the pools of one V3 leg (exactInput[Single] / exactOutput[Single], hops in swap order)
   * in `after` with the exact V3 swap math; a reason when it cannot.
   */
  private applyV3Leg(tx: DecodedTx, leg: SwapLeg, after: After, unknown: string[]): SkipReason | null {
    const v3 = this.v3;
    if (v3 === null) return 'v3-leg';
    if (leg.path.length < 2) return 'pair-direct';
    const hops = leg.path.length - 1;
    if (leg.pools.length !== hops) return 'pool-unknown';
    const pools: V3Pool[] = [];
    for (const addr of leg.pools) {
      const a = addr.toLowerCase();
      const p = after.v3.get(a) ?? v3.get(a);
      if (p === undefined) {
        unknown.push(addr);
        return 'pool-unknown';
      }
      if (v3.needsRefresh(a) || p.tick < p.tickLo || p.tick > p.tickHi) return 'v3-stale';
      pools.push(p);
    }
    const exactIn = leg.exact === 'in';
    const given = exactIn ? (leg.amountIn ?? (leg.ethIn ? tx.value : null)) : leg.amountOut;
    const bound = exactIn ? leg.amountOutMin : (leg.amountInMax ?? (leg.ethIn ? tx.value : null));
    if (given === null || given <= 0n || (!exactIn && bound === null)) return 'amount-unknown';
    let amt: bigint = given;
    // Exact-out paths run last hop first, as the router's nested callbacks do.
    for (let k = 0; k < hops; k++) {
      const h = exactIn ? k : hops - 1 - k;
      const p = pools[h]!;
      const tokenIn = leg.path[h]!;
      const tokenOut = leg.path[h + 1]!;
      const zeroForOne = p.token0 === tokenIn;
      if (!(zeroForOne ? p.token1 === tokenOut : p.token1 === tokenIn && p.token0 === tokenOut)) return 'pool-unknown';
      try {
        swap(p, zeroForOne, exactIn ? amt : -amt, zeroForOne ? V3_MIN_LIMIT : V3_MAX_LIMIT, V3_OUT);
      } catch {
        return 'would-revert';
      }
      const paid = zeroForOne ? V3_OUT.amount0 : V3_OUT.amount1;
      const got = zeroForOne ? -V3_OUT.amount1 : -V3_OUT.amount0;
      // A swap that runs out of liquidity before the amount is filled: the router reverts.
      if (exactIn ? paid !== amt : got !== amt) return 'would-revert';
      if (V3_OUT.tick < p.tickLo || V3_OUT.tick > p.tickHi) return 'v3-stale';
      after.v3.set(p.address, v3Copy(p, V3_OUT.sqrtPriceX96, V3_OUT.tick, V3_OUT.liquidity));
      amt = exactIn ? got : paid;
    }
    if (exactIn ? bound !== null && amt < bound : amt > bound!) return 'would-revert';
    return null;
  }

  private sandwich(tx: DecodedTx, baseFee: bigint, victimTip: bigint, targetBlock: number, nowNs: number): Opportunity | null {
    const intent = tx.intent;
    if (intent === null || intent.legs.length !== 1) return null;
    const leg = intent.legs[0]!;
    if (leg.protocol !== 'uniswap-v2' || leg.path.length < 2 || leg.pools.length < 1) return null;
    const pairs: V2PairState[] = [];
    for (const a of leg.pools) {
      const p = this.registry.get(a);
      if (p === undefined) return null;
      pairs.push(p);
    }
    const first = this.registry.get(leg.pools[0]!)!;
    const router = first.factory === null ? undefined : this.c.routers.get(first.factory);
    if (router === undefined) return null;
    const token = leg.path[0]!;
    const price = this.priceOf(token);
    if (price === null) return null;
    const frontTip = victimTip + this.c.frontrunBump;
    const backTip = afterTip(victimTip, this.c.priorityFee);
    const gasUnits = GAS_ESTIMATE['v2-router-exact-in']! * 2n;
    const opp = planV2Sandwich(tx, pairs, { router, gasUnits, gasPrice: baseFee + frontTip, price, targetBlock, nowNs });
    if (opp === null) return null;
    return this.finish(opp, baseFee, [frontTip, 0n, backTip], price);
  }

  private backrun(tx: DecodedTx, after: After, baseFee: bigint, victimTip: bigint, targetBlock: number, nowNs: number): Opportunity | null {
    const weth = this.c.weth;
    const tip = afterTip(victimTip, this.c.priorityFee);
    const gasPrice = baseFee + tip;
    const gp = Number(gasPrice);
    this.gasFixed = Number(GAS_ESTIMATE['erc20-transfer']!) * gp;
    this.gasPerHop = Number(GAS_ESTIMATE['v2-pair-swap']!) * gp;
    // Rank every candidate by its continuous optimum in doubles (≈0.1 µs each), keeping the best
    // few in preallocated slots; then size exactly (tens of µs per cycle) only those whose estimate
    // can still beat the best exact plan so far.
    this.nSlots = 0;
    this.order = 0;
    for (const moved of after.v2.values()) this.enumerate(moved, after.v2);
    const cands: Candidate[] = [];
    for (let i = 0; i < this.nSlots; i++) cands.push(this.slots[i]!);
    if (this.v3 !== null && this.v3.size > 0 && (after.v2.size > 0 || after.v3.size > 0)) this.mixedCandidates(after, gp, cands);
    if (cands.length === 0) return null;
    if (cands.length > 1) cands.sort((a, b) => b.estNet - a.estNet || a.order - b.order);
    let best: Opportunity | null = null;
    let sized = 0;
    for (let i = 0; i < cands.length && sized < EXACT_CANDIDATES; i++) {
      const cand = cands[i]!;
      // Exact gross never exceeds the continuous optimum: a candidate whose estimate (plus its
      // rounding slack) is below the best exact net cannot win.
      if (best !== null && cand.estNet + cand.slack < Number(best.profit.netWei)) break;
      sized++;
      let opp: Opportunity | null;
      const ctx = { gasPrice, price: WETH_PRICE, targetBlock, victimHashes: [tx.hash], firstSeenNs: tx.firstSeenNs, nowNs, climb: false };
      if (cand.v2 !== null) {
        const gasUnits = GAS_ESTIMATE['erc20-transfer']! + GAS_ESTIMATE['v2-pair-swap']! * BigInt(cand.v2.length);
        opp = planV2Arbitrage(cand.v2, weth, { ...ctx, gasUnits, oneWay: true });
      } else {
        const hops = cand.mixed!;
        const router = this.routerOf(hops);
        opp = router === null ? null : planMixedArbitrage(hops, weth, { ...ctx, gasUnits: mixedGasUnits(hops), v3Router: router });
      }
      if (opp === null) continue;
      const priced = this.finish(opp, baseFee, opp.plan.map((s) => (s.kind === 'victim' ? 0n : tip)), WETH_PRICE);
      if (priced !== null && (best === null || compareOpportunities(priced, best) < 0)) best = priced;
    }
    return best;
  }

  /**
   * Candidate cycles through `moved` that start and end in WETH, 2 and 3 pools, in registry order
   * (at most `maxCyclesPerPool`): `moved` + another pool on the same tokens; WETH→a→b→WETH
   * triangles through `moved`. Each is estimated and offered to the slots; nothing is allocated.
   */
  private enumerate(moved: V2PairState, after: Map<string, V2PairState>): void {
    const weth = this.c.weth;
    const r = this.registry;
    const max = this.c.maxCyclesPerPool;
    const c3 = this.c3;
    let n = 0;
    const { token0: a, token1: b } = moved;
    if (a === weth || b === weth) {
      const t = a === weth ? b : a;
      const same = r.poolsLower(weth, t);
      for (let i = 0; i < same.length; i++) {
        const q = same[i]!;
        if (q.address === moved.address) continue;
        if (n++ >= max) return;
        c3.length = 2;
        c3[0] = moved;
        c3[1] = after.get(q.address) ?? q;
        this.offer(c3);
      }
      // WETH →moved→ t → u → WETH
      const viaT = r.withToken(t);
      for (let i = 0; i < viaT.length; i++) {
        const q = viaT[i]!;
        if (q.address === moved.address) continue;
        const u = q.token0 === t ? q.token1 : q.token0;
        if (u === weth) continue;
        const lasts = r.poolsLower(u, weth);
        for (let j = 0; j < lasts.length; j++) {
          if (n++ >= max) return;
          const z = lasts[j]!;
          c3.length = 3;
          c3[0] = moved;
          c3[1] = after.get(q.address) ?? q;
          c3[2] = after.get(z.address) ?? z;
          this.offer(c3);
        }
      }
    } else {
      const firsts = r.poolsLower(weth, a);
      const lasts = r.poolsLower(b, weth);
      for (let i = 0; i < firsts.length; i++) {
        for (let j = 0; j < lasts.length; j++) {
          if (n++ >= max) return;
          const x = firsts[i]!;
          const y = lasts[j]!;
          c3.length = 3;
          c3[0] = after.get(x.address) ?? x;
          c3[1] = moved;
          c3[2] = after.get(y.address) ?? y;
          this.offer(c3);
        }
      }
    }
  }

  /** Estimates `cycle` and keeps it in the slots when it ranks among the best; `cycle` is copied only then. */
  private offer(cycle: readonly V2PairState[]): void {
    const order = this.order++;
    const gross = this.estimateGross(cycle);
    if (!(gross > 0)) return;
    const estNet = gross - this.gasFixed - this.gasPerHop * cycle.length;
    const slots = this.slots;
    let at = this.nSlots;
    // Insertion into a list sorted by estNet descending, then order ascending (order only grows).
    while (at > 0 && slots[at - 1]!.estNet < estNet) at--;
    if (at >= slots.length) return;
    const last = this.nSlots < slots.length ? this.nSlots++ : slots.length - 1;
    const free = slots[last]!;
    for (let k = last; k > at; k--) slots[k] = slots[k - 1]!;
    slots[at] = free;
    // Stored in its paying direction, so the exact sizing runs that one only.
    const v2 = free.v2!;
    const n = cycle.length;
    v2.length = n;
    for (let k = 0; k < n; k++) v2[k] = cycle[estDir === 0 ? k : n - 1 - k]!;
    free.estNet = estNet;
    free.slack = estSlack;
    free.order = order;
  }

  /**
   * Gross profit (WETH, a double) of the best direction of `cycle` at its continuous optimum, or 0
   * when neither direction pays. Sets `estSlack` to the rounding tolerance of the estimate.
   */
  private estimateGross(cycle: readonly V2PairState[]): number {
    const start = this.c.weth;
    let best = 0;
    estSlack = 0;
    for (let dir = 0; dir < 2; dir++) {
      // out(x) = A·x / (B + C·x), composed hop by hop (a Möbius map), as closedFormInput does in bigint.
      let A = 1;
      let C = 0;
      let token = start;
      let ok = true;
      for (let k = 0; k < cycle.length; k++) {
        const p = cycle[dir === 0 ? k : cycle.length - 1 - k]!;
        const d = this.doublesOf(p);
        let rIn: number;
        let rOut: number;
        if (p.token0 === token) {
          rIn = d.f0;
          rOut = d.f1;
          token = p.token1;
        } else if (p.token1 === token) {
          rIn = d.f1;
          rOut = d.f0;
          token = p.token0;
        } else {
          ok = false;
          break;
        }
        // Normalize by rIn so magnitudes stay near 1: out = f·(rOut/rIn)·x / (1 + f·x/rIn).
        C = C + (d.g / rIn) * A;
        A = A * d.g * (rOut / rIn);
      }
      if (!ok || token !== start || A <= 1) continue;
      const sq = Math.sqrt(A);
      const x = (sq - 1) / C;
      // At the optimum out = √A·x, so the gross is x·(√A − 1).
      const g = x * (sq - 1);
      if (g > best) {
        best = g;
        estDir = dir;
        // Reserves round to ~1e-16 relative in doubles; the gross is a difference of ~x-sized terms.
        estSlack = x * 1e-12 + 1e3;
      }
    }
    return best;
  }

  /** The doubles of `p`'s reserves, recomputed only when its reserves changed. */
  private doublesOf(p: V2PairState): PairDoubles {
    let d = this.doubles.get(p);
    if (d === undefined) {
      d = { r0: p.reserve0, r1: p.reserve1, f0: Number(p.reserve0), f1: Number(p.reserve1), g: 1 - Number(p.feeBps) / 10_000 };
      this.doubles.set(p, d);
    } else if (d.r0 !== p.reserve0 || d.r1 !== p.reserve1) {
      d.r0 = p.reserve0;
      d.r1 = p.reserve1;
      d.f0 = Number(p.reserve0);
      d.f1 = Number(p.reserve1);
      d.g = 1 - Number(p.feeBps) / 10_000;
    }
    return d;
  }

  /**
   * V2↔V3 cycles (at least one V3 pool) through the moved pools, on their post-victim state,
   * estimated and appended to `out`. @remarks Allocates; runs only when V3 pools are tracked.
   */
  private mixedCandidates(after: After, gp: number, out: Candidate[]): void {
    const v3 = this.v3!;
    const touched = [...after.v2.keys(), ...after.v3.keys()];
    const cycles = findMixedCycles(this.registry, v3, this.c.weth, touched, 3);
    const ranked: Candidate[] = [];
    for (let i = 0; i < cycles.length; i++) {
      const hops = cycles[i]!.map((h): MixedHop => (h.kind === 'v2' ? { kind: 'v2', pool: after.v2.get(h.pool.address) ?? h.pool, zeroForOne: h.zeroForOne } : { kind: 'v3', pool: after.v3.get(h.pool.address) ?? h.pool, zeroForOne: h.zeroForOne }));
      if (this.routerOf(hops) === null) continue;
      const gross = estimateMixedGross(hops);
      if (!(gross > 0)) continue;
      const estNet = gross - Number(mixedGasUnits(hops)) * gp;
      // The V3 estimate ignores tick crossings, which only lower the output: it stays an upper bound.
      ranked.push({ v2: null, mixed: hops, estNet, slack: gross * 1e-9 + 1e3, order: this.order++ });
    }
    ranked.sort((a, b) => b.estNet - a.estNet || a.order - b.order);
    for (let i = 0; i < ranked.length && i < EXACT_CANDIDATES; i++) out.push(ranked[i]!);
  }

  /** The SwapRouter all V3 hops of `hops` go through, or null when they have none or different ones. */
  private routerOf(hops: readonly MixedHop[]): string | null {
    let router: string | null = null;
    for (const h of hops) {
      if (h.kind !== 'v3') continue;
      const r = this.v3Routers.get(h.pool.address);
      if (r === undefined || (router !== null && r !== router)) return null;
      router = r;
    }
    return router;
  }

  /**
   * Prices a plan for its target block: per searcher step its gas estimate and tip, the predicted
   * base fee, and the profit net of that exact cost. Null when the net falls below the minimum.
   */
  private finish(opp: Opportunity, baseFee: bigint, tips: bigint[], price: Readonly<TokenPrice>): Opportunity | null {
    const gas: (PlanGas | null)[] = opp.plan.map((s, i) => {
      if (s.kind === 'victim') return null;
      const used = GAS_ESTIMATE[s.kind] ?? 150_000n;
      return { gasUsed: used, gasLimit: used, priorityFee: tips[i] ?? 0n };
    });
    opp.gas = gas;
    opp.baseFee = baseFee;
    opp.searcher = this.c.searcher;
    opp.profit = makeProfit(opp.profit.token, opp.profit.gross, gasCostWei(opp), price);
    return opp.profit.netWei >= this.c.minNetProfitWei ? opp : null;
  }

  /** Profit-token units per wei from the deepest WETH pool of `token`; null when there is none. */
  priceOf(token: string): Readonly<TokenPrice> | null {
    if (token === this.c.weth) return WETH_PRICE;
    let best: TokenPrice | null = null;
    let depth = 0n;
    for (const p of this.registry.pools(token, this.c.weth)) {
      const [rt, rw] = p.token0 === token ? [p.reserve0, p.reserve1] : [p.reserve1, p.reserve0];
      if (rw > depth && rt > 0n) {
        depth = rw;
        best = { num: rt, den: rw };
      }
    }
    return best;
  }
}

/** Rounding tolerance of the last {@link ScoringCore} estimate (module scratch: one thread). */
let estSlack = 0;
/** Paying direction of the last estimate: 0 in the given order, 1 reversed. */
let estDir = 0;

/** Gas units of a mixed plan's searcher steps, as {@link planMixedArbitrage} lays them out. */
function mixedGasUnits(hops: readonly MixedHop[]): bigint {
  let units = 0n;
  for (let i = 0; i < hops.length; i++) {
    if (hops[i]!.kind === 'v3') units += GAS_ESTIMATE['v3-router-exact-input-single']!;
    else {
      if (i === 0 || hops[i - 1]!.kind === 'v3') units += GAS_ESTIMATE['erc20-transfer']!;
      units += GAS_ESTIMATE['v2-pair-swap']!;
    }
  }
  return units;
}

/** A copy of `p` with other reserves (the registry's object is never changed by scoring). */
function pairCopy(p: V2PairState, reserve0: bigint, reserve1: bigint): V2PairState {
  return { address: p.address, token0: p.token0, token1: p.token1, reserve0, reserve1, feeBps: p.feeBps };
}

/** A copy of `p` at another price and active liquidity; the tick list is shared (swaps never change it). */
function v3Copy(p: V3Pool, sqrtPriceX96: bigint, tick: number, liquidity: bigint): V3Pool {
  return { ...p, sqrtPriceX96, tick, liquidity };
}


/** Wei the searcher's steps of `opp` pay for gas: Σ gasUsed × (baseFee + tip). */
export function gasCostWei(opp: Pick<Opportunity, 'gas' | 'baseFee'>): bigint {
  let sum = 0n;
  for (const g of opp.gas) if (g !== null) sum += g.gasUsed * (opp.baseFee + g.priorityFee);
  return sum;
}

/** Tip a transaction pays per gas at `baseFee` (0 when it cannot pay the base fee). */
export function effectiveTip(tx: DecodedTx, baseFee: bigint): bigint {
  if (tx.maxFeePerGas !== null) {
    const room = tx.maxFeePerGas - baseFee;
    const tip = tx.maxPriorityFeePerGas ?? 0n;
    return room < 0n ? 0n : room < tip ? room : tip;
  }
  const t = (tx.gasPrice ?? 0n) - baseFee;
  return t < 0n ? 0n : t;
}

/** Tip of a step that must follow the victim: the configured tip, below the victim's. */
function afterTip(victimTip: bigint, priorityFee: bigint): bigint {
  const cap = victimTip > 0n ? victimTip - 1n : 0n;
  return priorityFee < cap ? priorityFee : cap;
}
