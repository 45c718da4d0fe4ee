import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WETH_PRICE } from '../../../../src/actors/scorer/opportunity.js';
import { getAmountIn, getAmountOut, minAmountIn, pairSwapRevert, type V2PairState } from '../../../../src/actors/scorer/pools/v2-math.js';
import { firstHopBound, planV2Sandwich, sizeSandwich, type SandwichVictimHop } from '../../../../src/actors/scorer/strategies/v2-sandwich.js';
import type { DecodedTx, SwapLeg } from '../../../../src/messages/schema.js';
import { mulberry32 } from '../../../../src/runtime/prng.js';

const E18 = 10n ** 18n;
const WETH = `0x${'c0'.repeat(20)}`;
const USDC = `0x${'a0'.repeat(20)}`;
const DAI = `0x${'6b'.repeat(20)}`;
const ROUTER = `0x${'7a'.repeat(20)}`;

/**
 * Step-by-step simulation of front-run `x` → victim → back-run (sell all of the front-run output),
 * independent of the strategy's search: each step checks the pair's own swap conditions. Returns
 * null when any step reverts or the victim's bound fails.
 */
function simulate(rIn: bigint, rOut: bigint, fee: bigint, v: SandwichVictimHop, x: bigint): { gross: bigint; victimOut: bigint; victimIn: bigint } | null {
  if (x <= 0n) return null;
  const a = getAmountOut(x, rIn, rOut, fee);
  if (a === null || pairSwapRevert(rIn, rOut, x, 0n, 0n, a, fee) !== null) return null;
  rIn += x;
  rOut -= a;
  let vin: bigint;
  let vout: bigint;
  if (v.exact === 'in') {
    vin = v.amountIn;
    const o = getAmountOut(vin, rIn, rOut, fee);
    if (o === null || o < v.amountOutMin || pairSwapRevert(rIn, rOut, vin, 0n, 0n, o, fee) !== null) return null;
    vout = o;
  } else {
    vout = v.amountOut;
    const i = getAmountIn(vout, rIn, rOut, fee);
    if (i === null || i > v.amountInMax || pairSwapRevert(rIn, rOut, i, 0n, 0n, vout, fee) !== null) return null;
    vin = i;
  }
  rIn += vin;
  rOut -= vout;
  const b = getAmountOut(a, rOut, rIn, fee);
  if (b === null || pairSwapRevert(rOut, rIn, a, 0n, 0n, b, fee) !== null) return null;
  return { gross: b - x, victimOut: vout, victimIn: vin };
}

interface Setup {
  rIn: bigint;
  rOut: bigint;
  fee: bigint;
  victim: SandwichVictimHop;
}

/** Random pools across token decimals (18/6/8) and sizes, victims of 0.01–5 % of the pool, slippage 0.1–10 %. */
function randomSetup(rnd: () => number): Setup {
  const dec = [E18, 10n ** 6n, 10n ** 8n];
  const unitIn = dec[Math.floor(rnd() * 3)]!;
  const unitOut = dec[Math.floor(rnd() * 3)]!;
  const rIn = BigInt(Math.floor((10 + rnd() * 1e6) * 1e6)) * unitIn / 1_000_000n;
  const rOut = BigInt(Math.floor((10 + rnd() * 1e6) * 1e6)) * unitOut / 1_000_000n;
  const fee = [30n, 30n, 25n, 100n][Math.floor(rnd() * 4)]!;
  const share = 0.0001 + rnd() * 0.05;
  const slip = 0.001 + rnd() * 0.1;
  if (rnd() < 0.7) {
    const amountIn = BigInt(Math.floor(Number(rIn) * share)) + 1n;
    const out = getAmountOut(amountIn, rIn, rOut, fee) ?? 0n;
    const amountOutMin = (out * BigInt(Math.floor((1 - slip) * 1e6))) / 1_000_000n;
    return { rIn, rOut, fee, victim: { exact: 'in', amountIn, amountOutMin, amountOut: 0n, amountInMax: 0n } };
  }
  const amountOut = BigInt(Math.floor(Number(rOut) * share)) + 1n;
  const need = getAmountIn(amountOut, rIn, rOut, fee) ?? 0n;
  const amountInMax = (need * BigInt(Math.floor((1 + slip) * 1e6))) / 1_000_000n;
  return { rIn, rOut, fee, victim: { exact: 'out', amountIn: 0n, amountOutMin: 0n, amountOut, amountInMax } };
}

function pair(address: string, token0: string, token1: string, reserve0: bigint, reserve1: bigint): V2PairState {
  return { address, token0, token1, reserve0, reserve1, feeBps: 30n };
}

function victimTx(leg: SwapLeg, value = 0n): DecodedTx {
  return {
    hash: `0x${'11'.repeat(32)}`, type: 2, chainId: 1n, nonce: 0n, from: `0x${'22'.repeat(20)}`, to: ROUTER, value, gas: 200000n,
    gasPrice: null, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n, maxFeePerBlobGas: null, input: new Uint8Array(), accessList: [],
    blobVersionedHashes: null, authorizationList: null, v: 0n, r: 1n, s: 1n, size: 100, raw: new Uint8Array(), firstSeenNs: 5, source: 0,
    hashMismatch: false, intent: { router: ROUTER, kind: 'v2-router02', method: 'swapExactTokensForTokens', legs: [leg] },
  };
}

function leg(fields: Partial<SwapLeg>): SwapLeg {
  return {
    protocol: 'uniswap-v2', exact: 'in', path: [WETH, USDC], fees: [], pools: [], amountIn: null, amountInMax: null, amountOut: null, amountOutMin: null,
    recipient: null, deadline: null, ethIn: false, ethOut: false, feeOnTransfer: false, ...fields,
  };
}

const CTX = { router: ROUTER, gasUnits: 250_000n, gasPrice: 10n ** 9n, price: WETH_PRICE, targetBlock: 100, nowNs: 9 };

describe('sizeSandwich', () => {
  it('behavior: 400 seeded setups: predicted = exact simulation, victim within bound, no better neighbour', () => {
    const rnd = mulberry32(20240601);
    let sized = 0;
    let farBetter = 0;
    for (let k = 0; k < 400; k++) {
      const s = randomSetup(rnd);
      const size = sizeSandwich(s.rIn, s.rOut, s.fee, s.victim);
      if (size === null) continue;
      sized++;
      const sim = simulate(s.rIn, s.rOut, s.fee, s.victim, size.frontIn);
      assert.ok(sim, `setup ${k}: the planned front-run must simulate`);
      assert.equal(sim.gross, size.gross, `setup ${k}: predicted gross equals the exact simulation`);
      assert.equal(sim.victimOut, size.victimOut);
      assert.equal(sim.victimIn, size.victimIn);
      if (s.victim.exact === 'in') assert.ok(size.victimOut >= s.victim.amountOutMin);
      else assert.ok(size.victimIn <= s.victim.amountInMax);
      // Local optimality: ±1 … ±8 wei either break the victim's bound or do not pay more.
      for (let d = 1n; d <= 8n; d++) {
        for (const x of [size.frontIn + d, size.frontIn - d]) {
          const n = simulate(s.rIn, s.rOut, s.fee, s.victim, x);
          assert.ok(n === null || n.gross <= size.gross, `setup ${k}: front-run ${x} (Δ${x - size.frontIn}) pays ${n?.gross} > ${size.gross}`);
        }
      }
      // Far deltas: counted (a floor elsewhere may pay a wei more far away; see report), and bounded.
      for (const d of [100n, 10_000n, size.frontIn / 1000n + 1n, size.frontIn / 10n + 1n]) {
        for (const x of [size.frontIn + d, size.frontIn - d]) {
          const n = simulate(s.rIn, s.rOut, s.fee, s.victim, x);
          if (n !== null && n.gross > size.gross) {
            farBetter++;
            assert.ok(n.gross - size.gross <= size.gross / 1_000_000n + 2n, `setup ${k}: Δ${x - size.frontIn} pays materially more`);
          }
        }
      }
    }
    process.stderr.write(`sandwich: ${sized}/400 sized, ${farBetter} far neighbours paying more\n`);
    assert.ok(sized >= 300, `most setups can be sandwiched (${sized}/400)`);
    assert.ok(farBetter <= 8, `far neighbours paying more: ${farBetter}`);
  });

  it('behavior: a binding bound: front-run + 1 does not pay more, and buying one more unit breaks the victim', () => {
    // Victim with 1 % slippage in a deep pool: the bound binds, so the answer sits on it.
    const rIn = 1000n * E18;
    const rOut = 2_000_000n * 10n ** 6n;
    const amountIn = 10n * E18;
    const out = getAmountOut(amountIn, rIn, rOut)!;
    const v: SandwichVictimHop = { exact: 'in', amountIn, amountOutMin: (out * 99n) / 100n, amountOut: 0n, amountInMax: 0n };
    const size = sizeSandwich(rIn, rOut, 30n, v)!;
    assert.ok(size);
    // Every larger front-run buying the same output pays less; the least one buying more breaks the bound.
    const next = minAmountIn(size.frontOut + 1n, rIn, rOut)!;
    assert.equal(simulate(rIn, rOut, 30n, v, next), null);
    const up = simulate(rIn, rOut, 30n, v, size.frontIn + 1n);
    assert.ok(up === null || up.gross < size.gross);
  });

  it('error: a victim already outside its bound, zero reserves, and zero slippage give null', () => {
    const v: SandwichVictimHop = { exact: 'in', amountIn: E18, amountOutMin: 2n * E18, amountOut: 0n, amountInMax: 0n };
    assert.equal(sizeSandwich(100n * E18, 100n * E18, 30n, v), null);
    assert.equal(sizeSandwich(0n, 100n * E18, 30n, { ...v, amountOutMin: 1n }), null);
    const exact = getAmountOut(E18, 100n * E18, 100n * E18)!;
    assert.equal(sizeSandwich(100n * E18, 100n * E18, 30n, { ...v, amountOutMin: exact }), null);
  });
});

describe('planV2Sandwich', () => {
  it('default: plan is [front-run, victim, back-run] with exact amounts and net = gross - gas', () => {
    const p = pair(`0x${'01'.repeat(20)}`, USDC, WETH, 3_000_000n * 10n ** 6n, 1000n * E18);
    const l = leg({ amountIn: 20n * E18, amountOutMin: 58_000n * 10n ** 6n });
    const o = planV2Sandwich(victimTx(l), [p], CTX);
    assert.ok(o);
    assert.equal(o.kind, 'v2-sandwich');
    assert.deepEqual(o.plan.map((t) => t.kind), ['v2-router-exact-in', 'victim', 'v2-router-exact-in']);
    const size = sizeSandwich(1000n * E18, 3_000_000n * 10n ** 6n, 30n, firstHopBound(l, l.amountIn, 0n, [p])!)!;
    assert.equal(o.amountIn, size.frontIn);
    assert.equal(o.profit.gross, size.gross);
    assert.equal(o.profit.gasCostWei, 250_000n * 10n ** 9n);
    assert.equal(o.profit.net, size.gross - 250_000n * 10n ** 9n);
    assert.deepEqual(o.tokenPath, [WETH, USDC, WETH]);
    assert.equal(o.timings.firstSeenNs, 5);
    // Same input, same id.
    assert.equal(planV2Sandwich(victimTx(l), [p], CTX)!.id, o.id);
  });

  it('behavior: multi-hop victim: the first hop is sandwiched against the bound carried back from later hops', () => {
    const p1 = pair(`0x${'01'.repeat(20)}`, USDC, WETH, 3_000_000n * 10n ** 6n, 1000n * E18);
    const p2 = pair(`0x${'02'.repeat(20)}`, USDC, DAI, 5_000_000n * 10n ** 6n, 5_000_000n * E18);
    const amountIn = 20n * E18;
    const mid = getAmountOut(amountIn, 1000n * E18, 3_000_000n * 10n ** 6n)!;
    const fin = getAmountOut(mid, 5_000_000n * 10n ** 6n, 5_000_000n * E18)!;
    const l = leg({ path: [WETH, USDC, DAI], amountIn, amountOutMin: (fin * 98n) / 100n });
    const o = planV2Sandwich(victimTx(l), [p1, p2], CTX);
    assert.ok(o);
    const front = o.plan[0]!;
    assert.ok(front.kind === 'v2-router-exact-in');
    // Replay: after the front-run, the victim's whole path still meets amountOutMin.
    const a = getAmountOut(front.amountIn, 1000n * E18, 3_000_000n * 10n ** 6n)!;
    const vMid = getAmountOut(amountIn, 1000n * E18 + front.amountIn, 3_000_000n * 10n ** 6n - a)!;
    assert.ok(getAmountOut(vMid, 5_000_000n * 10n ** 6n, 5_000_000n * E18)! >= l.amountOutMin!);
  });

  it('behavior: ETH-in exact-out victim takes amountInMax from value', () => {
    const p = pair(`0x${'01'.repeat(20)}`, USDC, WETH, 3_000_000n * 10n ** 6n, 1000n * E18);
    const amountOut = 30_000n * 10n ** 6n;
    const need = getAmountIn(amountOut, 1000n * E18, 3_000_000n * 10n ** 6n)!;
    const l = leg({ exact: 'out', ethIn: true, amountOut });
    const o = planV2Sandwich(victimTx(l, (need * 103n) / 100n), [p], CTX);
    assert.ok(o);
    assert.ok(o.profit.net > 0n);
  });

  it('error: unprofitable after gas, fee-on-transfer and multi-leg victims give null', () => {
    const p = pair(`0x${'01'.repeat(20)}`, USDC, WETH, 3_000_000n * 10n ** 6n, 1000n * E18);
    const l = leg({ amountIn: E18 / 100n, amountOutMin: 29n * 10n ** 6n });
    assert.equal(planV2Sandwich(victimTx(l), [p], CTX), null);
    const big = leg({ amountIn: 20n * E18, amountOutMin: 58_000n * 10n ** 6n });
    assert.equal(planV2Sandwich(victimTx({ ...big, feeOnTransfer: true }), [p], CTX), null);
    const two = victimTx(big);
    two.intent!.legs.push(big);
    assert.equal(planV2Sandwich(two, [p], CTX), null);
  });
});
