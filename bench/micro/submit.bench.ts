/**
 * Scored opportunity → signed bundle ready to send (issue 6: p99 ≤ 2 ms with native secp256k1).
 * Times, per verified {@link Opportunity}, the submitter's path from its input to the `Sendable` a
 * route is handed (src/actors/submitter/prepare.ts, `prepareSubmission`, which the actor runs for
 * every submission; the bench calls the same function): `buildBundle` (plan
 * → ABI calldata, fee caps, gas), the route choice (trade size and profit in USD, atomic-only plans
 * to bundle routes, `chooseRoutes`, the one-submission-per-pool-and-block claim), the nonce
 * reservation (`NonceManager.reserve`), `NativeSigner.signTx` for every searcher transaction, and the
 * `Submission` record and `Sendable` assembly. Same path again with viem's
 * `privateKeyToAccount(k).signTransaction` (+ viem `keccak256` for the hash) in place of the signer,
 * for the ratio, in alternating blocks so both see the same machine.
 *
 * Not timed: the ring hop from the scorer (the actor's own `readyToSigned` histogram starts at the
 * scorer's `verifiedNs`), the ledger append (an fsync'd write the actor makes after signing, before
 * sending), the relay's `eth_callBundle` when configured, and the send itself. Nonces: an account's first reservation reads the chain
 * (`eth_getTransactionCount`, one RPC round trip); the manager here gets a fake reader
 * (`nonceAt: async () => 0n`) and reserves once before timing, as the submitter's first opportunity
 * does, so every timed reservation is the in-memory one every later opportunity gets. After each
 * opportunity (untimed) its nonces are bound and mined (`bind`, `onBlock`) and the pool claims
 * cleared, so nonces keep rising and the manager's state stays that of a running submitter.
 *
 * Opportunities (96, interleaved, amounts from a seeded PRNG on mainnet-like reserves, mainnet token,
 * pool and router addresses, gas as measured by a verification with 20% headroom, searcher = the
 * signer's address, victims carrying real signed type-2 transactions signed with viem):
 * - V2 sandwich: Router02 front-run, the victim's router swap, Router02 back-run (2 signatures);
 * - V2↔V2 backrun cycle: victim, WETH transfer into pair A, A.swap paying pair B, B.swap (3);
 * - V2↔V3 backrun cycle: victim, then either transfer + V2 pair swap + V3 `exactInputSingle`, or
 *   V3 `exactInputSingle` + transfer + V2 pair swap (3).
 * Before anything is timed, every bundle's bytes from the native path must equal the viem path's.
 *
 * Every call is timed (HDR histogram, wall clock), GC included: the path allocates ~120 KB per
 * 3-transaction opportunity (measured ~33 KB per `signTx`, ~9 KB per V2 step's calldata), so a
 * young-generation scavenge (~1 ms) lands in about 1 call in 130, just under the p99 line. Beside the
 * percentiles the result says what made the slow calls: GC pauses inside the native blocks, and the
 * calls over 1 ms that did not get the CPU for most of their wall time (another process on the
 * shared vCPUs), plus the p99 of each round (`readyToSignedRoundP99MedianUs`: their median).
 * Writes bench/results/submit.json.
 * Run: `npx tsc -p . ; node dist/bench/micro/submit.bench.js` (SUBMIT_ROUNDS, SUBMIT_NATIVE_PER_ROUND,
 * SUBMIT_VIEM_PER_ROUND override the counts).
 */
import { loadavg } from 'node:os';
import { constants as perfConstants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { encodeFunctionData, type Hex, keccak256, parseAbi, parseTransaction, recoverTransactionAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type Opportunity, type OpportunityKind, opportunityId, type PlanGas, type TxSpec, WETH_PRICE, makeProfit } from '../../src/actors/scorer/opportunity.js';
import { getAmountOut } from '../../src/actors/scorer/pools/v2-math.js';
import { NonceManager } from '../../src/actors/submitter/nonce-manager.js';
import { type PrepareDeps, prepareSubmission } from '../../src/actors/submitter/prepare.js';
import { availableRoutes } from '../../src/actors/submitter/route-policy.js';
import { type Eip1559Tx, NativeSigner, signerBackend, viemUnsigned } from '../../src/actors/submitter/signer.js';
import type { Submission } from '../../src/actors/submitter/submission.js';
import { DEFAULT_SUBMITTER_CONFIG, type SubmitterConfig } from '../../src/actors/submitter/submitter-config.js';
import type { RouteName, Sendable, SignedTx } from '../../src/actors/submitter/types.js';
import { monoNs } from '../../src/runtime/clock.js';
import { createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';
import { mulberry32 } from '../../src/runtime/prng.js';
import { writeResult } from '../support/results.js';

const ROUNDS = Number(process.env.SUBMIT_ROUNDS ?? 10);
const NATIVE_PER_ROUND = Number(process.env.SUBMIT_NATIVE_PER_ROUND ?? 1500);
const VIEM_PER_ROUND = Number(process.env.SUBMIT_VIEM_PER_ROUND ?? 300);
const WARMUP_NATIVE = 1000;
const WARMUP_VIEM = 200;
const PER_SHAPE = 32;
const CHAIN_ID = 1;

/** anvil's first account (the searcher) and second (the victims); public test keys. */
const SEARCHER_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const VICTIM_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

const E18 = 10n ** 18n;
const GWEI = 10n ** 9n;
const rnd = mulberry32(0x5b3d);
const between = (lo: number, hi: number) => lo + rnd() * (hi - lo);
const scale = (x: bigint, f: number) => (x * BigInt(Math.round(f * 1e9))) / 1_000_000_000n;

// ---- mainnet-like venues --------------------------------------------------------------------

const WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2';
const ROUTER02 = '0x7a250d5630b4cf539739df2c5dacb4c659f2488d';
const SWAP_ROUTER = '0xe592427a0aece92de3edee1f09e42c8ef4b4dfbc';

interface Venue {
  token: string;
  /** Token units (its decimals) per whole WETH. */
  units: number;
  /** Uniswap V2 and SushiSwap pairs with WETH, and the V3 pool with its fee. */
  uni: string;
  sushi: string;
  v3: string;
  v3Fee: number;
  /** WETH reserve of the Uniswap V2 pair (the SushiSwap one holds a third). */
  wethReserve: bigint;
}
const VENUES: Venue[] = [
  { token: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48', units: 3000e6, uni: '0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc', sushi: '0x397ff1542f962076d0bfe58ea045ffa2d347aca0', v3: '0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640', v3Fee: 500, wethReserve: 6_500n * E18 },
  { token: '0x6b175474e89094c44da98b954eedeac495271d0f', units: 3000e18, uni: '0xa478c2975ab1ea89e8196811f51a7b7ade33eb11', sushi: '0xc3d03e4f041fd4cd388c549ee2a29a9e5075882f', v3: '0xc2e9f25be6257c210d7adf0d4cd6e3e881ba25f8', v3Fee: 3000, wethReserve: 1_800n * E18 },
  { token: '0xdac17f958d2ee523a2206206994597c13d831ec7', units: 3000e6, uni: '0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852', sushi: '0x06da0fd433c1a5d7a4faa01111c044910a184553', v3: '0x11b815efb8f581194ae79006d24e0d814b7697f6', v3Fee: 500, wethReserve: 5_200n * E18 },
  { token: '0x2260fac5e5542a773aa44fbc8d1f5b1c5a8bd6bb', units: 0.05e8, uni: '0xbb2b8038a1640196fbe3e38816f3e67cba72d940', sushi: '0xceff51756c56ceffca006cd410b03ffc46dd3a58', v3: '0xcbcdf9626bc03e24f779434178a73a0b4bad62ed', v3Fee: 3000, wethReserve: 2_400n * E18 },
];
/** `weth` wei of WETH in token units at the venue's price times `f`. */
const toToken = (v: Venue, weth: bigint, f = 1) => (weth * BigInt(Math.round(v.units * f * 1e6))) / (E18 * 1_000_000n);
/** `amount` token units in wei of WETH at the venue's price times `f`. */
const toWeth = (v: Venue, amount: bigint, f = 1) => (amount * E18 * BigInt(Math.round(f * 1e9))) / (BigInt(Math.round(v.units * 1e6)) * 1000n);
/** Token reserve matching a pair's WETH reserve, the price off by up to ±0.2%. */
const tokenReserve = (v: Venue, weth: bigint) => toToken(v, weth, 1 + (rnd() - 0.5) * 0.004);
/** A lowercase pair address, as the scorer's registries hold them. */
const lower = (a: string) => a.toLowerCase();

// ---- victims: real signed type-2 transactions -----------------------------------------------

const ROUTER02_ABI = parseAbi(['function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[] amounts)']);
const V3_ROUTER_ABI = parseAbi([
  'struct ExactInputSingleParams { address tokenIn; address tokenOut; uint24 fee; address recipient; uint256 deadline; uint256 amountIn; uint256 amountOutMinimum; uint160 sqrtPriceLimitX96; }',
  'function exactInputSingle(ExactInputSingleParams params) payable returns (uint256 amountOut)',
]);
const victimAccount = privateKeyToAccount(VICTIM_KEY);
let victimNonce = 412;

/** A victim's router swap, signed: its hash and canonical raw bytes, and its tip. */
async function victimTx(to: string, data: Hex, tip: bigint, baseFee: bigint): Promise<{ hash: string; raw: string; tip: bigint }> {
  const raw = await victimAccount.signTransaction({
    type: 'eip1559',
    chainId: CHAIN_ID,
    nonce: victimNonce++,
    to: to as Hex,
    data,
    value: 0n,
    gas: BigInt(Math.round(between(180_000, 320_000))),
    maxFeePerGas: baseFee * 2n + tip,
    maxPriorityFeePerGas: tip,
  });
  return { hash: keccak256(raw), raw, tip };
}

const v2Swap = (amountIn: bigint, amountOutMin: bigint, path: string[]) =>
  encodeFunctionData({ abi: ROUTER02_ABI, functionName: 'swapExactTokensForTokens', args: [amountIn, amountOutMin, path as Hex[], victimAccount.address, BigInt(1_800_000_000 + Math.floor(rnd() * 1e6))] });

// ---- opportunities ----------------------------------------------------------------------------

const signer = NativeSigner.fromHex(SEARCHER_KEY, { backend: signerBackend() });
const viemAccount = privateKeyToAccount(SEARCHER_KEY);
const SEARCHER = signer.address;

/** Gas a verification measured for a step of `kind` (limit: +20%, rounded up, as the scorer sets it). */
function gasOf(kind: TxSpec['kind'], tip: bigint): PlanGas {
  const [lo, hi] = { 'v2-router-exact-in': [98_000, 131_000], 'erc20-transfer': [29_500, 51_000], 'v2-pair-swap': [61_000, 92_000], 'v3-router-exact-input-single': [108_000, 162_000], victim: [0, 0] }[kind];
  const gasUsed = BigInt(Math.round(between(lo!, hi!)));
  return { gasUsed, gasLimit: (gasUsed * 120n + 99n) / 100n, priorityFee: tip };
}

/** A verified opportunity with priced gas, as the scorer emits it (revision 1). */
function finish(kind: OpportunityKind, plan: TxSpec[], tips: bigint[], baseFee: bigint, pools: string[], tokenPath: string[], amountIn: bigint, gross: bigint, amounts: bigint[]): Opportunity {
  const gas = plan.map((s, i) => (s.kind === 'victim' ? null : gasOf(s.kind, tips[i]!)));
  let gasWei = 0n;
  for (const g of gas) if (g !== null) gasWei += g.gasUsed * (baseFee + g.priorityFee);
  const victimHashes = plan.flatMap((s) => (s.kind === 'victim' ? [s.hash] : []));
  const targetBlock = 21_000_001;
  const now = monoNs();
  return {
    id: opportunityId(kind, victimHashes, targetBlock, pools, tokenPath, amounts),
    kind,
    victimHashes,
    targetBlock,
    pools,
    tokenPath,
    amountIn,
    profit: makeProfit(WETH, gross, gasWei, WETH_PRICE),
    plan,
    timings: { firstSeenNs: now - 4e6, scoredNs: now - 3e6, verifiedNs: now },
    verification: 'verified',
    simulatedNet: gross - gasWei,
    rejectReason: null,
    baseFee,
    gas,
    searcher: SEARCHER,
    revision: 1,
  };
}

/** Router02 front-run (WETH → token), the victim's WETH → token swap, Router02 back-run. */
async function sandwich(): Promise<Opportunity> {
  const v = VENUES[Math.floor(rnd() * VENUES.length)]!;
  const baseFee = BigInt(Math.round(between(6, 45) * 1e9));
  const rW = scale(v.wethReserve, between(0.9, 1.1));
  const rT = tokenReserve(v, rW);
  const victimIn = scale(E18, between(0.5, 40));
  const slip = between(0.005, 0.03);
  const victimOut = getAmountOut(victimIn, rW, rT)!;
  const victim = await victimTx(ROUTER02, v2Swap(victimIn, scale(victimOut, 1 - slip), [WETH, v.token]), BigInt(Math.round(between(0.5, 3) * 1e9)), baseFee);
  const frontIn = scale(victimIn, between(0.05, 1.5));
  const frontOut = getAmountOut(frontIn, rW, rT)!;
  const backIn = frontOut;
  const backOut = getAmountOut(backIn, rT - frontOut - getAmountOut(victimIn, rW + frontIn, rT - frontOut)!, rW + frontIn + victimIn)!;
  const gross = backOut > frontIn ? backOut - frontIn : scale(E18, between(0.005, 0.05));
  const plan: TxSpec[] = [
    { kind: 'v2-router-exact-in', router: ROUTER02, method: 'swapExactTokensForTokens', amountIn: frontIn, amountOutMin: frontOut, path: [WETH, v.token], pools: [lower(v.uni)] },
    { kind: 'victim', hash: victim.hash, raw: victim.raw },
    { kind: 'v2-router-exact-in', router: ROUTER02, method: 'swapExactTokensForTokens', amountIn: backIn, amountOutMin: backOut, path: [v.token, WETH], pools: [lower(v.uni)] },
  ];
  return finish('v2-sandwich', plan, [victim.tip + GWEI, 0n, 10n ** 8n], baseFee, [lower(v.uni)], [WETH, v.token, WETH], frontIn, gross, [frontIn, frontOut, backOut]);
}

/** A victim's large token → WETH swap on Uniswap V2, then WETH → pair A (SushiSwap) → token → pair B (Uniswap) → WETH. */
async function v2Cycle(): Promise<Opportunity> {
  const v = VENUES[Math.floor(rnd() * VENUES.length)]!;
  const baseFee = BigInt(Math.round(between(6, 45) * 1e9));
  const uniW = scale(v.wethReserve, between(0.9, 1.1));
  const uniT = tokenReserve(v, uniW);
  const sushiW = scale(uniW, between(0.25, 0.4));
  const sushiT = tokenReserve(v, sushiW);
  const victimIn = scale(uniT, between(0.003, 0.02));
  const victim = await victimTx(ROUTER02, v2Swap(victimIn, scale(getAmountOut(victimIn, uniT, uniW)!, 0.99), [v.token, WETH]), BigInt(Math.round(between(0.5, 3) * 1e9)), baseFee);
  const amountIn = scale(E18, between(0.2, 40));
  const out0 = getAmountOut(amountIn, sushiW, sushiT)!;
  const out1 = getAmountOut(out0, uniT + victimIn, uniW - getAmountOut(victimIn, uniT, uniW)!)!;
  const gross = out1 > amountIn ? out1 - amountIn : scale(E18, between(0.002, 0.03));
  const [a, b] = [lower(v.sushi), lower(v.uni)];
  const wethIs0 = WETH < v.token.toLowerCase();
  const plan: TxSpec[] = [
    { kind: 'victim', hash: victim.hash, raw: victim.raw },
    { kind: 'erc20-transfer', token: WETH, to: a, amount: amountIn },
    { kind: 'v2-pair-swap', pair: a, amount0Out: wethIs0 ? 0n : out0, amount1Out: wethIs0 ? out0 : 0n, to: b },
    { kind: 'v2-pair-swap', pair: b, amount0Out: wethIs0 ? out1 : 0n, amount1Out: wethIs0 ? 0n : out1, to: null },
  ];
  const tip = victim.tip > GWEI ? GWEI : victim.tip;
  return finish('backrun-arbitrage', plan, [0n, tip, tip, tip], baseFee, [a, b], [WETH, v.token, WETH], amountIn, gross, [amountIn, out1]);
}

/** A victim's V3 swap, then a cycle through the V2 pair and the V3 pool (either order). */
async function mixedCycle(v2First: boolean): Promise<Opportunity> {
  const v = VENUES[Math.floor(rnd() * VENUES.length)]!;
  const baseFee = BigInt(Math.round(between(6, 45) * 1e9));
  const rW = scale(v.wethReserve, between(0.9, 1.1));
  const rT = tokenReserve(v, rW);
  const victimIn = scale(E18, between(5, 80));
  const victimData = encodeFunctionData({
    abi: V3_ROUTER_ABI,
    functionName: 'exactInputSingle',
    args: [{ tokenIn: WETH as Hex, tokenOut: v.token as Hex, fee: v.v3Fee, recipient: victimAccount.address, deadline: BigInt(1_800_000_000 + Math.floor(rnd() * 1e6)), amountIn: victimIn, amountOutMinimum: toToken(v, victimIn, 0.99), sqrtPriceLimitX96: 0n }],
  });
  const victim = await victimTx(SWAP_ROUTER, victimData, BigInt(Math.round(between(0.5, 3) * 1e9)), baseFee);
  const amountIn = scale(E18, between(0.2, 40));
  const feeF = 1 - v.v3Fee / 1e6;
  const [pool, v3] = [lower(v.uni), lower(v.v3)];
  const wethIs0 = WETH < v.token.toLowerCase();
  const tip = victim.tip > GWEI ? GWEI : victim.tip;
  const plan: TxSpec[] = [{ kind: 'victim', hash: victim.hash, raw: victim.raw }];
  let outT: bigint;
  let outW: bigint;
  if (v2First) {
    // WETH → token on the V2 pair (transfer + swap to the searcher), token → WETH on V3 (after the victim's WETH → token pushed it).
    outT = getAmountOut(amountIn, rW, rT)!;
    outW = toWeth(v, outT, feeF * between(1.001, 1.01));
    plan.push(
      { kind: 'erc20-transfer', token: WETH, to: pool, amount: amountIn },
      { kind: 'v2-pair-swap', pair: pool, amount0Out: wethIs0 ? 0n : outT, amount1Out: wethIs0 ? outT : 0n, to: null },
      { kind: 'v3-router-exact-input-single', router: SWAP_ROUTER, tokenIn: v.token, tokenOut: WETH, fee: v.v3Fee, amountIn: outT, amountOutMinimum: outW, pool: v3 },
    );
  } else {
    outT = toToken(v, amountIn, feeF * between(0.99, 0.999));
    outW = getAmountOut(outT, rT, rW)!;
    plan.push(
      { kind: 'v3-router-exact-input-single', router: SWAP_ROUTER, tokenIn: WETH, tokenOut: v.token, fee: v.v3Fee, amountIn, amountOutMinimum: outT, pool: v3 },
      { kind: 'erc20-transfer', token: v.token, to: pool, amount: outT },
      { kind: 'v2-pair-swap', pair: pool, amount0Out: wethIs0 ? outW : 0n, amount1Out: wethIs0 ? 0n : outW, to: null },
    );
  }
  const gross = outW > amountIn ? outW - amountIn : scale(E18, between(0.002, 0.03));
  const pools = v2First ? [pool, v3] : [v3, pool];
  return finish('backrun-arbitrage', plan, [0n, tip, tip, tip], baseFee, pools, [WETH, v.token, WETH], amountIn, gross, [amountIn, outW]);
}

type Shape = 'sandwich' | 'v2Cycle' | 'mixedCycle';
const SHAPES: Shape[] = ['sandwich', 'v2Cycle', 'mixedCycle'];
const opps: { shape: Shape; opp: Opportunity }[] = [];
for (let i = 0; i < PER_SHAPE; i++) {
  opps.push({ shape: 'sandwich', opp: await sandwich() });
  opps.push({ shape: 'v2Cycle', opp: await v2Cycle() });
  opps.push({ shape: 'mixedCycle', opp: await mixedCycle(i % 2 === 0) });
}

// ---- the submitter's path ---------------------------------------------------------------------

/** Relays, MEV-Blocker and a private RPC configured, so the hybrid policy's every branch is taken. */
const config: SubmitterConfig = {
  ...DEFAULT_SUBMITTER_CONFIG,
  relays: [
    { name: 'flashbots', url: 'https://relay.flashbots.net' },
    { name: 'titan', url: 'https://rpc.titanbuilder.xyz' },
  ],
  mevBlockerUrl: 'https://rpc.mevblocker.io',
  privateRpc: { url: 'https://rpc.example-private.invalid', method: 'eth_sendPrivateTransaction' },
  ledgerPath: '/dev/null',
  rpcUrl: 'http://127.0.0.1:8545',
  chainId: CHAIN_ID,
};
const c = { ...config, chainId: CHAIN_ID, weth: WETH };

type Sign = (tx: Eip1559Tx) => SignedTx | Promise<SignedTx>;
/** Step ends within one opportunity: build, route, nonce, sign, assemble (ns since its start). */
const LAPS = ['build', 'route', 'nonce', 'sign', 'assemble'] as const;

/**
 * The submitter's own path (`prepareSubmission`, which `Submitter` runs for every submission) with
 * this path's signer, nonce manager and pool claims. `laps` receives the monotonic time after each step.
 */
class ReadyPath {
  readonly nonces = new NonceManager({ nonceAt: async () => 0n });
  readonly claimed = new Map<number, Set<string>>();
  readonly routes: Set<RouteName> = availableRoutes(c);
  private readonly deps: PrepareDeps;

  constructor(
    readonly address: string,
    readonly sign: Sign,
  ) {
    this.deps = { config: c, routes: this.routes, claimed: this.claimed, nonces: this.nonces, signer: { address, signTx: sign } };
  }

  async ready(opp: Opportunity, laps: Float64Array): Promise<{ sendable: Sendable; signed: SignedTx[]; sub: Submission; valueWei: bigint }> {
    const r = await prepareSubmission(this.deps, opp, laps);
    if ('skip' in r) throw new Error(r.skip);
    return { sendable: r.sendable, signed: r.signed, sub: r.base, valueWei: r.valueWei };
  }

  /** Untimed, after an opportunity: its nonces sent on its route and mined, the block's pool claims gone. */
  settle(opp: Opportunity, r: { signed: SignedTx[]; sub: Submission }): void {
    for (const tx of r.signed) this.nonces.bind(this.address, tx.nonce, { txHash: tx.hash, route: r.sub.route === 'dry-run' || r.sub.route === null ? 'flashbots' : r.sub.route });
    this.nonces.onBlock(this.address, r.signed[r.signed.length - 1]!.nonce + 1n);
    this.claimed.delete(opp.targetBlock);
  }
}

const nativePath = new ReadyPath(signer.address, (tx) => signer.signTx(tx));
const viemFrom = viemAccount.address.toLowerCase();
const viemPath = new ReadyPath(viemFrom, async (tx) => {
  const raw = await viemAccount.signTransaction(viemUnsigned(tx));
  return { raw, hash: keccak256(raw), from: viemFrom, nonce: tx.nonce };
});
if (nativePath.address !== viemPath.address) throw new Error('native and viem signers disagree on the address');

// The first reservation per account reads the chain (here the fake reader); every later one is in memory.
for (const p of [nativePath, viemPath]) p.nonces.release(p.address, await p.nonces.reserve(p.address, 1));

// ---- checks: both paths give the same bundle, byte for byte -----------------------------------

const scratch = new Float64Array(LAPS.length);
const routesSeen: Record<string, number> = {};
const signaturesPerShape: Record<string, number> = {};
for (const [i, { shape, opp }] of opps.entries()) {
  const a = await nativePath.ready(opp, scratch);
  const b = await viemPath.ready(opp, scratch);
  const same = a.sendable.rawTxs.length === b.sendable.rawTxs.length && a.sendable.rawTxs.every((r, k) => r === b.sendable.rawTxs[k] && a.sendable.txHashes[k] === b.sendable.txHashes[k]);
  if (!same || a.sendable.ours.join() !== b.sendable.ours.join()) throw new Error(`opportunity ${i} (${shape}): native and viem bundles differ`);
  for (const [k, raw] of a.sendable.rawTxs.entries()) {
    if (keccak256(raw) !== a.sendable.txHashes[k]) throw new Error(`opportunity ${i}: tx ${k} hash is not keccak256 of its bytes`);
    const t = parseTransaction(raw);
    if (t.type !== 'eip1559' || t.chainId !== CHAIN_ID) throw new Error(`opportunity ${i}: tx ${k} is not a chain-${CHAIN_ID} type-2 transaction`);
  }
  if (i < SHAPES.length) {
    for (const k of a.sendable.ours) {
      const from = await recoverTransactionAddress({ serializedTransaction: a.sendable.rawTxs[k] as `0x02${string}` });
      if (from.toLowerCase() !== SEARCHER) throw new Error(`opportunity ${i}: tx ${k} recovers to ${from}, not the searcher`);
    }
  }
  routesSeen[`${shape}:${a.sub.route}`] = (routesSeen[`${shape}:${a.sub.route}`] ?? 0) + 1;
  signaturesPerShape[shape] = a.signed.length;
  nativePath.settle(opp, a);
  viemPath.settle(opp, b);
}

// ---- timing -------------------------------------------------------------------------------------

const total = { native: createHistogram(), viem: createHistogram() };
const perShape = Object.fromEntries(SHAPES.map((s) => [s, createHistogram()])) as Record<Shape, ReturnType<typeof createHistogram>>;
const perLap = LAPS.map(() => createHistogram());
const laps = new Float64Array(LAPS.length);
/** Native calls over 1 ms of wall time: how many had the CPU for most of it (code, GC) and how many did not (descheduled). */
const slow = { total: 0, onCpu: 0, descheduled: 0 };
const roundP99Us: number[] = [];
/** performance.now() spans of the timed native blocks, to tell which GC pauses fell inside them. */
const nativeWindows: [number, number][] = [];
let cursor = 0;
let wallNs = 0;
let cpuUs = 0;
let involuntarySwitches = 0;

async function block(path: ReadyPath, n: number, record: boolean): Promise<void> {
  const isNative = path === nativePath;
  const timeCpu = record && isNative;
  const round = timeCpu ? createHistogram() : null;
  const w0 = monoNs();
  const p0 = performance.now();
  const c0 = process.cpuUsage();
  const s0 = process.resourceUsage().involuntaryContextSwitches;
  for (let k = 0; k < n; k++) {
    const { shape, opp } = opps[cursor++ % opps.length]!;
    const u0 = timeCpu ? process.cpuUsage() : null;
    const t0 = monoNs();
    const r = await path.ready(opp, laps);
    const dt = laps[4]! - t0;
    if (u0 !== null) {
      const u = process.cpuUsage(u0);
      // Process CPU: all threads, so a parallel scavenge's helpers count as on-CPU as they should.
      const cpuNs = (u.user + u.system) * 1000;
      if (dt > 1e6) {
        slow.total++;
        if (cpuNs >= dt / 2) slow.onCpu++;
        else slow.descheduled++;
      }
    }
    if (record) {
      recordNs(isNative ? total.native : total.viem, dt);
      if (isNative) {
        recordNs(round!, dt);
        recordNs(perShape[shape], dt);
        let prev = t0;
        for (let j = 0; j < LAPS.length; j++) {
          recordNs(perLap[j]!, laps[j]! - prev);
          prev = laps[j]!;
        }
      }
    }
    path.settle(opp, r);
  }
  if (timeCpu) {
    wallNs += monoNs() - w0;
    nativeWindows.push([p0, performance.now()]);
    const cu = process.cpuUsage(c0);
    cpuUs += cu.user + cu.system;
    involuntarySwitches += process.resourceUsage().involuntaryContextSwitches - s0;
    roundP99Us.push(percentilesUs(round!).p99);
  }
}

// GC pauses (entries arrive once the loop yields, after the last block; sorted out by start time).
const gcEntries: { start: number; ms: number; major: boolean }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEntries.push({ start: e.startTime, ms: e.duration, major: ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0) !== perfConstants.NODE_PERFORMANCE_GC_MINOR });
});
gcObserver.observe({ entryTypes: ['gc'] });

await block(nativePath, WARMUP_NATIVE, false);
await block(viemPath, WARMUP_VIEM, false);
const t0 = monoNs();
for (let r = 0; r < ROUNDS; r++) {
  await block(nativePath, NATIVE_PER_ROUND, true);
  await block(viemPath, VIEM_PER_ROUND, true);
}
const seconds = (monoNs() - t0) / 1e9;
await new Promise((r) => setTimeout(r, 50)); // let the observer deliver
gcObserver.disconnect();
const gcNative = gcEntries.filter((e) => nativeWindows.some(([a, b]) => e.start >= a && e.start <= b));
const gc = {
  pauses: gcNative.length,
  major: gcNative.filter((e) => e.major).length,
  nativeCallsPerPause: Math.round(total.native.totalCount / Math.max(1, gcNative.length)),
  totalMs: Math.round(gcNative.reduce((t, e) => t + e.ms, 0) * 10) / 10,
  p50Ms: Math.round((gcNative.map((e) => e.ms).sort((a, b) => a - b)[gcNative.length >> 1] ?? 0) * 100) / 100,
  maxMs: Math.round(gcNative.reduce((m, e) => Math.max(m, e.ms), 0) * 100) / 100,
  over1ms: gcNative.filter((e) => e.ms > 1).length,
};

const n = percentilesUs(total.native);
const v = percentilesUs(total.viem);
const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[s.length >> 1]! : Math.round(((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) * 1000) / 1000;
};
const shapes = Object.fromEntries(SHAPES.map((s) => [s, percentilesUs(perShape[s])]));
const metrics = {
  readyToSignedP50Us: n.p50,
  readyToSignedP90Us: n.p90,
  readyToSignedP99Us: n.p99,
  readyToSignedP999Us: n.p999,
  readyToSignedMaxUs: n.max,
  sandwichP99Us: shapes.sandwich!.p99,
  v2CycleP99Us: shapes.v2Cycle!.p99,
  mixedCycleP99Us: shapes.mixedCycle!.p99,
  viemReadyToSignedP50Us: v.p50,
  viemReadyToSignedP99Us: v.p99,
  nativeVsViem: ratio(v.p50, n.p50),
  nativeVsViemP99: ratio(v.p99, n.p99),
  /** Median over the rounds of each round's p99: the tail of a typical window of NATIVE_PER_ROUND opportunities. */
  readyToSignedRoundP99MedianUs: median(roundP99Us),
};
const path = writeResult('submit', metrics, {
  signerBackend: signer.backend,
  opportunities: { total: opps.length, perShape: PER_SHAPE, signaturesPerShape, routesChosen: routesSeen },
  iterations: { native: n.count, viem: v.count, rounds: ROUNDS, warmup: { native: WARMUP_NATIVE, viem: WARMUP_VIEM } },
  nativeUs: n,
  viemUs: v,
  perShapeUs: shapes,
  perStepUs: Object.fromEntries(LAPS.map((l, j) => [l, percentilesUs(perLap[j]!)])),
  seconds: Math.round(seconds * 10) / 10,
  // Process CPU (all threads: V8's GC and compiler helpers too) over wall time in the native blocks;
  // well below 1 would mean the bench thread was often descheduled.
  nativeProcessCpuOverWall: Math.round(((cpuUs * 1000) / wallNs) * 1000) / 1000,
  nativeCallsOver1ms: slow,
  nativeInvoluntaryContextSwitches: involuntarySwitches,
  nativeRoundP99Us: roundP99Us,
  gcInNativeBlocks: gc,
  loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  note:
    'per verified opportunity, the submitter path to the Sendable: buildBundle + route choice (chooseRoutes, pool claim) + NonceManager.reserve (in memory: the account was read once before timing; its first use reads the chain) + signTx per searcher tx + Submission/Sendable assembly; not the ring hop from the scorer, the ledger append or the send. viem = the same path with privateKeyToAccount(k).signTransaction + keccak256, alternating blocks; nativeVsViem = ratio of p50s. Every bundle checked byte-equal between the two before timing.',
});
process.stderr.write(
  `submit (${signer.backend}): ready→signed p50 ${n.p50} µs, p99 ${n.p99} µs, p99.9 ${n.p999} µs, max ${n.max} µs over ${n.count}; ` +
    `sandwich p99 ${shapes.sandwich!.p99}, v2 cycle p99 ${shapes.v2Cycle!.p99}, mixed p99 ${shapes.mixedCycle!.p99}; ` +
    `viem p50 ${v.p50} µs, p99 ${v.p99} µs over ${v.count} = ${metrics.nativeVsViem}x (p99 ${metrics.nativeVsViemP99}x); ` +
    `steps p50 ${LAPS.map((l, j) => `${l} ${percentilesUs(perLap[j]!).p50}`).join(', ')} µs → ${path}\n`,
);
