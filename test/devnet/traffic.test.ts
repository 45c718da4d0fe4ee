import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Address, Hex } from 'viem';
import { type RpcCall, rpc, rpcBatch } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { startTraffic, TRAFFIC_KINDS, type TrafficKind, type TrafficReport, type TrafficTx } from '../../src/devnet/traffic.js';

interface Receipt { status: Hex; blockNumber: Hex; blobGasUsed?: Hex }

/** Receipts of `hashes`, in order (null where the node has none). */
async function receipts(url: string, hashes: readonly Hex[]): Promise<(Receipt | null)[]> {
  const out: (Receipt | null)[] = [];
  for (let i = 0; i < hashes.length; i += 250) {
    out.push(...((await rpcBatch(url, hashes.slice(i, i + 250).map((h): RpcCall => ['eth_getTransactionReceipt', [h]]))) as (Receipt | null)[]));
  }
  return out;
}

/** Every transaction hash in blocks `from..to` with its sender. */
async function blockTxs(url: string, from: number, to: number): Promise<{ hash: Hex; from: Address }[]> {
  const calls: RpcCall[] = [];
  for (let n = from; n <= to; n++) calls.push(['eth_getBlockByNumber', [`0x${n.toString(16)}`, true]]);
  const blocks = (await rpcBatch(url, calls)) as { transactions: { hash: Hex; from: Address }[] }[];
  return blocks.flatMap((b) => b.transactions.map((t) => ({ hash: t.hash, from: t.from })));
}

const SWAPS: ReadonlySet<TrafficKind> = new Set(['v2-swap', 'v3-swap', 'pair-swap']);
const intents = (r: TrafficReport) => r.records.map((x) => [x.kind, x.type, x.eip155, x.from, x.to, x.method, x.expectRevert].join(' '));

describe('startTraffic', () => {
  let net: Devnet;
  before(async () => {
    net = await startDevnet({ blockTime: 1 });
  });
  after(async () => {
    await net?.stop();
  });

  it('default: a seeded run sends every kind and transaction type, and the node mines each transaction exactly once', async () => {
    const head = Number(await rpc<Hex>(net.anvil.rpcUrl, 'eth_blockNumber'));
    // Rare kinds weighted up so 400 transactions hold several of each.
    const run = net.traffic({ rate: 150, seed: 7, count: 400, settleMs: 45_000, mix: { blob: 0.02, delegate: 0.06, 'pair-swap': 0.06 } });
    await run.ready;
    const report = await run.done;
    const { records, ...summary } = report;
    console.log(`# ${JSON.stringify(summary)}`);
    assert.equal(report.sent, 400);
    assert.equal(records.length, 400);
    assert.equal(report.rejected, 0, JSON.stringify(report.errors));
    assert.equal(report.accepted, 400);
    assert.deepEqual(report.errors, {});
    assert.equal(report.unmined, 0);
    assert.equal(report.signer, 'native');
    for (const k of TRAFFIC_KINDS) assert.ok(report.byKind[k] > 0, `no ${k} transaction`);
    for (const t of [0, 1, 2, 3, 4] as const) assert.ok(report.byType[t] > 0, `no type ${t} transaction`);
    assert.ok(records.some((x) => x.type === 0 && !x.eip155), 'no pre-EIP-155 legacy transaction');
    assert.ok(records.some((x) => x.type === 0 && x.eip155), 'no EIP-155 legacy transaction');
    assert.equal(new Set(records.map((x) => x.hash)).size, 400, 'duplicate hashes');
    // Nonces per sender are gapless and in send order.
    const bySender = new Map<Address, TrafficTx[]>();
    for (const x of records) bySender.set(x.from, [...(bySender.get(x.from) ?? []), x]);
    for (const [from, xs] of bySender) xs.forEach((x, i) => assert.equal(x.nonce, xs[0]!.nonce + i, `nonce gap for ${from}`));

    const rs = await receipts(net.anvil.rpcUrl, records.map((x) => x.hash));
    assert.equal(rs.filter((r) => r === null).length, 0, 'a sent transaction was never mined');
    // Every recorded transaction is in exactly one block, and every trader transaction in those blocks is recorded.
    const last = Math.max(...rs.map((r) => Number(r!.blockNumber)));
    const mined = await blockTxs(net.anvil.rpcUrl, head + 1, last);
    const traders = new Set(net.deployment.accounts);
    const seen = new Map<Hex, number>();
    for (const t of mined) seen.set(t.hash, (seen.get(t.hash) ?? 0) + 1);
    for (const x of records) assert.equal(seen.get(x.hash), 1, `${x.hash} mined ${seen.get(x.hash) ?? 0} times`);
    const recorded = new Set(records.map((x) => x.hash));
    assert.deepEqual(mined.filter((t) => traders.has(t.from) && !recorded.has(t.hash)), [], 'trader transactions missing from the records');

    const ok = (i: number) => rs[i]!.status === '0x1';
    let swaps = 0;
    let swapsOk = 0;
    records.forEach((x, i) => {
      if (x.expectRevert) assert.equal(ok(i), false, `${x.method} was built to revert but succeeded`);
      else if (SWAPS.has(x.kind)) { swaps++; if (ok(i)) swapsOk++; }
      else assert.ok(ok(i), `${x.kind} ${x.method} (type ${x.type}) reverted`);
      if (x.type === 3) assert.ok(BigInt(rs[i]!.blobGasUsed ?? '0x0') > 0n, 'blob transaction used no blob gas');
    });
    assert.ok(report.expectedReverts > 0);
    // Swaps in the same block run in fee order, not send order, so some miss their slippage bound,
    // as on mainnet; most must still go through.
    console.log(`# swaps that succeeded: ${swapsOk}/${swaps}`);
    assert.ok(swapsOk >= swaps * 0.7, `only ${swapsOk} of ${swaps} swaps succeeded`);

    // Sponsored EIP-7702 delegations left delegation designators (0xef0100 ‖ target) on the authorities.
    const authorities = [...new Set(records.flatMap((x) => x.authorities ?? []))];
    assert.ok(authorities.length > 0);
    const codes = (await rpcBatch(net.anvil.rpcUrl, authorities.map((a): RpcCall => ['eth_getCode', [a, 'latest']]))) as Hex[];
    assert.ok(codes.some((c) => c.startsWith('0xef0100') && c.length === 2 + 46), 'no authority carries a delegation');
  });

  it('behavior: V2 traffic uses every Router02 swap function, V3 traffic every SwapRouter entry point', async () => {
    const v2 = await net.traffic({ rate: 300, seed: 3, count: 250, mix: { ...only('v2-swap') } }).done;
    const v2Methods = new Set(v2.records.map((x) => x.method));
    for (const m of [
      'swapExactTokensForTokens', 'swapTokensForExactTokens', 'swapExactETHForTokens', 'swapTokensForExactETH', 'swapExactTokensForETH', 'swapETHForExactTokens',
      'swapExactTokensForTokensSupportingFeeOnTransferTokens', 'swapExactETHForTokensSupportingFeeOnTransferTokens', 'swapExactTokensForETHSupportingFeeOnTransferTokens',
    ]) assert.ok(v2Methods.has(m), `no ${m}`);
    assert.deepEqual(new Set(v2.records.map((x) => x.to)), new Set(net.deployment.v2.map((v) => v.router)), 'not every V2 router was used');
    const v3 = await net.traffic({ rate: 300, seed: 3, count: 150, mix: { ...only('v3-swap') } }).done;
    const v3Methods = v3.records.map((x) => x.method);
    for (const m of ['exactInputSingle', 'exactInput', 'exactOutputSingle', 'exactOutput']) assert.ok(v3Methods.some((x) => x === m || x.includes(`:${m}+`)), `no ${m}`);
    assert.ok(v3Methods.some((x) => x.endsWith('+unwrapWETH9')), 'no ETH-out multicall');
    assert.ok(v3Methods.some((x) => x.endsWith('+refundETH')), 'no ETH-in exact-output multicall');
  });

  it('behavior: the same seed gives the same sequence of intents, another seed another', async () => {
    const a = await net.traffic({ rate: 400, seed: 11, count: 80 }).done;
    const b = await net.traffic({ rate: 400, seed: 11, count: 80 }).done;
    const c = await net.traffic({ rate: 400, seed: 12, count: 80 }).done;
    assert.deepEqual(intents(b), intents(a));
    assert.notDeepEqual(intents(c), intents(a));
  });

  it('behavior: stop() ends an open-ended run with every reply in', async () => {
    const run = net.traffic({ rate: 100, seed: 5 });
    await run.ready;
    await new Promise((r) => setTimeout(r, 400));
    const report = await run.stop();
    assert.ok(report.sent > 0);
    assert.equal(report.accepted + report.rejected, report.sent);
    assert.ok(report.records.every((x) => x.accepted !== undefined), 'a reply is missing');
    assert.equal(await run.done, report);
  });

  it('args: invalid options are refused', async () => {
    const target = { rpcUrl: net.anvil.rpcUrl, chainId: net.anvil.chainId, deployment: net.deployment, privateKeys: net.traderKeys };
    assert.throws(() => startTraffic(target, { rate: 0, seed: 1 }), RangeError);
    assert.throws(() => startTraffic(target, { rate: 10, seed: 1.5 }), TypeError);
    assert.throws(() => startTraffic(target, { rate: 10, seed: 1, count: -1 }), RangeError);
    assert.throws(() => startTraffic({ ...target, privateKeys: [net.anvil.privateKeys[0]!] }, { rate: 10, seed: 1 }), TypeError);
    const none = startTraffic(target, { rate: 10, seed: 1, mix: Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, 0])) });
    await assert.rejects(none.done, RangeError);
    const zero = await startTraffic(target, { rate: 10, seed: 1, count: 0 }).done;
    assert.equal(zero.sent, 0);
  });
});

describe('startTraffic against a node that refuses some transactions', () => {
  let net: Devnet;
  before(async () => {
    // Cancun has no EIP-7702: claiming prague makes the generator send type 4s the node refuses.
    net = await startDevnet({ blockTime: 1, hardfork: 'cancun' });
  });
  after(async () => {
    await net?.stop();
  });

  it('error: refusals are counted by reason, their nonces reused, and nothing stalls', async () => {
    const run = startTraffic(
      { rpcUrl: net.anvil.rpcUrl, chainId: net.anvil.chainId, deployment: net.deployment, privateKeys: net.traderKeys, hardfork: 'prague' },
      { rate: 200, seed: 9, count: 200, settleMs: 45_000, mix: { delegate: 0.2 } },
    );
    const report = await run.done;
    const refused = report.records.filter((x) => x.accepted === false);
    assert.ok(refused.length > 0 && refused.every((x) => x.type === 4), 'expected exactly the type 4 transactions to be refused');
    assert.equal(report.rejected, refused.length);
    const reasons = Object.keys(report.errors);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0]!, /7702/);
    assert.equal(report.errors[reasons[0]!], refused.length);
    // Refused nonces went to later transactions (or gap fillers), so every accepted one was mined.
    assert.equal(report.unmined, 0);
    const accepted = report.records.filter((x) => x.accepted);
    const rs = await receipts(net.anvil.rpcUrl, accepted.map((x) => x.hash));
    assert.equal(rs.filter((r) => r === null).length, 0);
  });
});

/** A mix with only `kind`. */
function only(kind: TrafficKind): Partial<Record<TrafficKind, number>> {
  return Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, k === kind ? 1 : 0]));
}
