/**
 * Scorer per transaction: {@link ScoringCore.score} (victim effects on the pools, V2 sandwich,
 * backrun cycles of 2 and 3 pools, pricing, ranking) with 1,200 V2 pools registered on two
 * factories: 150 tokens each paired with WETH on both venues, plus 900 token/token pairs. Victims
 * are router swaps (WETH → token, token → WETH, token → token, exact-in and exact-out) of 0.1–3%
 * of their pool with 0.5–10% slippage, from a seeded PRNG. Times every call with an HDR histogram
 * (p50/p99/max) after a warm-up. Writes bench/results/scorer.json.
 * Run: `npx tsc -p . ; node dist/bench/micro/scorer.bench.js`.
 */
import { DEFAULT_SCORER_CONFIG, type ScorerConfig } from '../../src/actors/scorer/scorer-config.js';
import { ScoringCore } from '../../src/actors/scorer/score-tx.js';
import { getAmountIn, getAmountOut } from '../../src/actors/scorer/pools/v2-math.js';
import { V2PoolRegistry } from '../../src/actors/scorer/pools/v2-pool-registry.js';
import type { BlockEvent, DecodedTx, SwapLeg } from '../../src/messages/schema.js';
import { monoNs } from '../../src/runtime/clock.js';
import { createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';
import { mulberry32 } from '../../src/runtime/prng.js';
import { writeResult } from '../support/results.js';

const TOKENS = 150;
const CROSS_PAIRS = 900;
const VICTIMS = Number(process.env.SCORER_VICTIMS ?? 2000);
const ROUNDS = Number(process.env.SCORER_ROUNDS ?? 10);
const E18 = 10n ** 18n;
const rnd = mulberry32(4242);
const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
const scale = (x: bigint, f: number) => (x * BigInt(Math.round(f * 1e6))) / 1_000_000n;

const WETH = addr(0xeeee);
const FACTORIES = [addr(0xf1), addr(0xf2)];
const ROUTERS = [addr(0xa1), addr(0xa2)];
const config: ScorerConfig = {
  ...DEFAULT_SCORER_CONFIG,
  weth: WETH,
  v2Factories: FACTORIES.map((f, i) => ({ address: f, feeBps: 30, router: ROUTERS[i]! })),
  searcher: addr(0x5ea),
  ...(process.env.SCORER_STRATEGIES ? { strategies: process.env.SCORER_STRATEGIES.split(',') as ScorerConfig['strategies'] } : {}),
};
const registry = new V2PoolRegistry();
let next = 0x10000;
const tokens = Array.from({ length: TOKENS }, (_, i) => addr(0x1000 + i));
const price = tokens.map(() => 0.01 + rnd() * 100); // token units per WETH
function addPair(a: string, b: string, ra: bigint, rb: bigint, factory: number) {
  const [t0, t1, r0, r1] = a < b ? [a, b, ra, rb] : [b, a, rb, ra];
  return registry.add({ address: addr(next++), token0: t0, token1: t1, reserve0: r0, reserve1: r1, feeBps: 30n, factory: FACTORIES[factory]! });
}
for (let i = 0; i < TOKENS; i++) {
  for (let f = 0; f < 2; f++) {
    const w = scale(E18, 50 + rnd() * 5000);
    addPair(WETH, tokens[i]!, w, scale(w, price[i]! * (1 + (rnd() - 0.5) * 0.01)), f);
  }
}
for (let k = 0; k < CROSS_PAIRS; k++) {
  const i = Math.floor(rnd() * TOKENS);
  let j = Math.floor(rnd() * TOKENS);
  if (j === i) j = (j + 1) % TOKENS;
  const w = scale(E18, 20 + rnd() * 2000);
  addPair(tokens[i]!, tokens[j]!, scale(w, price[i]!), scale(w, price[j]! * (1 + (rnd() - 0.5) * 0.01)), k % 2);
}

function pairOf(a: string, b: string, f: number) {
  return registry.pools(a, b).find((p) => p.factory === FACTORIES[f]);
}
function victim(n: number): DecodedTx {
  let path: string[];
  for (;;) {
    const kind = rnd();
    const t = tokens[Math.floor(rnd() * TOKENS)]!;
    if (kind < 0.4) path = [WETH, t];
    else if (kind < 0.7) path = [t, WETH];
    else {
      const cross = registry.withToken(t).filter((p) => p.token0 !== WETH && p.token1 !== WETH);
      if (cross.length === 0) continue;
      const p = cross[Math.floor(rnd() * cross.length)]!;
      path = [t, p.token0 === t ? p.token1 : p.token0];
    }
    break;
  }
  const f = rnd() < 0.5 ? 0 : 1;
  const pools = path.slice(1).map((t, i) => pairOf(path[i]!, t, f) ?? pairOf(path[i]!, t, 1 - f)!);
  const p0 = pools[0]!;
  const [rIn, rOut] = p0.token0 === path[0] ? [p0.reserve0, p0.reserve1] : [p0.reserve1, p0.reserve0];
  const exactIn = rnd() < 0.7;
  const slip = 0.005 + rnd() * 0.095;
  const amountIn = scale(rIn, 0.001 + rnd() * 0.03);
  const out = getAmountOut(amountIn, rIn, rOut)!;
  const leg: SwapLeg = {
    protocol: 'uniswap-v2', exact: exactIn ? 'in' : 'out', path, fees: [], pools: pools.map((p) => p.address),
    amountIn: exactIn ? amountIn : null, amountInMax: exactIn ? null : scale(getAmountIn(out, rIn, rOut)!, 1 + slip),
    amountOut: exactIn ? null : out, amountOutMin: exactIn ? scale(out, 1 - slip) : null,
    recipient: addr(0xbeef), deadline: null, ethIn: false, ethOut: false, feeOnTransfer: false,
  };
  return {
    hash: `0x${n.toString(16).padStart(64, '0')}`, type: 2, chainId: 1n, nonce: 0n, from: addr(0xbeef), to: ROUTERS[f]!, value: 0n, gas: 300_000n,
    gasPrice: null, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 2n * 10n ** 9n, maxFeePerBlobGas: null, input: new Uint8Array(0), accessList: [],
    blobVersionedHashes: null, authorizationList: null, v: 0n, r: 1n, s: 1n, size: 200, raw: new Uint8Array(0), firstSeenNs: 0, source: 0, hashMismatch: false,
    intent: { router: ROUTERS[f]!, kind: 'v2-router02', method: exactIn ? 'swapExactTokensForTokens' : 'swapTokensForExactTokens', legs: [leg] },
  };
}

const victims = Array.from({ length: VICTIMS }, (_, i) => victim(i));
const head: BlockEvent = {
  number: 20_000_000, hash: `0x${'ab'.repeat(32)}`, parentHash: `0x${'cd'.repeat(32)}`, timestamp: 1_800_000_000, baseFeePerGas: 10n ** 9n,
  gasLimit: 30_000_000n, gasUsed: 15_000_000n, miner: addr(0xc0), prevRandao: `0x${'00'.repeat(32)}`, excessBlobGas: 0n, reorg: false,
};
const core = new ScoringCore(registry, config);

// Warm-up, then ROUNDS passes over every victim, each call timed. Two views of the same calls:
// - every call (`scoreP99Us`): includes whatever the shared machine did to this thread meanwhile;
// - per transaction (`scorePerTxP99Us`): each victim's median over the rounds, then p50/p99 across
//   victims: the cost distribution of the code over transactions, with preemptions (which hit a
//   call at random, not a transaction) filtered out by the median.
for (const v of victims) core.score(v, null, head, 0);
const h = createHistogram();
const kinds: Record<string, number> = {};
const skips: Record<string, number> = {};
const times = new Float64Array(VICTIMS * ROUNDS);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < VICTIMS; i++) {
    const v = victims[i]!;
    const t0 = monoNs();
    const res = core.score(v, null, head, t0);
    const dt = monoNs() - t0;
    recordNs(h, dt);
    times[i * ROUNDS + r] = dt;
    if (r === 0) {
      for (const o of res.opportunities) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
      if (res.skip) skips[res.skip] = (skips[res.skip] ?? 0) + 1;
    }
  }
}
const p = percentilesUs(h);
const medians = Array.from({ length: VICTIMS }, (_, i) => {
  const row = Array.from(times.subarray(i * ROUNDS, (i + 1) * ROUNDS)).sort((a, b) => a - b);
  return row[Math.floor(ROUNDS / 2)]! / 1000;
}).sort((a, b) => a - b);
const q = (f: number) => Math.round(medians[Math.min(medians.length - 1, Math.floor(f * medians.length))]! * 1000) / 1000;
const perTx = { p50: q(0.5), p99: q(0.99), max: q(1) };
const path = writeResult(
  'scorer',
  { scorePerTxP50Us: perTx.p50, scorePerTxP99Us: perTx.p99, scoreP50Us: p.p50, scoreP99Us: p.p99, pools: registry.size },
  {
    calls: VICTIMS * ROUNDS,
    everyCallUs: p,
    perTxMedianUs: perTx,
    opportunitiesPerPass: kinds,
    skipsPerPass: skips,
    tokens: TOKENS,
    note: 'ScoringCore.score per victim tx: effects, V2 sandwich, backrun cycles (2 and 3 pools), pricing and ranking; bigint math; one thread. perTx = each victim\'s median over the rounds, percentiles across victims',
  },
);
console.log(`scorer: ${registry.size} pools; per tx (median of ${ROUNDS} runs) p50 ${perTx.p50} µs p99 ${perTx.p99} µs max ${perTx.max} µs; every call p50 ${p.p50} µs p99 ${p.p99} µs; opportunities ${JSON.stringify(kinds)}; skips ${JSON.stringify(skips)} → ${path}`);
