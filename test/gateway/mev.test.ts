import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Hex, encodeFunctionData, keccak256 } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getAmountOut } from '../../src/actors/scorer/pools/v2-math.js';
import { Ledger } from '../../src/actors/submitter/ledger.js';
import { DEFAULT_SUBMITTER_CONFIG, type SubmitterConfig } from '../../src/actors/submitter/submitter-config.js';
import { rpc } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { ProtectRpc } from '../../src/gateway/protect.js';
import { type EngineConfig, validateConfig } from '../../src/runtime/config.js';
import { createLogger } from '../../src/runtime/log.js';
import { GWEI, ROUTER02_ABI, reserves, waitUntil } from '../support/chain.js';
import { KEYS, gatewayConfig } from './fixtures.js';

/**
 * The operator's side of the gateway: the protect RPC on a real devnet (exposure estimate, private
 * route, ledger, landing), `/mev/route` from the route policy and `/mev/stats` from the ledger.
 */

const log = createLogger('test', 'silent');
let net: Devnet;
let dir: string;

before(async () => {
  net = await startDevnet({ blockTime: 0, automine: false });
  dir = mkdtempSync(join(tmpdir(), 'orion-mev-'));
});

after(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function engineConfig(submitter: Partial<SubmitterConfig>): EngineConfig {
  return validateConfig({ ...devnetEngineConfig(net), submitter: { ledgerPath: join(dir, 'protect.jsonl'), ...submitter } });
}

/** A WETH → token router swap from trader 0 with `slippagePct` slippage, signed, not sent. */
async function signedSwap(slippagePct: bigint, nonceOffset = 0): Promise<{ raw: Hex; hash: Hex }> {
  const d = net.deployment;
  const weth = d.weth.toLowerCase();
  const venue = d.v2[0]!;
  const token = d.tokens.find((t) => !t.feeOnTransfer)!.address.toLowerCase();
  const pair = venue.pairs.find((p) => [p.token0.toLowerCase(), p.token1.toLowerCase()].sort().join() === [weth, token].sort().join())!;
  const [r0, r1] = await reserves(net, pair.address);
  const [rWeth, rTok] = pair.token0.toLowerCase() === weth ? [r0, r1] : [r1, r0];
  const amountIn = rWeth / 50n;
  const quote = getAmountOut(amountIn, rWeth, rTok)!;
  const account = privateKeyToAccount(net.traderKeys[0]!);
  const data = encodeFunctionData({ abi: ROUTER02_ABI, functionName: 'swapExactTokensForTokens', args: [amountIn, (quote * (100n - slippagePct)) / 100n, [weth as Hex, token as Hex], account.address, 0xffffffffn] });
  const nonce = Number(await rpc<Hex>(net.anvil.rpcUrl, 'eth_getTransactionCount', [account.address, 'pending'])) + nonceOffset;
  const block = await rpc<{ baseFeePerGas: Hex }>(net.anvil.rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
  const raw = await account.signTransaction({ type: 'eip1559', chainId: net.anvil.chainId, nonce, to: venue.router, data, gas: 300_000n, maxFeePerGas: BigInt(block.baseFeePerGas) * 2n + 2n * GWEI, maxPriorityFeePerGas: 2n * GWEI });
  return { raw, hash: keccak256(raw) };
}

async function call(p: ProtectRpc, method: string, params: unknown[]): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  return JSON.parse(await p.handle(JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }))) as { result?: unknown; error?: { code: number; message: string } };
}

describe('protect RPC on a devnet', () => {
  it('behavior: a sandwichable swap gets an exposure estimate, goes out on the private route, is recorded, and its landing is recorded', async () => {
    const config = engineConfig({ strategy: 'private-rpc', privateRpc: { url: net.anvil.rpcUrl, method: 'eth_sendRawTransaction' } });
    const p = new ProtectRpc(config, net.anvil.rpcUrl, log);
    try {
      const swap = await signedSwap(10n);
      const est = (await call(p, 'orion_estimateExposure', [swap.raw])).result as { exposureWei: string; sizeWei: string; route: string; reason: string; txHash: string };
      assert.ok(BigInt(est.exposureWei) > 0n, `a 10% slippage swap of 2% of the pool is sandwichable: ${est.reason}`);
      assert.ok(BigInt(est.sizeWei) > 0n);
      assert.equal(est.route, 'private-rpc');
      assert.equal(est.txHash, swap.hash);
      // Nothing was sent by the estimate.
      assert.equal(await rpc(net.anvil.rpcUrl, 'eth_getTransactionByHash', [swap.hash]), null);

      const sent = await call(p, 'eth_sendRawTransaction', [swap.raw]);
      assert.equal(sent.result, swap.hash, JSON.stringify(sent.error));
      assert.notEqual(await rpc(net.anvil.rpcUrl, 'eth_getTransactionByHash', [swap.hash]), null, 'the private route (anvil) has it');
      await rpc(net.anvil.rpcUrl, 'evm_mine', []);
      const head = Number(await rpc<Hex>(net.anvil.rpcUrl, 'eth_blockNumber', []));
      const ledger = Ledger.open(config.submitter.ledgerPath);
      try {
        await waitUntil(
          () => {
            p.onBlock(head);
            ledger.refresh();
            const r = ledger.get(`protect:${swap.hash}`);
            return r !== undefined && r !== null && r.status === 'included' ? r : null;
          },
          () => `no outcome for ${swap.hash}: ${readFileSync(config.submitter.ledgerPath!, 'utf8')}`,
          15_000,
        );
        const r = ledger.get(`protect:${swap.hash}`)!;
        assert.equal(r.type, 'protect');
        if (r.type === 'protect') {
          assert.equal(r.entry.route, 'private-rpc');
          assert.equal(BigInt(r.entry.exposureWei), BigInt(est.exposureWei));
        }
        assert.equal(ledger.stats(Date.now()).daily.savingsWei, BigInt(est.exposureWei).toString(), 'a protected send that landed counts as saved');
      } finally {
        ledger.close();
      }
    } finally {
      p.close();
    }
  });

  it('error-path: bad JSON, unknown methods, bad transactions and a missing private route get JSON-RPC errors; nothing is sent', async () => {
    const none = new ProtectRpc(engineConfig({ strategy: 'hybrid' }), net.anvil.rpcUrl, log);
    try {
      const swap = await signedSwap(10n);
      const parse = JSON.parse(await none.handle('{oops')) as { error: { code: number } };
      assert.equal(parse.error.code, -32700);
      assert.equal((await call(none, 'eth_call', [])).error?.code, -32601);
      assert.equal((await call(none, 'eth_sendRawTransaction', ['nothex'])).error?.code, -32602);
      const bad = await call(none, 'eth_sendRawTransaction', [swap.raw.slice(0, -20)]);
      assert.equal(bad.error?.code, -32602);
      assert.match(bad.error!.message, /invalid transaction: TX_/);
      const noRoute = await call(none, 'eth_sendRawTransaction', [swap.raw]);
      assert.equal(noRoute.error?.code, -32000);
      assert.match(noRoute.error!.message, /no private route is configured/);
      assert.equal(await rpc(net.anvil.rpcUrl, 'eth_getTransactionByHash', [swap.hash]), null, 'never sent to the public mempool');
    } finally {
      none.close();
    }
  });
});

describe('gateway /mev routes', () => {
  let gw: Gateway;
  let url: string;
  const submitter: SubmitterConfig = { ...DEFAULT_SUBMITTER_CONFIG, relays: [{ name: 'r', url: 'http://127.0.0.1:1' }], mevBlockerUrl: 'http://127.0.0.1:2', privateRpc: { url: 'http://127.0.0.1:3', method: 'eth_sendRawTransaction' }, hybrid: { largeUsd: 100_000, mediumUsd: 5000 } };

  before(async () => {
    submitter.ledgerPath = join(dir, 'stats.jsonl');
    const l = Ledger.open(submitter.ledgerPath);
    const hashes = (n: number) => [`0x${String(n).repeat(64).slice(0, 64)}`] as Hex[];
    l.append({ type: 'submission', id: 'a', oppId: 'a', kind: 'backrun-arbitrage', route: 'flashbots', protected: true, dryRun: false, account: `0x${'5'.repeat(40)}`, nonces: [1n], txHashes: hashes(1), ours: [0], targetBlock: 10, predictedNetWei: 100n, feesWei: 5n, mevAvoidedWei: 120n });
    l.append({ type: 'send', id: 'a', route: 'flashbots', ok: true, definite: true });
    l.append({ type: 'outcome', id: 'a', status: 'included', block: 10, realizedNetWei: 100n, gasPaidWei: 5n });
    l.append({ type: 'submission', id: 'b', oppId: 'b', kind: 'v2-sandwich', route: 'private-rpc', protected: true, dryRun: false, account: `0x${'5'.repeat(40)}`, nonces: [2n], txHashes: hashes(2), ours: [0], targetBlock: 11, predictedNetWei: 50n, feesWei: 5n, mevAvoidedWei: 60n });
    l.append({ type: 'send', id: 'b', route: 'private-rpc', ok: true, definite: true });
    l.append({ type: 'outcome', id: 'b', status: 'missed', block: 13 });
    l.close();
    gw = new Gateway({ config: gatewayConfig(), log, submitter });
    url = (await gw.listen()).url;
  });

  after(async () => {
    await gw?.close();
  });

  const get = async (path: string, key: string = KEYS.operator) => {
    const r = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it('behavior: /mev/route follows the hybrid policy by size, with its reason and the expected MEV loss', async () => {
    const small = await get('/mev/route?sizeUsd=1000&profitUsd=2', KEYS.viewer);
    assert.equal(small.status, 200);
    assert.equal(small.body.route, 'private-rpc');
    assert.deepEqual(small.body.chain, ['private-rpc', 'flashbots', 'mev-blocker']);
    assert.equal(small.body.expectedMevLossUsd, 0);
    assert.equal(small.body.publicExposureUsd, 5, '50 bps of $1,000');
    assert.equal((await get('/mev/route?sizeUsd=20000', KEYS.viewer)).body.route, 'flashbots');
    const large = await get('/mev/route?sizeUsd=250000&profitUsd=10', KEYS.viewer);
    assert.equal(large.body.route, 'mev-blocker');
    assert.match(String(large.body.reason), /large trades go to MEV-Blocker/);
    assert.equal((await get('/mev/route?sizeUsd=-1', KEYS.viewer)).status, 400);
    assert.equal((await get('/mev/route', KEYS.viewer)).status, 400);
    assert.equal((await fetch(`${url}/mev/route?sizeUsd=1`)).status, 401);
  });

  it('behavior: /mev/stats sums the ledger: savings of what landed, net, trades by route, inclusion rate; operators only', async () => {
    const s = await get('/mev/stats');
    assert.equal(s.status, 200);
    const daily = s.body.daily as Record<string, unknown>;
    assert.equal(daily.trades, 2);
    assert.equal(daily.included, 1);
    assert.equal(daily.missed, 1);
    assert.equal(daily.inclusionRate, 0.5);
    assert.equal(daily.netWei, '100');
    assert.equal(daily.savingsWei, '120', 'only the included trade avoided anything');
    assert.equal((daily.tradesByRoute as Record<string, number>).flashbots, 1);
    assert.equal((daily.tradesByRoute as Record<string, number>)['private-rpc'], 1);
    assert.deepEqual((s.body.weekly as Record<string, unknown>).trades, 2);
    assert.equal((await get('/mev/stats', KEYS.viewer)).status, 403);
  });

  it('error-path: POST /rpc needs an operator key and a live engine', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: ['0x00'] });
    assert.equal((await fetch(`${url}/rpc`, { method: 'POST', body })).status, 401);
    assert.equal((await fetch(`${url}/rpc`, { method: 'POST', body, headers: { authorization: `Bearer ${KEYS.viewer}` } })).status, 403);
    assert.equal((await fetch(`${url}/rpc`, { method: 'POST', body, headers: { authorization: `Bearer ${KEYS.operator}` } })).status, 409);
    assert.equal((await fetch(`${url}/v1/admin/submitter?op=pause`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.viewer}` } })).status, 403);
  });
});
