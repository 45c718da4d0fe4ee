import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Address, encodeFunctionData, type Hex, maxUint256 } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { compareOpportunities, type Opportunity, type TxSpec, WETH_PRICE } from '../../../../src/actors/scorer/opportunity.js';
import { pairSwapRevert, swapExactIn, type V2PairState } from '../../../../src/actors/scorer/pools/v2-math.js';
import { type RpcLog, SYNC_TOPIC, V2PoolRegistry } from '../../../../src/actors/scorer/pools/v2-pool-registry.js';
import { readV2Reserves } from '../../../../src/actors/scorer/pools/v2-reserves.js';
import { MAX_TICK, MIN_TICK, getSqrtRatioAtTick } from '../../../../src/actors/scorer/pools/v3-math/tick-math.js';
import { quoteExactInput } from '../../../../src/actors/scorer/pools/v3-math/v3-swap.js';
import { type V3Pool, V3PoolRegistry } from '../../../../src/actors/scorer/pools/v3-pool-registry.js';
import { readV3Pools } from '../../../../src/actors/scorer/pools/v3-state.js';
import {
  findMixedCycles,
  hopOut,
  isCycle,
  type MixedArbitrageContext,
  type MixedHop,
  mixedCycleOut,
  planMixedArbitrage,
  sizeMixedCycle,
} from '../../../../src/actors/scorer/strategies/mixed-arbitrage.js';
import { bigintSqrt } from '../../../../src/actors/scorer/strategies/v2-arbitrage.js';
import { ANVIL_KEYS, type RpcCall, rpc, rpcBatch } from '../../../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../../../src/devnet/devnet.js';
import { ERC20_ABI, V2_PAIR_ABI, V2_ROUTER_ABI, V3_SWAP_ROUTER_ABI, v3PoolAddress } from '../../../../src/devnet/uniswap.js';
import { mulberry32 } from '../../../../src/runtime/prng.js';

const E18 = 10n ** 18n;
const WETH = `0x${'c0'.repeat(20)}`;
const TKA = `0x${'a0'.repeat(20)}`;
const TKB = `0x${'b0'.repeat(20)}`;
const ROUTER = `0x${'5e'.repeat(20)}`;
const addr = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`;

const CTX: MixedArbitrageContext = { gasUnits: 0n, gasPrice: 0n, price: WETH_PRICE, targetBlock: 10, victimHashes: [], firstSeenNs: 1, nowNs: 2, v3Router: ROUTER };

function pair(n: number, a: string, b: string, ra: bigint, rb: bigint, feeBps = 30n): V2PairState {
  return a < b ? { address: addr(n), token0: a, token1: b, reserve0: ra, reserve1: rb, feeBps } : { address: addr(n), token0: b, token1: a, reserve0: rb, reserve1: ra, feeBps };
}

/** Tick of a price (token1 per token0), rounded down. */
const tickOf = (price: number): number => Math.floor(Math.log(price) / Math.log(1.0001));

/**
 * A V3 pool of `a`/`b` at `priceBA` (units of b per unit of a) with liquidity `[lower, upper, L]`
 * positions given as price ratios around the price (full range when null), every tick known.
 */
function v3(n: number, a: string, b: string, priceBA: number, fee: number, positions: readonly (readonly [number | null, number | null, bigint])[]): V3Pool {
  const spacing = { 100: 1, 500: 10, 3000: 60, 10000: 200 }[fee]!;
  const p = a < b ? priceBA : 1 / priceBA;
  const tick = tickOf(p);
  const nets = new Map<number, bigint>();
  let liquidity = 0n;
  for (const [lo, hi, L] of positions) {
    const tl = lo === null ? Math.ceil(MIN_TICK / spacing) * spacing : Math.floor(tickOf(p * lo) / spacing) * spacing;
    const tu = hi === null ? Math.floor(MAX_TICK / spacing) * spacing : Math.ceil(tickOf(p * hi) / spacing) * spacing;
    nets.set(tl, (nets.get(tl) ?? 0n) + L);
    nets.set(tu, (nets.get(tu) ?? 0n) - L);
    if (tl <= tick && tick < tu) liquidity += L;
  }
  const ticks = [...nets].sort((x, y) => x[0] - y[0]).map(([t, net]) => ({ tick: t, liquidityNet: net, liquidityGross: net < 0n ? -net : net }));
  const [token0, token1] = a < b ? [a, b] : [b, a];
  // Mid-tick price, so the state is a real pool's (price inside its tick).
  const sqrtPriceX96 = (getSqrtRatioAtTick(tick) + getSqrtRatioAtTick(tick + 1)) / 2n;
  return { address: addr(n), token0, token1, fee, tickSpacing: spacing, sqrtPriceX96, tick, liquidity, ticks, tickLo: MIN_TICK, tickHi: MAX_TICK, block: 0 };
}

/** Liquidity with about `ethPerSide` of WETH value per side at `priceBA` around the price. */
const liq = (ethPerSide: bigint, priceBA: number): bigint => (ethPerSide * E18 * BigInt(Math.round(Math.sqrt(priceBA) * 1e6))) / 1_000_000n;

function hopsOf(pools: readonly (V2PairState | V3Pool)[], start: string): MixedHop[] {
  let token = start;
  return pools.map((pool) => {
    const zeroForOne = pool.token0 === token;
    token = zeroForOne ? pool.token1 : pool.token0;
    return 'reserve0' in pool ? { kind: 'v2', pool, zeroForOne } : { kind: 'v3', pool, zeroForOne };
  });
}

/** Gross of the cycle for `x` through independent checks: V2 on a copy with the pair's own conditions, V3 through the quoter. */
function simulate(hops: readonly MixedHop[], x: bigint): bigint | null {
  let amt = x;
  for (const h of hops) {
    if (h.kind === 'v2') {
      const p = { ...h.pool };
      const [r0, r1] = [p.reserve0, p.reserve1];
      const out = swapExactIn(p, h.zeroForOne, amt);
      if (out === null) return null;
      if ((h.zeroForOne ? pairSwapRevert(r0, r1, amt, 0n, 0n, out, p.feeBps) : pairSwapRevert(r0, r1, 0n, amt, out, 0n, p.feeBps)) !== null) return null;
      amt = out;
    } else {
      const q = quoteExactInput(h.pool, h.zeroForOne, amt);
      if (q.amountIn !== amt || q.amountOut <= 0n || q.tickAfter < h.pool.tickLo || q.tickAfter > h.pool.tickHi) return null;
      amt = q.amountOut;
    }
  }
  return amt - x;
}

/** Checks the sizing of `hops` is exact and locally and globally optimal; returns it or null. */
function checkOptimal(hops: readonly MixedHop[], k: string): { amountIn: bigint; gross: bigint } | null {
  const size = sizeMixedCycle(hops);
  if (size === null) {
    // Nothing pays: no probe on a wide grid may pay either.
    for (let e = 0; e <= 26; e++) {
      const g = simulate(hops, 10n ** BigInt(e));
      assert.ok(g === null || g <= 0n, `case ${k}: sized as unprofitable, but 1e${e} pays ${g}`);
    }
    return null;
  }
  assert.equal(simulate(hops, size.amountIn), size.gross, `case ${k}: predicted gross equals the independent simulation`);
  assert.equal(mixedCycleOut(hops, size.amountIn), size.amountOut);
  assert.equal(size.hopOutputs.at(-1), size.amountOut);
  // No input within the ±4 window pays more. Further out, the floors of each hop can make an
  // input pay a wei or two more than a local optimum (the continuous curve is flat over billions of
  // wei there), never more than one wei per hop.
  for (let d = 1n; d <= 64n; d++) {
    for (const x of [size.amountIn + d, size.amountIn - d]) {
      const g = simulate(hops, x);
      const slack = d <= 4n ? 0n : BigInt(hops.length);
      assert.ok(g === null || g <= size.gross + slack, `case ${k}: input ${x} (Δ${x - size.amountIn}) pays ${g} > ${size.gross} + ${slack}`);
    }
  }
  for (const x of [(size.amountIn * 101n) / 100n, (size.amountIn * 99n) / 100n, size.amountIn * 2n, size.amountIn / 2n]) {
    const g = simulate(hops, x);
    assert.ok(g === null || g <= size.gross, `case ${k}: input ${x} pays ${g} > ${size.gross}`);
  }
  // A geometric grid over the whole feasible range finds nothing better.
  for (let i = 1; i <= 200; i++) {
    const x = (size.amountIn * BigInt(i)) / 50n;
    const g = x > 0n ? simulate(hops, x) : null;
    assert.ok(g === null || g <= size.gross, `case ${k}: grid input ${x} pays ${g} > ${size.gross}`);
  }
  return { amountIn: size.amountIn, gross: size.gross };
}

describe('mixed-arbitrage (math)', () => {
  it('default: a V2↔V3 cycle is sized to the wei: no input within ±4 pays more, none within ±64 more than a wei per hop, nor at ±1% or on a grid over the range, in random cases', () => {
    const rng = mulberry32(7);
    let found = 0;
    let crossed = 0;
    for (let c = 0; c < 60; c++) {
      const price = 500 + rng() * 3000; // TKA per WETH
      const skew = 1 + (rng() - 0.5) * 0.1; // ±5%
      const v2Weth = BigInt(Math.floor(50 + rng() * 2000));
      const fee = [500, 3000, 10000][c % 3]!;
      const v2 = pair(1, WETH, TKA, v2Weth * E18, (v2Weth * E18 * BigInt(Math.round(price * 1e6))) / 1_000_000n);
      const pv3 = price * skew;
      const ethV3 = BigInt(Math.floor(20 + rng() * 500));
      const pool = v3(2, WETH, TKA, pv3, fee, [
        [null, null, liq(ethV3, pv3)],
        [0.97, 1.02 + rng() * 0.03, liq(ethV3 * 5n, pv3)],
        [0.99, 1.005, liq(ethV3 * 3n, pv3)],
      ]);
      for (const order of [[v2, pool], [pool, v2]] as const) {
        const hops = hopsOf(order, WETH);
        assert.ok(isCycle(hops, WETH));
        const r = checkOptimal(hops, `${c}/${order[0] === v2 ? 'v2-first' : 'v3-first'}`);
        if (r === null) continue;
        found++;
        const v3hop = hops.find((h) => h.kind === 'v3')!;
        const at = hops[0] === v3hop ? r.amountIn : hopOut(hops[0]!, r.amountIn)!;
        if (quoteExactInput(v3hop.pool as V3Pool, v3hop.zeroForOne, at).ticksCrossed > 0) crossed++;
      }
    }
    assert.ok(found >= 40, `only ${found} of 120 cycles paid`);
    assert.ok(crossed >= 5, `only ${crossed} optima crossed an initialized tick`);
  });

  it('behavior: 3-hop cycles mixing V2 and V3 are sized exactly', () => {
    const rng = mulberry32(11);
    let found = 0;
    for (let c = 0; c < 30; c++) {
      const pa = 2000 * (1 + (rng() - 0.5) * 0.08);
      const pb = 50 * (1 + (rng() - 0.5) * 0.08);
      const pab = (50 / 2000) * (1 + (rng() - 0.5) * 0.08); // TKB per TKA
      const wa = pair(1, WETH, TKA, 500n * E18, (500n * E18 * BigInt(Math.round(pa * 1e6))) / 1_000_000n);
      const ab = v3(2, TKA, TKB, pab, 500, [[null, null, liq(100n, pab) * 40n], [0.98, 1.03, liq(500n, pab) * 40n]]);
      const bw = c % 2 === 0 ? pair(3, TKB, WETH, (300n * E18 * BigInt(Math.round(pb * 1e6))) / 1_000_000n, 300n * E18) : v3(3, TKB, WETH, 1 / pb, 3000, [[null, null, liq(300n, 1 / pb)]]);
      for (const order of [[wa, ab, bw], [bw, ab, wa]] as const) {
        if (checkOptimal(hopsOf(order, WETH), `${c}/${order[0] === wa ? 'fwd' : 'rev'}`) !== null) found++;
      }
    }
    assert.ok(found >= 15, `only ${found} of 60 cycles paid`);
  });

  it('behavior: no opportunity when the V2 and V3 prices agree', () => {
    const v2 = pair(1, WETH, TKA, 1000n * E18, 2_000_000n * E18);
    // The V3 price set to the pair's exactly.
    const pool = v3(2, WETH, TKA, 2000, 500, [[null, null, liq(500n, 2000)]]);
    const [r0, r1] = [v2.reserve0, v2.reserve1];
    pool.sqrtPriceX96 = bigintSqrt((r1 << 192n) / r0);
    for (const order of [[v2, pool], [pool, v2]] as const) {
      const hops = hopsOf(order, WETH);
      assert.equal(sizeMixedCycle(hops), null);
      assert.equal(planMixedArbitrage(hops, WETH, CTX), null);
      assert.equal(checkOptimal(hops, 'aligned'), null);
    }
    // Within the fees (0.3% + 0.05%) is still no opportunity.
    pool.sqrtPriceX96 = bigintSqrt(((r1 * 10_030n) / 10_000n << 192n) / r0);
    for (const order of [[v2, pool], [pool, v2]] as const) assert.equal(sizeMixedCycle(hopsOf(order, WETH)), null);
  });

  it('behavior: a V3 hop may not leave the tick range its pool\'s tick list covers: the optimum is the best input that stays inside', () => {
    const v2 = pair(1, WETH, TKA, 1000n * E18, 2_000_000n * E18);
    const pool = v3(2, WETH, TKA, 2000 * 1.04, 500, [[null, null, liq(300n, 2080)]]);
    // The V3 pool sells TKA 4% cheaper: buy there, sell on the pair.
    const hops = hopsOf([pool, v2], WETH);
    const free = sizeMixedCycle(hops)!;
    assert.ok(free);
    const end = quoteExactInput(pool, hops[0]!.zeroForOne, free.amountIn).tickAfter;
    assert.notEqual(end, pool.tick);
    // Shrink the known range so the unconstrained optimum ends 100 ticks outside it.
    const limited: V3Pool = { ...pool, tickLo: Math.min(pool.tick, end + 100), tickHi: Math.max(pool.tick, end - 100) };
    const lhops = hopsOf([limited, v2], WETH);
    const size = sizeMixedCycle(lhops)!;
    assert.ok(size.amountIn < free.amountIn && size.gross < free.gross && size.gross > 0n);
    assert.equal(mixedCycleOut(lhops, free.amountIn), null, 'the unconstrained optimum is infeasible on the limited pool');
    const after = quoteExactInput(limited, lhops[0]!.zeroForOne, size.amountIn).tickAfter;
    assert.ok(after >= limited.tickLo && after <= limited.tickHi);
    // Nothing feasible near the boundary pays more.
    for (const x of [size.amountIn + 1n, size.amountIn + 2n, size.amountIn - 1n, (size.amountIn * 999n) / 1000n]) {
      const out = mixedCycleOut(lhops, x);
      assert.ok(out === null || out - x <= size.gross);
    }
    // A pool whose price already left its range is not planned at all.
    assert.equal(planMixedArbitrage(hopsOf([{ ...pool, tickLo: pool.tick + 1 }, v2], WETH), WETH, CTX), null);
  });

  it('behavior: the plan pays each hop from the right place, and the same inputs give the same ids', () => {
    const wa = pair(1, WETH, TKA, 1000n * E18, 2_000_000n * E18);
    const ab = pair(2, TKA, TKB, 2_000_000n * E18, 50_000n * E18);
    const bw = v3(3, TKB, WETH, 1 / 50 * 1.05, 3000, [[null, null, liq(300n, 1 / 50)]]);
    // V2 → V2 → V3: one transfer, the first pair pays the second, the second pays the searcher.
    let o = planMixedArbitrage(hopsOf([wa, ab, bw], WETH), WETH, CTX)!;
    assert.ok(o);
    assert.equal(o.kind, 'mixed-arbitrage');
    assert.deepEqual(o.plan.map((t) => t.kind), ['erc20-transfer', 'v2-pair-swap', 'v2-pair-swap', 'v3-router-exact-input-single']);
    const [t, s1, s2, r] = o.plan as [Extract<TxSpec, { kind: 'erc20-transfer' }>, Extract<TxSpec, { kind: 'v2-pair-swap' }>, Extract<TxSpec, { kind: 'v2-pair-swap' }>, Extract<TxSpec, { kind: 'v3-router-exact-input-single' }>];
    assert.deepEqual([t.token, t.to, t.amount], [WETH, wa.address, o.amountIn]);
    assert.equal(s1.to, ab.address);
    assert.equal(s2.to, null);
    assert.deepEqual([r.router, r.tokenIn, r.tokenOut, r.fee, r.pool], [ROUTER, TKB, WETH, 3000, bw.address]);
    assert.equal(r.amountIn, s2.amount0Out + s2.amount1Out);
    assert.equal(r.amountOutMinimum - o.amountIn, o.profit.gross);
    assert.deepEqual(o.tokenPath, [WETH, TKA, TKB, WETH]);
    assert.deepEqual(o.pools, [wa.address, ab.address, bw.address]);
    // Reverse, with a victim: V3 → V2 → V2, the V3 output transferred to the first pair.
    const ba = pair(4, TKA, TKB, 2_000_000n * E18, 52_000n * E18);
    const wb = v3(5, WETH, TKB, 50 * 1.05, 3000, [[null, null, liq(300n, 50)]]);
    o = planMixedArbitrage(hopsOf([wb, ba, wa], WETH), WETH, { ...CTX, victimHashes: ['0xabc'] })!;
    assert.ok(o);
    assert.equal(o.kind, 'backrun-arbitrage');
    assert.deepEqual(o.plan.map((x) => x.kind), ['victim', 'v3-router-exact-input-single', 'erc20-transfer', 'v2-pair-swap', 'v2-pair-swap']);
    const again = planMixedArbitrage(hopsOf([wb, ba, wa], WETH), WETH, { ...CTX, victimHashes: ['0xabc'] })!;
    assert.deepEqual(again, o);
    // Gas above the gross: nothing to plan; a list of pools that is not a cycle: nothing either.
    assert.equal(planMixedArbitrage(hopsOf([wb, ba, wa], WETH), WETH, { ...CTX, gasUnits: o.profit.gross, gasPrice: 1n }), null);
    assert.equal(planMixedArbitrage(hopsOf([wa, ab], WETH), WETH, CTX), null);
  });

  it('behavior: findMixedCycles lists the cycles through a touched pool with a V3 hop, both directions, in a deterministic order', () => {
    const v2reg = new V2PoolRegistry();
    const v3reg = new V3PoolRegistry();
    const uni = v2reg.add({ ...pair(1, WETH, TKA, 1000n * E18, 2_000_000n * E18) });
    v2reg.add({ ...pair(2, WETH, TKA, 100n * E18, 203_000n * E18) });
    v2reg.add({ ...pair(3, WETH, TKB, 100n * E18, 5_000n * E18) });
    const abV2 = v2reg.add({ ...pair(4, TKA, TKB, 100_000n * E18, 2_500n * E18) });
    v2reg.add({ ...pair(9, WETH, `0x${'d0'.repeat(20)}`, 0n, 0n) }); // empty: never in a cycle
    const p500 = v3reg.add(v3(5, WETH, TKA, 2000, 500, [[null, null, liq(100n, 2000)]]));
    const p3000 = v3reg.add(v3(6, WETH, TKA, 2010, 3000, [[null, null, liq(100n, 2010)]]));
    const abV3 = v3reg.add(v3(7, TKA, TKB, 1 / 40, 500, [[null, null, liq(100n, 1 / 40)]]));
    const keys = (cycles: MixedHop[][]) => cycles.map((c) => c.map((h) => `${h.pool.address.slice(-2)}${h.zeroForOne ? '+' : '-'}`).join(' '));

    const fromUni = findMixedCycles(v2reg, v3reg, WETH, [uni.address]);
    for (const c of fromUni) {
      assert.ok(isCycle(c, WETH));
      assert.ok(c.some((h) => h.kind === 'v3'));
      assert.ok(c.some((h) => h.pool.address === uni.address));
    }
    // 2 hops with each V3 WETH/TKA pool both ways, and the triangle through the V3 TKA/TKB pool both ways.
    assert.equal(fromUni.length, 6);
    assert.deepEqual(keys(fromUni), [...keys(fromUni)].sort());
    assert.equal(keys(findMixedCycles(v2reg, v3reg, WETH, [uni.address], 2)).length, 4);
    // A touched pool without WETH: triangles through it, 4 first legs × 1 last leg × 2 directions.
    assert.equal(findMixedCycles(v2reg, v3reg, WETH, [abV3.address]).length, 8);
    // Its V2 twin: only the triangles whose first leg is V3 (2 × 2).
    assert.equal(findMixedCycles(v2reg, v3reg, WETH, [abV2.address]).length, 4);
    // Order and duplicates of the touched list do not matter; unknown pools are ignored.
    const all = findMixedCycles(v2reg, v3reg, WETH, [uni.address, abV3.address, p500.address]);
    const same = findMixedCycles(v2reg, v3reg, WETH.toUpperCase().replace('0X', '0x'), [p500.address, `0x${'ee'.repeat(20)}`, abV3.address, uni.address, uni.address]);
    assert.deepEqual(keys(same), keys(all));
    // Planning them all gives the same opportunities, with the same ids, both times.
    const plan = (cycles: MixedHop[][]) => cycles.map((c) => planMixedArbitrage(c, WETH, CTX)).filter((x): x is Opportunity => x !== null).sort(compareOpportunities);
    const a = plan(all);
    assert.ok(a.length > 0);
    assert.deepEqual(plan(same).map((x) => x.id), a.map((x) => x.id));
    // A V3 pool that must be re-read is left out.
    v3reg.add({ ...p3000, ticks: [], tickLo: p3000.tick + 1, tickHi: p3000.tick + 1 });
    assert.ok(v3reg.needsRefresh(p3000.address));
    assert.equal(findMixedCycles(v2reg, v3reg, WETH, [uni.address]).length, 4);
    assert.equal(findMixedCycles(v2reg, v3reg, WETH, [p3000.address]).length, 0);
  });

  it('behavior: timing of the reject path and of a sizing (reported, not asserted)', () => {
    const v2 = pair(1, WETH, TKA, 1000n * E18, 2_000_000n * E18);
    const pool = v3(2, WETH, TKA, 2000 * 1.02, 500, [[null, null, liq(300n, 2040)], [0.98, 1.03, liq(1500n, 2040)]]);
    // TKA is 2% cheaper on V3: buying there pays, the other way round does not.
    const pay = hopsOf([pool, v2], WETH);
    const none = hopsOf([v2, pool], WETH);
    const time = (f: () => unknown, n: number) => {
      for (let i = 0; i < 50; i++) f();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) f();
      return ((performance.now() - t0) * 1000) / n;
    };
    const reject = time(() => sizeMixedCycle(none), 20_000);
    const size = time(() => sizeMixedCycle(pay), 500);
    console.log(`# mixed-arbitrage: reject ${reject.toFixed(2)} µs, sizing ${size.toFixed(1)} µs per cycle`);
    assert.equal(sizeMixedCycle(none), null);
    assert.ok(sizeMixedCycle(pay));
  });
});

// ---------------------------------------------------------------------------------------------

interface Receipt { status: Hex; blockNumber: Hex }

async function balanceOf(url: string, token: string, who: string): Promise<bigint> {
  return BigInt(await rpc<Hex>(url, 'eth_call', [{ to: token, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [who as Address] }) }, 'latest']));
}

/** Calls of the searcher's plan steps, encoded as the submitter would. */
function encodeStep(t: TxSpec, searcher: Address): { to: string; data: Hex } | null {
  switch (t.kind) {
    case 'erc20-transfer':
      return { to: t.token, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'transfer', args: [t.to as Address, t.amount] }) };
    case 'v2-pair-swap':
      return { to: t.pair, data: encodeFunctionData({ abi: V2_PAIR_ABI, functionName: 'swap', args: [t.amount0Out, t.amount1Out, (t.to ?? searcher) as Address, '0x'] }) };
    case 'v3-router-exact-input-single':
      return {
        to: t.router,
        data: encodeFunctionData({
          abi: V3_SWAP_ROUTER_ABI,
          functionName: 'exactInputSingle',
          args: [{ tokenIn: t.tokenIn as Address, tokenOut: t.tokenOut as Address, fee: t.fee, recipient: searcher, deadline: maxUint256, amountIn: t.amountIn, amountOutMinimum: t.amountOutMinimum, sqrtPriceLimitX96: 0n }],
        }),
      };
    case 'victim':
      return null;
    default:
      throw new Error(`unexpected plan step ${t.kind}`);
  }
}

/** Sends `calls` from `from` in nonce order, mines one block, and returns the receipts. */
async function mineBlock(url: string, from: string, calls: readonly { to: string; data: Hex }[]): Promise<Receipt[]> {
  const hashes: Hex[] = [];
  for (const c of calls) hashes.push((await rpcBatch(url, [['eth_sendTransaction', [{ from, to: c.to, data: c.data, gas: '0x4c4b40' }]]]))[0] as Hex);
  await rpc(url, 'evm_mine');
  return (await rpcBatch(url, hashes.map((h): RpcCall => ['eth_getTransactionReceipt', [h]]))) as Receipt[];
}

describe('mixed-arbitrage against anvil', () => {
  let devnet: Devnet;
  before(async () => {
    devnet = await startDevnet({ blockTime: 0, automine: false });
  });
  after(async () => {
    await devnet?.stop();
  });

  it('behavior: after a swap pushes a V2 pair, the planned V2↔V3 backrun realizes exactly the predicted WETH gain in one block', async () => {
    const url = devnet.anvil.rpcUrl;
    const d = devnet.deployment;
    const weth = d.weth.toLowerCase();
    const fot = new Set(d.tokens.filter((t) => t.feeOnTransfer).map((t) => t.address.toLowerCase()));
    const v2reg = new V2PoolRegistry();
    for (const v of d.v2) for (const p of v.pairs) if (!fot.has(p.token0.toLowerCase()) && !fot.has(p.token1.toLowerCase())) v2reg.add({ ...p, reserve0: 0n, reserve1: 0n, feeBps: 30n, factory: v.factory });
    const v3reg = new V3PoolRegistry();
    const head = Number(BigInt(await rpc<Hex>(url, 'eth_blockNumber')));
    v2reg.reconcile(await readV2Reserves(url, v2reg.all().map((p) => p.address), head), head);
    for (const r of await readV3Pools(url, d.v3!.pools.map((p) => p.address), { block: head })) v3reg.add(r);

    // The victim: a large WETH → TKA buy on the uniswap V2 pair.
    const tka = d.tokens.find((t) => t.symbol === 'TKA')!.address;
    const victimPair = d.v2[0]!.pairs.find((p) => [p.token0, p.token1].includes(tka) && [p.token0, p.token1].includes(d.weth))!;
    const victim = d.accounts[0]!;
    const [vr] = await mineBlock(url, victim, [{ to: d.v2[0]!.router, data: encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactTokensForTokens', args: [40n * E18, 0n, [d.weth, tka], victim, maxUint256] }) }]);
    assert.equal(vr!.status, '0x1');
    const block = Number(BigInt(vr!.blockNumber));
    const tag = `0x${block.toString(16)}`;
    const logs = await rpc<RpcLog[]>(url, 'eth_getLogs', [{ fromBlock: tag, toBlock: tag, topics: [[SYNC_TOPIC]] }]);
    assert.equal(v2reg.applyLogs(logs, block).synced, 1);
    assert.equal(v3reg.applyLogs(logs, block).swaps, 0);

    const cycles = findMixedCycles(v2reg, v3reg, weth, [victimPair.address]);
    assert.ok(cycles.length >= 4, `only ${cycles.length} candidate cycles`);
    const ctx: MixedArbitrageContext = { gasUnits: 400_000n, gasPrice: 1_000_000_000n, price: WETH_PRICE, targetBlock: block + 1, victimHashes: [], firstSeenNs: 0, nowNs: 0, v3Router: d.v3!.router };
    const opps = cycles.map((c) => planMixedArbitrage(c, weth, ctx)).filter((o): o is Opportunity => o !== null).sort(compareOpportunities);
    assert.ok(opps.length > 0, 'the pushed pair has a profitable V2↔V3 cycle');
    const best = opps[0]!;
    assert.ok(best.pools.includes(victimPair.address.toLowerCase()));
    assert.ok(best.plan.some((t) => t.kind === 'v3-router-exact-input-single'));
    for (const t of best.plan) {
      if (t.kind !== 'v3-router-exact-input-single') continue;
      assert.equal(t.pool, v3PoolAddress(d.v3!.factory, d.v3!.initCodeHash, t.tokenIn as Address, t.tokenOut as Address, t.fee).toLowerCase(), 'the router swaps on the pool the plan priced');
    }

    // The searcher: a funded dev account; it approves the V3 router first (in an earlier block).
    const searcher = privateKeyToAddress(ANVIL_KEYS[6]!);
    const tokens = [...new Set(best.tokenPath)];
    const approvals = await mineBlock(url, searcher, tokens.map((t) => ({ to: t, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'approve', args: [d.v3!.router, maxUint256] }) })));
    assert.ok(approvals.every((r) => r.status === '0x1'));
    const before = await Promise.all(tokens.map((t) => balanceOf(url, t, searcher)));
    const calls = best.plan.map((t) => encodeStep(t, searcher)).filter((c): c is { to: string; data: Hex } => c !== null);
    const receipts = await mineBlock(url, searcher, calls);
    receipts.forEach((r, i) => assert.equal(r.status, '0x1', `plan step ${i} (${best.plan[i]!.kind}) reverted`));
    assert.equal(new Set(receipts.map((r) => r.blockNumber)).size, 1, 'the whole plan lands in one block');
    const afterBal = await Promise.all(tokens.map((t) => balanceOf(url, t, searcher)));
    tokens.forEach((t, i) => {
      const delta = afterBal[i]! - before[i]!;
      if (t === weth) assert.equal(delta, best.profit.gross, 'realized WETH gain equals the predicted gross to the wei');
      else assert.equal(delta, 0n, `intermediate token ${t} nets to zero`);
    });
    assert.ok(best.profit.gross > 0n);
    console.log(`# backrun: ${best.tokenPath.length - 1} hops, in ${best.amountIn} wei, gross ${best.profit.gross} wei`);
  });
});
