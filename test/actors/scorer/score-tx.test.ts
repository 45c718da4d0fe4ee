import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getAmountIn, getAmountOut } from '../../../src/actors/scorer/pools/v2-math.js';
import { V2PoolRegistry } from '../../../src/actors/scorer/pools/v2-pool-registry.js';
import { MAX_TICK, MIN_TICK, getSqrtRatioAtTick } from '../../../src/actors/scorer/pools/v3-math/tick-math.js';
import { quoteExactInput, quoteExactOutput } from '../../../src/actors/scorer/pools/v3-math/v3-swap.js';
import { V3PoolRegistry } from '../../../src/actors/scorer/pools/v3-pool-registry.js';
import { GAS_ESTIMATE, ScoringCore, effectiveTip, gasCostWei } from '../../../src/actors/scorer/score-tx.js';
import { DEFAULT_SCORER_CONFIG, type ScorerConfig } from '../../../src/actors/scorer/scorer-config.js';
import { nextBaseFee } from '../../../src/actors/base-fee.js';
import type { BlockEvent, DecodedTx, SimulatedTx, SwapLeg } from '../../../src/messages/schema.js';

const E18 = 10n ** 18n;
const GWEI = 10n ** 9n;
const addr = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`;
const WETH = addr(0xeeee);
const TKA = addr(0x1001);
const TKB = addr(0x1002);
const FACTORIES = [addr(0xf1), addr(0xf2)];
const ROUTERS = [addr(0xa1), addr(0xa2)];
const V3_ROUTER = addr(0xa3);

const CONFIG: ScorerConfig = {
  ...DEFAULT_SCORER_CONFIG,
  weth: WETH,
  v2Factories: FACTORIES.map((f, i) => ({ address: f, feeBps: 30, router: ROUTERS[i]! })),
  searcher: addr(0x5ea),
};

const HEAD: BlockEvent = {
  number: 100, hash: `0x${'ab'.repeat(32)}`, parentHash: `0x${'cd'.repeat(32)}`, timestamp: 1_800_000_000, baseFeePerGas: GWEI,
  gasLimit: 30_000_000n, gasUsed: 15_000_000n, miner: addr(0xc0), prevRandao: `0x${'00'.repeat(32)}`, excessBlobGas: 0n, reorg: false,
};

/**
 * Two venues: WETH/TKA (3000 TKA per WETH) on both, skewed 1 % apart; TKA/TKB and WETH/TKB on the
 * first. Pool addresses: 0x10 WETH/TKA venue 0, 0x11 WETH/TKA venue 1, 0x12 TKA/TKB, 0x13 WETH/TKB,
 * 0x14 WETH/TKB with empty reserves.
 */
function registry(): V2PoolRegistry {
  const r = new V2PoolRegistry();
  const add = (n: number, a: string, b: string, ra: bigint, rb: bigint, f: number) => {
    const [t0, t1, r0, r1] = a < b ? [a, b, ra, rb] : [b, a, rb, ra];
    r.add({ address: addr(n), token0: t0, token1: t1, reserve0: r0, reserve1: r1, feeBps: 30n, factory: FACTORIES[f]! });
  };
  add(0x10, WETH, TKA, 1000n * E18, 3_000_000n * E18, 0);
  add(0x11, WETH, TKA, 500n * E18, 1_515_000n * E18, 1);
  add(0x12, TKA, TKB, 2_000_000n * E18, 1_000_000n * E18, 0);
  add(0x13, WETH, TKB, 800n * E18, 1_200_000n * E18, 0);
  add(0x14, WETH, TKB, 0n, 0n, 1);
  return r;
}

function leg(fields: Partial<SwapLeg>): SwapLeg {
  return {
    protocol: 'uniswap-v2', exact: 'in', path: [WETH, TKA], fees: [], pools: [addr(0x10)], amountIn: 10n * E18, amountInMax: null, amountOut: null,
    amountOutMin: 1n, recipient: addr(0xbeef), deadline: null, ethIn: false, ethOut: false, feeOnTransfer: false, ...fields,
  };
}

function victim(legs: SwapLeg[], tip = 2n * GWEI, hash = `0x${'11'.repeat(32)}`): DecodedTx {
  return {
    hash, type: 2, chainId: 1n, nonce: 0n, from: addr(0xbeef), to: ROUTERS[0]!, value: 0n, gas: 300_000n, gasPrice: null,
    maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: tip, maxFeePerBlobGas: null, input: new Uint8Array(0), accessList: [], blobVersionedHashes: null,
    authorizationList: null, v: 0n, r: 1n, s: 1n, size: 200, raw: new Uint8Array(0), firstSeenNs: 1, source: 0, hashMismatch: false,
    intent: { router: ROUTERS[0]!, kind: 'v2-router02', method: 'swapExactTokensForTokens', legs },
  };
}

/** Reserves of `pool` ordered (in, out) for selling `token`. */
function dir(r: V2PoolRegistry, pool: string, token: string): [bigint, bigint] {
  const p = r.get(pool)!;
  return p.token0 === token ? [p.reserve0, p.reserve1] : [p.reserve1, p.reserve0];
}

describe('ScoringCore', () => {
  it('behavior: exact-in, exact-out and multi-hop victim effects equal the V2 math', () => {
    const r = registry();
    const core = new ScoringCore(r, CONFIG);
    // Exact in, one hop.
    const [wIn, aOut] = dir(r, addr(0x10), WETH);
    const out = getAmountOut(10n * E18, wIn, aOut)!;
    const e1 = core.effects(victim([leg({})]));
    assert.equal(e1.skip, null);
    const p1 = e1.v2.get(addr(0x10))!;
    assert.deepEqual(WETH < TKA ? [p1.reserve0, p1.reserve1] : [p1.reserve1, p1.reserve0], [wIn + 10n * E18, aOut - out]);
    assert.equal(r.get(addr(0x10))!.reserve0, WETH < TKA ? wIn : aOut, 'the registry is not changed');
    // Exact out, one hop: the router charges getAmountIn.
    const need = getAmountIn(5000n * E18, wIn, aOut)!;
    const e2 = core.effects(victim([leg({ exact: 'out', amountIn: null, amountOutMin: null, amountOut: 5000n * E18, amountInMax: need })]));
    assert.equal(e2.skip, null);
    const p2 = e2.v2.get(addr(0x10))!;
    assert.deepEqual(WETH < TKA ? [p2.reserve0, p2.reserve1] : [p2.reserve1, p2.reserve0], [wIn + need, aOut - 5000n * E18]);
    // Multi-hop WETH → TKA → TKB: each hop's output feeds the next.
    const [aIn2, bOut2] = dir(r, addr(0x12), TKA);
    const mid = out;
    const last = getAmountOut(mid, aIn2, bOut2)!;
    const e3 = core.effects(victim([leg({ path: [WETH, TKA, TKB], pools: [addr(0x10), addr(0x12)] })]));
    assert.equal(e3.skip, null);
    const p3 = e3.v2.get(addr(0x12))!;
    assert.deepEqual(TKA < TKB ? [p3.reserve0, p3.reserve1] : [p3.reserve1, p3.reserve0], [aIn2 + mid, bOut2 - last]);
  });

  it('behavior: the same inputs give the same opportunities, ids and order', () => {
    const core = new ScoringCore(registry(), CONFIG);
    const tx = victim([leg({ amountOutMin: 25_000n * E18 })]);
    const a = core.score(tx, null, HEAD, 7);
    const b = new ScoringCore(registry(), CONFIG).score(tx, null, HEAD, 7);
    assert.equal(a.skip, null);
    assert.ok(a.opportunities.length >= 2, `sandwich and backrun: ${a.opportunities.map((o) => o.kind)}`);
    assert.deepEqual(a.opportunities.map((o) => o.id), b.opportunities.map((o) => o.id));
    assert.deepEqual(a.opportunities.map((o) => o.profit), b.opportunities.map((o) => o.profit));
    for (let i = 1; i < a.opportunities.length; i++) assert.ok(a.opportunities[i - 1]!.profit.netWei >= a.opportunities[i]!.profit.netWei, 'ranked by net');
    assert.deepEqual(core.score(tx, null, HEAD, 7).opportunities.map((o) => o.id), a.opportunities.map((o) => o.id), 'a second call on the same core');
  });

  it('error: skips name their reason', () => {
    const core = new ScoringCore(registry(), CONFIG);
    assert.equal(core.score(victim([leg({})]), null, null, 0).skip, 'no-head');
    const unknown = core.score(victim([leg({ pools: [addr(0x99)] })]), null, HEAD, 0);
    assert.equal(unknown.skip, 'pool-unknown');
    assert.deepEqual(unknown.unknownPools, [addr(0x99)]);
    // Slippage too tight: the victim's own amountOutMin is above what the pool gives.
    const [wIn, aOut] = dir(registry(), addr(0x10), WETH);
    const exact = getAmountOut(10n * E18, wIn, aOut)!;
    assert.equal(core.score(victim([leg({ amountOutMin: exact + 1n })]), null, HEAD, 0).skip, 'would-revert');
    assert.equal(core.score(victim([leg({ path: [WETH, TKB], pools: [addr(0x14)] })]), null, HEAD, 0).skip, 'would-revert', 'zero reserves');
    assert.equal(core.score(victim([leg({ feeOnTransfer: true })]), null, HEAD, 0).skip, 'fee-on-transfer');
    assert.equal(core.score(victim([leg({ amountIn: null })]), null, HEAD, 0).skip, 'amount-unknown');
    assert.equal(core.score({ ...victim([]), intent: null }, null, HEAD, 0).skip, 'no-intent');
    assert.equal(core.score({ ...victim([leg({})]), from: addr(0x5ea) }, null, HEAD, 0).skip, 'own-tx', "the searcher's own sends are not victims");
    assert.equal(core.score(victim([leg({ protocol: 'uniswap-v3', fees: [3000] })]), null, HEAD, 0).skip, 'v3-leg', 'no V3 registry');
    const sim = { tx: victim([]), block: 100, status: 'revert', gasUsed: 0n, logs: [], revertReason: null, error: null, pools: [], balanceChanges: [], simulatedNs: 0 } as SimulatedTx;
    assert.equal(core.score(sim.tx, sim, HEAD, 0).skip, 'reverted');
  });

  it('behavior: pricing: gas cost = Σ gasUsed × (baseFee + tip); front-run tips above the victim, back-runs below', () => {
    const core = new ScoringCore(registry(), CONFIG);
    const tx = victim([leg({ amountOutMin: 25_000n * E18 })], 3n * GWEI);
    const r = core.score(tx, null, HEAD, 0);
    const baseFee = nextBaseFee(HEAD);
    const tip = effectiveTip(tx, baseFee);
    assert.equal(tip, 3n * GWEI);
    const sandwich = r.opportunities.find((o) => o.kind === 'v2-sandwich')!;
    const backrun = r.opportunities.find((o) => o.kind === 'backrun-arbitrage')!;
    assert.ok(sandwich && backrun);
    for (const o of [sandwich, backrun]) {
      assert.equal(o.baseFee, baseFee);
      let sum = 0n;
      o.plan.forEach((s, i) => {
        const g = o.gas[i];
        if (s.kind === 'victim') return assert.equal(g, null);
        assert.equal(g!.gasUsed, GAS_ESTIMATE[s.kind]);
        sum += g!.gasUsed * (baseFee + g!.priorityFee);
      });
      assert.equal(gasCostWei(o), sum);
      assert.equal(o.profit.gasCostWei, sum);
      assert.equal(o.profit.netWei, o.profit.grossWei - sum);
    }
    const vi = sandwich.plan.findIndex((s) => s.kind === 'victim');
    assert.ok(sandwich.gas[vi - 1]!.priorityFee > tip, 'front-run tip above the victim');
    assert.ok(sandwich.gas[vi + 1]!.priorityFee < tip, 'back-run tip below the victim');
    for (const g of backrun.gas) if (g !== null) assert.ok(g.priorityFee < tip, 'backrun steps below the victim');
  });

  it('behavior: a V3 victim moves a copy of its pool with the exact V3 math, and a V2↔V3 backrun follows', () => {
    const r = registry();
    const v3 = new V3PoolRegistry();
    // WETH/TKA at ~3000 TKA per WETH, full-range liquidity, every tick known.
    const [t0, t1] = WETH < TKA ? [WETH, TKA] : [TKA, WETH];
    const price = t0 === WETH ? 3000 : 1 / 3000;
    const tick = Math.floor(Math.log(price) / Math.log(1.0001));
    const lo = Math.ceil(MIN_TICK / 60) * 60;
    const hi = Math.floor(MAX_TICK / 60) * 60;
    const L = 50_000n * E18;
    const pool = v3.add({
      address: addr(0x30), token0: t0, token1: t1, fee: 3000, tickSpacing: 60, sqrtPriceX96: getSqrtRatioAtTick(tick), tick, liquidity: L,
      ticks: [{ tick: lo, liquidityNet: L, liquidityGross: L }, { tick: hi, liquidityNet: -L, liquidityGross: L }], tickLo: MIN_TICK, tickHi: MAX_TICK,
    });
    const core = new ScoringCore(r, CONFIG, v3, new Map([[pool.address, V3_ROUTER]]));
    const zeroForOne = t0 === WETH;
    const q = quoteExactInput(pool, zeroForOne, 20n * E18);
    const v3Leg = leg({ protocol: 'uniswap-v3', fees: [3000], pools: [pool.address], amountIn: 20n * E18, amountOutMin: q.amountOut });
    const e = core.effects(victim([v3Leg]));
    assert.equal(e.skip, null);
    const moved = e.v3.get(pool.address)!;
    assert.equal(moved.sqrtPriceX96, q.sqrtPriceX96After);
    assert.equal(moved.tick, q.tickAfter);
    assert.equal(v3.get(pool.address)!.sqrtPriceX96, getSqrtRatioAtTick(tick), 'the registry is not changed');
    assert.equal(core.effects(victim([{ ...v3Leg, amountOutMin: q.amountOut + 1n }])).skip, 'would-revert');
    // Exact out: the input the pool asks for.
    const qo = quoteExactOutput(pool, zeroForOne, 1000n * E18);
    const eo = core.effects(victim([leg({ protocol: 'uniswap-v3', exact: 'out', fees: [3000], pools: [pool.address], amountIn: null, amountOutMin: null, amountOut: 1000n * E18, amountInMax: qo.amountIn })]));
    assert.equal(eo.skip, null);
    assert.equal(eo.v3.get(pool.address)!.sqrtPriceX96, qo.sqrtPriceX96After);
    // A simulated V3 touch moves price, tick and liquidity.
    const sim = { tx: victim([]), block: 100, status: 'success', gasUsed: 0n, logs: [], revertReason: null, error: null, balanceChanges: [], simulatedNs: 0,
      pools: [{ address: pool.address, protocol: 'uniswap-v3', before: [], after: [q.sqrtPriceX96After, BigInt(q.tickAfter), L] }] } as SimulatedTx;
    const es = core.effects(sim.tx, sim);
    assert.equal(es.v3.get(pool.address)!.sqrtPriceX96, q.sqrtPriceX96After);
    // WETH bought TKA on V3 only: V3 now prices TKA above the V2 venues, and the backrun crosses it.
    const res = core.score(victim([v3Leg]), null, HEAD, 0);
    assert.equal(res.skip, null);
    const b = res.opportunities.find((o) => o.kind === 'backrun-arbitrage')!;
    assert.ok(b.pools.includes(pool.address));
    assert.ok(b.plan.some((s) => s.kind === 'v3-router-exact-input-single' && s.router === V3_ROUTER));
  });
});
