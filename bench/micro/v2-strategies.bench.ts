/**
 * V2 strategies per call (tinybench): sandwich sizing of one victim, and 2-pool and 3-hop cycle
 * sizing, each against the obvious alternative in the same run: a plain bigint bisection over the
 * front-run (sandwich, bound only) and a bigint ternary search on the exact profit (cycles). Setups
 * come from a seeded PRNG and rotate per call so caches do not flatter one case. Writes
 * bench/results/v2-strategies.json.
 */
import { Bench } from 'tinybench';
import { getAmountIn, getAmountOut, type V2PairState } from '../../src/actors/scorer/pools/v2-math.js';
import { cycleOut, sizeCycle, type V2Hop } from '../../src/actors/scorer/strategies/v2-arbitrage.js';
import { sizeSandwich, type SandwichVictimHop } from '../../src/actors/scorer/strategies/v2-sandwich.js';
import { mulberry32 } from '../../src/runtime/prng.js';
import { writeResult } from '../support/results.js';

const N = 256;
const E18 = 10n ** 18n;
const E6 = 10n ** 6n;
const rnd = mulberry32(99);
const scale = (r: bigint, f: number): bigint => (r * BigInt(Math.round(f * 1e6))) / 1_000_000n;

interface SandwichCase { rIn: bigint; rOut: bigint; v: SandwichVictimHop }
const sandwiches: SandwichCase[] = [];
while (sandwiches.length < N) {
  const rIn = scale(E18, 100 + rnd() * 10_000);
  const rOut = scale(E6, (100 + rnd() * 10_000) * 3000);
  const amountIn = scale(rIn, 0.001 + rnd() * 0.02);
  const out = getAmountOut(amountIn, rIn, rOut)!;
  const v: SandwichVictimHop = { exact: 'in', amountIn, amountOutMin: scale(out, 1 - 0.005 - rnd() * 0.05), amountOut: 0n, amountInMax: 0n };
  if (sizeSandwich(rIn, rOut, 30n, v) !== null) sandwiches.push({ rIn, rOut, v });
}

function pair(n: number, t0: string, t1: string, r0: bigint, r1: bigint): V2PairState {
  return { address: `0x${n.toString(16).padStart(40, '0')}`, token0: t0, token1: t1, reserve0: r0, reserve1: r1, feeBps: 30n };
}
const two: V2Hop[][] = [];
while (two.length < N) {
  const r0 = scale(E6, (100 + rnd() * 10_000) * 3000);
  const r1 = scale(E18, 100 + rnd() * 10_000);
  const a = pair(1, 'usdc', 'weth', r0, r1);
  const b = pair(2, 'usdc', 'weth', scale(r0, 1 + rnd() * 0.05), scale(r1, 1));
  const hops: V2Hop[] = [{ pair: b, zeroForOne: false }, { pair: a, zeroForOne: true }];
  if (sizeCycle(hops) !== null) two.push(hops);
}
const three: V2Hop[][] = [];
while (three.length < N) {
  const w = 100 + rnd() * 5000;
  const d = () => 1 + (rnd() - 0.5) * 0.06;
  const hops: V2Hop[] = [
    { pair: pair(1, 'usdc', 'weth', scale(E6, w * 3000 * d()), scale(E18, w)), zeroForOne: false },
    { pair: pair(2, 'usdc', 'dai', scale(E6, w * 2000 * d()), scale(E18, w * 2000)), zeroForOne: true },
    { pair: pair(3, 'dai', 'weth', scale(E18, w * 3e6 * d()), scale(E18, w * 1000)), zeroForOne: true },
  ];
  if (sizeCycle(hops) !== null) three.push(hops);
}

/** The obvious alternative for the sandwich bound: bisection on the exact check from [1, reserveIn]. */
function bisectMaxFront(c: SandwichCase): bigint {
  let lo = 0n;
  let hi = c.rIn * 10n;
  const ok = (x: bigint): boolean => {
    const a = getAmountOut(x, c.rIn, c.rOut);
    if (a === null || a <= 0n) return false;
    const o = getAmountOut(c.v.amountIn, c.rIn + x, c.rOut - a);
    return o !== null && o >= c.v.amountOutMin;
  };
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The obvious alternative for cycles: ternary search on the exact profit, from [1, first reserve]. */
function ternaryCycle(hops: V2Hop[]): bigint {
  let lo = 1n;
  let hi = hops[0]!.zeroForOne ? hops[0]!.pair.reserve0 : hops[0]!.pair.reserve1;
  const p = (x: bigint): bigint => (cycleOut(hops, x) ?? 0n) - x;
  while (hi - lo > 2n) {
    const m1 = lo + (hi - lo) / 3n;
    const m2 = hi - (hi - lo) / 3n;
    if (p(m1) < p(m2)) lo = m1;
    else hi = m2;
  }
  return lo;
}

let i = 0;
let sink = 0n;
const bench = new Bench({ time: 1500, warmupTime: 300 });
bench
  .add('sandwich sizing (closed form + exact correction)', () => {
    const c = sandwiches[i++ & (N - 1)]!;
    sink += sizeSandwich(c.rIn, c.rOut, 30n, c.v)!.gross;
  })
  .add('sandwich bound only (plain bigint bisection)', () => {
    sink += bisectMaxFront(sandwiches[i++ & (N - 1)]!);
  })
  .add('2-pool arb (closed form + exact correction)', () => {
    sink += sizeCycle(two[i++ & (N - 1)]!)!.gross;
  })
  .add('2-pool arb (bigint ternary search)', () => {
    sink += ternaryCycle(two[i++ & (N - 1)]!);
  })
  .add('3-hop arb (closed form + exact correction)', () => {
    sink += sizeCycle(three[i++ & (N - 1)]!)!.gross;
  })
  .add('getAmountOut (reference)', () => {
    const c = sandwiches[i++ & (N - 1)]!;
    sink += getAmountOut(c.v.amountIn, c.rIn, c.rOut)! + (getAmountIn(1000n, c.rIn, c.rOut) ?? 0n);
  });
await bench.run();

const us = (name: string, q: 'p50' | 'p99'): number => {
  const task = bench.tasks.find((t) => t.name === name)!;
  const lat = (task.result as unknown as { latency: { p50?: number; p99?: number } }).latency;
  return Math.round((lat[q] ?? Number.NaN) * 1000 * 100) / 100;
};
const metrics = {
  sandwichP50Us: us('sandwich sizing (closed form + exact correction)', 'p50'),
  sandwichP99Us: us('sandwich sizing (closed form + exact correction)', 'p99'),
  sandwichBisectBoundOnlyP50Us: us('sandwich bound only (plain bigint bisection)', 'p50'),
  arb2P50Us: us('2-pool arb (closed form + exact correction)', 'p50'),
  arb2P99Us: us('2-pool arb (closed form + exact correction)', 'p99'),
  arb2TernaryP50Us: us('2-pool arb (bigint ternary search)', 'p50'),
  arb3P50Us: us('3-hop arb (closed form + exact correction)', 'p50'),
  arb3P99Us: us('3-hop arb (closed form + exact correction)', 'p99'),
  getAmountOutPlusInP50Us: us('getAmountOut (reference)', 'p50'),
};
process.stderr.write(`${JSON.stringify(metrics)} (sink ${sink > 0n})\n`);
writeResult('v2-strategies', metrics, { setups: N, note: 'µs per call, tinybench latency percentiles; setups from mulberry32(99), rotated per call; reference row is one getAmountOut plus one getAmountIn' });
