import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { V3MathError } from '../../../../../src/actors/scorer/pools/v3-math/errors.js';
import { getAmount0DeltaSigned, getAmount1DeltaSigned } from '../../../../../src/actors/scorer/pools/v3-math/sqrt-price-math.js';
import { MAX_SQRT_RATIO, MIN_SQRT_RATIO, getSqrtRatioAtTick, getTickAtSqrtRatio } from '../../../../../src/actors/scorer/pools/v3-math/tick-math.js';
import { type V3PoolState, type V3Tick, addDelta, newV3SwapResult, quoteExactInput, quoteExactOutput, swap } from '../../../../../src/actors/scorer/pools/v3-math/v3-swap.js';
import { E18, encodePriceSqrt, isCode } from '../../../../support/v3.js';

/** `../shared/data/uniswap` from the project root (this file runs from dist/test/actors/scorer/pools/v3-math/). */
const UNISWAP = fileURLToPath(new URL('../../../../../../../shared/data/uniswap/', import.meta.url));


// ---- v3-core test/shared/utilities.ts ----
const FEE = { LOW: 500, MEDIUM: 3000, HIGH: 10000 } as const;
const SPACING = { LOW: 10, MEDIUM: 60, HIGH: 200 } as const;
const minTick = (s: number) => Math.ceil(-887272 / s) * s;
const maxTick = (s: number) => Math.floor(887272 / s) * s;
const maxLiquidityPerTick = (s: number) => ((1n << 128n) - 1n) / BigInt((maxTick(s) - minTick(s)) / s + 1);

interface Position {
  tickLower: number;
  tickUpper: number;
  liquidity: bigint;
}
interface PoolSetup {
  fee: number;
  tickSpacing: number;
  startingPrice: bigint;
  positions: Position[];
}

// TEST_POOLS of v3-core test/UniswapV3Pool.swaps.spec.ts, transcribed (all 15). The revision we
// could read writes getMinTick(TICK_SPACINGS[HIGH]) (±887200) and TICK_SPACINGS[HIGH] (200) for
// positions in 60-spaced pools; those are not multiples of 60, so the pool would refuse to mint
// them. The snapshot's revision used 60-multiples: ±887220 and ±60 reproduce its balances and
// every amount (±887200 gives a different amount0 for 'token0 for exactly 1.0000 token1' at 1:10).
const M = SPACING.MEDIUM;
const L = SPACING.LOW;
const full = (s: number, liquidity = 2n * E18): Position => ({ tickLower: minTick(s), tickUpper: maxTick(s), liquidity });
const POOLS: Record<string, PoolSetup> = {
  'low fee, 1:1 price, 2e18 max range liquidity': { fee: FEE.LOW, tickSpacing: L, startingPrice: encodePriceSqrt(1n, 1n), positions: [full(L)] },
  'medium fee, 1:1 price, 2e18 max range liquidity': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: encodePriceSqrt(1n, 1n), positions: [full(M)] },
  'high fee, 1:1 price, 2e18 max range liquidity': { fee: FEE.HIGH, tickSpacing: SPACING.HIGH, startingPrice: encodePriceSqrt(1n, 1n), positions: [full(SPACING.HIGH)] },
  'medium fee, 10:1 price, 2e18 max range liquidity': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: encodePriceSqrt(10n, 1n), positions: [full(M)] },
  'medium fee, 1:10 price, 2e18 max range liquidity': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: encodePriceSqrt(1n, 10n), positions: [full(M)] },
  'medium fee, 1:1 price, 0 liquidity, all liquidity around current price': {
    fee: FEE.MEDIUM,
    tickSpacing: M,
    startingPrice: encodePriceSqrt(1n, 1n),
    positions: [
      { tickLower: minTick(M), tickUpper: -M, liquidity: 2n * E18 },
      { tickLower: M, tickUpper: maxTick(M), liquidity: 2n * E18 },
    ],
  },
  'medium fee, 1:1 price, additional liquidity around current price': {
    fee: FEE.MEDIUM,
    tickSpacing: M,
    startingPrice: encodePriceSqrt(1n, 1n),
    positions: [
      full(M),
      { tickLower: minTick(M), tickUpper: -M, liquidity: 2n * E18 },
      { tickLower: M, tickUpper: maxTick(M), liquidity: 2n * E18 },
    ],
  },
  'low fee, large liquidity around current price (stable swap)': {
    fee: FEE.LOW,
    tickSpacing: L,
    startingPrice: encodePriceSqrt(1n, 1n),
    positions: [{ tickLower: -L, tickUpper: L, liquidity: 2n * E18 }],
  },
  'medium fee, token0 liquidity only': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: encodePriceSqrt(1n, 1n), positions: [{ tickLower: 0, tickUpper: 2000 * M, liquidity: 2n * E18 }] },
  'medium fee, token1 liquidity only': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: encodePriceSqrt(1n, 1n), positions: [{ tickLower: -2000 * M, tickUpper: 0, liquidity: 2n * E18 }] },
  'close to max price': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: encodePriceSqrt(1n << 127n, 1n), positions: [full(M)] },
  'close to min price': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: encodePriceSqrt(1n, 1n << 127n), positions: [full(M)] },
  'max full range liquidity at 1:1 price with default fee': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: encodePriceSqrt(1n, 1n), positions: [full(M, maxLiquidityPerTick(M))] },
  'initialized at the max ratio': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: MAX_SQRT_RATIO - 1n, positions: [full(M)] },
  'initialized at the min ratio': { fee: FEE.MEDIUM, tickSpacing: M, startingPrice: MIN_SQRT_RATIO, positions: [full(M)] },
};

/** Initializes the pool and mints the positions as `UniswapV3Pool.mint` would: returns the state and token balances. */
function buildPool(setup: PoolSetup): { state: V3PoolState; balance0: bigint; balance1: bigint } {
  const sqrtPriceX96 = setup.startingPrice;
  const tick = getTickAtSqrtRatio(sqrtPriceX96);
  const net = new Map<number, bigint>();
  let liquidity = 0n;
  let balance0 = 0n;
  let balance1 = 0n;
  for (const p of setup.positions) {
    net.set(p.tickLower, (net.get(p.tickLower) ?? 0n) + p.liquidity);
    net.set(p.tickUpper, (net.get(p.tickUpper) ?? 0n) - p.liquidity);
    const lower = getSqrtRatioAtTick(p.tickLower);
    const upper = getSqrtRatioAtTick(p.tickUpper);
    // _modifyPosition: which tokens the range needs depends on where the current tick sits.
    if (tick < p.tickLower) balance0 += getAmount0DeltaSigned(lower, upper, p.liquidity);
    else if (tick < p.tickUpper) {
      balance0 += getAmount0DeltaSigned(sqrtPriceX96, upper, p.liquidity);
      balance1 += getAmount1DeltaSigned(lower, sqrtPriceX96, p.liquidity);
      liquidity = addDelta(liquidity, p.liquidity);
    } else balance1 += getAmount1DeltaSigned(lower, upper, p.liquidity);
  }
  const ticks: V3Tick[] = [...net.entries()].sort((a, b) => a[0] - b[0]).map(([t, n]) => ({ tick: t, liquidityNet: n }));
  return { state: { sqrtPriceX96, tick, liquidity, fee: setup.fee, tickSpacing: setup.tickSpacing, ticks }, balance0, balance1 };
}

// ---- swap cases: parsed from the snapshot names (swapCaseToDescription in the spec) ----
const AMOUNTS: Record<string, bigint> = { '1.0000': E18, '0.0000000000000010000': 1000n };
const PRICES: Record<string, bigint> = {
  '0.50000': encodePriceSqrt(1n, 2n),
  '2.0000': encodePriceSqrt(2n, 1n),
  '0.40000': encodePriceSqrt(2n, 5n),
  '2.5000': encodePriceSqrt(5n, 2n),
};
const INT256_MAX = (1n << 255n) - 1n;

function parseSwap(name: string): { zeroForOne: boolean; amountSpecified: bigint; limit: bigint } {
  const [body, priceText] = name.split(' to price ');
  const limitFor = (z: boolean) => (priceText === undefined ? (z ? MIN_SQRT_RATIO + 1n : MAX_SQRT_RATIO - 1n) : (PRICES[priceText] as bigint));
  let m = /^swap exactly (\S+) token(\d) for token\d$/.exec(body as string);
  if (m) {
    const z = m[2] === '0';
    return { zeroForOne: z, amountSpecified: AMOUNTS[m[1] as string] as bigint, limit: limitFor(z) };
  }
  m = /^swap token(\d) for exactly (\S+) token\d$/.exec(body as string);
  if (m) {
    const z = m[1] === '0';
    return { zeroForOne: z, amountSpecified: -(AMOUNTS[m[2] as string] as bigint), limit: limitFor(z) };
  }
  m = /^swap token(\d) for token\d$/.exec(body as string);
  if (m && priceText !== undefined) {
    // swapToLowerSqrtPrice / swapToHigherSqrtPrice pass type(int256).max as exact input.
    const z = m[1] === '0';
    return { zeroForOne: z, amountSpecified: INT256_MAX, limit: limitFor(z) };
  }
  throw new Error(`unparsed swap case: ${name}`);
}

/** v3-core's `formatPrice`: (sqrtPrice / 2^96)^2 to 5 significant digits, Decimal.js style (half up; exponent form when e ≥ 5). */
function formatPrice(sqrtPriceX96: bigint): string {
  const K = 120n;
  const scaled = (sqrtPriceX96 * sqrtPriceX96 * 10n ** K) >> 192n;
  const digits = scaled.toString();
  let e = digits.length - 1 - Number(K);
  let sig = BigInt(digits.slice(0, 5).padEnd(5, '0'));
  if (Number(digits[5] ?? '0') >= 5) sig += 1n;
  if (sig === 100000n) {
    sig = 10000n;
    e += 1;
  }
  const s = sig.toString();
  if (e >= 5) return `${s[0]}.${s.slice(1)}e+${e}`;
  if (e >= 0) return `${s.slice(0, e + 1)}.${s.slice(e + 1)}`;
  return `0.${'0'.repeat(-e - 1)}${s}`;
}

interface SnapshotCase {
  test: string;
  pool: string;
  swap: string;
  amount0Before?: string;
  amount1Before?: string;
  amount0Delta?: string;
  amount1Delta?: string;
  feeGrowthGlobal0X128Delta?: string;
  feeGrowthGlobal1X128Delta?: string;
  poolPriceBefore: string;
  poolPriceAfter?: string;
  tickBefore: number;
  tickAfter?: number;
  swapError?: string;
  poolBalance0?: string;
  poolBalance1?: string;
}

/** Runs one snapshot case; returns '' when every recorded field matches, else why not. */
function checkCase(c: SnapshotCase): string {
  const setup = POOLS[c.pool];
  if (!setup) return `pool setup not transcribed: ${c.pool}`;
  const { state, balance0, balance1 } = buildPool(setup);
  const diffs: string[] = [];
  const eq = (field: string, got: bigint | string | number, want: string | number | undefined) => {
    if (want !== undefined && String(got) !== String(want)) diffs.push(`${field}: got ${got}, want ${want}`);
  };
  eq('tickBefore', state.tick, c.tickBefore);
  eq('poolPriceBefore', formatPrice(state.sqrtPriceX96), c.poolPriceBefore);
  const { zeroForOne, amountSpecified, limit } = parseSwap(c.swap);
  if (c.swapError !== undefined) {
    eq('poolBalance0', balance0, c.poolBalance0);
    eq('poolBalance1', balance1, c.poolBalance1);
    const reason = /revert (\w+)$/.exec(c.swapError)?.[1];
    try {
      swap(state, zeroForOne, amountSpecified, limit);
      diffs.push(`expected revert ${reason}, swap succeeded`);
    } catch (e) {
      if (!(e instanceof V3MathError) || e.reason !== reason) diffs.push(`expected revert ${reason}, got ${String(e)}`);
    }
    return diffs.join('; ');
  }
  eq('amount0Before', balance0, c.amount0Before);
  eq('amount1Before', balance1, c.amount1Before);
  const r = swap(state, zeroForOne, amountSpecified, limit);
  eq('amount0Delta', r.amount0, c.amount0Delta);
  eq('amount1Delta', r.amount1, c.amount1Delta);
  eq('tickAfter', r.tick, c.tickAfter);
  eq('poolPriceAfter', formatPrice(r.sqrtPriceX96), c.poolPriceAfter);
  eq(zeroForOne ? 'feeGrowthGlobal0X128Delta' : 'feeGrowthGlobal1X128Delta', r.feeGrowthGlobalX128Delta, zeroForOne ? c.feeGrowthGlobal0X128Delta : c.feeGrowthGlobal1X128Delta);
  eq(zeroForOne ? 'feeGrowthGlobal1X128Delta' : 'feeGrowthGlobal0X128Delta', 0n, zeroForOne ? c.feeGrowthGlobal1X128Delta : c.feeGrowthGlobal0X128Delta);
  return diffs.join('; ');
}

describe('v3-swap', () => {
  it('default: reproduces the 240 v3-core pool swap snapshot results (amounts, tick, price, fee growth, reverts)', () => {
    const { cases } = JSON.parse(readFileSync(`${UNISWAP}v3_pool_swaps_snapshot.json`, 'utf8')) as { cases: SnapshotCase[] };
    const mismatches: string[] = [];
    for (const c of cases) {
      const why = checkCase(c);
      if (why) mismatches.push(`${c.test}: ${why}`);
    }
    const matched = cases.length - mismatches.length;
    console.log(`v3 pool swap snapshot: ${matched}/${cases.length} matched`);
    for (const m of mismatches) console.log(`  mismatch: ${m}`);
    assert.deepEqual(mismatches, []);
    assert.equal(cases.length, 240);
  });

  it('behavior: crosses initialized ticks and updates liquidity as the pool does', () => {
    const { state } = buildPool(POOLS['medium fee, 1:1 price, additional liquidity around current price'] as PoolSetup);
    assert.equal(state.liquidity, 2n * E18);
    const r = swap(state, true, 10n ** 17n, MIN_SQRT_RATIO + 1n);
    // Leaving [−60, 60) downward crosses −60, where the extra 2e18 starts.
    assert.equal(r.ticksCrossed, 1);
    assert.equal(r.liquidity, 4n * E18);
    assert.ok(r.tick < -60);
    assert.equal(r.amount0, 10n ** 17n);
    assert.ok(r.amount1 < 0n);
  });

  it('behavior: a swap crossing 3 initialized ticks', () => {
    const state = threeTickPool();
    const r = swap(state, false, 3n * E18, MAX_SQRT_RATIO - 1n);
    assert.equal(r.ticksCrossed, 3);
    assert.equal(r.liquidity, 1n * E18);
    assert.ok(r.tick >= 300);
  });

  it('behavior: stops at the price limit with input left over', () => {
    const { state } = buildPool(POOLS['medium fee, 1:1 price, 2e18 max range liquidity'] as PoolSetup);
    const limit = encodePriceSqrt(99n, 100n);
    const r = swap(state, true, E18, limit);
    assert.equal(r.sqrtPriceX96, limit);
    assert.ok(r.amount0 < E18);
  });

  it('behavior: does not modify the input state and reuses the out object', () => {
    const { state } = buildPool(POOLS['low fee, 1:1 price, 2e18 max range liquidity'] as PoolSetup);
    const before = JSON.stringify(state, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    const out = newV3SwapResult();
    assert.equal(swap(state, true, E18, MIN_SQRT_RATIO + 1n, out), out);
    assert.equal(JSON.stringify(state, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)), before);
  });

  it('default: quoteExactInput and quoteExactOutput agree with swap and with each other', () => {
    const state = threeTickPool();
    const qi = quoteExactInput(state, false, E18);
    const r = swap(state, false, E18, MAX_SQRT_RATIO - 1n);
    assert.equal(qi.amountIn, r.amount1);
    assert.equal(qi.amountOut, -r.amount0);
    // Exact out for what exact in produced costs at most the same input (rounding favours the pool).
    const qo = quoteExactOutput(state, false, qi.amountOut);
    assert.equal(qo.amountOut, qi.amountOut);
    assert.ok(qo.amountIn <= qi.amountIn);
    // Exact input hands the unswappable remainder of the last step to the fee; that is all that differs.
    assert.ok(qi.amountIn - qo.amountIn < qi.amountIn / 10n ** 9n, `${qi.amountIn} vs ${qo.amountIn}`);
    assert.equal(qo.sqrtPriceX96After <= qi.sqrtPriceX96After, true);
  });

  it('args: quotes with no liquidity left report the partial fill', () => {
    const { state } = buildPool(POOLS['medium fee, token1 liquidity only'] as PoolSetup);
    const q = quoteExactOutput(state, false, E18);
    // Buying token0 from a pool that holds none: nothing comes out.
    assert.equal(q.amountOut, 0n);
  });

  it('error: zero amount reverts AS, a limit on the wrong side reverts SPL', () => {
    const { state } = buildPool(POOLS['medium fee, 1:1 price, 2e18 max range liquidity'] as PoolSetup);
    assert.throws(() => swap(state, true, 0n, MIN_SQRT_RATIO + 1n), isCode('AS'));
    assert.throws(() => swap(state, true, E18, state.sqrtPriceX96), isCode('SPL'));
    assert.throws(() => swap(state, true, E18, MIN_SQRT_RATIO), isCode('SPL'));
    assert.throws(() => swap(state, false, E18, MAX_SQRT_RATIO), isCode('SPL'));
    assert.throws(() => quoteExactInput(state, true, 0n), isCode('AS'));
  });

  it('error: addDelta reverts LS on underflow and LA on overflow', () => {
    assert.equal(addDelta(5n, -5n), 0n);
    assert.throws(() => addDelta(5n, -6n), isCode('LS'));
    assert.throws(() => addDelta((1n << 128n) - 1n, 1n), isCode('LA'));
  });
});

/** 1e18 full range plus two stacked ranges above the price: initialized ticks 60, 120, 300 (and the full-range ends). */
function threeTickPool(): V3PoolState {
  return buildPool({
    fee: FEE.MEDIUM,
    tickSpacing: M,
    startingPrice: encodePriceSqrt(1n, 1n),
    positions: [full(M, E18), { tickLower: 60, tickUpper: 300, liquidity: 3n * E18 }, { tickLower: 120, tickUpper: 300, liquidity: 5n * E18 }],
  }).state;
}
