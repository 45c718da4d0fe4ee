import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WETH_PRICE } from '../../../../src/actors/scorer/opportunity.js';
import { getAmountOut, pairSwapRevert, swapExactIn, type V2PairState } from '../../../../src/actors/scorer/pools/v2-math.js';
import { bestCycle, bigintSqrt, cycleOut, planV2Arbitrage, sizeCycle, type V2Hop } from '../../../../src/actors/scorer/strategies/v2-arbitrage.js';
import { mulberry32 } from '../../../../src/runtime/prng.js';

const E18 = 10n ** 18n;
const E6 = 10n ** 6n;
const WETH = `0x${'c0'.repeat(20)}`;
const USDC = `0x${'a0'.repeat(20)}`;
const DAI = `0x${'6b'.repeat(20)}`;
const addr = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`;

function pair(n: number, token0: string, token1: string, reserve0: bigint, reserve1: bigint, feeBps = 30n): V2PairState {
  return { address: addr(n), token0, token1, reserve0, reserve1, feeBps };
}

/** Exact step simulation on copies of the pairs, checking each pair's own swap conditions. */
function simulate(hops: readonly V2Hop[], x: bigint): bigint | null {
  let amt = x;
  for (const h of hops) {
    const p = { ...h.pair };
    const [r0, r1] = [p.reserve0, p.reserve1];
    const out = swapExactIn(p, h.zeroForOne, amt);
    if (out === null) return null;
    const revert = h.zeroForOne ? pairSwapRevert(r0, r1, amt, 0n, 0n, out, p.feeBps) : pairSwapRevert(r0, r1, 0n, amt, out, 0n, p.feeBps);
    if (revert !== null) return null;
    amt = out;
  }
  return amt - x;
}

/** Scales `r` by a float factor in parts per million. */
const scale = (r: bigint, f: number): bigint => (r * BigInt(Math.round(f * 1e6))) / 1_000_000n;

function checkOptimal(hops: readonly V2Hop[], k: number): { amountIn: bigint; gross: bigint; far: number } | null {
  const size = sizeCycle(hops);
  if (size === null) return null;
  assert.equal(simulate(hops, size.amountIn), size.gross, `case ${k}: predicted gross equals the exact simulation`);
  assert.equal(cycleOut(hops, size.amountIn), size.amountOut);
  for (let d = 1n; d <= 8n; d++) {
    for (const x of [size.amountIn + d, size.amountIn - d]) {
      const g = simulate(hops, x);
      assert.ok(g === null || g <= size.gross, `case ${k}: input ${x} (Δ${x - size.amountIn}) pays ${g} > ${size.gross}`);
    }
  }
  let far = 0;
  for (const d of [100n, 10_000n, size.amountIn / 1000n + 1n, size.amountIn / 10n + 1n]) {
    for (const x of [size.amountIn + d, size.amountIn - d]) {
      const g = simulate(hops, x);
      if (g !== null && g > size.gross) {
        far++;
        assert.ok(g - size.gross <= size.gross / 1_000_000n + 2n, `case ${k}: Δ${x - size.amountIn} pays materially more`);
      }
    }
  }
  return { amountIn: size.amountIn, gross: size.gross, far };
}

describe('v2-arbitrage', () => {
  it('behavior: 2-pool cycles, 300 seeded setups: profit = exact simulation, no better neighbour', () => {
    const rnd = mulberry32(4242);
    let found = 0;
    let far = 0;
    for (let k = 0; k < 300; k++) {
      const units = [E18, E6, 10n ** 8n];
      const u0 = units[Math.floor(rnd() * 3)]!;
      const u1 = units[Math.floor(rnd() * 3)]!;
      const r0 = scale(u0, 10 + rnd() * 1e6);
      const r1 = scale(u1, 10 + rnd() * 1e6);
      // Second pool: another depth and a price off by up to ±5 %.
      const depth = 0.05 + rnd() * 5;
      const skew = 1 + (rnd() - 0.5) * 0.1;
      const fee = [30n, 30n, 25n][Math.floor(rnd() * 3)]!;
      const a = pair(1, USDC, WETH, r0, r1);
      const b = pair(2, USDC, WETH, scale(r0, depth), scale(r1, depth * skew), fee);
      for (const zeroForOne of [true, false]) {
        const r = checkOptimal([{ pair: a, zeroForOne }, { pair: b, zeroForOne: !zeroForOne }], k);
        if (r !== null) {
          found++;
          far += r.far;
        }
      }
    }
    process.stderr.write(`arbitrage 2-pool: ${found} profitable directions of 600, ${far} far neighbours paying more\n`);
    assert.ok(found >= 200, `most skewed setups pay in one direction (${found})`);
    assert.ok(far <= 8);
  });

  it('behavior: 3-hop triangles, 200 seeded setups: profit = exact simulation, no better neighbour', () => {
    const rnd = mulberry32(777);
    let found = 0;
    for (let k = 0; k < 200; k++) {
      // WETH = 3000 USDC, DAI = 1 USDC, each pool skewed by up to ±3 %.
      const d = () => 1 + (rnd() - 0.5) * 0.06;
      const weth = 10 + rnd() * 5000;
      const p1 = pair(1, USDC, WETH, scale(E6, weth * 3000 * d()), scale(E18, weth));
      const p2 = pair(2, USDC, DAI, scale(E6, weth * 2000 * d()), scale(E18, weth * 2000));
      const p3 = pair(3, DAI, WETH, scale(E18, weth * 1000 * 3000 * d()), scale(E18, weth * 1000));
      const r = bestCycle([p1, p2, p3], WETH);
      if (r === null) continue;
      found++;
      assert.equal(r.tokenPath.length, 4);
      assert.equal(r.tokenPath[0], WETH);
      assert.equal(r.tokenPath[3], WETH);
      const checked = checkOptimal(r.hops, k);
      assert.ok(checked);
      assert.equal(checked.gross, r.gross);
    }
    process.stderr.write(`arbitrage 3-hop: ${found}/200 profitable\n`);
    assert.ok(found >= 100);
  });

  it('behavior: no opportunity when prices agree within fees', () => {
    const a = pair(1, USDC, WETH, 3_000_000n * E6, 1000n * E18);
    // Same price; then 0.5 % apart, inside the 0.6 % round-trip fee.
    assert.equal(bestCycle([a, pair(2, USDC, WETH, 6_000_000n * E6, 2000n * E18)], WETH), null);
    assert.equal(bestCycle([a, pair(2, USDC, WETH, 3_015_000n * E6, 1000n * E18)], WETH), null);
    assert.equal(bestCycle([a, pair(2, USDC, WETH, 3_015_000n * E6, 1000n * E18)], USDC), null);
    // 2 % apart pays.
    assert.ok(bestCycle([a, pair(2, USDC, WETH, 3_060_000n * E6, 1000n * E18)], WETH));
  });

  it('default: planV2Arbitrage: transfer then one swap per pair, exact outputs, deterministic id', () => {
    const a = pair(1, USDC, WETH, 3_000_000n * E6, 1000n * E18);
    const b = pair(2, USDC, WETH, 3_100_000n * E6, 1000n * E18);
    const ctx = { gasUnits: 180_000n, gasPrice: 10n ** 9n, price: WETH_PRICE, targetBlock: 7, victimHashes: [`0x${'11'.repeat(32)}`], firstSeenNs: 1, nowNs: 2 };
    const o = planV2Arbitrage([a, b], WETH, ctx);
    assert.ok(o);
    assert.equal(o.kind, 'backrun-arbitrage');
    assert.deepEqual(o.plan.map((t) => t.kind), ['victim', 'erc20-transfer', 'v2-pair-swap', 'v2-pair-swap']);
    // WETH is token1 of both: sell WETH into the richer-in-USDC pool b, buy it back in a.
    assert.deepEqual(o.pools, [b.address, a.address]);
    const s1 = o.plan[2]!;
    const s2 = o.plan[3]!;
    assert.ok(s1.kind === 'v2-pair-swap' && s2.kind === 'v2-pair-swap');
    assert.equal(s1.to, a.address);
    assert.equal(s2.to, null);
    const mid = getAmountOut(o.amountIn, b.reserve1, b.reserve0)!;
    assert.equal(s1.amount0Out, mid);
    assert.equal(s2.amount1Out, getAmountOut(mid, a.reserve0, a.reserve1));
    assert.equal(o.profit.net, o.profit.gross - 180_000n * 10n ** 9n);
    assert.equal(planV2Arbitrage([a, b], WETH, ctx)!.id, o.id);
    assert.equal(planV2Arbitrage([a, b], WETH, { ...ctx, gasUnits: 10n ** 12n }), null);
  });

  it('args: bigintSqrt is the exact floor square root', () => {
    const rnd = mulberry32(3);
    for (let k = 0; k < 500; k++) {
      const n = BigInt(Math.floor(rnd() * 2 ** 52)) * BigInt(Math.floor(rnd() * 2 ** 52)) ** BigInt(1 + (k % 4));
      const r = bigintSqrt(n);
      assert.ok(r * r <= n && (r + 1n) * (r + 1n) > n);
    }
    assert.equal(bigintSqrt(0n), 0n);
    assert.equal(bigintSqrt(3n), 1n);
    assert.throws(() => bigintSqrt(-1n), RangeError);
  });

  it('error: pairs that do not form a cycle through the start token give null', () => {
    const a = pair(1, USDC, WETH, 3_000_000n * E6, 1000n * E18);
    assert.equal(bestCycle([a, pair(2, USDC, DAI, 10n * E6, 10n * E18)], WETH), null);
    assert.equal(bestCycle([a, pair(2, USDC, WETH, 0n, 0n)], WETH), null);
  });
});
