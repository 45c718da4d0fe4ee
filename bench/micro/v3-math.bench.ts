/**
 * Uniswap V3 math cost per call (tinybench), exact bigint ports of v3-core: getSqrtRatioAtTick
 * next to the float one-liner a TypeScript user would write (`sqrt(1.0001^tick)·2^96`, not exact),
 * computeSwapStep, and a full pool swap crossing 3 initialized ticks next to one that stays in
 * range and next to the closed-form V2 getAmountOut, the reference point. Each task runs
 * BATCH calls; figures are the median per call. Writes bench/results/v3-math.json.
 */
import { Bench } from 'tinybench';
import { computeSwapStep, newSwapStep } from '../../src/actors/scorer/pools/v3-math/swap-math.js';
import { MAX_SQRT_RATIO, getSqrtRatioAtTick, getTickAtSqrtRatio } from '../../src/actors/scorer/pools/v3-math/tick-math.js';
import { type V3PoolState, newV3SwapResult, swap } from '../../src/actors/scorer/pools/v3-math/v3-swap.js';
import { writeResult } from '../support/results.js';

const BATCH = 200;
const E18 = 10n ** 18n;
const Q96 = 1n << 96n;
let sink: unknown;
const batch = (fn: () => unknown) => () => {
  for (let i = 0; i < BATCH; i++) sink = fn();
};

// Ticks spread over the range so every bit pattern of |tick| is exercised.
const TICKS = Array.from({ length: 64 }, (_, i) => Math.round(((i * 2654435761) % 1774544) - 887272));
let ti = 0;
const nextTick = () => TICKS[ti++ & 63] as number;

// 1e18 full range plus ranges starting at 60 and 120 and ending at 300: a 3e18 one-for-zero swap
// from price 1 crosses 60, 120 and 300.
const threeTicks: V3PoolState = {
  sqrtPriceX96: Q96,
  tick: 0,
  liquidity: E18,
  fee: 3000,
  tickSpacing: 60,
  ticks: [
    { tick: -887220, liquidityNet: E18 },
    { tick: 60, liquidityNet: 3n * E18 },
    { tick: 120, liquidityNet: 5n * E18 },
    { tick: 300, liquidityNet: -8n * E18 },
    { tick: 887220, liquidityNet: -E18 },
  ],
};
const LIMIT_UP = MAX_SQRT_RATIO - 1n;
const out = newV3SwapResult();
const check = swap(threeTicks, false, 3n * E18, LIMIT_UP, newV3SwapResult());
if (check.ticksCrossed !== 3) throw new Error(`bench setup: expected 3 ticks crossed, got ${check.ticksCrossed}`);
const inRange = swap(threeTicks, false, 10n ** 15n, LIMIT_UP, newV3SwapResult());
if (inRange.ticksCrossed !== 0) throw new Error('bench setup: in-range swap crossed a tick');

const step = newSwapStep();
const target = getSqrtRatioAtTick(60);
const v2Out = (amountIn: bigint, reserveIn: bigint, reserveOut: bigint) => {
  const withFee = amountIn * 997n;
  return (withFee * reserveOut) / (reserveIn * 1000n + withFee);
};

const bench = new Bench({ time: 1500, warmupTime: 300 });
bench
  .add('getSqrtRatioAtTick (exact)', batch(() => getSqrtRatioAtTick(nextTick())))
  .add('float sqrt(1.0001^tick)·2^96 (inexact)', batch(() => BigInt(Math.floor(Math.sqrt(1.0001 ** nextTick()) * 2 ** 96))))
  .add('getTickAtSqrtRatio', batch(() => getTickAtSqrtRatio(Q96 + 123456789n)))
  .add('computeSwapStep exact in, partial', batch(() => computeSwapStep(Q96, target, E18, 10n ** 15n, 3000, step)))
  .add('swap in range (1 step)', batch(() => swap(threeTicks, false, 10n ** 15n, LIMIT_UP, out)))
  .add('swap crossing 3 ticks', batch(() => swap(threeTicks, false, 3n * E18, LIMIT_UP, out)))
  .add('v2 getAmountOut (closed form)', batch(() => v2Out(10n ** 15n, 1000n * E18, 2_000_000n * E18)));
await bench.run();
void sink;

/** Median µs per call of a task. */
const us = (name: string): number => {
  const r = bench.tasks.find((t) => t.name === name)?.result;
  if (r === undefined || !('latency' in r)) throw new Error(`bench task ${name} did not complete`);
  return Math.round((r.latency.p50 * 1000 * 1000) / BATCH) / 1000;
};
const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;

const m = {
  getSqrtRatioAtTickUs: us('getSqrtRatioAtTick (exact)'),
  floatSqrtRatioUs: us('float sqrt(1.0001^tick)·2^96 (inexact)'),
  getTickAtSqrtRatioUs: us('getTickAtSqrtRatio'),
  computeSwapStepUs: us('computeSwapStep exact in, partial'),
  swapInRangeUs: us('swap in range (1 step)'),
  swapCross3Us: us('swap crossing 3 ticks'),
  v2GetAmountOutUs: us('v2 getAmountOut (closed form)'),
};
const metrics = {
  ...m,
  exactVsFloatSqrtRatio: ratio(m.getSqrtRatioAtTickUs, m.floatSqrtRatioUs),
  swapCross3VsV2: ratio(m.swapCross3Us, m.v2GetAmountOutUs),
};
console.table(bench.table());
const path = writeResult('v3-math', metrics, { batch: BATCH, swapCross3Steps: check.steps, note: 'median µs per call; float sqrt ratio is not exact (shown for cost only)' });
process.stderr.write(`v3 math p50 per call: ${JSON.stringify(metrics)}\nwrote ${path}\n`);
