/** Probe victims for the pipeline benchmarks (score-latency, gateway-latency). */
import { type Hex, encodeFunctionData, parseAbi } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getAmountOut } from '../../src/actors/scorer/pools/v2-math.js';
import { rpc } from '../../src/devnet/anvil.js';
import type { UniswapDeployment } from '../../src/devnet/uniswap.js';

const PROBE_ROUTER_ABI = parseAbi(['function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[] amounts)']);

/**
 * Every 0.5 s, alternating between `keys`, a WETH → token swap of 1% of a first-venue pool with 5%
 * slippage, sent only when that key has nothing pending (one per key and block): victims whose
 * plans can be verified: the generator's traders have many transactions pending each, so theirs
 * cannot run first in the next block.
 */
export function startProbes(url: string, chainId: number, d: UniswapDeployment, keys: readonly Hex[]): { stop(): void } {
  const weth = d.weth.toLowerCase() as Hex;
  const venue = d.v2[0]!;
  const pairs = venue.pairs.filter((p) => [p.token0, p.token1].some((t) => t.toLowerCase() === weth));
  let i = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const key = keys[i % keys.length]!;
    const pair = pairs[i % pairs.length]!;
    i++;
    void (async () => {
      const account = privateKeyToAccount(key);
      const from = account.address;
      const [pending, latest] = await Promise.all([rpc<Hex>(url, 'eth_getTransactionCount', [from, 'pending']), rpc<Hex>(url, 'eth_getTransactionCount', [from, 'latest'])]);
      if (pending !== latest) return;
      const token = (pair.token0.toLowerCase() === weth ? pair.token1 : pair.token0) as Hex;
      const r = await rpc<Hex>(url, 'eth_call', [{ to: pair.address, data: '0x0902f1ac' }, 'latest']);
      const [r0, r1] = [BigInt(`0x${r.slice(2, 66)}`), BigInt(`0x${r.slice(66, 130)}`)];
      const [rw, rt] = pair.token0.toLowerCase() === weth ? [r0, r1] : [r1, r0];
      const amountIn = rw / 100n;
      const out = getAmountOut(amountIn, rw, rt)!;
      const data = encodeFunctionData({ abi: PROBE_ROUTER_ABI, functionName: 'swapExactTokensForTokens', args: [amountIn, (out * 95n) / 100n, [weth, token], from, 0xffffffffn] });
      const b = await rpc<{ baseFeePerGas: Hex }>(url, 'eth_getBlockByNumber', ['latest', false]);
      const raw = await account.signTransaction({ type: 'eip1559', chainId, nonce: Number(latest), to: venue.router, data, gas: 300_000n, maxFeePerGas: BigInt(b.baseFeePerGas) * 2n + 3_000_000_000n, maxPriorityFeePerGas: 3_000_000_000n });
      await rpc(url, 'eth_sendRawTransaction', [raw]);
    })()
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, 500);
  return { stop: () => clearInterval(timer) };
}
