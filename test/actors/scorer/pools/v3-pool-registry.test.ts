import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Address, decodeFunctionResult, encodeFunctionData, type Hex, maxUint256, parseAbi, toEventSelector } from 'viem';
import type { RpcLog } from '../../../../src/actors/scorer/pools/v2-pool-registry.js';
import { getSqrtRatioAtTick } from '../../../../src/actors/scorer/pools/v3-math/tick-math.js';
import { swap } from '../../../../src/actors/scorer/pools/v3-math/v3-swap.js';
import { type V3Pool, type V3PoolReading, V3_BURN_TOPIC, V3_MINT_TOPIC, V3_SWAP_TOPIC, V3PoolRegistry } from '../../../../src/actors/scorer/pools/v3-pool-registry.js';
import { readV3Pools, wordRange } from '../../../../src/actors/scorer/pools/v3-state.js';
import { type RpcCall, rpc, rpcBatch } from '../../../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../../../src/devnet/devnet.js';
import { ERC20_ABI, type DevnetV3Pool, V3_POOL_ABI, V3_POSITION_MANAGER_ABI, V3_SWAP_ROUTER_ABI } from '../../../../src/devnet/uniswap.js';

const A = `0x${'aa'.repeat(20)}`;
const B = `0x${'bb'.repeat(20)}`;
const POOL = `0x${'01'.repeat(20)}`;
const word = (v: bigint) => (v < 0n ? (1n << 256n) + v : v).toString(16).padStart(64, '0');
const topicInt = (t: number) => `0x${word(BigInt(t))}`;
const OWNER = `0x${word(0xabn)}`;

const swapLog = (address: string, sqrtPriceX96: bigint, liquidity: bigint, tick: number): RpcLog => ({
  address,
  topics: [V3_SWAP_TOPIC, OWNER, OWNER],
  data: `0x${word(1n)}${word(-1n)}${word(sqrtPriceX96)}${word(liquidity)}${word(BigInt(tick))}`,
});
const mintLog = (address: string, lower: number, upper: number, amount: bigint): RpcLog => ({
  address,
  topics: [V3_MINT_TOPIC, OWNER, topicInt(lower), topicInt(upper)],
  data: `0x${word(0xabn)}${word(amount)}${word(1n)}${word(1n)}`,
});
const burnLog = (address: string, lower: number, upper: number, amount: bigint): RpcLog => ({
  address,
  topics: [V3_BURN_TOPIC, OWNER, topicInt(lower), topicInt(upper)],
  data: `0x${word(amount)}${word(1n)}${word(1n)}`,
});

/** A pool at tick 0 with one position [-600, 600) of liquidity 1e18, ticks known in [-15360, 15359]. */
function testPool(over: Partial<V3PoolReading> = {}): V3PoolReading {
  return {
    address: POOL,
    token0: A,
    token1: B,
    fee: 3000,
    tickSpacing: 60,
    sqrtPriceX96: getSqrtRatioAtTick(0),
    tick: 0,
    liquidity: 10n ** 18n,
    ticks: [
      { tick: -600, liquidityNet: 10n ** 18n, liquidityGross: 10n ** 18n },
      { tick: 600, liquidityNet: -(10n ** 18n), liquidityGross: 10n ** 18n },
    ],
    tickLo: -15360,
    tickHi: 15359,
    block: 1,
    ...over,
  };
}

describe('V3PoolRegistry', () => {
  it('default: the topics are the V3 pool events\' selectors', () => {
    assert.equal(V3_SWAP_TOPIC, toEventSelector('event Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)'));
    assert.equal(V3_MINT_TOPIC, toEventSelector('event Mint(address sender, address indexed owner, int24 indexed tickLower, int24 indexed tickUpper, uint128 amount, uint256 amount0, uint256 amount1)'));
    assert.equal(V3_BURN_TOPIC, toEventSelector('event Burn(address indexed owner, int24 indexed tickLower, int24 indexed tickUpper, uint128 amount, uint256 amount0, uint256 amount1)'));
  });

  it('default: pools by address and unordered token pair; add copies the tick list', () => {
    const reg = new V3PoolRegistry();
    const reading = testPool({ address: POOL.toUpperCase().replace('0X', '0x') });
    const p = reg.add(reading);
    reg.add(testPool({ address: `0x${'02'.repeat(20)}`, fee: 500, tickSpacing: 10 }));
    assert.equal(reg.size, 2);
    assert.equal(reg.get(POOL), p);
    assert.deepEqual(reg.pools(B, A).map((x) => x.fee), [3000, 500]);
    assert.equal(reg.pools(A, `0x${'cc'.repeat(20)}`).length, 0);
    reading.ticks[0]!.liquidityNet = 7n;
    assert.equal(p.ticks[0]!.liquidityNet, 10n ** 18n, 'the registry owns its tick list');
    // Replacing a pool keeps one entry per address.
    reg.add(testPool({ liquidity: 5n }));
    assert.equal(reg.pools(A, B).length, 2);
    assert.equal(reg.get(POOL)!.liquidity, 5n);
    assert.equal(reg.all().length, 2);
  });

  it('behavior: Swap logs set price, liquidity and tick in order; other, removed and malformed logs and unknown pools are skipped', () => {
    const reg = new V3PoolRegistry();
    reg.add(testPool());
    const r = reg.applyLogs(
      [
        swapLog(POOL, getSqrtRatioAtTick(100) + 5n, 3n, 100),
        { ...swapLog(POOL, 1n, 1n, 1), removed: true },
        swapLog(`0x${'09'.repeat(20)}`, 1n, 1n, 1),
        { address: POOL, topics: ['0x1234'], data: '0x' },
        { address: POOL, topics: [V3_SWAP_TOPIC], data: '0x12' },
        swapLog(POOL, getSqrtRatioAtTick(-61), 2n, -61),
      ],
      7,
    );
    assert.deepEqual(r, { swaps: 2, mints: 0, burns: 0, skipped: 4, needsRefresh: 0 });
    const p = reg.get(POOL)!;
    assert.deepEqual([p.sqrtPriceX96, p.liquidity, p.tick, p.block], [getSqrtRatioAtTick(-61), 2n, -61, 7]);
  });

  it('behavior: Mint and Burn track liquidityGross and liquidityNet, add and drop ticks, and move active liquidity only when the price is in range', () => {
    const reg = new V3PoolRegistry();
    const p = reg.add(testPool());
    const L = 10n ** 18n;
    // In range: [-120, 120) holds tick 0; a new tick pair appears, active liquidity grows.
    reg.applyLogs([mintLog(POOL, -120, 120, 5n)], 2);
    assert.deepEqual(p.ticks.map((t) => [t.tick, t.liquidityNet, t.liquidityGross]), [[-600, L, L], [-120, 5n, 5n], [120, -5n, 5n], [600, -L, L]]);
    assert.equal(p.liquidity, L + 5n);
    // Out of range above: ticks change, active liquidity does not; a shared tick adds up.
    reg.applyLogs([mintLog(POOL, 120, 600, 3n)], 3);
    assert.deepEqual(p.ticks.map((t) => [t.tick, t.liquidityNet, t.liquidityGross]), [[-600, L, L], [-120, 5n, 5n], [120, -2n, 8n], [600, -L - 3n, L + 3n]]);
    assert.equal(p.liquidity, L + 5n);
    // The upper bound is exclusive: at tick 120 the position [-120, 120) is not active.
    const r = reg.applyLogs([swapLog(POOL, getSqrtRatioAtTick(120), L + 3n, 120), burnLog(POOL, -120, 120, 5n), burnLog(POOL, 120, 600, 1n)], 4);
    assert.deepEqual(r, { swaps: 1, mints: 0, burns: 2, skipped: 0, needsRefresh: 0 });
    // -120 drops out (gross 0); 120 stays initialized with gross 2 (net 2, from the upper mint).
    assert.deepEqual(p.ticks.map((t) => [t.tick, t.liquidityNet, t.liquidityGross]), [[-600, L, L], [120, 2n, 2n], [600, -L - 2n, L + 2n]]);
    assert.equal(p.liquidity, L + 3n - 1n);
    // A zero burn (a fee poke) changes nothing.
    reg.applyLogs([burnLog(POOL, 120, 600, 0n)], 5);
    assert.equal(p.ticks.length, 3);
    assert.equal(reg.needsRefresh(POOL), false);
    // A tick outside the known range is not tracked, but active liquidity still follows.
    reg.applyLogs([mintLog(POOL, -30000, 30000, 9n)], 6);
    assert.equal(p.ticks.length, 3);
    assert.equal(p.liquidity, L + 2n + 9n);
  });

  it('behavior: a burn of a tick the list does not hold marks the pool for a refresh', () => {
    const reg = new V3PoolRegistry();
    reg.add(testPool());
    const r = reg.applyLogs([burnLog(POOL, -180, 180, 1n)], 2);
    assert.equal(r.needsRefresh, 1);
    assert.equal(reg.needsRefresh(POOL), true);
  });

  it('behavior: a price that leaves the known tick range needs a refresh, until a reconcile re-reads the pool', () => {
    const reg = new V3PoolRegistry();
    reg.add(testPool());
    assert.equal(reg.needsRefresh(POOL), false);
    let r = reg.applyLogs([swapLog(POOL, getSqrtRatioAtTick(15359), 1n, 15359)], 2);
    assert.equal(r.needsRefresh, 0, 'the last covered tick is still in range');
    r = reg.applyLogs([swapLog(POOL, getSqrtRatioAtTick(15360), 1n, 15360), swapLog(POOL, getSqrtRatioAtTick(15400), 1n, 15400)], 3);
    assert.equal(r.needsRefresh, 1, 'counted once');
    assert.equal(reg.needsRefresh(POOL.toUpperCase().replace('0X', '0x')), true);
    assert.deepEqual(reg.refreshList(), [POOL]);
    // Coming back into range does not clear it: ticks may have changed out there meanwhile.
    reg.applyLogs([swapLog(POOL, getSqrtRatioAtTick(0), 1n, 0)], 4);
    assert.equal(reg.needsRefresh(POOL), true);
    const fresh = testPool({ tick: 15400, sqrtPriceX96: getSqrtRatioAtTick(15400), tickLo: 0, tickHi: 30719, ticks: [{ tick: 600, liquidityNet: -(10n ** 18n), liquidityGross: 10n ** 18n }] });
    reg.reconcile([fresh], 5);
    assert.equal(reg.needsRefresh(POOL), false);
    assert.deepEqual(reg.refreshList(), []);
    assert.equal(reg.get(POOL)!.tickLo, 0);
  });

  it('behavior: reconcile counts the pools whose state differed, comparing ticks where both ranges overlap', () => {
    const reg = new V3PoolRegistry();
    reg.add(testPool());
    assert.equal(reg.reconcile([testPool()], 2), 0);
    // A different range with the same ticks in the overlap is not drift.
    assert.equal(reg.reconcile([testPool({ tickLo: -1000, tickHi: 1000 })], 3), 0);
    assert.equal(reg.reconcile([testPool({ tickLo: -1000, tickHi: 1000, ticks: [{ tick: -600, liquidityNet: 10n ** 18n, liquidityGross: 10n ** 18n }] })], 4), 1);
    assert.equal(reg.reconcile([testPool({ liquidity: 1n }), testPool({ address: `0x${'09'.repeat(20)}` })], 5), 1);
    assert.equal(reg.drift, 2);
    assert.equal(reg.get(POOL)!.block, 5);
  });

  it('error: token order, tick spacing, range and tick order are checked', () => {
    const reg = new V3PoolRegistry();
    assert.throws(() => reg.add(testPool({ token0: B, token1: A })), RangeError);
    assert.throws(() => reg.add(testPool({ tickSpacing: 0 })), RangeError);
    assert.throws(() => reg.add(testPool({ tickLo: 10, tickHi: 0, ticks: [] })), RangeError);
    assert.throws(() => reg.add(testPool({ ticks: [...testPool().ticks].reverse() })), RangeError);
    assert.throws(() => reg.add(testPool({ tickLo: 0 })), RangeError, 'a tick outside the range');
    assert.equal(reg.size, 0);
  });
});

// ---------------------------------------------------------------------------------------------

const NPM_EXTRA_ABI = parseAbi([
  'struct DecreaseLiquidityParams { uint256 tokenId; uint128 liquidity; uint256 amount0Min; uint256 amount1Min; uint256 deadline; }',
  'function decreaseLiquidity(DecreaseLiquidityParams params) payable returns (uint256 amount0, uint256 amount1)',
  'function positions(uint256 tokenId) view returns (uint96 nonce, address operator, address token0, address token1, uint24 fee, int24 tickLower, int24 tickUpper, uint128 liquidity, uint256 feeGrowthInside0LastX128, uint256 feeGrowthInside1LastX128, uint128 tokensOwed0, uint128 tokensOwed1)',
]);
const V3_TICKS_ABI = parseAbi(['function ticks(int24) view returns (uint128 liquidityGross, int128 liquidityNet, uint256, uint256, int56, uint160, uint32, bool initialized)']);
const TRANSFER_TOPIC = toEventSelector('event Transfer(address indexed from, address indexed to, uint256 value)');

interface Receipt { status: Hex; blockNumber: Hex; logs: { address: Address; topics: Hex[] }[] }

/** Sends from an unlocked dev account with explicit gas; the test mines with `evm_mine`. */
function sendCall(from: Address, to: Address, data: Hex): RpcCall {
  return ['eth_sendTransaction', [{ from, to, data, gas: '0x4c4b40' }]];
}

/** Sends `calls` in order, mines one block, and returns the receipts (all must succeed, in that block). */
async function mineBlock(url: string, calls: readonly RpcCall[]): Promise<{ block: number; receipts: Receipt[] }> {
  const hashes: Hex[] = [];
  // One at a time: each sender's nonces are assigned in order.
  for (const c of calls) hashes.push((await rpcBatch(url, [c]))[0] as Hex);
  await rpc(url, 'evm_mine');
  const receipts = (await rpcBatch(url, hashes.map((h): RpcCall => ['eth_getTransactionReceipt', [h]]))) as Receipt[];
  receipts.forEach((r, i) => assert.equal(r?.status, '0x1', `transaction ${i} of the block failed`));
  const block = Number(BigInt(receipts[0]!.blockNumber));
  assert.ok(receipts.every((r) => Number(BigInt(r.blockNumber)) === block), 'every transaction is in one block');
  return { block, receipts };
}

async function blockLogs(url: string, block: number, addresses: readonly string[]): Promise<RpcLog[]> {
  const tag = `0x${block.toString(16)}`;
  return rpc<RpcLog[]>(url, 'eth_getLogs', [{ fromBlock: tag, toBlock: tag, address: addresses }]);
}

function exactInputSingle(trader: Address, tokenIn: Address, tokenOut: Address, fee: number, amountIn: bigint): Hex {
  return encodeFunctionData({
    abi: V3_SWAP_ROUTER_ABI,
    functionName: 'exactInputSingle',
    args: [{ tokenIn, tokenOut, fee, recipient: trader, deadline: maxUint256, amountIn, amountOutMinimum: 0n, sqrtPriceLimitX96: 0n }],
  });
}

/** The pool's state from its own views, for comparison with readV3Pools. */
async function poolViews(url: string, pool: Address, block: number): Promise<{ sqrtPriceX96: bigint; tick: number; liquidity: bigint; fee: number; tickSpacing: number }> {
  const tag = `0x${block.toString(16)}`;
  const [s0, l, f, ts] = (await rpcBatch(url, (['slot0', 'liquidity', 'fee', 'tickSpacing'] as const).map((fn): RpcCall => ['eth_call', [{ to: pool, data: encodeFunctionData({ abi: V3_POOL_ABI, functionName: fn }) }, tag]]))) as Hex[];
  const slot0 = decodeFunctionResult({ abi: V3_POOL_ABI, functionName: 'slot0', data: s0! });
  return {
    sqrtPriceX96: slot0[0],
    tick: slot0[1],
    liquidity: decodeFunctionResult({ abi: V3_POOL_ABI, functionName: 'liquidity', data: l! }),
    fee: decodeFunctionResult({ abi: V3_POOL_ABI, functionName: 'fee', data: f! }),
    tickSpacing: decodeFunctionResult({ abi: V3_POOL_ABI, functionName: 'tickSpacing', data: ts! }),
  };
}

/** A pool's price, liquidity and the ticks it holds where its range overlaps `other`'s, for deepEqual. */
function stateOf(p: V3Pool, other: V3Pool): unknown {
  const lo = Math.max(p.tickLo, other.tickLo);
  const hi = Math.min(p.tickHi, other.tickHi);
  return { sqrtPriceX96: p.sqrtPriceX96, tick: p.tick, liquidity: p.liquidity, ticks: p.ticks.filter((t) => t.tick >= lo && t.tick <= hi).map((t) => ({ ...t })) };
}

describe('V3PoolRegistry against anvil', () => {
  let devnet: Devnet;
  let url: string;
  let pools: DevnetV3Pool[];
  before(async () => {
    devnet = await startDevnet({ blockTime: 0, automine: false });
    url = devnet.anvil.rpcUrl;
    pools = devnet.deployment.v3!.pools;
  });
  after(async () => {
    await devnet?.stop();
  });

  it('default: readV3Pools reads what each pool reports, with every initialized tick in the words read', async () => {
    const block = Number(BigInt(await rpc<Hex>(url, 'eth_blockNumber')));
    // Enough words to cover the whole tick range of every pool: the tick list is then complete.
    const all = await readV3Pools(url, pools.map((p) => p.address), { wordsAround: 4000, block });
    const near = await readV3Pools(url, [...pools.map((p) => p.address), `0x${'de'.repeat(20)}`]);
    assert.equal(all.length, pools.length);
    assert.equal(near.length, pools.length, 'an address without a pool is left out');
    for (let i = 0; i < pools.length; i++) {
      const d = pools[i]!;
      const r = all[i]!;
      const v = await poolViews(url, d.address, block);
      assert.equal(r.address, d.address.toLowerCase());
      assert.deepEqual([r.token0, r.token1, r.fee, r.tickSpacing, r.block], [d.token0.toLowerCase(), d.token1.toLowerCase(), d.fee, d.tickSpacing, block]);
      assert.deepEqual([r.sqrtPriceX96, r.tick, r.liquidity, r.fee, r.tickSpacing], [v.sqrtPriceX96, v.tick, v.liquidity, v.fee, v.tickSpacing]);
      // Full range plus one concentrated position: four initialized ticks, the outer two at the
      // widest usable ticks, and the active liquidity is the net sum below the price.
      const full = Math.ceil(-887272 / d.tickSpacing) * d.tickSpacing;
      assert.equal(r.ticks.length, 4);
      assert.deepEqual([r.ticks[0]!.tick, r.ticks[3]!.tick], [full, -full]);
      assert.equal(r.ticks.filter((t) => t.tick <= r.tick).reduce((s, t) => s + t.liquidityNet, 0n), r.liquidity);
      assert.equal(r.ticks.reduce((s, t) => s + t.liquidityNet, 0n), 0n);
      const direct = (await rpcBatch(url, r.ticks.map((t): RpcCall => ['eth_call', [{ to: d.address, data: encodeFunctionData({ abi: V3_TICKS_ABI, functionName: 'ticks', args: [t.tick] }) }, `0x${block.toString(16)}`]]))) as Hex[];
      r.ticks.forEach((t, j) => {
        const [gross, net, , , , , , initialized] = decodeFunctionResult({ abi: V3_TICKS_ABI, functionName: 'ticks', data: direct[j]! });
        assert.deepEqual([t.liquidityGross, t.liquidityNet, initialized], [gross, net, true]);
      });
      // The default two words each side: the concentrated ticks (±2000 ticks away) but not the
      // full-range ones; the range is exactly the words read.
      const n = near[i]!;
      const [wLo, wHi] = wordRange(n.tick, n.tickSpacing, 2);
      assert.deepEqual([n.tickLo, n.tickHi], [wLo * 256 * n.tickSpacing, (wHi * 256 + 255) * n.tickSpacing]);
      assert.deepEqual(n.ticks, r.ticks.filter((t) => t.tick >= n.tickLo && t.tick <= n.tickHi));
      assert.equal(n.ticks.length, 2);
    }
  });

  it('behavior: applying a block\'s Swap, Mint and Burn logs gives exactly the state the node reports, and the v3 math on it reproduces every swap to the wei', async () => {
    const d = devnet.deployment;
    const v3 = d.v3!;
    const [t1, t2] = d.accounts as [Address, Address];
    const pool = pools.find((p) => p.fee === 500 && (p.token0 === d.weth || p.token1 === d.weth))!;
    const other = pools.find((p) => p.fee === 500 && p !== pool)!;
    const registryOf = async (block: number) => {
      const reg = new V3PoolRegistry();
      for (const r of await readV3Pools(url, [pool.address, other.address], { block })) reg.add(r);
      return reg;
    };
    const mint = (lower: number, upper: number, recipient: Address) =>
      encodeFunctionData({
        abi: V3_POSITION_MANAGER_ABI,
        functionName: 'mint',
        args: [{ token0: pool.token0, token1: pool.token1, fee: pool.fee, tickLower: lower, tickUpper: upper, amount0Desired: 10n ** 20n, amount1Desired: 10n ** 20n, amount0Min: 0n, amount1Min: 0n, recipient, deadline: maxUint256 }],
      });

    // Block 1: the second trader approves the position manager and opens position #1 near the price.
    const start = (await registryOf(Number(BigInt(await rpc<Hex>(url, 'eth_blockNumber'))))).get(pool.address)!;
    const s = pool.tickSpacing;
    const near = Math.floor(start.tick / s) * s;
    const approve = (token: Address) => sendCall(t2, token, encodeFunctionData({ abi: ERC20_ABI, functionName: 'approve', args: [v3.positionManager, maxUint256] }));
    const b1 = await mineBlock(url, [approve(pool.token0), approve(pool.token1), sendCall(t2, v3.positionManager, mint(near - 10 * s, near + 15 * s, t2))]);
    const minted = b1.receipts[2]!.logs.find((l) => l.address.toLowerCase() === v3.positionManager.toLowerCase() && l.topics[0] === TRANSFER_TOPIC)!;
    const tokenId = BigInt(minted.topics[3]!);
    const pos = decodeFunctionResult({
      abi: NPM_EXTRA_ABI,
      functionName: 'positions',
      data: await rpc<Hex>(url, 'eth_call', [{ to: v3.positionManager, data: encodeFunctionData({ abi: NPM_EXTRA_ABI, functionName: 'positions', args: [tokenId] }) }, 'latest']),
    });
    const reg = await registryOf(b1.block);
    assert.ok(reg.get(pool.address)!.ticks.some((t) => t.tick === near - 10 * s), 'position #1 is in the registry');

    // Block 2: swaps both ways, a new position #2, position #1 burnt in full, and a swap on another pool.
    const weth = d.weth;
    const tka = pool.token0 === weth ? pool.token1 : pool.token0;
    const b2 = await mineBlock(url, [
      sendCall(t1, v3.router, exactInputSingle(t1, weth, tka, pool.fee, 3n * 10n ** 18n)),
      sendCall(t2, v3.positionManager, mint(near - 5 * s, near + 8 * s, t2)),
      sendCall(t1, v3.router, exactInputSingle(t1, tka, weth, pool.fee, 200_000n * 10n ** 18n)),
      sendCall(t2, v3.positionManager, encodeFunctionData({ abi: NPM_EXTRA_ABI, functionName: 'decreaseLiquidity', args: [{ tokenId, liquidity: pos[7], amount0Min: 0n, amount1Min: 0n, deadline: maxUint256 }] })),
      sendCall(t1, v3.router, exactInputSingle(t1, weth, tka, pool.fee, 10n ** 18n)),
      sendCall(t1, v3.router, exactInputSingle(t1, other.token0, other.token1, other.fee, 10n ** 20n)),
    ]);
    const logs = await blockLogs(url, b2.block, [pool.address, other.address]);
    const topics = logs.map((l) => l.topics[0]);
    assert.deepEqual(topics, [V3_SWAP_TOPIC, V3_MINT_TOPIC, V3_SWAP_TOPIC, V3_BURN_TOPIC, V3_SWAP_TOPIC, V3_SWAP_TOPIC]);
    let crossed = 0;
    for (const log of logs) {
      if (log.topics[0] === V3_SWAP_TOPIC) {
        // The chain's amounts for this exact input, predicted from the registry before the log.
        const p = reg.get(log.address)!;
        const w = (i: number) => BigInt(`0x${log.data.slice(2 + 64 * i, 66 + 64 * i)}`);
        const signed = (v: bigint) => (v >= 1n << 255n ? v - (1n << 256n) : v);
        const [amount0, amount1] = [signed(w(0)), signed(w(1))];
        const zeroForOne = amount0 > 0n;
        const r = swap(p, zeroForOne, zeroForOne ? amount0 : amount1, zeroForOne ? 4295128740n : 1461446703485210103287273052203988822378723970341n);
        assert.deepEqual([r.amount0, r.amount1, r.sqrtPriceX96, r.liquidity, BigInt(r.tick)], [amount0, amount1, w(2), w(3), signed(w(4))]);
        crossed += r.ticksCrossed;
      }
      assert.equal(reg.applyLogs([log], b2.block).skipped, 0);
    }
    assert.ok(crossed >= 2, `the swaps crossed initialized ticks (${crossed})`);
    const p = reg.get(pool.address)!;
    assert.ok(!p.ticks.some((t) => t.tick === near - 10 * s || t.tick === near + 15 * s), 'position #1\'s ticks are gone with its liquidity');
    assert.ok(p.ticks.some((t) => t.tick === near - 5 * s) && p.ticks.some((t) => t.tick === near + 8 * s), 'position #2\'s ticks are there');
    const node = await readV3Pools(url, [pool.address, other.address], { block: b2.block });
    // The node's words follow the new price; where both tick ranges overlap the lists must agree.
    for (const n of node) assert.deepEqual(stateOf(reg.get(n.address)!, n), stateOf(n, reg.get(n.address)!));
    assert.equal(reg.reconcile(node, b2.block), 0, 'the logs gave exactly the node\'s state');
    assert.deepEqual(reg.refreshList(), []);
  });

  it('behavior: a swap that moves the price out of the words read marks the pool, and a re-read clears it', async () => {
    const d = devnet.deployment;
    const trader = d.accounts[4]!;
    const pool = pools.find((p) => p.fee === 500 && (p.token0 === d.weth || p.token1 === d.weth))!;
    const block = Number(BigInt(await rpc<Hex>(url, 'eth_blockNumber')));
    const reg = new V3PoolRegistry();
    const [narrow] = await readV3Pools(url, [pool.address], { wordsAround: 0, block });
    const [wide] = await readV3Pools(url, [pool.address], { wordsAround: 8, block });
    reg.add(narrow!);
    // Towards the nearer edge of the one word read, to just past it (on the wide state, which is exact there).
    const down = narrow!.tick - narrow!.tickLo < narrow!.tickHi - narrow!.tick;
    const target = getSqrtRatioAtTick(down ? narrow!.tickLo - 5 * pool.tickSpacing : narrow!.tickHi + 5 * pool.tickSpacing);
    const need = swap(wide!, down, 10n ** 30n, target);
    const amountIn = down ? need.amount0 : need.amount1;
    const [tokenIn, tokenOut] = down ? [pool.token0, pool.token1] : [pool.token1, pool.token0];
    const bal = (t: Address) => rpc<Hex>(url, 'eth_call', [{ to: t, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [trader] }) }, 'latest']).then(BigInt);
    assert.ok((await bal(tokenIn)) > amountIn, 'the trader can pay for the move');
    const b = await mineBlock(url, [sendCall(trader, d.v3!.router, exactInputSingle(trader, tokenIn, tokenOut, pool.fee, amountIn))]);
    const r = reg.applyLogs(await blockLogs(url, b.block, [pool.address]), b.block);
    assert.deepEqual([r.swaps, r.needsRefresh], [1, 1]);
    assert.equal(reg.needsRefresh(pool.address), true);
    const p = reg.get(pool.address)!;
    assert.ok(p.tick < p.tickLo || p.tick > p.tickHi);
    assert.equal(p.sqrtPriceX96, swap(wide!, down, amountIn, down ? 4295128740n : 1461446703485210103287273052203988822378723970341n).sqrtPriceX96, 'the wide state predicted where the price went');
    reg.reconcile(await readV3Pools(url, [pool.address], { wordsAround: 0, block: b.block }), b.block);
    assert.equal(reg.needsRefresh(pool.address), false);
    assert.ok(p.tick >= p.tickLo && p.tick <= p.tickHi);
  });
});
