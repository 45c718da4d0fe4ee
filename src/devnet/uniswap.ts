import { createRequire } from 'node:module';
import {
  type Address,
  encodeDeployData,
  encodeFunctionData,
  getAddress,
  getContractAddress,
  type Hex,
  keccak256,
  maxUint256,
  parseAbi,
} from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import * as poolAddress from '../actors/decoder/calldata/pool-address.js';
import { V3_ROUTER_ABI, V3_SHARED_ABI } from '../actors/decoder/calldata/v3-router.js';
import { OrionError } from '../runtime/errors.js';
import { mulberry32 } from '../runtime/prng.js';
import { type Anvil, type RpcCall, rpc, rpcBatch } from './anvil.js';

/** An ERC20 token of the devnet. */
export interface DevnetToken {
  address: Address;
  /** The devnet's label for it: the npm test tokens all report `UNI-V2` (or `DTT`) on chain. */
  symbol: string;
  decimals: number;
  /** Burns 1% of every transfer (v2-periphery `DeflatingERC20`); needs the router's fee-on-transfer swaps. */
  feeOnTransfer: boolean;
}

/** A Uniswap V2 pair; `token0 < token1` as the factory sorts them. */
export interface DevnetV2Pair {
  address: Address;
  token0: Address;
  token1: Address;
}

/** One Uniswap V2 deployment (the original or a fork): factory, its Router02 and its pairs. */
export interface DevnetV2 {
  /** `uniswap` or `sushiswap` (the fork). */
  name: string;
  factory: Address;
  router: Address;
  /** keccak256 of the pair creation code, the CREATE2 hash the router has hard-coded. */
  initCodeHash: Hex;
  pairs: DevnetV2Pair[];
}

/** A Uniswap V3 pool; `token0 < token1`; `fee` in hundredths of a bip. */
export interface DevnetV3Pool {
  address: Address;
  token0: Address;
  token1: Address;
  fee: number;
  tickSpacing: number;
}

/** The Uniswap V3 deployment: factory, SwapRouter, NonfungiblePositionManager and pools. */
export interface DevnetV3 {
  factory: Address;
  router: Address;
  positionManager: Address;
  /** keccak256 of the pool creation code, equal to periphery's `PoolAddress.POOL_INIT_CODE_HASH`. */
  initCodeHash: Hex;
  pools: DevnetV3Pool[];
}

/**
 * Everything deployed on a devnet: a plain object (no bigints) that survives JSON and `postMessage`.
 * `accounts` hold every token and WETH and have approved every router, so they can trade at once.
 */
export interface UniswapDeployment {
  chainId: number;
  deployer: Address;
  weth: Address;
  tokens: DevnetToken[];
  v2: DevnetV2[];
  v3?: DevnetV3;
  /** Why V3 is absent, when it is. */
  v3Skipped?: string;
  /** Funded, approved trading accounts (anvil dev accounts other than the deployer by default). */
  accounts: Address[];
  /** Block number once everything was mined. */
  block: number;
}

/** Options of {@link deployUniswap}. */
export interface DeployUniswapOptions {
  /** Deploy Uniswap V3 too; default true. */
  v3?: boolean;
  /** Seeds the price offsets between venues; default 1. The same seed gives the same prices. */
  seed?: number;
  /** Indexes into `anvil.privateKeys` of the accounts to fund and approve; default all but key 0 (the deployer). */
  accounts?: readonly number[];
  /** WETH each account wraps for WETH-in swaps; default 1000 ETH, enough for long runs of random-walk trading. */
  wethPerAccount?: bigint;
}

const require = createRequire(import.meta.url);

interface Artifact { bytecode: Hex }

function artifact(path: string): Artifact {
  const a = require(path) as { bytecode: string };
  return { bytecode: (a.bytecode.startsWith('0x') ? a.bytecode : `0x${a.bytecode}`) as Hex };
}

/** Creation code of the npm contracts the devnet deploys. @remarks Loaded once at import. */
export const BYTECODE = {
  weth9: artifact('@uniswap/v2-periphery/build/WETH9.json').bytecode,
  erc20: artifact('@uniswap/v2-periphery/build/ERC20.json').bytecode,
  deflatingErc20: artifact('@uniswap/v2-periphery/build/DeflatingERC20.json').bytecode,
  v2Factory: artifact('@uniswap/v2-core/build/UniswapV2Factory.json').bytecode,
  v2Pair: artifact('@uniswap/v2-core/build/UniswapV2Pair.json').bytecode,
  v2Router02: artifact('@uniswap/v2-periphery/build/UniswapV2Router02.json').bytecode,
  v3Factory: artifact('@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json').bytecode,
  v3Pool: artifact('@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json').bytecode,
  v3SwapRouter: artifact('@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json').bytecode,
  v3PositionManager: artifact('@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json').bytecode,
} as const;

/** The init-code hash Router02's `UniswapV2Library.pairFor` has hard-coded (mainnet's). */
export const V2_ROUTER_INIT_CODE_HASH: Hex = '0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f';
/** v3-periphery `PoolAddress.POOL_INIT_CODE_HASH`, compiled into SwapRouter and the position manager. */
export const V3_POOL_INIT_CODE_HASH: Hex = '0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54';

/** ERC20 (with the WETH9 extras) as the devnet calls it. */
export const ERC20_ABI = parseAbi([
  'function balanceOf(address) view returns (uint256)',
  'function decimals() view returns (uint8)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function deposit() payable',
  'function withdraw(uint256 wad)',
]);

/** UniswapV2Factory. */
export const V2_FACTORY_ABI = parseAbi(['function getPair(address, address) view returns (address)', 'function allPairsLength() view returns (uint256)']);

/** UniswapV2Pair. */
export const V2_PAIR_ABI = parseAbi([
  'function getReserves() view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast)',
  'function token0() view returns (address)',
  'function token1() view returns (address)',
  'function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data)',
  'event Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out, uint256 amount1Out, address indexed to)',
  'event Sync(uint112 reserve0, uint112 reserve1)',
]);

/** UniswapV2Router02: liquidity and every swap function. */
export const V2_ROUTER_ABI = parseAbi([
  'function factory() view returns (address)',
  'function WETH() view returns (address)',
  'function addLiquidity(address tokenA, address tokenB, uint256 amountADesired, uint256 amountBDesired, uint256 amountAMin, uint256 amountBMin, address to, uint256 deadline) returns (uint256, uint256, uint256)',
  'function addLiquidityETH(address token, uint256 amountTokenDesired, uint256 amountTokenMin, uint256 amountETHMin, address to, uint256 deadline) payable returns (uint256, uint256, uint256)',
  'function getAmountsOut(uint256 amountIn, address[] path) view returns (uint256[])',
  'function getAmountsIn(uint256 amountOut, address[] path) view returns (uint256[])',
  'function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[])',
  'function swapTokensForExactTokens(uint256 amountOut, uint256 amountInMax, address[] path, address to, uint256 deadline) returns (uint256[])',
  'function swapExactETHForTokens(uint256 amountOutMin, address[] path, address to, uint256 deadline) payable returns (uint256[])',
  'function swapTokensForExactETH(uint256 amountOut, uint256 amountInMax, address[] path, address to, uint256 deadline) returns (uint256[])',
  'function swapExactTokensForETH(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[])',
  'function swapETHForExactTokens(uint256 amountOut, address[] path, address to, uint256 deadline) payable returns (uint256[])',
  'function swapExactTokensForTokensSupportingFeeOnTransferTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline)',
  'function swapExactETHForTokensSupportingFeeOnTransferTokens(uint256 amountOutMin, address[] path, address to, uint256 deadline) payable',
  'function swapExactTokensForETHSupportingFeeOnTransferTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline)',
]);

/** UniswapV3Factory. */
export const V3_FACTORY_ABI = parseAbi(['function getPool(address, address, uint24) view returns (address)']);

/** UniswapV3Pool: the state a quoter needs. */
export const V3_POOL_ABI = parseAbi([
  'function slot0() view returns (uint160 sqrtPriceX96, int24 tick, uint16 observationIndex, uint16 observationCardinality, uint16 observationCardinalityNext, uint8 feeProtocol, bool unlocked)',
  'function liquidity() view returns (uint128)',
  'function tickSpacing() view returns (int24)',
  'function fee() view returns (uint24)',
  'event Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)',
]);

/** v3-periphery SwapRouter (the 2021 one: deadlines in the params, no `ADDRESS_THIS`), as the decoder knows it. */
export const V3_SWAP_ROUTER_ABI = [...V3_ROUTER_ABI, ...V3_SHARED_ABI] as const;

/** NonfungiblePositionManager: pool creation and minting. */
export const V3_POSITION_MANAGER_ABI = parseAbi([
  'struct MintParams { address token0; address token1; uint24 fee; int24 tickLower; int24 tickUpper; uint256 amount0Desired; uint256 amount1Desired; uint256 amount0Min; uint256 amount1Min; address recipient; uint256 deadline; }',
  'function createAndInitializePoolIfNecessary(address token0, address token1, uint24 fee, uint160 sqrtPriceX96) payable returns (address pool)',
  'function mint(MintParams params) payable returns (uint256 tokenId, uint128 liquidity, uint256 amount0, uint256 amount1)',
]);

/** Tokens sorted the way pairs and pools store them (`token0` has the lower address). */
export function sortTokens(a: Address, b: Address): [Address, Address] {
  return BigInt(a) < BigInt(b) ? [a, b] : [b, a];
}

/** The CREATE2 address of the V2 pair of `a` and `b` under `factory` (the decoder's derivation, checksummed). */
export function v2PairAddress(factory: Address, initCodeHash: Hex, a: Address, b: Address): Address {
  return getAddress(poolAddress.v2PairAddress(factory.toLowerCase(), initCodeHash.toLowerCase(), a.toLowerCase(), b.toLowerCase()));
}

/** The CREATE2 address of a V3 pool, as periphery's `PoolAddress.computeAddress` (the decoder's derivation, checksummed). */
export function v3PoolAddress(factory: Address, initCodeHash: Hex, a: Address, b: Address, fee: number): Address {
  return getAddress(poolAddress.v3PoolAddress(factory.toLowerCase(), initCodeHash.toLowerCase(), a.toLowerCase(), b.toLowerCase(), fee));
}

// ---------------------------------------------------------------------------------------------
// What gets deployed. Prices are ETH per token as a fraction (all tokens have 18 decimals, the
// npm test ERC20s fix it), liquidity is the ETH value of one side of a pool.

const E18 = 10n ** 18n;

interface TokenSpec { symbol: string; priceEth: readonly [bigint, bigint]; feeOnTransfer?: boolean }

const TOKEN_SPECS: readonly TokenSpec[] = [
  { symbol: 'TKA', priceEth: [1n, 2000n] }, // a stablecoin-like price
  { symbol: 'TKB', priceEth: [1n, 50n] },
  { symbol: 'TKC', priceEth: [5n, 1n] }, // a BTC-like token: few units, high price
  { symbol: 'TKD', priceEth: [1n, 10n] },
  { symbol: 'DFL', priceEth: [1n, 1000n], feeOnTransfer: true },
];

type Sym = 'WETH' | 'TKA' | 'TKB' | 'TKC' | 'TKD' | 'DFL';

/** [a, b, ETH value per side]. Both venues list most pairs, so the same pair trades at two prices. */
const V2_VENUES: readonly { name: string; pairs: readonly (readonly [Sym, Sym, number])[]; maxSkewBps: number }[] = [
  {
    name: 'uniswap',
    maxSkewBps: 100,
    pairs: [['WETH', 'TKA', 500], ['WETH', 'TKB', 300], ['WETH', 'TKC', 400], ['WETH', 'TKD', 200], ['WETH', 'DFL', 100], ['TKA', 'TKB', 200], ['TKA', 'TKC', 150], ['TKB', 'TKD', 100]],
  },
  {
    name: 'sushiswap',
    maxSkewBps: 300,
    pairs: [['WETH', 'TKA', 150], ['WETH', 'TKB', 100], ['WETH', 'TKC', 120], ['WETH', 'DFL', 40], ['TKA', 'TKB', 60], ['TKA', 'TKC', 50]],
  },
];

/** [a, b, fee, ETH value per side]; no fee-on-transfer token: V3 pools check balances and refuse them. */
const V3_POOLS: readonly (readonly [Sym, Sym, number, number])[] = [
  ['WETH', 'TKA', 500, 300], ['WETH', 'TKA', 3000, 100], ['WETH', 'TKB', 3000, 200], ['WETH', 'TKC', 10000, 100], ['TKA', 'TKB', 500, 100],
];
const V3_MAX_SKEW_BPS = 200;
const TICK_SPACING: Record<number, number> = { 100: 1, 500: 10, 3000: 60, 10000: 200 };
const MIN_TICK = -887272;
/** Half-width in ticks of the concentrated position next to the full-range one (≈ ±22% in price). */
const CONCENTRATED_TICKS = 2000;

const TOKEN_SUPPLY = 10n ** 12n * E18;
const FAR_DEADLINE = 2n ** 64n;
/** Each account gets this multiple of the largest pool reserve of every token. */
const FUNDING_MULTIPLE = 20n;

function bigintSqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Newton from the float estimate: converges in a step or two even for 2^200-sized inputs.
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) { if (x * x > n) x--; else if ((x + 1n) * (x + 1n) <= n) x++; else return x; }
    x = y;
  }
}

interface PendingTx { label: string; from: Address; to?: Address; data: Hex; gas: bigint; value?: bigint; nonce: number }

/**
 * Deploys WETH9, five ERC20s (one fee-on-transfer), two Uniswap V2 factories each with a Router02
 * ("uniswap" and the fork "sushiswap", with overlapping pairs whose prices are skewed by a seeded
 * ±1% and ±3% from a reference, so the venues disagree) and, unless `v3: false`, Uniswap V3
 * (factory, SwapRouter, NonfungiblePositionManager, five pools skewed ±2%, each with a full-range
 * and a concentrated position), then funds and approves the trading accounts. Transactions go out
 * as JSON-RPC batches of at most one block's gas through anvil's unlocked dev accounts, with
 * explicit nonces and gas, so nothing waits per transaction; `evm_mine` moves a batch the node is
 * slow to mine. Checks the ETH it needs first, then every receipt and every CREATE2 address.
 */
export async function deployUniswap(anvil: Pick<Anvil, 'rpcUrl' | 'chainId' | 'privateKeys'>, opts: DeployUniswapOptions = {}): Promise<UniswapDeployment> {
  const url = anvil.rpcUrl;
  const key0 = anvil.privateKeys[0];
  if (!key0) throw new TypeError('anvil.privateKeys is empty: need a deployer key');
  const deployer = privateKeyToAddress(key0);
  const accountIdx = opts.accounts ?? anvil.privateKeys.map((_, i) => i).filter((i) => i !== 0);
  const accounts = accountIdx.map((i) => {
    const k = anvil.privateKeys[i];
    if (!k) throw new RangeError(`opts.accounts ${i} is not an index into anvil.privateKeys (0..${anvil.privateKeys.length - 1})`);
    return privateKeyToAddress(k);
  });
  const withV3 = opts.v3 ?? true;
  const wethPerAccount = opts.wethPerAccount ?? 1000n * E18;
  const rand = mulberry32(opts.seed ?? 1);
  const skew = (maxBps: number) => 10_000 + Math.round((rand() * 2 - 1) * maxBps);

  const chainId = Number(await rpc<Hex>(url, 'eth_chainId'));
  if (chainId !== anvil.chainId) throw new OrionError('ORION_ERR_DEVNET', `node at ${url} has chain id ${chainId}, expected ${anvil.chainId}`);

  // The router finds pairs by CREATE2 with a hash fixed at compile time; if the npm pair bytecode
  // hashed differently, every router call would target an empty address.
  const v2InitCodeHash = keccak256(BYTECODE.v2Pair);
  if (v2InitCodeHash !== V2_ROUTER_INIT_CODE_HASH || !BYTECODE.v2Router02.includes(V2_ROUTER_INIT_CODE_HASH.slice(2))) {
    throw new OrionError('ORION_ERR_DEVNET', `UniswapV2Pair bytecode hashes to ${v2InitCodeHash}, but Router02 has ${V2_ROUTER_INIT_CODE_HASH} hard-coded`);
  }
  const v3InitCodeHash = keccak256(BYTECODE.v3Pool);
  let v3Skipped: string | undefined;
  if (!withV3) v3Skipped = 'disabled by options';
  else if (v3InitCodeHash !== V3_POOL_INIT_CODE_HASH || !BYTECODE.v3SwapRouter.includes(V3_POOL_INIT_CODE_HASH.slice(2))) {
    v3Skipped = `UniswapV3Pool bytecode hashes to ${v3InitCodeHash}, not periphery's POOL_INIT_CODE_HASH ${V3_POOL_INIT_CODE_HASH}`;
  }
  const deployV3 = v3Skipped === undefined;

  const [deployerNonceHex, ...accountNonceHex] = (await rpcBatch(url, [deployer, ...accounts].map((a): RpcCall => ['eth_getTransactionCount', [a, 'pending']]))) as Hex[];
  let nonce = Number(deployerNonceHex);
  const phase1: PendingTx[] = [];
  const tx = (label: string, to: Address | undefined, data: Hex, gas: bigint, value?: bigint): Address => {
    const n = nonce++;
    phase1.push({ label, from: deployer, to, data, gas, value, nonce: n });
    return to ?? getContractAddress({ from: deployer, nonce: BigInt(n) });
  };
  // One ABI holds every function the setup calls, so a name is enough to encode.
  const call = (fn: string, args: readonly unknown[]): Hex => encodeFunctionData({ abi: SETUP_ABI, functionName: fn as never, args: args as never });

  // Contracts.
  const weth = tx('deploy WETH9', undefined, BYTECODE.weth9, 1_500_000n);
  const tokens: DevnetToken[] = [];
  const addr = new Map<Sym, Address>([['WETH', weth]]);
  const price = new Map<Sym, readonly [bigint, bigint]>([['WETH', [1n, 1n]]]);
  for (const t of TOKEN_SPECS) {
    const code = encodeDeployData({ abi: CTOR_SUPPLY_ABI, bytecode: t.feeOnTransfer ? BYTECODE.deflatingErc20 : BYTECODE.erc20, args: [TOKEN_SUPPLY] });
    const a = tx(`deploy ${t.symbol}`, undefined, code, 1_500_000n);
    tokens.push({ address: a, symbol: t.symbol, decimals: 18, feeOnTransfer: t.feeOnTransfer ?? false });
    addr.set(t.symbol as Sym, a);
    price.set(t.symbol as Sym, t.priceEth);
  }
  const A = (s: Sym): Address => addr.get(s)!;
  /** Raw amount of `s` worth `valueWei` of ETH, scaled by `bps` / 10 000. */
  const worth = (s: Sym, valueWei: bigint, bps = 10_000): bigint => {
    const [num, den] = price.get(s)!;
    return (valueWei * den * BigInt(bps)) / (num * 10_000n);
  };

  const v2: DevnetV2[] = [];
  for (const venue of V2_VENUES) {
    const factory = tx(`deploy ${venue.name} factory`, undefined, encodeDeployData({ abi: CTOR_V2_FACTORY_ABI, bytecode: BYTECODE.v2Factory, args: [deployer] }), 4_000_000n);
    const router = tx(`deploy ${venue.name} router`, undefined, encodeDeployData({ abi: CTOR_ROUTER_ABI, bytecode: BYTECODE.v2Router02, args: [factory, weth] }), 5_000_000n);
    v2.push({ name: venue.name, factory, router, initCodeHash: v2InitCodeHash, pairs: [] });
  }
  let v3: DevnetV3 | undefined;
  if (deployV3) {
    const factory = tx('deploy v3 factory', undefined, BYTECODE.v3Factory, 7_000_000n);
    const router = tx('deploy v3 SwapRouter', undefined, encodeDeployData({ abi: CTOR_ROUTER_ABI, bytecode: BYTECODE.v3SwapRouter, args: [factory, weth] }), 4_000_000n);
    // The position manager only calls its token descriptor from tokenURI, which nothing here uses.
    const positionManager = tx('deploy v3 NonfungiblePositionManager', undefined, encodeDeployData({ abi: CTOR_NPM_ABI, bytecode: BYTECODE.v3PositionManager, args: [factory, weth, '0x000000000000000000000000000000000000dEaD'] }), 7_000_000n);
    v3 = { factory, router, positionManager, initCodeHash: v3InitCodeHash, pools: [] };
  }

  // Deployer WETH for V3 positions (V2 WETH pairs take ETH through addLiquidityETH), and approvals.
  const v3WethWei = deployV3 ? V3_POOLS.reduce((s, [a, b, , v]) => s + (a === 'WETH' || b === 'WETH' ? BigInt(v) * E18 * 2n : 0n), 0n) : 0n;
  if (v3WethWei > 0n) tx('deployer wraps ETH', weth, call('deposit', []), 100_000n, v3WethWei);
  const spenders = [...v2.map((d) => d.router), ...(v3 ? [v3.positionManager] : [])];
  for (const [sym, token] of addr) for (const s of spenders) tx(`deployer approves ${sym}`, token, call('approve', [s, maxUint256]), 100_000n);

  // V2 liquidity through each router: addLiquidity creates the pair, then transfers to the address
  // its pairFor computes, so a wrong init-code hash would revert here.
  const reserveOf = new Map<Sym, bigint>();
  const noteReserve = (s: Sym, amount: bigint) => reserveOf.set(s, amount > (reserveOf.get(s) ?? 0n) ? amount : reserveOf.get(s)!);
  V2_VENUES.forEach((venue, vi) => {
    const d = v2[vi]!;
    for (const [a, b, value] of venue.pairs) {
      const v = BigInt(value) * E18;
      // Skew the price by moving the non-WETH (or second) side.
      const amountA = worth(a, v);
      const amountB = worth(b, v, skew(venue.maxSkewBps));
      noteReserve(a, amountA);
      noteReserve(b, amountB);
      const [t0, t1] = sortTokens(A(a), A(b));
      d.pairs.push({ address: v2PairAddress(d.factory, v2InitCodeHash, t0, t1), token0: t0, token1: t1 });
      if (a === 'WETH') tx(`${venue.name} ${a}/${b} liquidity`, d.router, call('addLiquidityETH', [A(b), amountB, 0n, 0n, deployer, FAR_DEADLINE]), 4_000_000n, amountA);
      else tx(`${venue.name} ${a}/${b} liquidity`, d.router, call('addLiquidity', [A(a), A(b), amountA, amountB, 0n, 0n, deployer, FAR_DEADLINE]), 4_000_000n);
    }
  });

  if (v3) {
    for (const [a, b, fee, value] of V3_POOLS) {
      const [t0, t1] = sortTokens(A(a), A(b));
      const s0 = t0 === A(a) ? a : b;
      const s1 = t0 === A(a) ? b : a;
      const v = BigInt(value) * E18;
      const amount0 = worth(s0, v);
      const amount1 = worth(s1, v, skew(V3_MAX_SKEW_BPS));
      noteReserve(s0, amount0);
      noteReserve(s1, amount1);
      const sqrtPriceX96 = bigintSqrt((amount1 << 192n) / amount0);
      const spacing = TICK_SPACING[fee]!;
      const pm = v3.positionManager;
      v3.pools.push({ address: v3PoolAddress(v3.factory, v3InitCodeHash, t0, t1, fee), token0: t0, token1: t1, fee, tickSpacing: spacing });
      tx(`v3 ${a}/${b}/${fee} create`, pm, call('createAndInitializePoolIfNecessary', [t0, t1, fee, sqrtPriceX96]), 6_000_000n);
      const full = Math.ceil(MIN_TICK / spacing) * spacing;
      const mint = (lower: number, upper: number, a0: bigint, a1: bigint) =>
        call('mint', [{ token0: t0, token1: t1, fee, tickLower: lower, tickUpper: upper, amount0Desired: a0, amount1Desired: a1, amount0Min: 0n, amount1Min: 0n, recipient: deployer, deadline: FAR_DEADLINE }]);
      tx(`v3 ${a}/${b}/${fee} full-range mint`, pm, mint(full, -full, amount0, amount1), 1_000_000n);
      // A concentrated position around the price gives the pool initialized ticks near it, as real pools have.
      const tick = Math.floor(Math.log(Number(amount1) / Number(amount0)) / Math.log(1.0001));
      const lower = Math.floor((tick - CONCENTRATED_TICKS) / spacing) * spacing;
      const upper = Math.ceil((tick + CONCENTRATED_TICKS) / spacing) * spacing;
      tx(`v3 ${a}/${b}/${fee} concentrated mint`, pm, mint(lower, upper, amount0 / 2n, amount1 / 2n), 1_000_000n);
    }
  }

  // Token balances for the trading accounts.
  for (const account of accounts) {
    for (const t of tokens) {
      const amount = (reserveOf.get(t.symbol as Sym) ?? 0n) * FUNDING_MULTIPLE;
      tx(`fund ${account} ${t.symbol}`, t.address, call('transfer', [account, amount]), 100_000n);
    }
  }

  // A transaction the sender cannot pay for is accepted into anvil's pool and then silently
  // dropped when mined, so check the ETH up front and fail with a message that says why.
  const gasAllowance = 10n * E18;
  const needs = [
    [deployer, phase1.reduce((sum, t) => sum + (t.value ?? 0n), 0n) + gasAllowance],
    ...accounts.map((a) => [a, wethPerAccount + gasAllowance] as const),
  ] as const;
  const balances = (await rpcBatch(url, needs.map(([a]): RpcCall => ['eth_getBalance', [a, 'latest']]))) as Hex[];
  needs.forEach(([a, need], i) => {
    const have = BigInt(balances[i]!);
    if (have < need) throw new OrionError('ORION_ERR_DEVNET', `account ${a} has ${have / E18} ETH, the deployment needs ${need / E18} ETH from it (start anvil with a larger balanceEth)`);
  });

  await sendAndMine(url, phase1);

  // Phase 2, once the token contracts exist (an approve sent to an address without code would
  // "succeed" and do nothing): each account wraps ETH and approves every router.
  const phase2: PendingTx[] = [];
  const routers = [...v2.map((d) => d.router), ...(v3 ? [v3.router] : [])];
  accounts.forEach((account, i) => {
    let n = Number(accountNonceHex[i]);
    phase2.push({ label: `${account} wraps ETH`, from: account, to: weth, data: call('deposit', []), gas: 100_000n, value: wethPerAccount, nonce: n++ });
    for (const [sym, token] of addr) {
      for (const r of routers) phase2.push({ label: `${account} approves ${sym} to ${r}`, from: account, to: token, data: call('approve', [r, maxUint256]), gas: 100_000n, nonce: n++ });
    }
  });
  await sendAndMine(url, phase2);

  // The factories must have put every pair and pool exactly where the CREATE2 formula says.
  const checks: RpcCall[] = [];
  for (const d of v2) for (const p of d.pairs) checks.push(['eth_call', [{ to: d.factory, data: encodeFunctionData({ abi: V2_FACTORY_ABI, functionName: 'getPair', args: [p.token0, p.token1] }) }, 'latest']]);
  if (v3) for (const p of v3.pools) checks.push(['eth_call', [{ to: v3.factory, data: encodeFunctionData({ abi: V3_FACTORY_ABI, functionName: 'getPool', args: [p.token0, p.token1, p.fee] }) }, 'latest']]);
  const found = (await rpcBatch(url, checks)) as Hex[];
  const expected = [...v2.flatMap((d) => d.pairs.map((p) => p.address)), ...(v3 ? v3.pools.map((p) => p.address) : [])];
  expected.forEach((want, i) => {
    const got = getAddress(`0x${(found[i] ?? '').slice(-40)}`);
    if (got !== want) throw new OrionError('ORION_ERR_DEVNET', `pool address mismatch: factory reports ${got}, CREATE2 with the init-code hash gives ${want}`);
  });

  const block = Number(await rpc<Hex>(url, 'eth_blockNumber'));
  return { chainId, deployer, weth, tokens, v2, ...(v3 ? { v3 } : {}), ...(v3Skipped ? { v3Skipped } : {}), accounts, block };
}

const CTOR_SUPPLY_ABI = parseAbi(['constructor(uint256 totalSupply)']);
const CTOR_V2_FACTORY_ABI = parseAbi(['constructor(address feeToSetter)']);
const CTOR_ROUTER_ABI = parseAbi(['constructor(address factory, address weth)']);
const CTOR_NPM_ABI = parseAbi(['constructor(address factory, address weth, address tokenDescriptor)']);
const SETUP_ABI = [...ERC20_ABI, ...V2_ROUTER_ABI, ...V3_POSITION_MANAGER_ABI] as const;

/** How long a chunk of deployment transactions may take to be mined before it counts as stuck. */
const CHUNK_TIMEOUT_MS = 30_000;
/** Under automine, mine explicitly once a chunk made no progress for this long. */
const STALL_MINE_MS = 30;
/** A chunk that made no progress for this long (explicit blocks included) has its missing transactions sent again. */
const RESEND_AFTER_MS = 1_000;

/**
 * Sends `txs` (unlocked accounts, explicit nonce and gas) as JSON-RPC batches and waits for every
 * receipt, mining with `evm_mine` when the node does not automine; throws naming what reverted.
 * Each batch stays within one block's gas: anvil 1.7 drops the queued followers of a transaction
 * it postpones because the block is full, which would leave a nonce gap nothing fills.
 */
async function sendAndMine(url: string, txs: readonly PendingTx[]): Promise<void> {
  const [automine, head] = (await rpcBatch(url, [['anvil_getAutomine', []], ['eth_getBlockByNumber', ['latest', false]]])) as [boolean, { gasLimit: Hex }];
  const budget = (BigInt(head.gasLimit) * 9n) / 10n;
  let from = 0;
  while (from < txs.length) {
    let to = from + 1;
    let gas = txs[from]!.gas;
    while (to < txs.length && gas + txs[to]!.gas <= budget) gas += txs[to++]!.gas;
    await sendChunk(url, txs.slice(from, to), automine);
    from = to;
  }
}

function sendCall(t: PendingTx): RpcCall {
  return ['eth_sendTransaction', [{
    from: t.from,
    ...(t.to ? { to: t.to } : {}),
    data: t.data,
    gas: `0x${t.gas.toString(16)}`,
    value: `0x${(t.value ?? 0n).toString(16)}`,
    nonce: `0x${t.nonce.toString(16)}`,
  }]];
}

async function sendChunk(url: string, txs: readonly PendingTx[], automine: boolean): Promise<void> {
  const hashes = (await rpcBatch(url, txs.map(sendCall))) as Hex[];
  const receipts = new Array<{ status: Hex } | null>(hashes.length).fill(null);
  let pending = hashes.map((_, i) => i);
  const deadline = Date.now() + CHUNK_TIMEOUT_MS;
  let progressAt = Date.now();
  let resentAt = Date.now();
  let resends = 0;
  let resendError = '';
  for (;;) {
    // Automine sometimes leaves ready transactions of a batch unmined until the next one arrives;
    // an explicit block after a short stall (or always, without automine) moves them.
    if (!automine || Date.now() - progressAt > STALL_MINE_MS) await rpc(url, 'evm_mine');
    const got = (await rpcBatch(url, pending.map((i): RpcCall => ['eth_getTransactionReceipt', [hashes[i]]]))) as ({ status: Hex } | null)[];
    const still: number[] = [];
    pending.forEach((i, j) => { if (got[j]) receipts[i] = got[j]; else still.push(i); });
    if (still.length < pending.length) progressAt = Date.now();
    pending = still;
    if (pending.length === 0) break;
    if (Date.now() - Math.max(progressAt, resentAt) > RESEND_AFTER_MS) {
      // anvil 1.7 now and then drops a transaction of a concurrent batch from its pool (seen about
      // once in five deployments), and everything behind the gap waits forever. The same nonce and
      // call go again, one at a time; the node fills in fresh fees, so the hash changes. A copy
      // still in the pool makes its resend fail, which is fine.
      resentAt = Date.now();
      // From the second stall on, the pool itself is the problem (its copy of the gap's transaction
      // is there to the node but never mined): empty it and send what is left again, nonces in order.
      if (++resends >= 2) await rpc(url, 'anvil_dropAllTransactions').catch(() => {});
      const order = [...pending].sort((a, b) => (txs[a]!.from === txs[b]!.from ? Number(txs[a]!.nonce - txs[b]!.nonce) : txs[a]!.from < txs[b]!.from ? -1 : 1));
      for (const i of order) {
        try {
          hashes[i] = await rpc<Hex>(url, 'eth_sendTransaction', sendCall(txs[i]!)[1]);
        } catch (err) {
          resendError = (err as Error).message; // still pooled, usually
        }
      }
    }
    if (Date.now() > deadline) {
      const pool = await rpc<unknown>(url, 'txpool_status').catch(() => 'unknown');
      throw new OrionError('ORION_ERR_DEVNET', `${pending.length} deployment transactions not mined after ${CHUNK_TIMEOUT_MS} ms (first: ${txs[pending[0]!]!.label})`, { details: `txpool_status: ${JSON.stringify(pool)}; resends: ${resends}; last resend error: ${resendError || 'none'}` });
    }
    await new Promise((r) => setTimeout(r, automine ? 5 : 20));
  }
  const failed = txs.filter((_, i) => receipts[i]?.status !== '0x1').map((t) => t.label);
  if (failed.length > 0) throw new OrionError('ORION_ERR_DEVNET', `${failed.length} deployment transactions reverted: ${failed.slice(0, 5).join('; ')}`);
}
