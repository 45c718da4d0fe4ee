import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Hex, encodeFunctionData, parseAbi } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { encodeStep } from '../../src/actors/scorer/plan-calls.js';
import { getAmountOut } from '../../src/actors/scorer/pools/v2-math.js';
import { nextBaseFee } from '../../src/actors/simulator/simulate-tx.js';
import { rpc } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import { Engine } from '../../src/engine.js';
import { Kind } from '../../src/messages/schema.js';
import { testConfig } from '../support/harness.js';

/**
 * The whole engine (ingest → decoder → simulator → scorer → submitter stand-in) against a real
 * anvil with automine off: a victim's router swap is pending, Orion emits a verified opportunity,
 * the test signs and sends the planned transactions around the victim (ordered by their fees, as
 * planned), mines the block, and the searcher's realized profit equals the predicted net profit
 * to the wei.
 */

const ROUTER_ABI = parseAbi(['function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[] amounts)']);
const ERC20_ABI = parseAbi(['function balanceOf(address) view returns (uint256)']);
const GWEI = 1_000_000_000n;

let net: Devnet;
let engine: Engine;
const opportunities: Opportunity[] = [];

before(async () => {
  net = await startDevnet({ blockTime: 0, automine: false });
  const config = testConfig({ ...devnetEngineConfig(net), supervisor: { hangTimeoutMs: 10_000, metricsIntervalMs: 50 } });
  engine = new Engine(config);
  engine.onOutput((m) => {
    if (m.kind === Kind.Opportunity) opportunities.push(m.data as Opportunity);
  });
  await engine.start();
  await ingestLive();
});

after(async () => {
  await engine?.stop().catch(() => engine.kill());
  await net?.stop();
});

/** Waits until ingest has delivered a transaction, so the victims sent next are seen. */
async function ingestLive(): Promise<void> {
  const key = net.traderKeys[1]!;
  const from = privateKeyToAccount(key);
  const deadline = Date.now() + 20_000;
  for (;;) {
    await send(key, { to: from.address, data: '0x', value: 1n, gas: 21_000n, tip: GWEI });
    await new Promise((r) => setTimeout(r, 200));
    if ((engine.stats().stages.ingest?.counters['source.devnet.txs'] ?? 0) > 0) break;
    if (Date.now() > deadline) throw new Error('ingest never saw a transaction');
  }
  await rpc(net.anvil.rpcUrl, 'evm_mine', []);
}

async function head(): Promise<{ number: number; baseFee: bigint; timestamp: bigint; gasUsed: bigint; gasLimit: bigint }> {
  const b = await rpc<Record<string, Hex>>(net.anvil.rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
  return { number: Number(b.number), baseFee: BigInt(b.baseFeePerGas!), timestamp: BigInt(b.timestamp!), gasUsed: BigInt(b.gasUsed!), gasLimit: BigInt(b.gasLimit!) };
}

async function nextBase(): Promise<bigint> {
  const h = await head();
  return nextBaseFee({ baseFeePerGas: h.baseFee, gasUsed: h.gasUsed, gasLimit: h.gasLimit });
}

/** Signs and sends an EIP-1559 transaction paying exactly `nextBase + tip` per gas when `exact`. */
async function send(key: Hex, tx: { to: string; data: Hex; value?: bigint; gas: bigint; tip: bigint; nonce?: number; maxFee?: bigint }): Promise<Hex> {
  const account = privateKeyToAccount(key);
  const nonce = tx.nonce ?? Number(await rpc<Hex>(net.anvil.rpcUrl, 'eth_getTransactionCount', [account.address, 'pending']));
  const maxFeePerGas = tx.maxFee ?? (await nextBase()) * 2n + tx.tip;
  const raw = await account.signTransaction({
    type: 'eip1559',
    chainId: net.anvil.chainId,
    nonce,
    to: tx.to as Hex,
    data: tx.data,
    value: tx.value ?? 0n,
    gas: tx.gas,
    maxFeePerGas,
    maxPriorityFeePerGas: tx.tip,
  });
  return rpc<Hex>(net.anvil.rpcUrl, 'eth_sendRawTransaction', [raw]);
}

async function waitFor(pred: (o: Opportunity) => boolean, what: string): Promise<Opportunity> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const o = opportunities.find(pred);
    if (o) return o;
    if (Date.now() > deadline) throw new Error(`no ${what} within 30 s; scorer counters ${JSON.stringify(engine.stats().stages.scorer?.counters)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function balances(owner: string): Promise<{ weth: bigint; eth: bigint }> {
  const weth = BigInt(await rpc<Hex>(net.anvil.rpcUrl, 'eth_call', [{ to: net.deployment.weth, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [owner as Hex] }) }, 'latest']));
  const eth = BigInt(await rpc<Hex>(net.anvil.rpcUrl, 'eth_getBalance', [owner, 'latest']));
  return { weth, eth };
}

async function reserves(pair: string): Promise<[bigint, bigint]> {
  const r = await rpc<Hex>(net.anvil.rpcUrl, 'eth_call', [{ to: pair, data: '0x0902f1ac' }, 'latest']);
  return [BigInt(`0x${r.slice(2, 66)}`), BigInt(`0x${r.slice(66, 130)}`)];
}

/** A WETH → token router swap on the first V2 venue, 2% of the pool, with `slippagePct` tolerance. */
async function sendVictim(slippagePct: bigint, tokenIndex: number): Promise<{ hash: string; pair: string }> {
  const d = net.deployment;
  const weth = d.weth.toLowerCase();
  const venue = d.v2[0]!;
  const plain = d.tokens.filter((t) => !t.feeOnTransfer);
  const token = plain[tokenIndex % plain.length]!.address.toLowerCase();
  const pair = venue.pairs.find((p) => [p.token0.toLowerCase(), p.token1.toLowerCase()].sort().join() === [weth, token].sort().join())!;
  const [r0, r1] = await reserves(pair.address);
  const [rWeth, rTok] = pair.token0.toLowerCase() === weth ? [r0, r1] : [r1, r0];
  const amountIn = rWeth / 50n;
  const quote = getAmountOut(amountIn, rWeth, rTok)!;
  const victim = privateKeyToAccount(net.traderKeys[0]!);
  const data = encodeFunctionData({ abi: ROUTER_ABI, functionName: 'swapExactTokensForTokens', args: [amountIn, (quote * (100n - slippagePct)) / 100n, [weth as Hex, token as Hex], victim.address, 0xffffffffn] });
  const hash = await send(net.traderKeys[0]!, { to: venue.router, data, gas: 300_000n, tip: 2n * GWEI });
  return { hash: hash.toLowerCase(), pair: pair.address.toLowerCase() };
}

/** Signs the plan's searcher steps with the gas the verification measured and sends them. */
async function sendPlan(opp: Opportunity): Promise<Hex[]> {
  const searcher = privateKeyToAccount(net.searcherKey);
  let nonce = Number(await rpc<Hex>(net.anvil.rpcUrl, 'eth_getTransactionCount', [searcher.address, 'pending']));
  const hashes: Hex[] = [];
  for (let i = 0; i < opp.plan.length; i++) {
    const call = encodeStep(opp.plan[i]!, { searcher: net.searcher });
    if (call === null) continue;
    const g = opp.gas[i]!;
    hashes.push(await send(net.searcherKey, { to: call.to, data: call.data, value: call.value, gas: g.gasLimit, tip: g.priorityFee, maxFee: opp.baseFee + g.priorityFee, nonce: nonce++ }));
  }
  return hashes;
}

/** Mines one block and returns the transaction hashes in it, in order, after checking each succeeded. */
async function mine(): Promise<string[]> {
  await rpc(net.anvil.rpcUrl, 'evm_mine', []);
  const b = await rpc<{ transactions: Hex[] }>(net.anvil.rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
  for (const h of b.transactions) {
    const r = await rpc<{ status: Hex }>(net.anvil.rpcUrl, 'eth_getTransactionReceipt', [h]);
    assert.equal(r.status, '0x1', `tx ${h} reverted`);
  }
  return b.transactions.map((h) => h.toLowerCase());
}

describe('scored opportunities realize their predicted profit on anvil', () => {
  it('behavior: a V2 sandwich around a loose-slippage victim realizes its predicted net profit to the wei', async () => {
    const victim = await sendVictim(10n, 0);
    const opp = await waitFor((o) => o.kind === 'v2-sandwich' && o.victimHashes[0] === victim.hash && o.verification !== 'pending', 'sandwich opportunity');
    assert.equal(opp.verification, 'verified', `verification: ${opp.rejectReason}`);
    assert.deepEqual(opp.pools, [victim.pair]);
    assert.equal(opp.searcher, net.searcher);
    assert.equal(opp.targetBlock, (await head()).number + 1);
    assert.ok(opp.profit.netWei > 0n);
    const before = await balances(net.searcher);
    const [front, back] = await sendPlan(opp);
    const order = await mine();
    assert.deepEqual(
      [order.indexOf(front!.toLowerCase()), order.indexOf(victim.hash), order.indexOf(back!.toLowerCase())].map((i) => i >= 0),
      [true, true, true],
      'front-run, victim and back-run are in the block',
    );
    assert.ok(order.indexOf(front!.toLowerCase()) < order.indexOf(victim.hash) && order.indexOf(victim.hash) < order.indexOf(back!.toLowerCase()), 'ordered front-run, victim, back-run by their fees');
    const afterB = await balances(net.searcher);
    const realized = afterB.weth - before.weth + (afterB.eth - before.eth);
    assert.equal(realized, opp.profit.net, 'realized net profit (WETH gained − ETH paid for gas) equals the prediction to the wei');
    assert.equal(opp.simulatedNet, opp.profit.net, 'the EVM verification measured the same net');
  });

  it('behavior: a backrun arbitrage after a victim moves one venue realizes its predicted net profit to the wei', async () => {
    // Tight slippage: no sandwich room, but the victim still moves the price away from the other venue.
    const victim = await sendVictim(0n, 1);
    const opp = await waitFor((o) => o.kind === 'backrun-arbitrage' && o.victimHashes[0] === victim.hash && o.verification !== 'pending', 'backrun opportunity');
    assert.equal(opp.verification, 'verified', `verification: ${opp.rejectReason}`);
    assert.ok(opp.pools.includes(victim.pair), 'the cycle goes through the pool the victim moved');
    assert.equal(opp.plan[0]!.kind, 'victim');
    const before = await balances(net.searcher);
    const sent = await sendPlan(opp);
    const order = await mine();
    const at = [victim.hash, ...sent.map((h) => h.toLowerCase())].map((h) => order.indexOf(h));
    assert.ok(at.every((i) => i >= 0), 'victim and every planned tx are in the block');
    assert.deepEqual([...at].sort((a, b) => a - b), at, 'victim first, then the plan in order');
    const afterB = await balances(net.searcher);
    assert.equal(afterB.weth - before.weth + (afterB.eth - before.eth), opp.profit.net, 'realized = predicted net, to the wei');
  });
});
