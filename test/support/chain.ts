import assert from 'node:assert/strict';
import { type Hex, encodeFunctionData, parseAbi } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { encodeStep } from '../../src/actors/scorer/plan-calls.js';
import { nextBaseFee } from '../../src/actors/base-fee.js';
import { rpc } from '../../src/devnet/anvil.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import type { Engine } from '../../src/engine.js';

/** Helpers for tests that send transactions to a devnet (automine off) and mine them by hand. */

export const GWEI = 1_000_000_000n;
export const ROUTER02_ABI = parseAbi(['function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[] amounts)']);
const ERC20_ABI = parseAbi(['function balanceOf(address) view returns (uint256)']);

/** The latest block's number and fee fields. */
export async function latestBlock(net: Devnet): Promise<{ number: number; baseFee: bigint; gasUsed: bigint; gasLimit: bigint; hash: string }> {
  const b = await rpc<Record<string, Hex>>(net.anvil.rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
  return { number: Number(b.number), baseFee: BigInt(b.baseFeePerGas!), gasUsed: BigInt(b.gasUsed!), gasLimit: BigInt(b.gasLimit!), hash: b.hash! };
}

/** Base fee of the next block. */
export async function nextBase(net: Devnet): Promise<bigint> {
  const h = await latestBlock(net);
  return nextBaseFee({ baseFeePerGas: h.baseFee, gasUsed: h.gasUsed, gasLimit: h.gasLimit });
}

/** Signs and sends an EIP-1559 transaction; `maxFee` defaults to twice the next base fee plus the tip. */
export async function sendTx(net: Devnet, key: Hex, tx: { to: string; data: Hex; value?: bigint; gas: bigint; tip: bigint; nonce?: number; maxFee?: bigint }): Promise<Hex> {
  const account = privateKeyToAccount(key);
  const nonce = tx.nonce ?? Number(await rpc<Hex>(net.anvil.rpcUrl, 'eth_getTransactionCount', [account.address, 'pending']));
  const maxFeePerGas = tx.maxFee ?? (await nextBase(net)) * 2n + tx.tip;
  const raw = await account.signTransaction({ type: 'eip1559', chainId: net.anvil.chainId, nonce, to: tx.to as Hex, data: tx.data, value: tx.value ?? 0n, gas: tx.gas, maxFeePerGas, maxPriorityFeePerGas: tx.tip });
  return rpc<Hex>(net.anvil.rpcUrl, 'eth_sendRawTransaction', [raw]);
}

/** The searcher's WETH and ETH balances at the latest block. */
export async function balances(net: Devnet, owner: string): Promise<{ weth: bigint; eth: bigint }> {
  const data = encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [owner as Hex] });
  const weth = BigInt(await rpc<Hex>(net.anvil.rpcUrl, 'eth_call', [{ to: net.deployment.weth, data }, 'latest']));
  const eth = BigInt(await rpc<Hex>(net.anvil.rpcUrl, 'eth_getBalance', [owner, 'latest']));
  return { weth, eth };
}

/** A V2 pair's reserves at the latest block. */
export async function reserves(net: Devnet, pair: string): Promise<[bigint, bigint]> {
  const r = await rpc<Hex>(net.anvil.rpcUrl, 'eth_call', [{ to: pair, data: '0x0902f1ac' }, 'latest']);
  return [BigInt(`0x${r.slice(2, 66)}`), BigInt(`0x${r.slice(66, 130)}`)];
}

/** Signs the plan's searcher steps from the devnet's searcher with the gas the verification measured, and sends them. */
export async function sendPlan(net: Devnet, opp: Opportunity): Promise<Hex[]> {
  const searcher = privateKeyToAccount(net.searcherKey);
  let nonce = Number(await rpc<Hex>(net.anvil.rpcUrl, 'eth_getTransactionCount', [searcher.address, 'pending']));
  const hashes: Hex[] = [];
  for (let i = 0; i < opp.plan.length; i++) {
    const call = encodeStep(opp.plan[i]!, { searcher: net.searcher });
    if (call === null) continue;
    const g = opp.gas[i]!;
    hashes.push(await sendTx(net, net.searcherKey, { to: call.to, data: call.data, value: call.value, gas: g.gasLimit, tip: g.priorityFee, maxFee: opp.baseFee + g.priorityFee, nonce: nonce++ }));
  }
  return hashes;
}

/** Mines one block; returns its transaction hashes in order after checking every one succeeded. */
export async function mineChecked(net: Devnet): Promise<string[]> {
  await rpc(net.anvil.rpcUrl, 'evm_mine', []);
  const b = await rpc<{ transactions: Hex[] }>(net.anvil.rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
  for (const h of b.transactions) {
    const r = await rpc<{ status: Hex }>(net.anvil.rpcUrl, 'eth_getTransactionReceipt', [h]);
    assert.equal(r.status, '0x1', `tx ${h} reverted`);
  }
  return b.transactions.map((h) => h.toLowerCase());
}

/** Polls `get` every 50 ms until it returns a value, or fails after `ms` with `what()`. */
export async function waitUntil<T>(get: () => T | undefined | null | false, what: () => string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Sends 1-wei transfers until the engine's ingest (source `devnet`) has delivered one, so
 * transactions sent next are seen, then mines a block so the stages have a head.
 */
export async function ingestLive(net: Devnet, engine: Engine): Promise<void> {
  const key = net.traderKeys[1]!;
  const to = privateKeyToAccount(key).address;
  const deadline = Date.now() + 20_000;
  for (;;) {
    await sendTx(net, key, { to, data: '0x', value: 1n, gas: 21_000n, tip: GWEI });
    await new Promise((r) => setTimeout(r, 200));
    if ((engine.stats().stages.ingest?.counters['source.devnet.txs'] ?? 0) > 0) break;
    if (Date.now() > deadline) throw new Error('ingest never saw a transaction');
  }
  await rpc(net.anvil.rpcUrl, 'evm_mine', []);
  await waitUntil(() => (engine.stats().stages.ingest?.counters['unique.blocks'] ?? 0) > 0, () => 'no head reached ingest', 10_000);
}
