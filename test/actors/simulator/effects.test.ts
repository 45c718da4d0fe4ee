import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Address, decodeFunctionResult, encodeFunctionData, type Hex } from 'viem';
import { decodeTransaction } from '../../../src/actors/decoder/tx/decode-tx.js';
import { balanceChangesOf, ETH_TOKEN, simulateWithEffects, TRANSFER_TOPIC, V2_SYNC_TOPIC, V3_SWAP_TOPIC, WETH_DEPOSIT_TOPIC } from '../../../src/actors/simulator/effects.js';
import { pendingBlockContext, type SimVm } from '../../../src/actors/simulator/simulate-tx.js';
import { ForkedStateManager } from '../../../src/actors/simulator/state/forked-state-manager.js';
import { RpcState } from '../../../src/actors/simulator/state/rpc-state.js';
import { rpc, rpcBatch } from '../../../src/devnet/anvil.js';
import type { Devnet } from '../../../src/devnet/devnet.js';
import type { TrafficKind } from '../../../src/devnet/traffic.js';
import { ERC20_ABI, V2_PAIR_ABI, V3_POOL_ABI } from '../../../src/devnet/uniswap.js';
import type { BalanceChange, PoolTouch } from '../../../src/messages/schema.js';
import { headEvent, onlyKind, startSimDevnet } from '../../support/sim.js';

interface Receipt { status: Hex; gasUsed: Hex; effectiveGasPrice: Hex; blockNumber: Hex; logs: { address: Hex; topics: Hex[] }[] }


const tag = (n: number): Hex => `0x${n.toString(16)}`;

async function call<T>(url: string, to: string, data: Hex, block: number, decode: (r: Hex) => T): Promise<T> {
  return decode(await rpc<Hex>(url, 'eth_call', [{ to, data }, tag(block)]));
}

/** The pool's state at `block` as the node reports it through the pools' own getters. */
async function poolState(url: string, p: PoolTouch, block: number): Promise<bigint[]> {
  if (p.protocol === 'uniswap-v2') {
    const [r0, r1] = await call(url, p.address, encodeFunctionData({ abi: V2_PAIR_ABI, functionName: 'getReserves' }), block, (r) => decodeFunctionResult({ abi: V2_PAIR_ABI, functionName: 'getReserves', data: r }));
    return [r0, r1];
  }
  const s0 = await call(url, p.address, encodeFunctionData({ abi: V3_POOL_ABI, functionName: 'slot0' }), block, (r) => decodeFunctionResult({ abi: V3_POOL_ABI, functionName: 'slot0', data: r }));
  const liquidity = await call(url, p.address, encodeFunctionData({ abi: V3_POOL_ABI, functionName: 'liquidity' }), block, (r) => decodeFunctionResult({ abi: V3_POOL_ABI, functionName: 'liquidity', data: r }));
  return [s0[0], BigInt(s0[1]), liquidity];
}

async function tokenBalance(url: string, token: string, owner: string, block: number): Promise<bigint> {
  return call(url, token, encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [owner as Address] }), block, (r) => BigInt(r));
}

const only = onlyKind;

describe('simulateWithEffects', () => {
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

  /**
   * Sends `count` swaps of `kind`, then mines them one per block; before each, simulates it on the
   * head and checks its effects against what the node shows between the two blocks.
   */
  async function checkAgainstNode(kind: TrafficKind, count: number, protocol: PoolTouch['protocol']): Promise<{ methods: Set<string>; ethIn: number; ethOut: number }> {
    const sent = (await net.traffic({ rate: 100, count, resyncMs: 0, mix: only(kind) }).done).records.filter((t) => t.accepted && !t.expectRevert);
    assert.ok(sent.length > 0, 'traffic sent swaps');
    const raws = (await rpcBatch(url, sent.map((t) => ['eth_getRawTransactionByHash', [t.hash]]))) as Hex[];
    await rpc(url, 'anvil_dropAllTransactions');
    const tokens = [net.deployment.weth, ...net.deployment.tokens.map((t) => t.address)].map((a) => a.toLowerCase());
    const methods = new Set<string>();
    let ethIn = 0;
    let ethOut = 0;
    for (let i = 0; i < sent.length; i++) {
      const h = await headEvent(url);
      source.invalidate(h.number);
      state.reset();
      const ctx = pendingBlockContext(h, { timestamp: h.timestamp + 1 });
      const tx = decodeTransaction(Buffer.from(raws[i]!.slice(2), 'hex'));
      const fx = await simulateWithEffects(sim, tx, ctx);
      assert.equal(state.depth, 0, 'state reverted');
      await rpcBatch(url, [['evm_setNextBlockTimestamp', [Number(ctx.timestamp)]], ['eth_sendRawTransaction', [raws[i]]]]);
      await rpc(url, 'evm_mine');
      const receipt = await rpc<Receipt>(url, 'eth_getTransactionReceipt', [tx.hash]);
      assert.equal(Number(receipt.blockNumber), h.number + 1);
      assert.equal(receipt.status, '0x1', `${sent[i]!.method} mined`);
      assert.equal(fx.status, 'success', `${sent[i]!.method}: ${fx.error}`);
      assert.equal(fx.gasUsed, BigInt(receipt.gasUsed));
      const gasCost = BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);
      assert.equal(fx.gasCost, gasCost);
      methods.add(sent[i]!.method);

      // Pools: exactly the emitters of Sync / V3 Swap, by first log; before and after as the node's getters report them.
      const seen = new Set<string>();
      const expectedPools: string[] = [];
      for (const l of receipt.logs) {
        const t0 = l.topics[0]?.toLowerCase();
        if ((t0 === V2_SYNC_TOPIC || t0 === V3_SWAP_TOPIC) && !seen.has(l.address.toLowerCase())) {
          seen.add(l.address.toLowerCase());
          expectedPools.push(l.address.toLowerCase());
        }
      }
      assert.deepEqual(fx.pools.map((p) => p.address), expectedPools);
      assert.ok(fx.pools.some((p) => p.protocol === protocol), `a ${protocol} pool is touched`);
      for (const p of fx.pools) {
        assert.deepEqual(p.before, await poolState(url, p, h.number), `${p.protocol} ${p.address} before`);
        assert.deepEqual(p.after, await poolState(url, p, h.number + 1), `${p.protocol} ${p.address} after`);
        assert.notDeepEqual(p.before, p.after);
      }

      // Balance changes: every token's balanceOf and the ether balance (gas added back), as on chain.
      const expected: BalanceChange[] = [];
      const [e0, e1] = await Promise.all([rpc<Hex>(url, 'eth_getBalance', [tx.from, tag(h.number)]), rpc<Hex>(url, 'eth_getBalance', [tx.from, tag(h.number + 1)])]);
      const eth = BigInt(e1) - BigInt(e0) + gasCost;
      if (eth !== 0n) expected.push({ token: ETH_TOKEN, delta: eth });
      if (eth < 0n) ethIn++;
      if (eth > 0n) ethOut++;
      for (const token of [...tokens].sort()) {
        const d = (await tokenBalance(url, token, tx.from, h.number + 1)) - (await tokenBalance(url, token, tx.from, h.number));
        if (d !== 0n) expected.push({ token, delta: d });
      }
      assert.deepEqual(fx.balanceChanges, expected, `${sent[i]!.method} balance changes`);
    }
    return { methods, ethIn, ethOut };
  }

  it('behavior: V2 router swaps: pools before/after and the sender balance changes equal the node after mining', async () => {
    const r = await checkAgainstNode('v2-swap', 12, 'uniswap-v2');
    process.stderr.write(`v2 methods: ${[...r.methods].join(', ')}; eth in ${r.ethIn}, eth out ${r.ethOut}\n`);
  });

  it('behavior: V3 router swaps: slot0/liquidity before/after and the sender balance changes equal the node after mining', async () => {
    const r = await checkAgainstNode('v3-swap', 12, 'uniswap-v3');
    process.stderr.write(`v3 methods: ${[...r.methods].join(', ')}; eth in ${r.ethIn}, eth out ${r.ethOut}\n`);
  });

  it('behavior: a reverting transaction reports no pools or balance changes but its gas cost', async () => {
    const [t] = (await net.traffic({ rate: 50, count: 1, resyncMs: 0, mix: only('revert') }).done).records;
    assert.ok(t?.accepted);
    const raw = await rpc<Hex>(url, 'eth_getRawTransactionByHash', [t.hash]);
    const h = await headEvent(url);
    source.invalidate(h.number);
    state.reset();
    const fx = await simulateWithEffects(sim, decodeTransaction(Buffer.from(raw.slice(2), 'hex')), pendingBlockContext(h));
    await rpc(url, 'anvil_dropAllTransactions');
    assert.notEqual(fx.status, 'success');
    assert.deepEqual(fx.pools, []);
    assert.deepEqual(fx.balanceChanges, []);
    if (fx.status !== 'invalid') assert.ok(fx.gasCost > 0n);
  });
});

describe('balanceChangesOf', () => {
  const me = '0x00000000000000000000000000000000000000aa';
  const other = '0x00000000000000000000000000000000000000bb';
  const topic = (a: string) => `0x${a.slice(2).padStart(64, '0')}`;
  const amount = (v: bigint) => `0x${v.toString(16).padStart(64, '0')}`;

  it('default: transfers are netted per token, ether first, tokens sorted, zero nets dropped', () => {
    const logs = [
      { address: '0x2000000000000000000000000000000000000000', topics: [TRANSFER_TOPIC, topic(me), topic(other)], data: amount(5n) },
      { address: '0x1000000000000000000000000000000000000000', topics: [TRANSFER_TOPIC, topic(other), topic(me)], data: amount(7n) },
      { address: '0x3000000000000000000000000000000000000000', topics: [TRANSFER_TOPIC, topic(other), topic(me)], data: amount(3n) },
      { address: '0x3000000000000000000000000000000000000000', topics: [TRANSFER_TOPIC, topic(me), topic(other)], data: amount(3n) },
      { address: '0x4000000000000000000000000000000000000000', topics: [WETH_DEPOSIT_TOPIC, topic(me)], data: amount(9n) },
    ];
    assert.deepEqual(balanceChangesOf(logs, me, -9n), [
      { token: ETH_TOKEN, delta: -9n },
      { token: '0x1000000000000000000000000000000000000000', delta: 7n },
      { token: '0x2000000000000000000000000000000000000000', delta: -5n },
      { token: '0x4000000000000000000000000000000000000000', delta: 9n },
    ]);
  });

  it('behavior: ERC721 transfers (id indexed) and other owners are ignored', () => {
    const logs = [
      { address: '0x2000000000000000000000000000000000000000', topics: [TRANSFER_TOPIC, topic(me), topic(other), amount(1n)], data: '0x' },
      { address: '0x2000000000000000000000000000000000000000', topics: [TRANSFER_TOPIC, topic(other), topic(other)], data: amount(4n) },
    ];
    assert.deepEqual(balanceChangesOf(logs, me, 0n), []);
  });
});
