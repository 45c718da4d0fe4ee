import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { type Hex, keccak256, parseTransaction, recoverTransactionAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { controlBuffer, readControl } from '../../src/actors/submitter/control.js';
import { Ledger, type LedgerEntry, type OutcomeEntry, type SendEntry, type SubmissionEntry, type SubmissionRecord } from '../../src/actors/submitter/ledger.js';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import type { Submission } from '../../src/actors/submitter/submission.js';
import { rpc } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import { Kind } from '../../src/messages/schema.js';
import type { ConfigInput } from '../../src/runtime/config.js';
import { parseBig } from '../support/big-json.js';
import { GWEI, balances, ingestLive, latestBlock, mineChecked, sendTx, waitUntil } from '../support/chain.js';
import { tempDir, testConfig } from '../support/harness.js';
import { type RelayRequest, TestRelay } from '../support/relay.js';
import { SubmitterRun, addressOf, devnetSubmitterConfig, pushOpportunities, readLedger, sendSwap, sourcePipeline, transferOpportunity, verificationsDone } from '../support/submitter-run.js';

/**
 * The submitter (stage 5) on a real anvil with automine off, real worker threads and real HTTP:
 * opportunities become signed submissions, go out on a route (the private RPC is anvil itself; the
 * Flashbots-style relay is test/support/relay.ts, which accepts bundles and forwards nothing), and
 * are resolved from the chain and recorded in the ledger. Scored opportunities come from the whole
 * engine; where a test needs many plans at once or exact ones, a source stage feeds hand-built
 * opportunities to the real submitter thread (test/support/opportunity-source.worker.ts).
 */

/** Key that signs relay requests: a reputation identity, holding nothing. */
const RELAY_AUTH_KEY: Hex = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
/** Where hand-built plans send their wei of WETH. */
const SINK = addressOf('sink');

let net: Devnet;
let dir: string;

before(async () => {
  net = await startDevnet({ blockTime: 0, automine: false });
  dir = tempDir('orion-submitter-');
});

after(async () => {
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const liveConfig = (submitter: ConfigInput['submitter']) => devnetSubmitterConfig(net, submitter);

const PRIVATE_RPC = () => ({ url: net.anvil.rpcUrl, method: 'eth_sendRawTransaction' as const });

function entriesOf(ledger: LedgerEntry[], id: string): LedgerEntry[] {
  return ledger.filter((e) => e.id === id);
}

function aroundVictim(s: Submission, victim: string): boolean {
  return s.txHashes.some((h) => h.toLowerCase() === victim);
}

function mine(): Promise<unknown> {
  return rpc(net.anvil.rpcUrl, 'evm_mine', []);
}

async function chainNonce(account: string): Promise<bigint> {
  return BigInt(await rpc<Hex>(net.anvil.rpcUrl, 'eth_getTransactionCount', [account, 'latest']));
}

/** The searcher's transactions in block `n`: hash and nonce. */
async function searcherTxsIn(n: number): Promise<{ hash: string; nonce: bigint }[]> {
  const b = await rpc<{ transactions: { hash: Hex; from: Hex; nonce: Hex }[] }>(net.anvil.rpcUrl, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, true]);
  return b.transactions.filter((t) => t.from.toLowerCase() === net.searcher).map((t) => ({ hash: t.hash.toLowerCase(), nonce: BigInt(t.nonce) }));
}

/** The raw transactions of an `eth_sendBundle` the relay received. */
function bundleTxs(r: RelayRequest): Hex[] {
  return (r.params as [{ txs: Hex[] }])[0].txs;
}

describe('submitter: inclusion and realized profit (private RPC: anvil)', () => {
  let run: SubmitterRun;
  let ledgerPath: string;

  before(async () => {
    ledgerPath = join(dir, 'included.jsonl');
    run = await SubmitterRun.start(liveConfig({ strategy: 'private-rpc', privateRpc: PRIVATE_RPC(), ledgerPath, targetBlocks: 2 }), { signerKey: net.searcherKey });
    await ingestLive(net, run.engine);
  });

  after(async () => {
    await run?.stop();
  });

  it('behavior: opportunity → signed bundle → mined: included, realized profit equal to the predicted to the wei, in the ledger', async () => {
    const victim = await sendSwap(net, { key: net.traderKeys[0]!, tokenIndex: 0, slippagePct: 10n });
    const sent = await run.waitSub((s) => s.status === 'sent' && aroundVictim(s, victim.hash), 'a sent submission around the victim');
    assert.equal(sent.route, 'private-rpc');
    assert.equal(sent.protected, true);
    assert.equal(sent.account, net.searcher);
    assert.ok(sent.predictedNetWei > 0n);
    await run.verificationsDone(victim.hash);
    const before = await balances(net, net.searcher);
    const order = await mineChecked(net);
    const head = await latestBlock(net);
    assert.ok(sent.txHashes.every((h) => order.includes(h.toLowerCase())), 'every transaction of the bundle is in the block');
    const done = await run.waitSub((s) => s.id === sent.id && s.status !== 'sent', 'the outcome of the submission');
    assert.equal(done.status, 'included', `reason: ${done.reason}`);
    assert.equal(done.block, head.number);
    assert.equal(done.realizedNetWei, done.predictedNetWei, 'realized net profit equals the prediction, to the wei');
    const afterB = await balances(net, net.searcher);
    assert.equal(afterB.weth - before.weth + (afterB.eth - before.eth), done.realizedNetWei, "the searcher's balances moved by the realized net");
    const entries = entriesOf(readLedger(ledgerPath), sent.id);
    assert.deepEqual(
      entries.map((e) => e.type),
      ['submission', 'send', 'outcome'],
    );
    const [sub, send, outcome] = entries as [SubmissionEntry, SendEntry, OutcomeEntry];
    assert.equal(sub.route, 'private-rpc');
    assert.deepEqual(sub.txHashes, sent.txHashes.map((h) => h.toLowerCase()));
    assert.deepEqual([send.route, send.ok], ['private-rpc', true]);
    assert.equal(outcome.status, 'included');
    assert.equal(outcome.block, head.number);
    assert.equal(outcome.realizedNetWei, sub.predictedNetWei, 'the ledger records realized = predicted');
    assert.equal(BigInt(sub.predictedNetWei), done.predictedNetWei);
  });
});

describe('submitter: missed bundles and competitors (a relay that never forwards)', () => {
  let run: SubmitterRun;
  let relay: TestRelay;
  let ledgerPath: string;

  before(async () => {
    relay = await TestRelay.start();
    ledgerPath = join(dir, 'missed.jsonl');
    // No fee bumps here (test/e2e/submitter-queue.test.ts has them): these bundles are to miss.
    const config = liveConfig({ strategy: 'flashbots', relays: [{ name: 'test-relay', url: relay.url }], ledgerPath, targetBlocks: 2, replacement: { afterBlocks: 0 } });
    run = await SubmitterRun.start(config, { signerKey: net.searcherKey, relayAuthKey: RELAY_AUTH_KEY });
    await ingestLive(net, run.engine);
  });

  after(async () => {
    await run?.stop();
    await relay?.close();
  });

  it('behavior: a bundle whose target blocks are mined without it is missed, never included', async () => {
    const victim = await sendSwap(net, { key: net.traderKeys[0]!, tokenIndex: 1, slippagePct: 10n });
    const sent = await run.waitSub((s) => s.status === 'sent' && aroundVictim(s, victim.hash), 'a sent submission around the victim');
    assert.equal(sent.route, 'flashbots');
    const t = sent.targetBlock;
    assert.equal(t, (await latestBlock(net)).number + 1);
    const bundles = relay.accepted.filter((r) => r.method === 'eth_sendBundle' && bundleTxs(r).some((raw) => keccak256(raw) === victim.hash));
    assert.deepEqual(
      bundles.map((b) => (b.params as [{ blockNumber: string }])[0].blockNumber),
      [`0x${t.toString(16)}`, `0x${(t + 1).toString(16)}`],
      'one eth_sendBundle per target block',
    );
    for (const b of bundles) {
      assert.equal(b.signer, privateKeyToAccount(RELAY_AUTH_KEY).address.toLowerCase(), 'signed by the relay auth key, not the searcher key');
      assert.deepEqual(bundleTxs(b).map((raw) => keccak256(raw)), sent.txHashes.map((h) => h.toLowerCase()), 'the bundle as the submission lists it');
    }
    await run.verificationsDone(victim.hash);
    // The victim leaves the mempool: both target blocks are mined with nothing of the bundle.
    await rpc(net.anvil.rpcUrl, 'anvil_dropTransaction', [victim.hash]);
    const before = await balances(net, net.searcher);
    await mine();
    await mine();
    const done = await run.waitSub((s) => s.id === sent.id && s.status !== 'sent', 'the outcome of the submission');
    assert.equal(done.status, 'missed', `reason: ${done.reason}`);
    assert.equal(done.block, t + 1);
    assert.match(done.reason ?? '', new RegExp(`not in blocks ${t}…${t + 1}`));
    assert.equal(done.realizedNetWei, null);
    assert.equal(done.gasPaidWei, null);
    const outcome = entriesOf(readLedger(ledgerPath), sent.id).find((e): e is OutcomeEntry => e.type === 'outcome');
    assert.equal(outcome?.status, 'missed');
    assert.equal(outcome?.realizedNetWei, undefined, 'no realized profit in the ledger');
    await mine();
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(
      run.submissions.filter((s) => s.id === sent.id).map((s) => s.status),
      ['sent', 'missed'],
      'never included',
    );
    assert.deepEqual(await balances(net, net.searcher), before, 'nothing of ours landed');
  });

  it("behavior: a competitor's transaction and the victim land first: missed, the victim landed without us, no profit claimed", async () => {
    const victim = await sendSwap(net, { key: net.traderKeys[0]!, tokenIndex: 2, slippagePct: 10n });
    const sent = await run.waitSub((s) => s.status === 'sent' && aroundVictim(s, victim.hash), 'a sent submission around the victim');
    assert.equal(sent.route, 'flashbots');
    // Someone else's trade on the same pool, paying a higher tip, goes first; the victim still swaps.
    const competitor = await sendSwap(net, { key: net.traderKeys[3]!, tokenIndex: 2, slippagePct: 50n, fraction: 400n, tip: 5n * GWEI });
    await run.verificationsDone(victim.hash);
    await run.verificationsDone(competitor.hash);
    const before = await balances(net, net.searcher);
    const order = await mineChecked(net);
    const head = await latestBlock(net);
    assert.equal(head.number, sent.targetBlock);
    assert.ok(order.indexOf(competitor.hash) >= 0 && order.indexOf(competitor.hash) < order.indexOf(victim.hash), 'the competitor, then the victim');
    const ours = sent.txHashes.filter((h) => h.toLowerCase() !== victim.hash);
    assert.ok(ours.every((h) => !order.includes(h.toLowerCase())), 'none of ours in the block');
    const done = await run.waitSub((s) => s.id === sent.id && s.status !== 'sent', 'the outcome of the submission');
    assert.equal(done.status, 'missed', `reason: ${done.reason}`);
    assert.match(done.reason ?? '', new RegExp(`the victim landed without us \\(block ${head.number}\\)`));
    assert.equal(done.realizedNetWei, null, 'no realized profit claimed');
    assert.equal(done.gasPaidWei, null);
    const outcome = entriesOf(readLedger(ledgerPath), sent.id).find((e): e is OutcomeEntry => e.type === 'outcome');
    assert.equal(outcome?.status, 'missed');
    assert.match(outcome?.reason ?? '', /victim landed without us/);
    assert.equal(outcome?.realizedNetWei, undefined);
    assert.deepEqual(await balances(net, net.searcher), before, 'nothing of ours landed');
  });
});

describe('submitter: nonces of one account', () => {
  let run: SubmitterRun;
  let ledgerPath: string;
  let inbox: string;

  before(async () => {
    ledgerPath = join(dir, 'nonces.jsonl');
    inbox = join(dir, 'nonces.inbox');
    const config = liveConfig({ strategy: 'private-rpc', privateRpc: PRIVATE_RPC(), ledgerPath, targetBlocks: 2 });
    run = await SubmitterRun.start(config, { pipeline: sourcePipeline(config, { inbox, signerKey: net.searcherKey, chainId: net.anvil.chainId }) });
  });

  after(async () => {
    await run?.stop();
  });

  it('behavior: 100 concurrent submissions from one account get unique, gap-free nonces, and all land', async () => {
    const n0 = await chainNonce(net.searcher);
    const head = (await latestBlock(net)).number;
    const opps = await Promise.all(Array.from({ length: 100 }, (_, i) => transferOpportunity(net, { tag: `concurrent-${i}`, targetBlock: head + 1, pool: addressOf(`pool-${i}`), to: SINK })));
    const ids = new Set(opps.map((o) => o.id));
    pushOpportunities(inbox, opps);
    const sent = await waitUntil(
      () => {
        const s = run.submissions.filter((x) => ids.has(x.id) && x.status !== 'skipped');
        return s.length === 100 && s;
      },
      () => `${run.submissions.filter((x) => ids.has(x.id)).length} of 100 submissions: ${[...new Set(run.submissions.map((s) => `${s.status} ${s.reason}`))].join(' | ')}`,
      60_000,
    );
    assert.ok(sent.every((s) => s.status === 'sent' && s.route === 'private-rpc'), 'all sent');
    const nonces = sent.map((s) => s.nonces[0]!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual(nonces, Array.from({ length: 100 }, (_, i) => n0 + BigInt(i)), 'unique and gap-free from the chain nonce');
    const ledger = readLedger(ledgerPath).filter((e): e is SubmissionEntry => e.type === 'submission' && ids.has(e.id));
    assert.equal(ledger.length, 100);
    assert.deepEqual(new Set(ledger.map((e) => e.nonces[0])).size, 100, 'the ledger holds the same unique nonces');
    await mine();
    const block = (await latestBlock(net)).number;
    const mined = await searcherTxsIn(block);
    assert.deepEqual(mined.map((t) => t.nonce).sort((a, b) => (a < b ? -1 : 1)), nonces, 'all 100 mined in one block');
    assert.deepEqual(new Set(mined.map((t) => t.hash)), new Set(sent.map((s) => s.txHashes[0]!.toLowerCase())), 'exactly the transactions the submissions sent');
    assert.equal(await chainNonce(net.searcher), n0 + 100n);
    await waitUntil(
      () => ids.size === [...ids].filter((id) => run.latest(id)?.status === 'included').length,
      () => `included: ${[...ids].filter((id) => run.latest(id)?.status === 'included').length} of 100`,
      60_000,
    );
  });

  it('behavior: a nonce used behind the engine\'s back ("nonce too low") is resynced, the plan re-signed, and it lands', async () => {
    // The account sends a transaction the engine knows nothing of, and it is mined.
    const n = await chainNonce(net.searcher);
    const direct = (await sendTx(net, net.searcherKey, { to: SINK, data: '0x', value: 1n, gas: 21_000n, tip: GWEI, nonce: Number(n) })).toLowerCase();
    await mine();
    assert.equal(await chainNonce(net.searcher), n + 1n);
    const head = (await latestBlock(net)).number;
    const opp = await transferOpportunity(net, { tag: 'nonce-too-low', targetBlock: head + 1, pool: addressOf('pool-low'), to: SINK });
    pushOpportunities(inbox, [opp]);
    const sent = await run.waitSub((s) => s.id === opp.id && s.status !== 'dry-run', 'the submission');
    assert.equal(sent.status, 'sent', `reason: ${sent.reason}`);
    assert.deepEqual(sent.nonces, [n + 1n], 'a fresh nonce');
    await waitUntil(
      () => run.counter('nonce.resync.nonce-too-low') >= 1,
      () => `no nonce.resync.nonce-too-low: ${JSON.stringify(run.engine.stats().stages.submitter?.counters)}`,
      10_000,
    );
    await mine();
    const mined = await searcherTxsIn((await latestBlock(net)).number);
    assert.deepEqual(mined, [{ hash: sent.txHashes[0]!.toLowerCase(), nonce: n + 1n }], 'the re-signed transaction landed');
    assert.notEqual(mined[0]!.hash, direct);
    const done = await run.waitSub((s) => s.id === opp.id && s.status !== 'sent', 'the outcome');
    assert.equal(done.status, 'included', `reason: ${done.reason}`);
    // The ledger names what was actually sent: the re-signed transaction and its nonce.
    const r = ledgerRecord(ledgerPath, opp.id);
    assert.deepEqual(r.entry.txHashes, [mined[0]!.hash]);
    assert.deepEqual(r.entry.nonces, [String(n + 1n)]);
  });
});

describe('submitter: records downstream', () => {
  let run: SubmitterRun;
  let inbox: string;

  before(async () => {
    inbox = join(dir, 'records.inbox');
    const config = liveConfig({ strategy: 'private-rpc', privateRpc: PRIVATE_RPC(), ledgerPath: join(dir, 'records.jsonl'), targetBlocks: 1 });
    run = await SubmitterRun.start(config, { pipeline: sourcePipeline(config, { inbox, signerKey: net.searcherKey, chainId: net.anvil.chainId }) });
  });

  after(async () => {
    await run?.stop();
  });

  it('behavior: submissions emitted between verification outcomes numbered back to back, (seq, 32768), (seq, 32769)…, all reach the main thread (regression)', async () => {
    await mine();
    const head = (await latestBlock(net)).number;
    await waitUntil(() => run.blocks.includes(head), () => `block ${head} never came out`, 10_000);
    const opp = (tag: string, targetBlock: number) => transferOpportunity(net, { tag, targetBlock, pool: addressOf(`pool-${tag}`), to: SINK });
    // Two outcomes skipped on the spot (stale), as the scorer numbers them after one record.
    const stale = [await opp('late-stale-1', head), await opp('late-stale-2', head)];
    pushOpportunities(inbox, stale, { late: true });
    for (const o of stale) await run.waitSub((s) => s.id === o.id && s.status === 'skipped', `the skipped submission of ${o.id}`, 10_000);
    // A submission sent before the next outcome arrives, under the same seq.
    const first = await opp('late-sent-1', head + 1);
    pushOpportunities(inbox, [first], { late: true });
    await run.waitSub((s) => s.id === first.id && s.status === 'sent', 'the first sent submission', 10_000);
    const second = await opp('late-sent-2', head + 1);
    pushOpportunities(inbox, [second], { late: true });
    await run.waitSub((s) => s.id === second.id && s.status === 'sent', 'the second sent submission', 10_000);
    for (const o of [...stale, first, second]) assert.equal(run.opportunities.filter((x) => x.id === o.id).length, 1, `opportunity ${o.id} came out once`);
    assert.equal(run.engine.stats().output.duplicates, 0, 'no record went out under an id already used');
    await mine();
    for (const o of [first, second]) await run.waitSub((s) => s.id === o.id && s.status === 'included', `the inclusion of ${o.id}`, 10_000);
  });
});

describe('submitter: faults and restarts (relay first, private RPC as the fallback)', () => {
  let run: SubmitterRun;
  let relay: TestRelay;
  let ledgerPath: string;
  let control: SharedArrayBuffer;
  const runs: SubmitterRun[] = [];
  /** The searcher's transactions of every block mined in these tests. */
  const mined: { hash: string; nonce: bigint }[] = [];

  function config() {
    return liveConfig({
      strategy: 'flashbots',
      relays: [{ name: 'test-relay', url: relay.url }],
      privateRpc: PRIVATE_RPC(),
      ledgerPath,
      targetBlocks: 1,
      requestTimeoutMs: 2000,
      breaker: { failureThreshold: 3, errorRate: 1, minRequests: 1000, windowMs: 600_000, cooldownMs: 600_000 },
    });
  }

  async function start(inbox: string): Promise<SubmitterRun> {
    const c = config();
    control = controlBuffer();
    const r = await SubmitterRun.start(c, { pipeline: sourcePipeline(c, { inbox, signerKey: net.searcherKey, chainId: net.anvil.chainId, control }) });
    runs.push(r);
    return r;
  }

  async function mineAndRecord(): Promise<number> {
    await mine();
    const n = (await latestBlock(net)).number;
    mined.push(...(await searcherTxsIn(n)));
    return n;
  }

  before(async () => {
    relay = await TestRelay.start();
    ledgerPath = join(dir, 'faults.jsonl');
    run = await start(join(dir, 'faults-1.inbox'));
  });

  after(async () => {
    for (const r of runs) await r.stop();
    await relay?.close();
  });

  async function submitOne(inbox: string, tag: string): Promise<Submission> {
    const head = (await latestBlock(net)).number;
    const opp = await transferOpportunity(net, { tag, targetBlock: head + 1, pool: addressOf(`pool-${tag}`), to: SINK });
    pushOpportunities(inbox, [opp]);
    return run.waitSub((s) => s.id === opp.id && s.status !== 'skipped', `the submission ${tag}`, 20_000);
  }

  it('error: a relay that times out, answers 500 or garbage: breaker opens, the policy falls back to the private RPC, no nonce on two routes at once', async () => {
    const inbox = join(dir, 'faults-1.inbox');
    // Timeout: the relay may have taken it, so it goes nowhere else and waits for its block.
    relay.fault = 'timeout';
    const a = await submitOne(inbox, 'fault-timeout');
    assert.equal(a.status, 'sent');
    assert.equal(a.route, 'flashbots');
    assert.match(a.reason ?? '', /outcome unknown \(flashbots: timeout .*\); not sent elsewhere/);
    assert.equal(await rpc(net.anvil.rpcUrl, 'eth_getTransactionByHash', [a.txHashes[0]]), null, 'not sent to the private RPC');
    await mineAndRecord();
    const aDone = await run.waitSub((s) => s.id === a.id && s.status !== 'sent', 'the outcome of the timed-out bundle');
    assert.equal(aDone.status, 'missed', `reason: ${aDone.reason}`);

    // 500 and garbage: refusals, so the same transactions go to the next route of the chain.
    relay.fault = 'http500';
    const b = await submitOne(inbox, 'fault-500');
    assert.equal(b.status, 'sent');
    assert.equal(b.route, 'private-rpc');
    assert.match(b.reason ?? '', /^fell back after flashbots: http block \d+: HTTP 500$/);
    assert.deepEqual(b.nonces, a.nonces, 'the expired bundle\'s nonce is taken again, after its outcome');
    relay.fault = 'garbage';
    const c = await submitOne(inbox, 'fault-garbage');
    assert.equal(c.route, 'private-rpc');
    assert.match(c.reason ?? '', /^fell back after flashbots: garbage block \d+: answer is not JSON$/);
    await waitUntil(() => readControl(control).breakers.flashbots === 'open', () => `breakers ${JSON.stringify(readControl(control).breakers)}`, 5_000);

    // Open breaker: the relay is not asked at all.
    relay.fault = 'ok';
    const asked = relay.requests.length;
    const d = await submitOne(inbox, 'fault-breaker-open');
    assert.equal(d.route, 'private-rpc');
    assert.match(d.reason ?? '', /^fell back after flashbots: breaker open$/);
    assert.equal(relay.requests.length, asked, 'no request to the relay while its breaker is open');
    assert.deepEqual(
      relay.requests.map((r) => [r.method, r.fault]),
      [['eth_sendBundle', 'timeout'], ['eth_sendBundle', 'http500'], ['eth_sendBundle', 'garbage']],
    );
    await waitUntil(() => run.counter('route.breaker-open.flashbots') >= 1, () => 'no route.breaker-open.flashbots counter', 5_000);

    await mineAndRecord();
    for (const x of [b, c, d]) {
      const done = await run.waitSub((s) => s.id === x.id && s.status !== 'sent', `the outcome of ${x.id}`);
      assert.equal(done.status, 'included', `reason: ${done.reason}`);
    }
    const ledger = readLedger(ledgerPath);
    const sends = (id: string) => ledger.filter((e): e is SendEntry => e.type === 'send' && e.id === id).map((e) => [e.route, e.ok, e.definite]);
    assert.deepEqual(sends(a.id), [['flashbots', false, false]]);
    assert.deepEqual(sends(b.id), [['flashbots', false, true], ['private-rpc', true, true]]);
    assert.deepEqual(sends(c.id), [['flashbots', false, true], ['private-rpc', true, true]]);
    assert.deepEqual(sends(d.id), [['private-rpc', true, true]]);
    await checkNonces(ledger, relay.requests, mined);
  });

  it('behavior: restart mid-run: the ledger stays intact, the pending submission resolves, and a new one does not take its nonce', async () => {
    // The flashbots breaker is open: this goes to anvil's mempool and waits there.
    const e = await submitOne(join(dir, 'faults-1.inbox'), 'restart-pending');
    assert.equal(e.status, 'sent');
    assert.equal(e.route, 'private-rpc');
    await run.stop();
    const before = readFileSync(ledgerPath, 'utf8');
    const l = Ledger.open(ledgerPath);
    assert.deepEqual(l.pending().map((r) => r.id), [e.id], 'the sent submission is pending in the ledger');
    l.close();

    const inbox = join(dir, 'faults-2.inbox');
    run = await start(inbox);
    relay.fault = 'http500';
    const f = await submitOne(inbox, 'restart-new');
    assert.equal(f.status, 'sent', `reason: ${f.reason}`);
    assert.equal(f.route, 'private-rpc');
    assert.deepEqual(f.nonces, [e.nonces[0]! + 1n], 'the pending submission keeps its nonce across the restart');
    const block = await mineAndRecord();
    const resumed = await run.waitSub((s) => s.id === e.id && s.status !== 'sent', 'the outcome of the resumed submission');
    assert.equal(resumed.status, 'included', `reason: ${resumed.reason}`);
    assert.equal(resumed.block, block);
    assert.equal(resumed.route, 'private-rpc', 'the route that took it, not the first one tried');
    // Its plan sent 1 wei of WETH away and paid gas: exactly what the receipts say.
    assert.equal(resumed.realizedNetWei, -1n - resumed.gasPaidWei!);
    assert.equal((await run.waitSub((s) => s.id === f.id && s.status !== 'sent', 'the outcome of the new submission')).status, 'included');

    const text = readFileSync(ledgerPath, 'utf8');
    assert.ok(text.startsWith(before), 'nothing written before the restart changed');
    const ledger = readLedger(ledgerPath);
    assert.deepEqual(entriesOf(ledger, e.id).map((x) => x.type), ['submission', 'send', 'outcome']);
    const ids = ledger.filter((x) => x.type === 'submission').map((x) => x.id);
    assert.equal(new Set(ids).size, ids.length, 'one submission entry per id');
    const reopened = Ledger.open(ledgerPath);
    assert.equal(reopened.openReport().tornTail, null);
    assert.deepEqual(reopened.pending(), [], 'nothing left pending');
    reopened.close();
    await checkNonces(ledger, relay.requests, mined);
  });
});

/**
 * No two different transactions of ours were live with one nonce at the same time, whatever the
 * route: walking the ledger in order, a nonce taken by a send (accepted or maybe) stays taken
 * until that submission's outcome; each submission was taken (or maybe taken) by one route at most
 * (a definite refusal passes the same transactions on); every transaction of ours the relay
 * received is one the ledger lists, under its nonce, for a submission it records sending there; and
 * every transaction of ours mined is one the ledger lists, under its nonce.
 */
async function checkNonces(ledger: LedgerEntry[], relayRequests: RelayRequest[], minedTxs: { hash: string; nonce: bigint }[]): Promise<void> {
  const txs = new Map<string, { hash: string; nonce: string }[]>();
  const sentTo = new Map<string, Set<string>>();
  const everOurs = new Map<string, string>();
  const live = new Map<string, string>();
  const setTxs = (id: string, hashes: readonly string[], ours: readonly number[], nonces: readonly string[]) => {
    const list = ours.map((i, k) => ({ hash: hashes[i]!, nonce: nonces[k]! }));
    txs.set(id, list);
    for (const t of list) everOurs.set(t.hash, t.nonce);
  };
  const oursOf = new Map<string, readonly number[]>();
  for (const e of ledger) {
    if (e.type === 'submission') {
      oursOf.set(e.id, e.ours);
      setTxs(e.id, e.txHashes, e.ours, e.nonces);
    } else if (e.type === 'send') {
      if (e.txHashes !== undefined) setTxs(e.id, e.txHashes, oursOf.get(e.id)!, e.nonces!);
      if (!e.ok && e.definite) continue;
      const routes = sentTo.get(e.id) ?? new Set();
      routes.add(e.route);
      sentTo.set(e.id, routes);
      assert.equal(routes.size, 1, `submission ${e.id} went out on ${[...routes].join(' and ')}`);
      for (const t of txs.get(e.id)!) {
        const holder = live.get(t.nonce);
        assert.ok(holder === undefined || holder === e.id, `nonce ${t.nonce} sent for ${e.id} on ${e.route} while ${holder} still held it`);
        live.set(t.nonce, e.id);
      }
    } else if (e.type === 'outcome') {
      for (const [n, id] of live) if (id === e.id) live.delete(n);
    }
  }
  for (const r of relayRequests.filter((x) => x.method === 'eth_sendBundle')) {
    for (const raw of bundleTxs(r)) {
      if ((await recoverTransactionAddress({ serializedTransaction: raw as Parameters<typeof recoverTransactionAddress>[0]['serializedTransaction'] })).toLowerCase() !== net.searcher) continue;
      const hash = keccak256(raw);
      assert.equal(everOurs.get(hash), String(parseTransaction(raw).nonce), `the relay got ${hash}, which the ledger does not list under its nonce`);
      const id = [...txs].find(([, l]) => l.some((t) => t.hash === hash))?.[0];
      assert.ok(ledger.some((e) => e.type === 'send' && e.id === id && e.route === 'flashbots'), `the relay got ${hash}, of a submission the ledger never sent there`);
    }
  }
  for (const t of minedTxs) assert.equal(everOurs.get(t.hash), String(t.nonce), `mined ${t.hash} (nonce ${t.nonce}) is not in the ledger under that nonce`);
}

describe('submitter: secrets', () => {
  let relay: TestRelay;
  let child: ChildProcessWithoutNullStreams | null = null;

  before(async () => {
    relay = await TestRelay.start();
  });

  after(async () => {
    child?.kill('SIGKILL');
    await relay?.close();
  });

  it('behavior: logs, metrics, ledger, captures and relay traffic of a run hold neither key, in any form', async () => {
    const base = devnetEngineConfig(net);
    const captureDir = join(dir, 'secrets-capture');
    const ledgerPath = join(dir, 'secrets.jsonl');
    const config = testConfig({
      ...base,
      // The most the engine logs (no stage writes below info today).
      log: { level: 'debug' },
      ingest: { ...base.ingest, record: { dir: captureDir, segmentBytes: 1 << 20, retainBytes: 0 } },
      supervisor: { hangTimeoutMs: 10_000, bootstrapTimeoutMs: 30_000, metricsIntervalMs: 50 },
      submitter: { strategy: 'flashbots', relays: [{ name: 'test-relay', url: relay.url }], privateRpc: PRIVATE_RPC(), ledgerPath, targetBlocks: 1 },
    });
    const configPath = join(dir, 'secrets-config.json');
    writeFileSync(configPath, JSON.stringify(config));
    const outPrefix = join(dir, 'secrets-out');
    child = spawn(process.execPath, [new URL('../support/engine-child.js', import.meta.url).pathname, configPath, outPrefix], {
      env: { ...process.env, ORION_PRIVATE_KEY: net.searcherKey, ORION_RELAY_AUTH_KEY: RELAY_AUTH_KEY },
    });
    let stderr = '';
    let stdout = '';
    const lines: { ready?: true; kind?: number; data?: unknown }[] = [];
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    void (async () => {
      for await (const line of createInterface({ input: child!.stdout })) {
        stdout += `${line}\n`;
        lines.push(parseBig(line));
      }
    })();
    const subs = () => lines.filter((l) => l.kind === Kind.Submission).map((l) => l.data as Submission);
    await waitUntil(() => lines.some((l) => l.ready), () => `the child engine never got ready; stderr: ${stderr.slice(-2000)}`, 60_000);
    // Ingest is live once a block mined after a pending transaction comes out of the pipeline.
    for (let i = 0; ; i++) {
      await sendTx(net, net.traderKeys[1]!, { to: SINK, data: '0x', value: 1n, gas: 21_000n, tip: GWEI });
      await new Promise((r) => setTimeout(r, 300));
      await mine();
      const n = (await latestBlock(net)).number;
      const seen = await waitUntil(() => lines.some((l) => l.kind === Kind.BlockEvent && (l.data as { number: number }).number === n), () => '', 2_000).catch(() => false);
      if (seen) break;
      assert.ok(i < 20, `the child engine never output a block; stderr: ${stderr.slice(-2000)}`);
    }
    const victim = await sendSwap(net, { key: net.traderKeys[0]!, tokenIndex: 3, slippagePct: 10n });
    const sent = await waitUntil(() => subs().find((s) => s.status === 'sent' && aroundVictim(s, victim.hash)), () => `no sent submission; stderr: ${stderr.slice(-3000)}`, 30_000);
    assert.equal(sent.route, 'flashbots');
    const opps = () => lines.filter((l) => l.kind === Kind.Opportunity).map((l) => l.data as Opportunity);
    await waitUntil(() => verificationsDone(opps(), victim.hash), () => 'verifications still running', 30_000);
    await mine();
    await waitUntil(() => subs().find((s) => s.id === sent.id && s.status !== 'sent'), () => `no outcome; stderr: ${stderr.slice(-3000)}`, 30_000);
    child.stdin.write('stop\n');
    assert.equal(await exited, 0, `the child engine did not stop cleanly; stderr: ${stderr.slice(-2000)}`);
    child = null;

    // What the run left behind, and proof it is not empty.
    const files = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
    const captures = files(captureDir);
    assert.ok(captures.reduce((n, f) => n + statSync(f).size, 0) > 0, 'the capture recorded the run');
    const artifacts: [string, Buffer][] = [
      ['stderr (every thread, debug level)', Buffer.from(stderr)],
      ['stdout (outputs)', Buffer.from(stdout)],
      ['ledger', readFileSync(ledgerPath)],
      ['prometheus exposition', readFileSync(`${outPrefix}.prom`)],
      ['engine stats', readFileSync(`${outPrefix}.stats.json`)],
      ['relay requests', Buffer.from(JSON.stringify(relay.requests))],
      ...captures.map((f): [string, Buffer] => [`capture ${f}`, readFileSync(f)]),
    ];
    assert.match(stderr, /\[submitter\] submitter ready mode=live/);
    assert.ok(readFileSync(ledgerPath, 'utf8').includes(sent.id), 'the ledger recorded the submission');
    assert.match(readFileSync(`${outPrefix}.prom`, 'utf8'), /orion_stage_events_total\{stage="submitter",event="route.ok.flashbots"\}/);
    assert.ok(relay.accepted.some((r) => r.method === 'eth_sendBundle'), 'the relay got the bundle');
    for (const [what, key] of [['signing key', net.searcherKey], ['relay auth key', RELAY_AUTH_KEY]] as const) {
      const hex = key.slice(2).toLowerCase();
      const bytes = Buffer.from(hex, 'hex');
      for (const [name, buf] of artifacts) {
        assert.ok(!buf.toString('latin1').toLowerCase().includes(hex), `the ${what} (hex, any case, with or without 0x) is in the ${name}`);
        assert.equal(buf.indexOf(bytes), -1, `the ${what} (raw bytes) is in the ${name}`);
        assert.equal(buf.indexOf(Buffer.from(bytes.toString('base64'))), -1, `the ${what} (base64) is in the ${name}`);
      }
    }
  });
});

/** Submission `id` as the ledger at `path` holds it now (replayed by a fresh reader). */
function ledgerRecord(path: string, id: string): SubmissionRecord {
  const l = Ledger.open(path);
  try {
    const r = l.get(id);
    assert.ok(r?.type === 'submission', `no submission ${id} in the ledger`);
    return r;
  } finally {
    l.close();
  }
}
