import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Hex, encodeFunctionData } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { getAmountOut } from '../../src/actors/scorer/pools/v2-math.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { rpc } from '../../src/devnet/anvil.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import { V3_SWAP_ROUTER_ABI } from '../../src/devnet/uniswap.js';
import { Engine } from '../../src/engine.js';
import { Kind } from '../../src/messages/schema.js';
import { GWEI, ROUTER02_ABI, balances, ingestLive, latestBlock, mineChecked, reserves, sendPlan, sendTx, waitUntil } from '../support/chain.js';
import { testConfig } from '../support/harness.js';

/**
 * The whole engine (ingest → decoder → simulator → scorer → submitter stand-in) against a real
 * anvil with automine off: a victim's router swap is pending, Orion emits a verified opportunity,
 * the test signs and sends the planned transactions around the victim (ordered by their fees, as
 * planned), mines the block, and the searcher's realized profit equals the predicted net profit
 * to the wei.
 */


let net: Devnet;
let engine: Engine;
const opportunities: Opportunity[] = [];

before(async () => {
  net = await startDevnet({ blockTime: 0, automine: false });
  const config = testConfig({ ...devnetEngineConfig(net), supervisor: { hangTimeoutMs: 10_000, bootstrapTimeoutMs: 30_000, metricsIntervalMs: 50 } });
  engine = new Engine(config);
  engine.onOutput((m) => {
    if (m.kind === Kind.Opportunity) opportunities.push(m.data as Opportunity);
  });
  await engine.start();
  await ingestLive(net, engine);
});

after(async () => {
  await engine?.stop().catch(() => engine.kill());
  await net?.stop();
});





async function waitFor(pred: (o: Opportunity) => boolean, what: string): Promise<Opportunity> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const o = opportunities.find(pred);
    if (o) return o;
    if (Date.now() > deadline) throw new Error(`no ${what} within 30 s; scorer counters ${JSON.stringify(engine.stats().stages.scorer?.counters)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}



/** A WETH → token router swap on the first V2 venue, 2% of the pool, with `slippagePct` tolerance. */
async function sendVictim(slippagePct: bigint, tokenIndex: number): Promise<{ hash: string; pair: string }> {
  const d = net.deployment;
  const weth = d.weth.toLowerCase();
  const venue = d.v2[0]!;
  const plain = d.tokens.filter((t) => !t.feeOnTransfer);
  const token = plain[tokenIndex % plain.length]!.address.toLowerCase();
  const pair = venue.pairs.find((p) => [p.token0.toLowerCase(), p.token1.toLowerCase()].sort().join() === [weth, token].sort().join())!;
  const [r0, r1] = await reserves(net, pair.address);
  const [rWeth, rTok] = pair.token0.toLowerCase() === weth ? [r0, r1] : [r1, r0];
  const amountIn = rWeth / 50n;
  const quote = getAmountOut(amountIn, rWeth, rTok)!;
  const victim = privateKeyToAccount(net.traderKeys[0]!);
  const data = encodeFunctionData({ abi: ROUTER02_ABI, functionName: 'swapExactTokensForTokens', args: [amountIn, (quote * (100n - slippagePct)) / 100n, [weth as Hex, token as Hex], victim.address, 0xffffffffn] });
  const hash = await sendTx(net, net.traderKeys[0]!, { to: venue.router, data, gas: 300_000n, tip: 2n * GWEI });
  return { hash: hash.toLowerCase(), pair: pair.address.toLowerCase() };
}



describe('scored opportunities realize their predicted profit on anvil', () => {
  it('behavior: a V2 sandwich around a loose-slippage victim realizes its predicted net profit to the wei', async () => {
    const victim = await sendVictim(10n, 0);
    const opp = await waitFor((o) => o.kind === 'v2-sandwich' && o.victimHashes[0] === victim.hash && o.verification !== 'pending', 'sandwich opportunity');
    assert.equal(opp.verification, 'verified', `verification: ${opp.rejectReason}`);
    assert.deepEqual(opp.pools, [victim.pair]);
    assert.equal(opp.searcher, net.searcher);
    assert.equal(opp.targetBlock, (await latestBlock(net)).number + 1);
    assert.ok(opp.profit.netWei > 0n);
    const before = await balances(net, net.searcher);
    const [front, back] = await sendPlan(net, opp);
    const order = await mineChecked(net);
    assert.deepEqual(
      [order.indexOf(front!.toLowerCase()), order.indexOf(victim.hash), order.indexOf(back!.toLowerCase())].map((i) => i >= 0),
      [true, true, true],
      'front-run, victim and back-run are in the block',
    );
    assert.ok(order.indexOf(front!.toLowerCase()) < order.indexOf(victim.hash) && order.indexOf(victim.hash) < order.indexOf(back!.toLowerCase()), 'ordered front-run, victim, back-run by their fees');
    const afterB = await balances(net, net.searcher);
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
    const before = await balances(net, net.searcher);
    const sent = await sendPlan(net, opp);
    const order = await mineChecked(net);
    const at = [victim.hash, ...sent.map((h) => h.toLowerCase())].map((h) => order.indexOf(h));
    assert.ok(at.every((i) => i >= 0), 'victim and every planned tx are in the block');
    assert.deepEqual([...at].sort((a, b) => a - b), at, 'victim first, then the plan in order');
    const afterB = await balances(net, net.searcher);
    assert.equal(afterB.weth - before.weth + (afterB.eth - before.eth), opp.profit.net, 'realized = predicted net, to the wei');
  });

  it('error-path: plans around a fee-on-transfer token sold through the plain router method revert in verification: rejected with the EVM reason, counted, nothing crashes', async () => {
    const d = net.deployment;
    const weth = d.weth.toLowerCase();
    const dfl = d.tokens.find((t) => t.feeOnTransfer)!.address.toLowerCase();
    const venue = d.v2[0]!;
    const pair = venue.pairs.find((p) => [p.token0.toLowerCase(), p.token1.toLowerCase()].sort().join() === [weth, dfl].sort().join())!;
    const [r0, r1] = await reserves(net, pair.address);
    const rDfl = pair.token0.toLowerCase() === dfl ? r0 : r1;
    const victim = privateKeyToAccount(net.traderKeys[0]!);
    // The pair receives 1% less than the router priced, so the swap fails the K check on chain.
    const data = encodeFunctionData({ abi: ROUTER02_ABI, functionName: 'swapExactTokensForTokens', args: [rDfl / 50n, 0n, [dfl as Hex, weth as Hex], victim.address, 0xffffffffn] });
    const hash = (await sendTx(net, net.traderKeys[0]!, { to: venue.router, data, gas: 300_000n, tip: 2n * GWEI })).toLowerCase();
    const opp = await waitFor((o) => o.victimHashes[0] === hash && o.verification !== 'pending', 'an opportunity on the fee-on-transfer victim');
    assert.equal(opp.verification, 'rejected');
    // The front-run (selling the same token) or the victim itself reverts; either way the EVM says why.
    assert.match(opp.rejectReason ?? '', /^(victim-)?revert:\d+:./);
    // Counters travel with the stage's next metrics snapshot.
    await waitUntil(
      () => Object.entries(engine.stats().stages.scorer!.counters).some(([k, v]) => /^verify\.rejected\.(victim-)?revert$/.test(k) && v > 0),
      () => `no verify.rejected.*revert counter: ${JSON.stringify(engine.stats().stages.scorer!.counters)}; rejected: ${opportunities.filter((o) => o.verification === 'rejected').map((o) => `${o.kind} ${o.rejectReason}`).join('; ')}`,
      5_000,
    );
    const scorer = engine.stats().stages.scorer!;
    assert.equal(scorer.restarts, 0);
    assert.equal(engine.error(), null);
    await rpc(net.anvil.rpcUrl, 'evm_mine', []);
    const receipt = await rpc<{ status: Hex }>(net.anvil.rpcUrl, 'eth_getTransactionReceipt', [hash]);
    assert.equal(receipt.status, '0x0', 'the victim reverts on chain too');
  });

  it('behavior: a backrun through V2 and V3 pools after a V3 SwapRouter victim realizes its predicted net profit to the wei', async () => {
    const d = net.deployment;
    assert.ok(d.v3, `devnet without V3: ${d.v3Skipped}`);
    const weth = d.weth.toLowerCase();
    const tkb = d.tokens.find((t) => t.symbol === 'TKB')!.address.toLowerCase();
    // WETH/TKB has one V3 pool and two V2 pairs, so a cycle back from the moved V3 pool meets V2.
    const pool = d.v3.pools.find((p) => p.fee === 3000 && [p.token0.toLowerCase(), p.token1.toLowerCase()].sort().join() === [weth, tkb].sort().join())!;
    const victim = privateKeyToAccount(net.traderKeys[0]!);
    const data = encodeFunctionData({
      abi: V3_SWAP_ROUTER_ABI,
      functionName: 'exactInputSingle',
      args: [{ tokenIn: weth as Hex, tokenOut: tkb as Hex, fee: 3000, recipient: victim.address, deadline: 0xffffffffn, amountIn: 8n * 10n ** 18n, amountOutMinimum: 0n, sqrtPriceLimitX96: 0n }],
    });
    const hash = (await sendTx(net, net.traderKeys[0]!, { to: d.v3.router, data, gas: 500_000n, tip: 2n * GWEI })).toLowerCase();
    const opp = await waitFor((o) => o.kind === 'backrun-arbitrage' && o.victimHashes[0] === hash && o.verification !== 'pending', 'V2↔V3 backrun opportunity');
    assert.equal(opp.verification, 'verified', `verification: ${opp.rejectReason}`);
    assert.ok(opp.pools.includes(pool.address.toLowerCase()), 'the cycle goes through the V3 pool the victim moved');
    assert.ok(opp.plan.some((s) => s.kind === 'v3-router-exact-input-single'), 'a V3 step');
    assert.ok(opp.plan.some((s) => s.kind === 'v2-pair-swap'), 'a V2 step');
    assert.equal(opp.plan[0]!.kind, 'victim');
    const before = await balances(net, net.searcher);
    const sent = await sendPlan(net, opp);
    const order = await mineChecked(net);
    const at = [hash, ...sent.map((h) => h.toLowerCase())].map((h) => order.indexOf(h));
    assert.ok(at.every((i) => i >= 0), 'victim and every planned tx are in the block');
    assert.deepEqual([...at].sort((a, b) => a - b), at, 'victim first, then the plan in order');
    const afterB = await balances(net, net.searcher);
    assert.equal(afterB.weth - before.weth + (afterB.eth - before.eth), opp.profit.net, 'realized = predicted net, to the wei');
  });
});
