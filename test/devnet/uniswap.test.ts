import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Address, decodeFunctionResult, encodeFunctionData, type Hex, keccak256, maxUint256 } from 'viem';
import { type Anvil, type RpcCall, rpc, rpcBatch, startAnvil } from '../../src/devnet/anvil.js';
import {
  BYTECODE,
  deployUniswap,
  ERC20_ABI,
  type UniswapDeployment,
  V2_PAIR_ABI,
  V2_ROUTER_ABI,
  V2_ROUTER_INIT_CODE_HASH,
  V3_POOL_INIT_CODE_HASH,
  V3_SWAP_ROUTER_ABI,
  v2PairAddress,
  v3PoolAddress,
} from '../../src/devnet/uniswap.js';
import { OrionError } from '../../src/runtime/errors.js';

interface Receipt { status: Hex; logs: { address: Address; topics: Hex[] }[] }

/** Sends from an unlocked dev account and returns the receipt (the node automines). */
async function send(url: string, from: Address, to: Address, data: Hex, value = 0n): Promise<Receipt> {
  const hash = await rpc<Hex>(url, 'eth_sendTransaction', [{ from, to, data, value: `0x${value.toString(16)}`, gas: '0x2dc6c0' }]);
  for (let i = 0; i < 200; i++) {
    const r = await rpc<Receipt | null>(url, 'eth_getTransactionReceipt', [hash]);
    if (r) return r;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no receipt for ${hash}`);
}

async function balanceOf(url: string, token: Address, who: Address): Promise<bigint> {
  return BigInt(await rpc<Hex>(url, 'eth_call', [{ to: token, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [who] }) }, 'latest']));
}

async function reserves(url: string, pair: Address): Promise<[bigint, bigint]> {
  const word = await rpc<Hex>(url, 'eth_call', [{ to: pair, data: encodeFunctionData({ abi: V2_PAIR_ABI, functionName: 'getReserves' }) }, 'latest']);
  const [r0, r1] = decodeFunctionResult({ abi: V2_PAIR_ABI, functionName: 'getReserves', data: word });
  return [r0, r1];
}

function amountOut(aIn: bigint, rIn: bigint, rOut: bigint): bigint {
  return (aIn * 997n * rOut) / (rIn * 1000n + aIn * 997n);
}

const pairKey = (a: Address, b: Address) => `${a}/${b}`;

describe('deployUniswap', () => {
  let anvil: Anvil;
  let d: UniswapDeployment;

  before(async () => {
    // Several deployments share this node; each takes ~3,300 ETH from the deployer.
    anvil = await startAnvil({ hardfork: 'prague', balanceEth: 1_000_000 });
    const t0 = performance.now();
    d = await deployUniswap(anvil);
    // Reported, never asserted: the machine is shared and noisy.
    console.log(`# deployUniswap took ${(performance.now() - t0).toFixed(0)} ms (block ${d.block})`);
  });
  after(async () => {
    await anvil?.stop();
  });

  it('default: WETH, five tokens (one fee-on-transfer), two V2 venues and V3, as a plain object', async () => {
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d, 'deployment does not survive JSON');
    assert.equal(d.chainId, 31337);
    assert.equal(d.tokens.length, 5);
    assert.deepEqual(d.tokens.filter((t) => t.feeOnTransfer).map((t) => t.symbol), ['DFL']);
    assert.equal(new Set(d.tokens.map((t) => t.address)).size, 5);
    const decimals = (await rpcBatch(anvil.rpcUrl, d.tokens.map((t): RpcCall => ['eth_call', [{ to: t.address, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'decimals' }) }, 'latest']]))) as Hex[];
    assert.deepEqual(decimals.map(Number), d.tokens.map((t) => t.decimals));
    assert.deepEqual(d.v2.map((v) => v.name), ['uniswap', 'sushiswap']);
    assert.notEqual(d.v2[0]!.factory, d.v2[1]!.factory);
    assert.equal(d.accounts.length, 9);
    assert.ok(!d.accounts.includes(d.deployer));
    assert.equal(d.v3Skipped, undefined);
    assert.ok(d.v3 && d.v3.pools.length >= 4);
  });

  it('behavior: the recorded init-code hashes are the npm bytecode hashes the routers have hard-coded', async () => {
    for (const v of d.v2) {
      assert.equal(v.initCodeHash, keccak256(BYTECODE.v2Pair));
      assert.equal(v.initCodeHash, V2_ROUTER_INIT_CODE_HASH);
      for (const p of v.pairs) {
        assert.equal(p.address, v2PairAddress(v.factory, v.initCodeHash, p.token0, p.token1));
        assert.ok(BigInt(p.token0) < BigInt(p.token1), 'token0 must sort first');
      }
    }
    assert.equal(d.v3!.initCodeHash, keccak256(BYTECODE.v3Pool));
    assert.equal(d.v3!.initCodeHash, V3_POOL_INIT_CODE_HASH);
    for (const p of d.v3!.pools) assert.equal(p.address, v3PoolAddress(d.v3!.factory, d.v3!.initCodeHash, p.token0, p.token1, p.fee));
    const codes = (await rpcBatch(anvil.rpcUrl, [...d.v2.flatMap((v) => v.pairs.map((p) => p.address)), ...d.v3!.pools.map((p) => p.address)].map((a): RpcCall => ['eth_getCode', [a, 'latest']]))) as Hex[];
    assert.ok(codes.every((c) => c.length > 2), 'a pool address has no code');
  });

  it('behavior: both venues list the same token pairs at prices far enough apart to arbitrage, and the arbitrage pays on chain', async () => {
    const [uni, sushi] = d.v2 as [UniswapDeployment['v2'][0], UniswapDeployment['v2'][0]];
    const sushiPairs = new Map(sushi.pairs.map((p) => [pairKey(p.token0, p.token1), p]));
    const shared = uni.pairs.filter((p) => sushiPairs.has(pairKey(p.token0, p.token1)));
    assert.ok(shared.length >= 5, `only ${shared.length} pairs on both venues`);
    const fot = new Set(d.tokens.filter((t) => t.feeOnTransfer).map((t) => t.address));
    let best: { profit: bigint; amount: bigint; token0: Address; token1: Address; buy: string; sell: string } | undefined;
    for (const a of shared) {
      const b = sushiPairs.get(pairKey(a.token0, a.token1))!;
      const [ra, rb] = await Promise.all([reserves(anvil.rpcUrl, a.address), reserves(anvil.rpcUrl, b.address)]);
      assert.ok(ra[0] > 0n && ra[1] > 0n && rb[0] > 0n && rb[1] > 0n, 'a pair has no liquidity');
      // Cross-multiplied prices (token1 per token0) differ...
      assert.notEqual(ra[1] * rb[0], ra[0] * rb[1], `same price on both venues for ${pairKey(a.token0, a.token1)}`);
      if (fot.has(a.token0) || fot.has(a.token1)) continue;
      // ...and a round trip token0 → token1 on one venue → token0 on the other gains after both 0.3% fees.
      for (const [x, y, buy, sell] of [[ra, rb, uni.router, sushi.router], [rb, ra, sushi.router, uni.router]] as const) {
        for (let f = 1n; f <= 4096n; f *= 2n) {
          const amount = (x[0] * f) / 1_000_000n;
          const profit = amountOut(amountOut(amount, x[0], x[1]), y[1], y[0]) - amount;
          if (profit > 0n && (!best || profit > best.profit)) best = { profit, amount, token0: a.token0, token1: a.token1, buy, sell };
        }
      }
    }
    assert.ok(best, 'no cross-venue arbitrage on any shared pair');
    // Take it: buy token1 where it is cheap, sell it where it is dear, end with more token0.
    const trader = d.accounts[3]!;
    const start = await balanceOf(anvil.rpcUrl, best.token0, trader);
    const mid = await balanceOf(anvil.rpcUrl, best.token1, trader);
    const r1 = await send(anvil.rpcUrl, trader, best.buy as Address, encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactTokensForTokens', args: [best.amount, 0n, [best.token0, best.token1], trader, maxUint256] }));
    const got = (await balanceOf(anvil.rpcUrl, best.token1, trader)) - mid;
    const r2 = await send(anvil.rpcUrl, trader, best.sell as Address, encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactTokensForTokens', args: [got, 0n, [best.token1, best.token0], trader, maxUint256] }));
    assert.equal(r1.status, '0x1');
    assert.equal(r2.status, '0x1');
    assert.equal((await balanceOf(anvil.rpcUrl, best.token0, trader)) - start, best.profit, 'realized profit differs from the constant-product prediction');
  });

  it('behavior: a Router02 swap succeeds on each venue and pays exactly its quote', async () => {
    const trader = d.accounts[0]!;
    const tka = d.tokens.find((t) => t.symbol === 'TKA')!.address;
    for (const v of d.v2) {
      const path = [d.weth, tka];
      const amountIn = 10n ** 17n;
      const quote = await rpc<Hex>(anvil.rpcUrl, 'eth_call', [{ to: v.router, data: encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'getAmountsOut', args: [amountIn, path] }) }, 'latest']);
      const expected = decodeFunctionResult({ abi: V2_ROUTER_ABI, functionName: 'getAmountsOut', data: quote })[1]!;
      const before = await balanceOf(anvil.rpcUrl, tka, trader);
      const r = await send(anvil.rpcUrl, trader, v.router, encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactTokensForTokens', args: [amountIn, expected, path, trader, maxUint256] }));
      assert.equal(r.status, '0x1', `${v.name} swapExactTokensForTokens reverted`);
      assert.equal((await balanceOf(anvil.rpcUrl, tka, trader)) - before, expected);
      // ETH in goes through the same pairFor, with the router wrapping.
      const r2 = await send(anvil.rpcUrl, trader, v.router, encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactETHForTokens', args: [1n, path, trader, maxUint256] }), 10n ** 16n);
      assert.equal(r2.status, '0x1', `${v.name} swapExactETHForTokens reverted`);
    }
  });

  it('behavior: the fee-on-transfer token trades through the supporting router functions', async () => {
    const trader = d.accounts[1]!;
    const dfl = d.tokens.find((t) => t.feeOnTransfer)!.address;
    for (const v of d.v2) {
      const before = await balanceOf(anvil.rpcUrl, d.weth, trader);
      const r = await send(anvil.rpcUrl, trader, v.router, encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactTokensForTokensSupportingFeeOnTransferTokens', args: [10n ** 20n, 1n, [dfl, d.weth], trader, maxUint256] }));
      assert.equal(r.status, '0x1');
      assert.ok((await balanceOf(anvil.rpcUrl, d.weth, trader)) > before);
    }
  });

  it('behavior: a SwapRouter exactInputSingle succeeds on every V3 pool', async () => {
    const trader = d.accounts[2]!;
    for (const p of d.v3!.pools) {
      const before = await balanceOf(anvil.rpcUrl, p.token1, trader);
      const r = await send(anvil.rpcUrl, trader, d.v3!.router, encodeFunctionData({
        abi: V3_SWAP_ROUTER_ABI,
        functionName: 'exactInputSingle',
        args: [{ tokenIn: p.token0, tokenOut: p.token1, fee: p.fee, recipient: trader, deadline: maxUint256, amountIn: 10n ** 15n, amountOutMinimum: 1n, sqrtPriceLimitX96: 0n }],
      }));
      assert.equal(r.status, '0x1', `swap on pool ${p.address} (fee ${p.fee}) reverted`);
      assert.ok(r.logs.some((l) => l.address.toLowerCase() === p.address.toLowerCase()), 'the swap did not go through the recorded pool');
      assert.ok((await balanceOf(anvil.rpcUrl, p.token1, trader)) > before);
    }
  });

  it('behavior: every trader holds every token and WETH and has approved every router', async () => {
    const routers = [...d.v2.map((v) => v.router), d.v3!.router];
    const tokens = [d.weth, ...d.tokens.map((t) => t.address)];
    const calls: RpcCall[] = [];
    for (const a of d.accounts) {
      for (const t of tokens) {
        calls.push(['eth_call', [{ to: t, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [a] }) }, 'latest']]);
        for (const r of routers) calls.push(['eth_call', [{ to: t, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'allowance', args: [a, r] }) }, 'latest']]);
      }
    }
    const res = ((await rpcBatch(anvil.rpcUrl, calls)) as Hex[]).map(BigInt);
    for (let i = 0; i < res.length; i += 1 + routers.length) {
      assert.ok(res[i]! > 0n, 'a trader has no balance of a token');
      for (let j = 1; j <= routers.length; j++) assert.equal(res[i + j], maxUint256, 'a router is not approved');
    }
  });

  it('behavior: the seed fixes the prices', async () => {
    // Fresh deployments on the same node: new pairs, so only the seed decides their prices.
    const one = await deployUniswap(anvil, { seed: 1, v3: false });
    const same = await deployUniswap(anvil, { seed: 1, v3: false });
    const other = await deployUniswap(anvil, { seed: 2, v3: false });
    // Addresses (so token order) differ between deployments: orient each price by token symbol.
    const prices = (dep: UniswapDeployment) => {
      const order = [dep.weth, ...dep.tokens.map((t) => t.address)];
      return Promise.all(dep.v2.flatMap((v) => v.pairs.map(async (p) => {
        const [r0, r1] = await reserves(anvil.rpcUrl, p.address);
        return order.indexOf(p.token0) < order.indexOf(p.token1) ? (r1 * 10n ** 18n) / r0 : (r0 * 10n ** 18n) / r1;
      })));
    };
    assert.deepEqual(await prices(same), await prices(one));
    assert.notDeepEqual(await prices(other), await prices(one));
  });

  it('args: v3: false deploys no V3 and says why', async () => {
    const dep = await deployUniswap(anvil, { v3: false, accounts: [3] });
    assert.equal(dep.v3, undefined);
    assert.match(dep.v3Skipped ?? '', /disabled/);
    assert.equal(dep.accounts.length, 1);
  });

  it('error: a node whose chain id differs from the one given is refused', async () => {
    await assert.rejects(deployUniswap({ ...anvil, chainId: 1 }), (e: unknown) => e instanceof OrionError && e.code === 'ORION_ERR_DEVNET' && /chain id/.test(e.message));
  });

  it('error: a deployer without enough ETH is refused before anything is sent', async () => {
    const poor = await startAnvil({ balanceEth: 100 });
    try {
      await assert.rejects(deployUniswap(poor), (e: unknown) => e instanceof OrionError && e.code === 'ORION_ERR_DEVNET' && /needs \d+ ETH/.test(e.message));
      assert.equal(Number(await rpc<Hex>(poor.rpcUrl, 'eth_getTransactionCount', [d.deployer, 'latest'])), 0);
    } finally {
      await poor.stop();
    }
  });

  it('error: an account index outside the keys is a RangeError', async () => {
    await assert.rejects(deployUniswap(anvil, { accounts: [42] }), RangeError);
  });
});
