import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, type Anvil, rpc, rpcBatch, startAnvil } from '../../src/devnet/anvil.js';
import { OrionError } from '../../src/runtime/errors.js';

/** True while a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startAnvil', () => {
  const started: Anvil[] = [];
  after(async () => {
    await Promise.all(started.map((a) => a.stop()));
  });

  it('default: starts on 127.0.0.1, answers JSON-RPC, and stops with its pid gone', async () => {
    const anvil = await startAnvil();
    started.push(anvil);
    assert.match(anvil.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(anvil.wsUrl, anvil.rpcUrl.replace('http', 'ws'));
    assert.ok(alive(anvil.pid), 'anvil process not running');
    assert.equal(Number(await rpc<Hex>(anvil.rpcUrl, 'eth_chainId')), 31337);
    assert.equal(anvil.privateKeys.length, 10);
    // The dev accounts are funded with the default balance.
    const balance = BigInt(await rpc<Hex>(anvil.rpcUrl, 'eth_getBalance', [privateKeyToAddress(anvil.privateKeys[1]!), 'latest']));
    assert.equal(balance, 10_000n * 10n ** 18n);
    const block = await rpc<{ requestsHash?: Hex }>(anvil.rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
    assert.equal(typeof block.requestsHash, 'string', 'default hardfork is older than prague');
    await anvil.stop();
    assert.equal(alive(anvil.pid), false, 'anvil still running after stop()');
    await anvil.stop(); // idempotent
  });

  it('args: chain id, hardfork, gas limit and balance reach the node', async () => {
    const anvil = await startAnvil({ chainId: 1337, hardfork: 'cancun', gasLimit: 123_456_789, balanceEth: 5, accounts: 3 });
    started.push(anvil);
    const [chainId, block, balance] = (await rpcBatch(anvil.rpcUrl, [
      ['eth_chainId', []],
      ['eth_getBlockByNumber', ['latest', false]],
      ['eth_getBalance', [privateKeyToAddress(ANVIL_KEYS[2]!), 'latest']],
    ])) as [Hex, { gasLimit: Hex; blobGasUsed?: Hex; requestsHash?: Hex }, Hex];
    assert.equal(Number(chainId), 1337);
    assert.equal(anvil.chainId, 1337);
    assert.equal(BigInt(block.gasLimit), 123_456_789n);
    assert.equal(BigInt(balance), 5n * 10n ** 18n);
    assert.equal(anvil.privateKeys.length, 3);
    // Prague added the execution-requests hash to the header (EIP-7685); a cancun block has none.
    assert.equal('requestsHash' in block, false);
    assert.equal(typeof block.blobGasUsed, 'string');
    await anvil.stop();
  });

  it('behavior: blockTime mines blocks without transactions', async () => {
    const anvil = await startAnvil({ blockTime: 1 });
    started.push(anvil);
    const first = Number(await rpc<Hex>(anvil.rpcUrl, 'eth_blockNumber'));
    const deadline = Date.now() + 20_000;
    let now = first;
    while (now === first && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      now = Number(await rpc<Hex>(anvil.rpcUrl, 'eth_blockNumber'));
    }
    assert.ok(now > first, 'no block mined within 20 s at --block-time 1');
    await anvil.stop();
  });

  it('error: a missing binary fails with ORION_ERR_DEVNET', async () => {
    await assert.rejects(startAnvil({ bin: '/nonexistent/anvil' }), (e: unknown) => e instanceof OrionError && e.code === 'ORION_ERR_DEVNET');
  });

  it('error: rpcBatch names the failing call', async () => {
    const anvil = await startAnvil();
    started.push(anvil);
    await assert.rejects(rpcBatch(anvil.rpcUrl, [['eth_chainId', []], ['eth_noSuchMethod', []]]), (e: unknown) => e instanceof OrionError && /eth_noSuchMethod/.test(e.message));
    await anvil.stop();
  });
});
