import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeFunctionData, parseAbi } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { PAIR_CREATED_TOPIC, type RpcLog, SYNC_TOPIC, V2PoolRegistry } from '../../../../src/actors/scorer/pools/v2-pool-registry.js';
import { readV2Reserves } from '../../../../src/actors/scorer/pools/v2-reserves.js';
import { rpc } from '../../../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../../../src/devnet/devnet.js';

const A = `0x${'aa'.repeat(20)}`;
const B = `0x${'bb'.repeat(20)}`;
const C = `0x${'cc'.repeat(20)}`;
const word = (v: bigint) => v.toString(16).padStart(64, '0');
const syncLog = (address: string, r0: bigint, r1: bigint): RpcLog => ({ address, topics: [SYNC_TOPIC], data: `0x${word(r0)}${word(r1)}` });

describe('V2PoolRegistry', () => {
  it('default: pools by address and by unordered token pair', () => {
    const reg = new V2PoolRegistry();
    reg.add({ address: `0x${'01'.repeat(20)}`, token0: A, token1: B, reserve0: 1n, reserve1: 2n, feeBps: 30n });
    reg.add({ address: `0x${'02'.repeat(20)}`, token0: A, token1: B, reserve0: 3n, reserve1: 4n, feeBps: 25n });
    reg.add({ address: `0x${'03'.repeat(20)}`, token0: A, token1: C, reserve0: 5n, reserve1: 6n, feeBps: 30n });
    assert.equal(reg.size, 3);
    assert.deepEqual(reg.pools(B, A).map((p) => p.feeBps), [30n, 25n]);
    assert.equal(reg.pools(C, B).length, 0);
    assert.equal(reg.get(`0x${'03'.repeat(20)}`.toUpperCase().replace('0X', '0x'))?.reserve1, 6n);
    // Replacing a pair keeps one entry per address.
    reg.add({ address: `0x${'01'.repeat(20)}`, token0: A, token1: B, reserve0: 9n, reserve1: 9n, feeBps: 30n });
    assert.equal(reg.pools(A, B).length, 2);
    assert.equal(reg.get(`0x${'01'.repeat(20)}`)?.reserve0, 9n);
  });

  it('behavior: Sync logs set reserves in order; other logs, removed logs and unknown pairs are skipped', () => {
    const reg = new V2PoolRegistry();
    const pair = `0x${'01'.repeat(20)}`;
    reg.add({ address: pair, token0: A, token1: B, reserve0: 1n, reserve1: 1n, feeBps: 30n });
    const r = reg.applyLogs(
      [syncLog(pair, 10n, 20n), { ...syncLog(pair, 7n, 7n), removed: true }, syncLog(`0x${'09'.repeat(20)}`, 1n, 1n), { address: pair, topics: ['0x1234'], data: '0x' }, syncLog(pair, 11n, 19n), { address: pair, topics: [SYNC_TOPIC], data: '0x12' }],
      42,
    );
    assert.deepEqual(r, { synced: 2, created: 0, skipped: 4 });
    assert.deepEqual([reg.get(pair)!.reserve0, reg.get(pair)!.reserve1, reg.get(pair)!.block], [11n, 19n, 42]);
  });

  it('error: token0 must sort below token1', () => {
    assert.throws(() => new V2PoolRegistry().add({ address: A, token0: B, token1: A, reserve0: 0n, reserve1: 0n, feeBps: 30n }), RangeError);
  });
});

describe('V2PoolRegistry against anvil', () => {
  let devnet: Devnet;
  before(async () => {
    devnet = await startDevnet({ blockTime: 0, automine: false });
  });
  after(async () => {
    await devnet?.stop();
  });

  it('behavior: reserves kept from mined blocks\' Sync logs equal the node\'s getReserves, and watched factories register new pairs', async () => {
    const { anvil, deployment } = devnet;
    const reg = new V2PoolRegistry();
    for (const v of deployment.v2) {
      reg.watchFactory(v.factory);
      for (const p of v.pairs) reg.add({ ...p, reserve0: 0n, reserve1: 0n, feeBps: 30n, factory: v.factory });
    }
    const start = Number(BigInt(await rpc<string>(anvil.rpcUrl, 'eth_blockNumber')));
    assert.equal(reg.reconcile(await readV2Reserves(anvil.rpcUrl, reg.all().map((p) => p.address), start), start), reg.size, 'every pair starts from the node');
    for (let round = 0; round < 3; round++) {
      await devnet.traffic({ rate: 200, count: 60, seed: 100 + round, mix: { blob: 0 } }).done;
      await rpc(anvil.rpcUrl, 'evm_mine');
      const block = Number(BigInt(await rpc<string>(anvil.rpcUrl, 'eth_blockNumber')));
      const logs = await rpc<RpcLog[]>(anvil.rpcUrl, 'eth_getLogs', [{ fromBlock: `0x${block.toString(16)}`, toBlock: `0x${block.toString(16)}`, topics: [[SYNC_TOPIC, PAIR_CREATED_TOPIC]] }]);
      const r = reg.applyLogs(logs, block);
      assert.ok(r.synced > 0, `round ${round}: swaps moved reserves`);
      const node = await readV2Reserves(anvil.rpcUrl, reg.all().map((p) => p.address), block);
      assert.equal(reg.reconcile(node, block), 0, `round ${round}: the logs gave exactly the node's reserves`);
    }
    // A new pair on a watched factory is registered from its PairCreated log.
    const deployer = privateKeyToAccount(anvil.privateKeys[0]!);
    const uni = deployment.v2[0]!;
    const addrs = [deployment.weth, ...deployment.tokens.map((t) => t.address)].map((a) => a.toLowerCase());
    const has = new Set(uni.pairs.map((p) => `${p.token0.toLowerCase()}:${p.token1.toLowerCase()}`));
    const pairs = addrs.flatMap((a, i) => addrs.slice(i + 1).map((b) => (a < b ? [a, b] : [b, a]) as [string, string]));
    const missing = pairs.find(([a, b]) => !has.has(`${a}:${b}`));
    assert.ok(missing, 'the devnet leaves some token pair without a Uniswap pair');
    const [t0, t1] = missing;
    const data = encodeFunctionData({ abi: parseAbi(['function createPair(address,address) returns (address)']), args: [t0 as `0x${string}`, t1 as `0x${string}`] });
    await rpc(anvil.rpcUrl, 'eth_sendTransaction', [{ from: deployer.address, to: uni.factory, data, gas: '0x4c4b40' }]);
    await rpc(anvil.rpcUrl, 'evm_mine');
    const block = Number(BigInt(await rpc<string>(anvil.rpcUrl, 'eth_blockNumber')));
    const logs = await rpc<RpcLog[]>(anvil.rpcUrl, 'eth_getLogs', [{ fromBlock: `0x${block.toString(16)}`, toBlock: `0x${block.toString(16)}`, topics: [[SYNC_TOPIC, PAIR_CREATED_TOPIC]] }]);
    assert.equal(reg.applyLogs(logs, block).created, 1);
    const created = reg.pools(t0, t1).find((p) => p.factory === uni.factory.toLowerCase());
    assert.ok(created, 'registered under its tokens');
    assert.equal(created.reserve0, 0n);
    assert.equal(created.token0, t0);
  });
});
