import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Hex, keccak256, parseTransaction } from 'viem';
import { controlBuffer, readControl, requestCancel } from '../../src/actors/submitter/control.js';
import { type CancelEntry, Ledger, type LedgerEntry, type OutcomeEntry, type ReplaceEntry, type SendEntry, type SubmissionEntry } from '../../src/actors/submitter/ledger.js';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import type { Submission } from '../../src/actors/submitter/submission.js';
import { rpc } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { Gateway } from '../../src/gateway/gateway.js';
import type { ConfigInput } from '../../src/runtime/config.js';
import { createLogger } from '../../src/runtime/log.js';
import { latestBlock, waitUntil } from '../support/chain.js';
import { tempDir } from '../support/harness.js';
import { type RelayRequest, TestRelay } from '../support/relay.js';
import { SubmitterRun, addressOf, devnetSubmitterConfig, pushOpportunities, readLedger, sourcePipeline, transferOpportunity } from '../support/submitter-run.js';
import { KEYS, gatewayConfig } from '../gateway/fixtures.js';

/**
 * The submitter's send queue, replacements and cancellations on a real anvil (automine off), real
 * worker threads and real HTTP: a transaction held back in anvil's pool (its fee cap below the base
 * fee the test sets for the next block) is replaced at the same nonce with both fees bumped and the
 * replacement is mined; one whose window passes is cancelled by a 0-value self-transfer mined at its
 * nonce, which the next submission then takes; a private RPC (test/support/relay.ts, forwarding to
 * anvil) that fails twice gets the submission through on the third attempt; an unknown outcome is
 * never retried; the operator cancels over the gateway; a bundle is re-sent under its
 * `replacementUuid` and withdrawn with `eth_cancelBundle`. Opportunities are hand-built (one WETH
 * transfer each) and fed to the real submitter thread by test/support/opportunity-source.worker.ts.
 */

const SINK = addressOf('queue-sink');
const E16 = 10n ** 16n;
const log = createLogger('test', 'silent');

let net: Devnet;
let dir: string;

before(async () => {
  net = await startDevnet({ blockTime: 0, automine: false });
  dir = tempDir('orion-submitter-queue-');
});

after(async () => {
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Repeated refusals here are the point: no breaker trips (the breaker has its own tests). */
const liveConfig = (submitter: ConfigInput['submitter']) => devnetSubmitterConfig(net, submitter, { lenientBreaker: true });

/** A verified one-transfer opportunity for the block after the head, predicting `netWei` (a fee bump pays only out of a profit). */
async function opportunity(tag: string, netWei = 0n): Promise<Opportunity> {
  const head = (await latestBlock(net)).number;
  const o = await transferOpportunity(net, { tag, targetBlock: head + 1, pool: addressOf(`pool-${tag}`), to: SINK });
  return { ...o, profit: { ...o.profit, gross: netWei, net: netWei, grossWei: netWei, netWei } };
}

function mine(): Promise<unknown> {
  return rpc(net.anvil.rpcUrl, 'evm_mine', []);
}

/** Sets the next block's base fee (anvil): above a transaction's fee cap, it holds the transaction back. */
function setNextBaseFee(wei: bigint): Promise<unknown> {
  return rpc(net.anvil.rpcUrl, 'anvil_setNextBlockBaseFeePerGas', [`0x${wei.toString(16)}`]);
}

async function chainNonce(account: string): Promise<bigint> {
  return BigInt(await rpc<Hex>(net.anvil.rpcUrl, 'eth_getTransactionCount', [account, 'latest']));
}

/** A transaction as the node has it (pending or mined), or null. */
async function txOf(hash: string): Promise<{ from: string; to: string; value: bigint; gas: bigint; nonce: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; input: string } | null> {
  const t = await rpc<Record<string, Hex> | null>(net.anvil.rpcUrl, 'eth_getTransactionByHash', [hash]);
  if (t === null) return null;
  return { from: t.from!.toLowerCase(), to: t.to!.toLowerCase(), value: BigInt(t.value!), gas: BigInt(t.gas!), nonce: BigInt(t.nonce!), maxFeePerGas: BigInt(t.maxFeePerGas!), maxPriorityFeePerGas: BigInt(t.maxPriorityFeePerGas!), input: t.input! };
}

/** The searcher's transactions in block `n`: hash and nonce. */
async function searcherTxsIn(n: number): Promise<{ hash: string; nonce: bigint }[]> {
  const b = await rpc<{ transactions: { hash: Hex; from: Hex; nonce: Hex }[] }>(net.anvil.rpcUrl, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, true]);
  return b.transactions.filter((t) => t.from.toLowerCase() === net.searcher).map((t) => ({ hash: t.hash.toLowerCase(), nonce: BigInt(t.nonce) }));
}

function entriesOf(path: string, id: string): LedgerEntry[] {
  return readLedger(path).filter((e) => e.id === id);
}

/** Waits for the ledger entry of `type` for `id`. */
function ledgerEntry<T extends LedgerEntry>(path: string, id: string, type: T['type'], ms = 20_000): Promise<T> {
  return waitUntil(
    () => entriesOf(path, id).find((e): e is T => e.type === type),
    () => `no ${type} entry for ${id}: ${JSON.stringify(entriesOf(path, id))}`,
    ms,
  );
}

/** Raw transactions a relay request carried (a bundle's, or a single one's). */
function rawsOf(r: RelayRequest): Hex[] {
  if (r.method === 'eth_sendBundle') return (r.params as [{ txs: Hex[] }])[0].txs;
  if (r.method === 'eth_sendRawTransaction') return [(r.params as [Hex])[0]];
  if (r.method === 'eth_sendPrivateTransaction') return [(r.params as [{ tx: Hex }])[0].tx];
  return [];
}

/** The relay's requests that carried transaction `hash`. */
function carrying(relay: TestRelay, hash: string): RelayRequest[] {
  return relay.requests.filter((r) => rawsOf(r).some((raw) => keccak256(raw) === hash.toLowerCase()));
}

const final = (s: Submission) => s.status !== 'sent' && s.status !== 'replaced';

describe('submitter queue: replacement and cancellation (private RPC: anvil)', () => {
  let run: SubmitterRun;
  let ledgerPath: string;
  let inbox: string;

  before(async () => {
    ledgerPath = join(dir, 'replace.jsonl');
    inbox = join(dir, 'replace.inbox');
    const config = liveConfig({
      strategy: 'private-rpc',
      privateRpc: { url: net.anvil.rpcUrl, method: 'eth_sendRawTransaction' },
      ledgerPath,
      targetBlocks: 3,
      replacement: { afterBlocks: 1, feeBumpPct: 10, maxReplacements: 3, cancelExpired: true },
    });
    run = await SubmitterRun.start(config, { pipeline: sourcePipeline(config, { inbox, signerKey: net.searcherKey, chainId: net.anvil.chainId }) });
  });

  after(async () => {
    await run?.stop();
  });

  it('behavior: a transaction held back for a block is replaced at the same nonce with both fees bumped ≥ 10%, and the replacement is mined', async () => {
    const head = (await latestBlock(net)).number;
    const opp = await opportunity('replace-held', E16);
    pushOpportunities(inbox, [opp]);
    const sent = await run.waitSub((s) => s.id === opp.id && s.status === 'sent', 'the sent submission');
    const n = sent.nonces[0]!;
    const original = (await txOf(sent.txHashes[0]!))!;
    assert.equal(original.nonce, n, 'anvil holds it in its pool');
    // Held back: the next block's base fee is above its fee cap.
    await setNextBaseFee(original.maxFeePerGas + 1n);
    await mine();
    assert.deepEqual(await searcherTxsIn(head + 1), [], 'not in the block');
    const replaced = await run.waitSub((s) => s.id === opp.id && s.status === 'replaced', 'the replacement');
    assert.equal(replaced.block, null, 'our own replacement: tracking goes on');
    assert.deepEqual(replaced.nonces, [n]);
    const hash = replaced.txHashes[0]!.toLowerCase();
    assert.notEqual(hash, sent.txHashes[0]!.toLowerCase());
    const r = (await txOf(hash))!;
    assert.equal(r.nonce, n, 'the same nonce');
    assert.ok(r.maxFeePerGas * 100n >= original.maxFeePerGas * 110n, `maxFeePerGas ${original.maxFeePerGas} → ${r.maxFeePerGas}: at least +10%`);
    assert.ok(r.maxPriorityFeePerGas * 100n >= original.maxPriorityFeePerGas * 110n, `maxPriorityFeePerGas ${original.maxPriorityFeePerGas} → ${r.maxPriorityFeePerGas}: at least +10%`);
    assert.deepEqual([r.to, r.input, r.value, r.gas], [original.to, original.input, original.value, original.gas], 'the same call');
    // The base fee stays above the original's cap and below the replacement's: only it can be mined.
    await setNextBaseFee(original.maxFeePerGas + 1n);
    await mine();
    assert.deepEqual(await searcherTxsIn(head + 2), [{ hash, nonce: n }], 'the replacement is mined at the nonce');
    const done = await run.waitSub((s) => s.id === opp.id && final(s), 'the outcome');
    assert.equal(done.status, 'included', `reason: ${done.reason}`);
    assert.equal(done.block, head + 2);
    assert.deepEqual(done.txHashes.map((h) => h.toLowerCase()), [hash]);
    assert.equal(done.realizedNetWei, -1n - done.gasPaidWei!, 'it sent 1 wei of WETH and paid its gas');
    const entries = entriesOf(ledgerPath, opp.id);
    assert.deepEqual(entries.map((e) => e.type), ['submission', 'send', 'replace', 'outcome']);
    const [sub, , rep, outcome] = entries as [SubmissionEntry, SendEntry, ReplaceEntry, OutcomeEntry];
    assert.deepEqual(sub.maxFeePerGas, [String(original.maxFeePerGas)]);
    assert.deepEqual([rep.route, rep.ok, rep.definite, rep.txHashes, rep.nonces], ['private-rpc', true, true, [hash], [String(n)]]);
    assert.deepEqual([rep.maxFeePerGas, rep.maxPriorityFeePerGas], [[String(r.maxFeePerGas)], [String(r.maxPriorityFeePerGas)]]);
    assert.equal(outcome.status, 'included');
    const l = Ledger.open(ledgerPath);
    const rec = l.get(opp.id);
    assert.ok(rec?.type === 'submission');
    assert.deepEqual(rec.entry.txHashes, [hash], 'the record lists the replacement');
    assert.equal(rec.replacements.length, 1);
    l.close();
    await waitUntil(() => run.counter('queue.replaced') >= 1, () => 'no queue.replaced counter', 5_000);
  });

  it('behavior: a transaction held back past its window is cancelled: a 0-value self-transfer is mined at its nonce, and the next submission takes the next one', async () => {
    const head = (await latestBlock(net)).number;
    // No profit: a fee bump never pays, so it waits out its window.
    const opp = await opportunity('cancel-expired');
    pushOpportunities(inbox, [opp]);
    const sent = await run.waitSub((s) => s.id === opp.id && s.status === 'sent', 'the sent submission');
    const n = sent.nonces[0]!;
    const original = (await txOf(sent.txHashes[0]!))!;
    for (let b = 1; b <= 3; b++) {
      await setNextBaseFee(original.maxFeePerGas + 1n);
      await mine();
      assert.deepEqual(await searcherTxsIn(head + b), [], `held back in block ${head + b}`);
    }
    const cancel = await ledgerEntry<CancelEntry>(ledgerPath, opp.id, 'cancel');
    assert.deepEqual([cancel.by, cancel.route, cancel.ok, cancel.nonces], ['window', 'private-rpc', true, [String(n)]]);
    const c = (await txOf(cancel.txHashes[0]!))!;
    assert.deepEqual([c.from, c.to, c.value, c.gas, c.nonce, c.input], [net.searcher, net.searcher, 0n, 21_000n, n, '0x'], 'a 0-value transfer to ourselves at the nonce');
    assert.ok(c.maxFeePerGas * 100n >= original.maxFeePerGas * 110n);
    assert.ok(c.maxPriorityFeePerGas * 100n >= original.maxPriorityFeePerGas * 110n);
    await setNextBaseFee(original.maxFeePerGas + 1n);
    await mine();
    assert.deepEqual(await searcherTxsIn(head + 4), [{ hash: cancel.txHashes[0]!, nonce: n }], 'the cancellation is mined at the nonce');
    assert.equal(await chainNonce(net.searcher), n + 1n);
    const done = await run.waitSub((s) => s.id === opp.id && final(s), 'the outcome');
    assert.equal(done.status, 'cancelled', `reason: ${done.reason}`);
    assert.equal(done.block, head + 4);
    assert.ok(done.gasPaidWei! > 0n);
    assert.equal(done.realizedNetWei, -done.gasPaidWei!, 'the cancellation cost its gas');
    assert.deepEqual(entriesOf(ledgerPath, opp.id).map((e) => e.type), ['submission', 'send', 'cancel', 'outcome']);
    assert.equal((entriesOf(ledgerPath, opp.id).at(-1) as OutcomeEntry).status, 'cancelled');
    // The nonce is free again: the next submission goes out at n + 1 and lands.
    const next = await opportunity('after-cancel');
    pushOpportunities(inbox, [next]);
    const sent2 = await run.waitSub((s) => s.id === next.id && s.status === 'sent', 'the next submission');
    assert.deepEqual(sent2.nonces, [n + 1n]);
    await mine();
    assert.equal((await run.waitSub((s) => s.id === next.id && final(s), 'its outcome')).status, 'included');
  });
});

describe('submitter queue: retries (private RPC: a relay forwarding to anvil)', () => {
  let run: SubmitterRun;
  let relay: TestRelay;
  let ledgerPath: string;
  let inbox: string;

  before(async () => {
    relay = await TestRelay.start();
    relay.forwardTo = net.anvil.rpcUrl;
    ledgerPath = join(dir, 'retry.jsonl');
    inbox = join(dir, 'retry.inbox');
    const config = liveConfig({
      strategy: 'private-rpc',
      privateRpc: { url: relay.url, method: 'eth_sendRawTransaction' },
      ledgerPath,
      targetBlocks: 2,
      requestTimeoutMs: 1000,
      queue: { concurrency: 4, maxAttempts: 3, backoffMs: 100, maxBackoffMs: 400, jitter: 0.5, seed: 7 },
    });
    run = await SubmitterRun.start(config, { pipeline: sourcePipeline(config, { inbox, signerKey: net.searcherKey, chainId: net.anvil.chainId }) });
  });

  after(async () => {
    await run?.stop();
    await relay?.close();
  });

  it('behavior: a relay that fails twice (HTTP 500) then succeeds gets the submission through on the third attempt, and it is mined', async () => {
    relay.queue.push('http500', 'http500');
    const opp = await opportunity('retry-twice');
    pushOpportunities(inbox, [opp]);
    const sent = await run.waitSub((s) => s.id === opp.id && s.status !== 'skipped', 'the submission');
    assert.equal(sent.status, 'sent', `reason: ${sent.reason}`);
    assert.equal(sent.reason, 'sent on attempt 3 after attempt 1: private-rpc: http HTTP 500; attempt 2: private-rpc: http HTTP 500');
    assert.deepEqual(carrying(relay, sent.txHashes[0]!).map((r) => r.fault), ['http500', 'http500', 'ok'], 'the same transaction, three times');
    const sends = entriesOf(ledgerPath, opp.id).filter((e): e is SendEntry => e.type === 'send').map((e) => [e.route, e.ok, e.definite]);
    assert.deepEqual(sends, [['private-rpc', false, true], ['private-rpc', false, true], ['private-rpc', true, true]]);
    await waitUntil(() => run.counter('queue.retry') >= 2, () => `queue.retry ${run.counter('queue.retry')}`, 5_000);
    await mine();
    const done = await run.waitSub((s) => s.id === opp.id && final(s), 'the outcome');
    assert.equal(done.status, 'included', `reason: ${done.reason}`);
  });

  it('behavior: an unknown outcome (the relay times out) is never retried; once its window passes it is cancelled through the relay and the cancellation is mined', async () => {
    const retries = run.counter('queue.retry');
    relay.queue.push('timeout');
    const head = (await latestBlock(net)).number;
    const opp = await opportunity('unknown-outcome');
    pushOpportunities(inbox, [opp]);
    const sent = await run.waitSub((s) => s.id === opp.id && s.status !== 'skipped', 'the submission');
    assert.equal(sent.status, 'sent');
    assert.match(sent.reason ?? '', /^outcome unknown \(private-rpc: timeout .*\); not sent elsewhere$/);
    // Well past any backoff: still the one request.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(carrying(relay, sent.txHashes[0]!).map((r) => r.fault), ['timeout']);
    assert.equal(run.counter('queue.retry'), retries, 'no retry');
    assert.equal(await txOf(sent.txHashes[0]!), null, 'it never reached the node');
    await mine();
    await mine();
    const cancel = await ledgerEntry<CancelEntry>(ledgerPath, opp.id, 'cancel');
    assert.equal(cancel.by, 'window');
    assert.ok(relay.forwarded.some((raw) => keccak256(raw) === cancel.txHashes[0]), 'the cancellation went through the relay');
    await mine();
    assert.deepEqual(await searcherTxsIn(head + 3), [{ hash: cancel.txHashes[0]!, nonce: sent.nonces[0]! }]);
    const done = await run.waitSub((s) => s.id === opp.id && final(s), 'the outcome');
    assert.equal(done.status, 'cancelled', `reason: ${done.reason}`);
  });

  it('error: a relay that keeps failing: the submission fails after its attempts, and its nonce goes to the next one', async () => {
    relay.fault = 'http500';
    const opp = await opportunity('always-500');
    pushOpportunities(inbox, [opp]);
    const failed = await run.waitSub((s) => s.id === opp.id && s.status !== 'skipped', 'the submission');
    assert.equal(failed.status, 'failed');
    assert.match(failed.reason ?? '', /^attempt 1: private-rpc: http HTTP 500; attempt 2: private-rpc: http HTTP 500; attempt 3: private-rpc: http HTTP 500 \(3 attempts\)$/);
    assert.equal(carrying(relay, failed.txHashes[0]!).length, 3);
    await waitUntil(() => run.counter('queue.exhausted') >= 1, () => 'no queue.exhausted counter', 5_000);
    relay.fault = 'ok';
    const next = await opportunity('after-exhausted');
    pushOpportunities(inbox, [next]);
    const sent = await run.waitSub((s) => s.id === next.id && s.status === 'sent', 'the next submission');
    assert.deepEqual(sent.nonces, failed.nonces, 'the nonce given back is taken again');
    await mine();
    assert.equal((await run.waitSub((s) => s.id === next.id && final(s), 'its outcome')).status, 'included');
  });
});

describe('submitter queue: operator cancel over the gateway (private RPC: a relay)', () => {
  let run: SubmitterRun;
  let relay: TestRelay;
  let gw: Gateway;
  let url: string;
  let ledgerPath: string;
  let inbox: string;

  before(async () => {
    relay = await TestRelay.start();
    ledgerPath = join(dir, 'operator.jsonl');
    inbox = join(dir, 'operator.inbox');
    const config = liveConfig({
      strategy: 'private-rpc',
      privateRpc: { url: relay.url, method: 'eth_sendRawTransaction' },
      ledgerPath,
      targetBlocks: 3,
      queue: { concurrency: 4, maxAttempts: 2, backoffMs: 2000, maxBackoffMs: 2000, jitter: 0, seed: 1 },
    });
    run = await SubmitterRun.startSource(config, { inbox, signerKey: net.searcherKey, chainId: net.anvil.chainId });
    gw = new Gateway({ config: gatewayConfig(), log, engine: run.engine });
    url = (await gw.listen()).url;
  });

  after(async () => {
    await gw?.close();
    await run?.stop();
    await relay?.close();
  });

  const cancel = (id: string | null, key: string = KEYS.operator) => fetch(`${url}/v1/admin/submitter?op=cancel${id === null ? '' : `&id=${id}`}`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });

  it('behavior: op=cancel withdraws a submission waiting for its retry: cancelled, never sent again', async () => {
    relay.fault = 'http500';
    const opp = await opportunity('cancel-in-backoff');
    pushOpportunities(inbox, [opp]);
    await waitUntil(() => run.engine.stats().stages.submitter?.counters['queue.retry'] === 1, () => 'the first attempt never failed', 10_000);
    await waitUntil(() => readControl(run.engine.control).queueDepth === 1, () => `queue depth ${readControl(run.engine.control).queueDepth}`, 5_000);
    const res = await cancel(opp.id);
    assert.equal(res.status, 202);
    assert.deepEqual(((await res.json()) as { requested: string; id: string }).id, opp.id);
    const done = await run.waitSub((s) => s.id === opp.id, 'the cancelled submission', 10_000);
    assert.equal(done.status, 'cancelled');
    assert.equal(done.reason, 'cancelled by the operator before it was sent');
    assert.equal(done.block, null);
    assert.equal(readControl(run.engine.control).queueDepth, 0);
    relay.fault = 'ok';
    // Past its backoff: nothing more went out.
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(carrying(relay, done.txHashes[0]!).map((r) => r.fault), ['http500'], 'sent once');
    assert.deepEqual(entriesOf(ledgerPath, opp.id).map((e) => e.type), ['submission', 'send', 'cancel']);
    const c = entriesOf(ledgerPath, opp.id).at(-1) as CancelEntry;
    assert.deepEqual([c.by, c.txHashes], ['operator', []]);
    assert.ok(/queue_depth 0/.test(await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${KEYS.operator}` } })).text()), 'the gauge is exported');
  });

  it('behavior: op=cancel of a sent transaction the route holds back: a 0-value self-transfer is mined at its nonce', async () => {
    relay.forwardTo = null;
    const head = (await latestBlock(net)).number;
    const opp = await opportunity('cancel-pending');
    pushOpportunities(inbox, [opp]);
    const sent = await run.waitSub((s) => s.id === opp.id && s.status === 'sent', 'the sent submission');
    const n = sent.nonces[0]!;
    assert.equal(await txOf(sent.txHashes[0]!), null, 'the relay holds it back');
    relay.forwardTo = net.anvil.rpcUrl;
    assert.equal((await cancel(opp.id)).status, 202);
    const entry = await ledgerEntry<CancelEntry>(ledgerPath, opp.id, 'cancel');
    assert.deepEqual([entry.by, entry.ok, entry.nonces], ['operator', true, [String(n)]]);
    await mine();
    assert.deepEqual(await searcherTxsIn(head + 1), [{ hash: entry.txHashes[0]!, nonce: n }], 'the cancellation is mined at the nonce');
    const done = await run.waitSub((s) => s.id === opp.id && final(s), 'the outcome');
    assert.equal(done.status, 'cancelled', `reason: ${done.reason}`);
    assert.equal(done.block, head + 1);
    assert.equal(await chainNonce(net.searcher), n + 1n);
  });

  it('error: op=cancel needs an operator key and an id of 0x + 64 hex digits; an unknown id changes nothing', async () => {
    assert.equal((await cancel(null)).status, 400);
    assert.equal((await cancel('0x1234')).status, 400);
    assert.equal((await cancel(`0x${'ab'.repeat(32)}`, KEYS.viewer)).status, 403);
    const before = run.engine.stats().stages.submitter?.counters['queue.cancel-unknown'] ?? 0;
    assert.equal((await cancel(`0x${'ab'.repeat(32)}`)).status, 202);
    await waitUntil(() => (run.engine.stats().stages.submitter?.counters['queue.cancel-unknown'] ?? 0) > before, () => 'no queue.cancel-unknown counter', 5_000);
  });
});

describe('submitter queue: bundles (a relay that never forwards)', () => {
  let run: SubmitterRun;
  let relay: TestRelay;
  let ledgerPath: string;
  let inbox: string;
  let control: SharedArrayBuffer;

  before(async () => {
    relay = await TestRelay.start();
    ledgerPath = join(dir, 'bundles.jsonl');
    inbox = join(dir, 'bundles.inbox');
    control = controlBuffer();
    const config = liveConfig({ strategy: 'flashbots', relays: [{ name: 'test-relay', url: relay.url }], ledgerPath, targetBlocks: 3 });
    run = await SubmitterRun.start(config, { pipeline: sourcePipeline(config, { inbox, signerKey: net.searcherKey, chainId: net.anvil.chainId, control }) });
  });

  after(async () => {
    await run?.stop();
    await relay?.close();
  });

  it('behavior: a bundle not included after a block is re-sent under the same replacementUuid with higher tips for the blocks left; op=cancel withdraws it with eth_cancelBundle and frees its nonce', async () => {
    const head = (await latestBlock(net)).number;
    const opp = await opportunity('bundle-bump', E16);
    pushOpportunities(inbox, [opp]);
    const sent = await run.waitSub((s) => s.id === opp.id && s.status === 'sent', 'the sent bundle');
    assert.equal(sent.route, 'flashbots');
    const first = carrying(relay, sent.txHashes[0]!).filter((r) => r.method === 'eth_sendBundle');
    const params = (r: RelayRequest) => (r.params as [{ blockNumber: string; replacementUuid: string }])[0];
    assert.deepEqual(first.map((r) => Number(params(r).blockNumber)), [head + 1, head + 2, head + 3]);
    const uuid = params(first[0]!).replacementUuid;
    await mine();
    const replaced = await run.waitSub((s) => s.id === opp.id && s.status === 'replaced', 'the re-sent bundle');
    const again = carrying(relay, replaced.txHashes[0]!).filter((r) => r.method === 'eth_sendBundle');
    assert.deepEqual(again.map((r) => Number(params(r).blockNumber)), [head + 2, head + 3], 'for the blocks left');
    assert.ok(again.every((r) => params(r).replacementUuid === uuid), 'under the same replacementUuid');
    const before = parseTransaction(rawsOf(first[0]!)[0]!);
    const after = parseTransaction(rawsOf(again[0]!)[0]!);
    assert.equal(after.nonce, before.nonce);
    assert.ok(after.maxPriorityFeePerGas! * 100n >= before.maxPriorityFeePerGas! * 110n);
    assert.ok(after.maxFeePerGas! * 100n >= before.maxFeePerGas! * 110n);

    assert.equal(requestCancel(control, opp.id), true);
    await waitUntil(() => relay.accepted.find((r) => r.method === 'eth_cancelBundle'), () => 'no eth_cancelBundle', 10_000);
    assert.deepEqual(relay.accepted.filter((r) => r.method === 'eth_cancelBundle').map((r) => (r.params as [{ replacementUuid: string }])[0].replacementUuid), [uuid]);
    await mine();
    const done = await run.waitSub((s) => s.id === opp.id && final(s), 'the outcome');
    assert.equal(done.status, 'cancelled', `reason: ${done.reason}`);
    assert.match(done.reason ?? '', /withdrawn from the relays/);
    assert.deepEqual(entriesOf(ledgerPath, opp.id).map((e) => e.type), ['submission', 'send', 'replace', 'cancel', 'outcome']);
    // Its nonce was never used on chain: the next submission takes it.
    const next = await opportunity('after-bundle-cancel');
    pushOpportunities(inbox, [next]);
    const sent2 = await run.waitSub((s) => s.id === next.id && s.status === 'sent', 'the next bundle');
    assert.deepEqual(sent2.nonces, sent.nonces);
  });
});
