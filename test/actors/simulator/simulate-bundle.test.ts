import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Address, encodeFunctionData, type Hex } from 'viem';
import { decodeTransaction } from '../../../src/actors/decoder/tx/decode-tx.js';
import { V2_SYNC_TOPIC } from '../../../src/actors/simulator/effects.js';
import { type BundleCall, simulateBundle } from '../../../src/actors/simulator/simulate-bundle.js';
import { pendingBlockContext, type SimVm, simulateTx } from '../../../src/actors/simulator/simulate-tx.js';
import { ForkedStateManager } from '../../../src/actors/simulator/state/forked-state-manager.js';
import { RpcState } from '../../../src/actors/simulator/state/rpc-state.js';
import { rpc, rpcBatch } from '../../../src/devnet/anvil.js';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { ERC20_ABI, V2_ROUTER_ABI } from '../../../src/devnet/uniswap.js';
import type { BlockEvent, DecodedTx } from '../../../src/messages/schema.js';
import { headEvent, onlyKind, startSimDevnet } from '../../support/sim.js';

interface Receipt { status: Hex; gasUsed: Hex; effectiveGasPrice: Hex; blockNumber: Hex; transactionIndex: Hex; from: Hex }


const tag = (n: number): Hex => `0x${n.toString(16)}`;
const hex = (v: bigint): Hex => `0x${v.toString(16)}`;
const only = onlyKind('v2-swap');

async function tokenBalance(url: string, token: string, owner: string, block: number): Promise<bigint> {
  return BigInt(await rpc<Hex>(url, 'eth_call', [{ to: token, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [owner as Address] }) }, tag(block)]));
}

describe('simulateBundle', () => {
  let net: Devnet;
  let url: string;
  let source: RpcState;
  let state: ForkedStateManager;
  let sim: SimVm;

  before(async () => {
    ({ net, url, source, state, sim } = await startSimDevnet());
  });
  after(async () => {
    await net?.stop();
  });

  /** A pending victim swap (taken out of the pool) and the head it is simulated on. */
  async function victim(): Promise<{ tx: DecodedTx; raw: Hex; h: BlockEvent }> {
    const [t] = (await net.traffic({ rate: 50, count: 1, resyncMs: 0, mix: only }).done).records;
    assert.ok(t?.accepted && !t.expectRevert);
    const raw = await rpc<Hex>(url, 'eth_getRawTransactionByHash', [t.hash]);
    await rpc(url, 'anvil_dropAllTransactions');
    const h = await headEvent(url);
    source.invalidate(h.number);
    state.reset();
    return { tx: decodeTransaction(Buffer.from(raw.slice(2), 'hex')), raw, h };
  }

  /**
   * Our calls after the victim, from another trader: a swap on the victim's first pair in the
   * victim's router (so it sees the victim's reserves), a WETH deposit, and a swap that reverts.
   */
  async function backrun(v: DecodedTx, h: BlockEvent): Promise<{ calls: BundleCall[]; watch: string; tokens: string[] }> {
    const ctx = pendingBlockContext(h, { timestamp: h.timestamp + 1 });
    const first = await simulateTx(sim, v, ctx);
    assert.equal(first.status, 'success', first.error);
    const sync = first.logs.find((l) => l.topics[0] === V2_SYNC_TOPIC);
    assert.ok(sync, 'the victim moved a V2 pair');
    const pair = net.deployment.v2.flatMap((d) => d.pairs).find((p) => p.address.toLowerCase() === sync.address)!;
    const weth = net.deployment.weth.toLowerCase();
    const watch = net.deployment.accounts.map((a) => a.toLowerCase()).find((a) => a !== v.from)!;
    const router = v.to! as Address;
    const deadline = BigInt(h.timestamp + 3600);
    const fees = { gas: 400_000n, maxFeePerGas: (h.baseFeePerGas ?? 1n) * 3n, maxPriorityFeePerGas: 0n };
    const [t0, t1] = [pair.token0.toLowerCase(), pair.token1.toLowerCase()];
    let swap: BundleCall;
    let out: string;
    if (t0 === weth || t1 === weth) {
      out = t0 === weth ? t1 : t0;
      swap = { from: watch, to: router, value: 10n ** 17n, data: encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactETHForTokensSupportingFeeOnTransferTokens', args: [0n, [weth as Address, out as Address], watch as Address, deadline] }), ...fees };
    } else {
      out = t1;
      const amountIn = (await tokenBalance(url, t0, watch, h.number)) / 1000n;
      swap = { from: watch, to: router, data: encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactTokensForTokensSupportingFeeOnTransferTokens', args: [amountIn, 0n, [t0 as Address, t1 as Address], watch as Address, deadline] }), ...fees };
    }
    const deposit: BundleCall = { from: watch, to: weth, value: 5n * 10n ** 16n, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'deposit' }), ...fees };
    const reverting: BundleCall = { from: watch, to: router, value: 10n ** 15n, data: encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactETHForTokens', args: [1n << 200n, [weth as Address, (t0 === weth ? t1 : t0) as Address], watch as Address, deadline] }), ...fees };
    return { calls: [swap, deposit, reverting], watch, tokens: [...new Set([t0, t1, out, weth])] };
  }

  it('behavior: [victim, calls] gives the receipts\' gas and status and the watched balances\' real changes, to the wei', async () => {
    const { tx, raw, h } = await victim();
    const { calls, watch, tokens } = await backrun(tx, h);
    const ctx = pendingBlockContext(h, { timestamp: h.timestamp + 1 });
    // Nonces left to the state: the three calls take consecutive ones.
    const r = await simulateBundle(sim, [tx, ...calls], ctx, { watch, tokens });
    assert.equal(state.depth, 0, 'everything reverted');

    const nonce = BigInt(await rpc<Hex>(url, 'eth_getTransactionCount', [watch, 'latest']));
    const hashes: Hex[] = [tx.hash as Hex];
    await rpc(url, 'evm_setNextBlockTimestamp', [Number(ctx.timestamp)]);
    await rpc(url, 'eth_sendRawTransaction', [raw]);
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i]!;
      hashes.push(await rpc<Hex>(url, 'eth_sendTransaction', [{ type: '0x2', from: c.from, to: c.to, data: c.data, value: hex(c.value ?? 0n), gas: hex(c.gas), maxFeePerGas: hex(c.maxFeePerGas), maxPriorityFeePerGas: hex(c.maxPriorityFeePerGas), nonce: hex(nonce + BigInt(i)) }]));
    }
    await rpc(url, 'evm_mine');
    const receipts = (await rpcBatch(url, hashes.map((x) => ['eth_getTransactionReceipt', [x]]))) as Receipt[];
    receipts.forEach((rc, i) => {
      assert.equal(Number(rc.blockNumber), h.number + 1, `tx ${i} mined in the next block`);
      assert.equal(Number(rc.transactionIndex), i, `tx ${i} in bundle order`);
    });

    assert.deepEqual(r.txs.map((t) => t.status), ['success', 'success', 'success', 'revert']);
    assert.deepEqual(receipts.map((rc) => rc.status), ['0x1', '0x1', '0x1', '0x0']);
    assert.deepEqual(r.txs.map((t) => t.gasUsed), receipts.map((rc) => BigInt(rc.gasUsed)));
    assert.equal(r.txs[3]!.revertReason, 'UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT');

    const gasCost = receipts.filter((rc) => rc.from.toLowerCase() === watch).reduce((s, rc) => s + BigInt(rc.gasUsed) * BigInt(rc.effectiveGasPrice), 0n);
    assert.equal(r.gasCost, gasCost);
    const [e0, e1] = await Promise.all([rpc<Hex>(url, 'eth_getBalance', [watch, tag(h.number)]), rpc<Hex>(url, 'eth_getBalance', [watch, tag(h.number + 1)])]);
    assert.equal(r.ethDelta, BigInt(e1) - BigInt(e0));
    for (let i = 0; i < tokens.length; i++) {
      const real = (await tokenBalance(url, tokens[i]!, watch, h.number + 1)) - (await tokenBalance(url, tokens[i]!, watch, h.number));
      assert.equal(r.tokenDeltas[i], real, `token ${tokens[i]}`);
    }
    assert.ok(r.tokenDeltas.some((d) => d !== 0n), 'the bundle moved a watched token');
  });

  it('behavior: each transaction sees the previous one: the backrun alone gets another output than after the victim', async () => {
    const { tx, h } = await victim();
    const { calls, watch, tokens } = await backrun(tx, h);
    const ctx = pendingBlockContext(h, { timestamp: h.timestamp + 1 });
    const withVictim = await simulateBundle(sim, [tx, calls[0]!], ctx, { watch, tokens });
    const alone = await simulateBundle(sim, [calls[0]!], ctx, { watch, tokens });
    const again = await simulateBundle(sim, [tx, calls[0]!], ctx, { watch, tokens });
    assert.deepEqual(again, withVictim, 'deterministic, nothing left behind');
    assert.notDeepEqual(alone.tokenDeltas, withVictim.tokenDeltas);
    assert.equal(state.depth, 0);
  });

  it('behavior: a call whose nonce the state has passed is invalid and skipped; the rest still run', async () => {
    const { tx, h } = await victim();
    const { calls, watch, tokens } = await backrun(tx, h);
    const ctx = pendingBlockContext(h, { timestamp: h.timestamp + 1 });
    const r = await simulateBundle(sim, [{ ...calls[1]!, nonce: 0n }, calls[1]!], ctx, { watch, tokens });
    assert.equal(r.txs[0]!.status, 'invalid');
    assert.match(r.txs[0]!.error ?? '', /nonce/i);
    assert.equal(r.txs[0]!.gasUsed, 0n);
    assert.equal(r.txs[1]!.status, 'success');
    assert.equal(r.tokenDeltas[tokens.indexOf(net.deployment.weth.toLowerCase())], calls[1]!.value);
  });

  it('error: a token without balanceOf rejects', async () => {
    const h = await headEvent(url);
    const ctx = pendingBlockContext(h);
    await assert.rejects(simulateBundle(sim, [], ctx, { watch: net.deployment.accounts[0]!, tokens: [net.deployment.v2[0]!.router] }), /balanceOf/);
    assert.equal(state.depth, 0);
  });
});
