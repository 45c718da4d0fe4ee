import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keccak256, parseTransaction, recoverTransactionAddress } from 'viem';
import type { Opportunity } from '../../../src/actors/scorer/opportunity.js';
import { NonceManager } from '../../../src/actors/submitter/nonce-manager.js';
import { type PrepareDeps, prepareSubmission, uuidOf } from '../../../src/actors/submitter/prepare.js';
import { NativeSigner } from '../../../src/actors/submitter/signer.js';
import { DEFAULT_SUBMITTER_CONFIG } from '../../../src/actors/submitter/submitter-config.js';
import type { RouteName } from '../../../src/actors/submitter/types.js';

/** anvil's first dev key (public). */
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2';
const signer = NativeSigner.fromHex(KEY);
const GWEI = 1_000_000_000n;

function opp(i: number, fields: Partial<Opportunity> = {}): Opportunity {
  const net = 10n ** 15n;
  return {
    id: `0x${i.toString(16).padStart(64, '0')}`,
    kind: 'backrun-arbitrage',
    victimHashes: [],
    targetBlock: 101,
    pools: [`0x${i.toString(16).padStart(40, '0')}`],
    tokenPath: [WETH, WETH],
    amountIn: 1n,
    profit: { token: WETH, gross: net, gasCost: 0n, net, grossWei: net, gasCostWei: 0n, netWei: net },
    plan: [{ kind: 'erc20-transfer', token: WETH, to: `0x${'5'.repeat(40)}`, amount: 1n }],
    timings: { firstSeenNs: 1, scoredNs: 2, verifiedNs: 3 },
    verification: 'verified',
    simulatedNet: net,
    rejectReason: null,
    baseFee: 10n * GWEI,
    gas: [{ gasUsed: 40_000n, gasLimit: 50_000n, priorityFee: GWEI }],
    searcher: signer.address,
    revision: 1,
    ...fields,
  };
}

function deps(routes: RouteName[], withSigner = true): PrepareDeps {
  const config = { ...DEFAULT_SUBMITTER_CONFIG, strategy: 'private-rpc' as const, chainId: 1, weth: WETH };
  return { config, routes: new Set(routes), claimed: new Map(), nonces: new NonceManager({ nonceAt: async () => 5n }), signer: withSigner ? signer : null };
}

describe('prepareSubmission', () => {
  it('default: builds, routes, reserves the next nonce and signs; the Sendable and the record agree', async () => {
    const d = deps(['private-rpc', 'flashbots']);
    const laps = new Float64Array(5);
    const p = await prepareSubmission(d, opp(1), laps);
    assert.ok(!('skip' in p));
    assert.deepEqual(p.chain, ['private-rpc', 'flashbots']);
    assert.deepEqual(p.nonces, [5n]);
    assert.deepEqual(p.gasUsed, [40_000n]);
    assert.equal(p.signed.length, 1);
    const raw = p.sendable.rawTxs[0]!;
    assert.equal(keccak256(raw), p.sendable.txHashes[0]);
    const tx = parseTransaction(raw);
    assert.deepEqual([tx.nonce, tx.maxPriorityFeePerGas, tx.gas, tx.chainId], [5, GWEI, 50_000n, 1]);
    assert.equal((await recoverTransactionAddress({ serializedTransaction: raw as `0x02${string}` })).toLowerCase(), signer.address);
    assert.deepEqual([p.base.status, p.base.route, p.base.account, p.base.txHashes, p.base.nonces], ['dry-run', 'private-rpc', signer.address, p.sendable.txHashes, [5n]]);
    assert.equal(p.sendable.replacementUuid, uuidOf(opp(1).id));
    assert.ok(laps.every((t, i) => t > 0 && (i === 0 || t >= laps[i - 1]!)), 'a lap after each step, in order');
    const q = await prepareSubmission(d, opp(2));
    assert.ok(!('skip' in q));
    assert.deepEqual(q.nonces, [6n], 'the next nonce');
  });

  it('behavior: expected refusals come back as skips: conflict on a pool, wrong account, several transactions without a bundle route, unbuildable', async () => {
    const d = deps(['private-rpc']);
    assert.ok(!('skip' in (await prepareSubmission(d, opp(1)))));
    const clash = await prepareSubmission(d, opp(2, { pools: opp(1).pools }));
    assert.match((clash as { skip: string }).skip, /^conflict: pool /);
    const wrong = await prepareSubmission(d, opp(3, { searcher: `0x${'9'.repeat(40)}` }));
    assert.match((wrong as { skip: string }).skip, /^wrong-account: /);
    const two = opp(4, { plan: [opp(4).plan[0]!, opp(4).plan[0]!], gas: [opp(4).gas[0]!, opp(4).gas[0]!] });
    assert.match((await prepareSubmission(d, two) as { skip: string }).skip, /^needs-bundle-route: 2 transactions/);
    const broken = await prepareSubmission(d, opp(5, { gas: [null] }));
    assert.match((broken as { skip: string }).skip, /^unbuildable: /);
    assert.deepEqual(d.nonces.snapshot(signer.address).reserved, [5n], 'no skip holds a nonce (the first one still does)');
  });

  it('behavior: without a signer nothing is signed and no nonce reserved (dry run)', async () => {
    const d = deps(['private-rpc'], false);
    const r = prepareSubmission(d, opp(1));
    assert.ok(!(r instanceof Promise), 'nothing to wait for: answered in the same turn');
    const p = await r;
    assert.ok(!('skip' in p));
    assert.deepEqual([p.nonces, p.signed, p.sendable.rawTxs, p.account], [[], [], [], signer.address]);
  });

  it('default: uuidOf is a stable v4-layout uuid of the id', () => {
    assert.equal(uuidOf(`0x${'ab'.repeat(32)}`), 'abababab-abab-4bab-abab-abababababab');
    assert.match(uuidOf(`0x${'12'.repeat(32)}`), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
