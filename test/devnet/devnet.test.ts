import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { rpc, rpcBatch } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the head moves past `from` (interval mining works), failing after 20 s. */
async function nextBlock(url: string, from: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const n = Number(await rpc<Hex>(url, 'eth_blockNumber'));
    if (n > from) return n;
    if (Date.now() > deadline) throw new Error(`no block after ${from} within 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('startDevnet', () => {
  const nets: Devnet[] = [];
  after(async () => {
    await Promise.all(nets.map((n) => n.stop()));
  });

  it('default: prague, 1 s interval blocks, Uniswap deployed; stop() ends traffic and anvil', async () => {
    const t0 = performance.now();
    const net = await startDevnet();
    nets.push(net);
    console.log(`# startDevnet took ${(performance.now() - t0).toFixed(0)} ms`);
    const url = net.anvil.rpcUrl;
    assert.equal(net.hardfork, 'prague');
    const [block, automine] = (await rpcBatch(url, [['eth_getBlockByNumber', ['latest', false]], ['anvil_getAutomine', []]])) as [{ number: Hex; gasLimit: Hex; requestsHash?: Hex }, boolean];
    assert.equal(typeof block.requestsHash, 'string', 'not a prague block');
    assert.equal(BigInt(block.gasLimit), 300_000_000n);
    assert.equal(automine, false);
    await nextBlock(url, Number(block.number));
    assert.ok(net.deployment.v3);
    assert.deepEqual(net.traderKeys.map((k) => privateKeyToAddress(k)), net.deployment.accounts);
    assert.equal(net.traderKeys.length, 9);

    const run = net.traffic({ rate: 50 });
    await run.ready;
    await net.stop();
    const report = await run.done;
    assert.equal(report.accepted + report.rejected, report.sent);
    assert.equal(alive(net.anvil.pid), false, 'anvil still running after stop()');
    await net.stop(); // idempotent
  });

  it('args: blockTime 0 with automine false mines only on evm_mine', async () => {
    const net = await startDevnet({ blockTime: 0, automine: false, v3: false });
    nets.push(net);
    const url = net.anvil.rpcUrl;
    const report = await net.traffic({ rate: 100, count: 3, mix: { 'eth-transfer': 1, 'v2-swap': 0, 'v3-swap': 0, 'pair-swap': 0, 'erc20-transfer': 0, approve: 0, revert: 0, delegate: 0, blob: 0 } }).done;
    const hashes = report.records.map((x) => x.hash);
    await new Promise((r) => setTimeout(r, 300));
    const pending = (await rpcBatch(url, hashes.map((h) => ['eth_getTransactionReceipt', [h]] as const))) as unknown[];
    assert.deepEqual(pending, [null, null, null], 'mined without evm_mine');
    await rpc(url, 'evm_mine');
    const mined = (await rpcBatch(url, hashes.map((h) => ['eth_getTransactionReceipt', [h]] as const))) as ({ status: Hex } | null)[];
    assert.ok(mined.every((r) => r?.status === '0x1'));
    await net.stop();
  });

  it('args: a fractional blockTime deploys and keeps mining, and v3: false leaves V3 out of the traffic', async () => {
    const net = await startDevnet({ blockTime: 0.5, v3: false, seed: 4 });
    nets.push(net);
    assert.equal(net.deployment.v3, undefined);
    await nextBlock(net.anvil.rpcUrl, Number(await rpc<Hex>(net.anvil.rpcUrl, 'eth_blockNumber')));
    const report = await net.traffic({ rate: 200, count: 100, settleMs: 30_000 }).done;
    assert.equal(report.byKind['v3-swap'], 0);
    assert.equal(report.unmined, 0);
    await net.stop();
  });

  it('error: a negative block time is a RangeError, before anything starts', async () => {
    await assert.rejects(startDevnet({ blockTime: -1 }), RangeError);
  });
});
