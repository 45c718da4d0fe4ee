import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Hex } from 'viem';
import { decodeTransaction } from '../../../src/actors/decoder/tx/decode-tx.js';
import { createSimVm, decodeRevertReason, pendingBlockContext, type SimResult, type SimVm, simulateTx } from '../../../src/actors/simulator/simulate-tx.js';
import { ForkedStateManager } from '../../../src/actors/simulator/state/forked-state-manager.js';
import { RpcState } from '../../../src/actors/simulator/state/rpc-state.js';
import { rpc, rpcBatch } from '../../../src/devnet/anvil.js';
import type { Devnet } from '../../../src/devnet/devnet.js';
import type { TrafficTx } from '../../../src/devnet/traffic.js';
import { headEvent, startSimDevnet } from '../../support/sim.js';

const PARITY_TXS = Number(process.env.ORION_PARITY_TXS ?? 500);

interface RpcLog { address: Hex; topics: Hex[]; data: Hex }
interface Receipt { status: Hex; gasUsed: Hex; logs: RpcLog[] }


/** Where a simulation disagrees with the node's receipt, or null. */
function mismatch(sim: SimResult, r: Receipt): string | null {
  const nodeOk = r.status === '0x1';
  if (sim.status === 'invalid') return `invalid (${sim.error?.slice(0, 120)})`;
  if ((sim.status === 'success') !== nodeOk) return `status: sim ${sim.status}, node ${r.status}`;
  if (sim.gasUsed !== BigInt(r.gasUsed)) return `gasUsed: sim ${sim.gasUsed}, node ${BigInt(r.gasUsed)}`;
  const nodeLogs = r.logs.map((l) => ({ address: l.address.toLowerCase(), topics: l.topics.map((t) => t.toLowerCase()), data: l.data.toLowerCase() }));
  try {
    assert.deepStrictEqual(sim.logs, nodeLogs);
  } catch {
    return `logs: sim ${sim.logs.length}, node ${nodeLogs.length}`;
  }
  return null;
}

describe('simulateTx', () => {
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

  it(`behavior: status, gasUsed and logs equal anvil's receipts for ${PARITY_TXS} generated transactions, each mined alone`, async () => {
    // Blob transactions come back from the pool in canonical form, without the sidecar a resend needs.
    const run = net.traffic({ rate: 400, count: PARITY_TXS, resyncMs: 0, mix: { blob: 0 } });
    const report = await run.done;
    const sent = report.records.filter((t) => t.accepted);
    assert.ok(sent.length >= PARITY_TXS * 0.95, `traffic: only ${sent.length} of ${PARITY_TXS} accepted (${JSON.stringify(report.errors)})`);
    // Take every transaction out of the pool, then put them back one at a time in send order.
    const raws = (await rpcBatch(url, sent.map((t) => ['eth_getRawTransactionByHash', [t.hash]]))) as (Hex | null)[];
    await rpc(url, 'anvil_dropAllTransactions');

    const byKind: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    const mismatches: { index: number; kind: string; method: string; type: number; why: string }[] = [];
    const reasons = new Set<string>();
    let compared = 0;
    for (let i = 0; i < sent.length; i++) {
      const t = sent[i] as TrafficTx;
      const raw = raws[i];
      if (!raw) {
        mismatches.push({ index: t.index, kind: t.kind, method: t.method, type: t.type, why: 'node lost the raw transaction' });
        continue;
      }
      const h = await headEvent(url);
      if (source.blockNumber !== h.number) {
        source.invalidate(h.number);
        state.reset();
      }
      const ctx = pendingBlockContext(h, { timestamp: h.timestamp + 1 });
      const tx = decodeTransaction(Buffer.from(raw.slice(2), 'hex'));
      assert.equal(tx.hash, t.hash.toLowerCase());
      // Warm what every transaction reads, in one batch, as the simulator actor does.
      await source.prefetch([tx.from, ...(tx.to ? [tx.to] : []), ctx.coinbase]);
      const result = await simulateTx(sim, tx, ctx);
      await rpcBatch(url, [['evm_setNextBlockTimestamp', [Number(ctx.timestamp)]], ['eth_sendRawTransaction', [raw]]]);
      await rpc(url, 'evm_mine');
      const receipt = await rpc<Receipt | null>(url, 'eth_getTransactionReceipt', [t.hash]);
      compared++;
      byKind[t.kind] = (byKind[t.kind] ?? 0) + 1;
      statuses[result.status] = (statuses[result.status] ?? 0) + 1;
      if (result.revertReason) reasons.add(result.revertReason);
      const why = receipt === null ? 'not mined' : mismatch(result, receipt);
      if (why) mismatches.push({ index: t.index, kind: t.kind, method: t.method, type: t.type, why });
    }
    process.stderr.write(`parity: ${compared - mismatches.length}/${compared} match; by kind ${JSON.stringify(byKind)}; sim status ${JSON.stringify(statuses)}; rpc ${JSON.stringify(source.stats)}\n`);
    process.stderr.write(`revert reasons: ${JSON.stringify([...reasons])}\n`);
    for (const m of mismatches) process.stderr.write(`mismatch #${m.index} ${m.kind} type ${m.type} ${m.method}: ${m.why}\n`);
    assert.ok(compared >= PARITY_TXS * 0.95);
    assert.deepEqual(mismatches, []);
    assert.ok((statuses.revert ?? 0) > 0, 'the mix includes reverts');
    assert.ok(reasons.size > 0, 'revert reasons are decoded');
  });

  it('behavior: simulate-and-discard leaves no state behind; the same transaction simulates identically twice', async () => {
    const run = net.traffic({ rate: 50, count: 1, resyncMs: 0, mix: { 'v2-swap': 1, 'v3-swap': 0, 'pair-swap': 0, 'eth-transfer': 0, 'erc20-transfer': 0, approve: 0, revert: 0, delegate: 0, blob: 0 } });
    const [t] = (await run.done).records;
    assert.ok(t?.accepted);
    const raw = await rpc<Hex>(url, 'eth_getRawTransactionByHash', [t.hash]);
    const h = await headEvent(url);
    source.invalidate(h.number);
    state.reset();
    const ctx = pendingBlockContext(h);
    const tx = decodeTransaction(Buffer.from(raw.slice(2), 'hex'));
    const a = await simulateTx(sim, tx, ctx);
    const b = await simulateTx(sim, tx, ctx);
    assert.equal(a.status, 'success');
    assert.deepEqual(b, a);
    assert.equal(state.depth, 0);
    await rpc(url, 'anvil_dropAllTransactions');
  });

  it('behavior: a transaction whose nonce the state has passed is invalid, not executed', async () => {
    const run = net.traffic({ rate: 50, count: 1, resyncMs: 0, mix: { 'v2-swap': 0, 'v3-swap': 0, 'pair-swap': 0, 'eth-transfer': 1, 'erc20-transfer': 0, approve: 0, revert: 0, delegate: 0, blob: 0 } });
    const [t] = (await run.done).records;
    assert.ok(t?.accepted);
    const raw = await rpc<Hex>(url, 'eth_getRawTransactionByHash', [t.hash]);
    await rpc(url, 'evm_mine');
    const h = await headEvent(url);
    source.invalidate(h.number);
    state.reset();
    const r = await simulateTx(sim, decodeTransaction(Buffer.from(raw.slice(2), 'hex')), pendingBlockContext(h));
    assert.equal(r.status, 'invalid');
    assert.match(r.error ?? '', /nonce/i);
    assert.equal(r.gasUsed, 0n);
  });

  it('error: a state read the node refuses rejects with a StateReadError', async () => {
    const bad = new RpcState({ url, blockNumber: 1_000_000 });
    const badSim = await createSimVm({ state: new ForkedStateManager(bad), chainId: net.anvil.chainId, hardfork: net.hardfork });
    const run = net.traffic({ rate: 50, count: 1, resyncMs: 0, mix: { 'v2-swap': 0, 'v3-swap': 0, 'pair-swap': 0, 'eth-transfer': 1, 'erc20-transfer': 0, approve: 0, revert: 0, delegate: 0, blob: 0 } });
    const [t] = (await run.done).records;
    const raw = await rpc<Hex>(url, 'eth_getRawTransactionByHash', [t!.hash]);
    const h = await headEvent(url);
    await assert.rejects(simulateTx(badSim, decodeTransaction(Buffer.from(raw.slice(2), 'hex')), pendingBlockContext(h)), (e: Error & { code?: string }) => e.name === 'StateReadError' && e.code === 'STATE_RPC_ERROR');
    assert.ok(bad.stats.errors.STATE_RPC_ERROR > 0);
    await rpc(url, 'anvil_dropAllTransactions');
  });
});

describe('decodeRevertReason', () => {
  it('default: Error(string) gives its text', () => {
    const text = 'UniswapV2Router: EXPIRED';
    const hex = `08c379a0${(32).toString(16).padStart(64, '0')}${text.length.toString(16).padStart(64, '0')}${Buffer.from(text).toString('hex').padEnd(64, '0')}`;
    assert.equal(decodeRevertReason(Buffer.from(hex, 'hex')), text);
  });

  it('behavior: Panic(uint256) gives its code; custom errors and short data give undefined', () => {
    assert.equal(decodeRevertReason(Buffer.from(`4e487b71${'11'.padStart(64, '0')}`, 'hex')), 'Panic(0x11)');
    assert.equal(decodeRevertReason(Buffer.from('deadbeef', 'hex')), undefined);
    assert.equal(decodeRevertReason(new Uint8Array(0)), undefined);
  });
});
