import type { BlockEvent, DecodedTx, SimulatedTx, SwapLeg } from '../../messages/schema.js';
import { nextBaseFee } from '../simulator/simulate-tx.js';
import { type Opportunity, type PlanGas, type TokenPrice, WETH_PRICE, compareOpportunities, makeProfit } from './opportunity.js';
import { getAmountIn, getAmountOut } from './pools/v2-math.js';
import type { V2PoolRegistry } from './pools/v2-pool-registry.js';
import type { ScorerConfig } from './scorer-config.js';
import { planV2Arbitrage } from './strategies/v2-arbitrage.js';
import type { V2PairState } from './pools/v2-math.js';
import { planV2Sandwich } from './strategies/v2-sandwich.js';

/**
 * The scorer's closed-form core, free of threads and I/O so the benchmark and the tests call it
 * directly: for one pending transaction, the V2 sandwich of its swap and the best backrun
 * arbitrage on the pools it moves, priced for the next block, ranked.
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
  | 'no-intent'
  | 'v3-leg'
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
  /** Pools named by the transaction that the registry does not hold, for discovery. */
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

/** Closed-form scoring over a {@link V2PoolRegistry}. */
export class ScoringCore {
  private readonly c: CoreConfig;

  constructor(
    readonly registry: V2PoolRegistry,
    config: ScorerConfig,
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
    const baseFee = nextBaseFee(head);
    const victimTip = effectiveTip(tx, baseFee);
    const after = new Map<string, V2PairState>();
    let skip: SkipReason | null = null;
    if (sim !== null) {
      if (sim.status !== 'success') return { opportunities: [], skip: 'reverted', unknownPools };
      for (const p of sim.pools) {
        if (p.protocol !== 'uniswap-v2') continue;
        const pool = this.registry.get(p.address);
        if (pool === undefined) unknownPools.push(p.address);
        else after.set(pool.address, { ...pool, reserve0: p.after[0]!, reserve1: p.after[1]! });
      }
      if (after.size === 0) skip = unknownPools.length > 0 ? 'pool-unknown' : 'no-pools';
    } else if (tx.intent === null) return { opportunities: [], skip: 'no-intent', unknownPools };
    else {
      for (const leg of tx.intent.legs) {
        skip = this.applyLeg(tx, leg, after, unknownPools);
        if (skip !== null) break;
      }
    }
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
    out.sort(compareOpportunities);
    return { opportunities: out, skip: out.length === 0 ? 'unprofitable' : null, unknownPools };
  }

  /** Moves the pools of one V2 leg in `after` as the victim's swap would; a reason when it cannot. */
  private applyLeg(tx: DecodedTx, leg: SwapLeg, after: Map<string, V2PairState>, unknown: string[]): SkipReason | null {
    if (leg.protocol !== 'uniswap-v2') return 'v3-leg';
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
    const amounts: bigint[] = [];
    if (leg.exact === 'in') {
      let amt = leg.amountIn ?? (leg.ethIn ? tx.value : null);
      if (amt === null || amt <= 0n) return 'amount-unknown';
      amounts.push(amt);
      for (let h = 0; h < hops; h++) {
        const r = directed(pairs[h]!, leg.path[h]!);
        if (r === null) return 'pool-unknown';
        const o = getAmountOut(amt, r[0], r[1], pairs[h]!.feeBps);
        if (o === null) return 'would-revert';
        amounts.push(o);
        amt = o;
      }
      if (leg.amountOutMin !== null && amt < leg.amountOutMin) return 'would-revert';
    } else {
      let amt = leg.amountOut;
      const max = leg.amountInMax ?? (leg.ethIn ? tx.value : null);
      if (amt === null || max === null) return 'amount-unknown';
      amounts.unshift(amt);
      for (let h = hops - 1; h >= 0; h--) {
        const r = directed(pairs[h]!, leg.path[h]!);
        if (r === null) return 'pool-unknown';
        const i = getAmountIn(amt, r[0], r[1], pairs[h]!.feeBps);
        if (i === null) return 'would-revert';
        amounts.unshift(i);
        amt = i;
      }
      if (amt > max) return 'would-revert';
    }
    for (let h = 0; h < hops; h++) {
      const p = pairs[h]!;
      const zeroIn = p.token0 === leg.path[h];
      const inAmt = amounts[h]!;
      const outAmt = amounts[h + 1]!;
      after.set(p.address, {
        ...p,
        reserve0: zeroIn ? p.reserve0 + inAmt : p.reserve0 - outAmt,
        reserve1: zeroIn ? p.reserve1 - outAmt : p.reserve1 + inAmt,
      });
    }
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

  private backrun(tx: DecodedTx, after: Map<string, V2PairState>, baseFee: bigint, victimTip: bigint, targetBlock: number, nowNs: number): Opportunity | null {
    const weth = this.c.weth;
    const tip = afterTip(victimTip, this.c.priorityFee);
    const state = (p: V2PairState): V2PairState => after.get(p.address) ?? p;
    // Rank every candidate by its continuous optimum in doubles (≈0.1 µs each), then size only
    // the best few exactly in bigint: exact sizing costs tens of µs per cycle.
    const ranked: { cycle: V2PairState[]; est: number; order: number }[] = [];
    let order = 0;
    for (const moved of after.values()) {
      let n = 0;
      for (const cycle of this.cycles(moved, state)) {
        if (n++ >= this.c.maxCyclesPerPool) break;
        const est = estimateCycleGross(cycle, weth);
        if (est > 0) ranked.push({ cycle, est, order: order++ });
      }
    }
    if (ranked.length === 0) return null;
    ranked.sort((a, b) => b.est - a.est || a.order - b.order);
    let best: Opportunity | null = null;
    for (let i = 0; i < ranked.length && i < EXACT_CANDIDATES; i++) {
      const cycle = ranked[i]!.cycle;
      const gasUnits = GAS_ESTIMATE['erc20-transfer']! + GAS_ESTIMATE['v2-pair-swap']! * BigInt(cycle.length);
      const opp = planV2Arbitrage(cycle, weth, { gasUnits, gasPrice: baseFee + tip, price: WETH_PRICE, targetBlock, victimHashes: [tx.hash], firstSeenNs: tx.firstSeenNs, nowNs, climb: false });
      if (opp === null) continue;
      const priced = this.finish(opp, baseFee, opp.plan.map((s) => (s.kind === 'victim' ? 0n : tip)), WETH_PRICE);
      if (priced !== null && (best === null || compareOpportunities(priced, best) < 0)) best = priced;
    }
    return best;
  }

  /**
   * Candidate cycles through `moved` that start and end in WETH, 2 and 3 pools, in registry order:
   * `moved` + another pool on the same tokens; WETH→a→b→WETH triangles through `moved`.
   */
  private *cycles(moved: V2PairState, state: (p: V2PairState) => V2PairState): Generator<V2PairState[]> {
    const weth = this.c.weth;
    const r = this.registry;
    const { token0: a, token1: b } = moved;
    if (a === weth || b === weth) {
      const t = a === weth ? b : a;
      for (const q of r.pools(weth, t)) if (q.address !== moved.address) yield [moved, state(q)];
      // WETH →moved→ t → u → WETH
      for (const q of r.withToken(t)) {
        if (q.address === moved.address) continue;
        const u = q.token0 === t ? q.token1 : q.token0;
        if (u === weth) continue;
        for (const z of r.pools(u, weth)) yield [moved, state(q), state(z)];
      }
    } else {
      for (const x of r.pools(weth, a)) for (const y of r.pools(b, weth)) yield [state(x), moved, state(y)];
    }
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

/** Cycles sized exactly per transaction, best double estimates first. */
const EXACT_CANDIDATES = 2;

/**
 * Gross profit (start-token units, as a double) of the best direction of `cycle` at its continuous
 * optimum, or 0 when neither direction pays. Doubles only rank candidates; amounts are exact.
 */
export function estimateCycleGross(cycle: readonly V2PairState[], start: string): number {
  let best = 0;
  for (let dir = 0; dir < 2; dir++) {
    // out(x) = A·x / (B + C·x), composed hop by hop (a Möbius map), as closedFormInput does in bigint.
    let A = 1;
    let B = 1;
    let C = 0;
    let token = start;
    let ok = true;
    for (let k = 0; k < cycle.length; k++) {
      const p = cycle[dir === 0 ? k : cycle.length - 1 - k]!;
      let rIn: number;
      let rOut: number;
      if (p.token0 === token) {
        rIn = Number(p.reserve0);
        rOut = Number(p.reserve1);
        token = p.token1;
      } else if (p.token1 === token) {
        rIn = Number(p.reserve1);
        rOut = Number(p.reserve0);
        token = p.token0;
      } else {
        ok = false;
        break;
      }
      const f = 1 - Number(p.feeBps) / 10_000;
      // Normalize by rIn so magnitudes stay near 1: out = f·(rOut/rIn)·x / (1 + f·x/rIn).
      const a2 = f * (rOut / rIn);
      const c2 = f / rIn;
      C = C + c2 * A;
      A = A * a2;
    }
    if (!ok || token !== start || A <= B) continue;
    const x = (Math.sqrt(A * B) - B) / C;
    const g = (A * x) / (B + C * x) - x;
    if (g > best) best = g;
  }
  return best;
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

/** [reserveIn, reserveOut] of `pair` for selling `tokenIn`, or null when it does not hold it. */
function directed(pair: V2PairState, tokenIn: string): [bigint, bigint] | null {
  if (pair.token0 === tokenIn) return [pair.reserve0, pair.reserve1];
  if (pair.token1 === tokenIn) return [pair.reserve1, pair.reserve0];
  return null;
}
