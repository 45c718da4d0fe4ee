import assert from 'node:assert/strict';
import { captureError } from '../support/capture-errors.js';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Hex, encodeFunctionData } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { rpc } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { TRAFFIC_KINDS, type TrafficKind, type TrafficTx } from '../../src/devnet/traffic.js';
import { V2_PAIR_ABI } from '../../src/devnet/uniswap.js';
import { openCapture } from '../../src/replay/capture/capture-reader.js';
import { CaptureWriter } from '../../src/replay/capture/capture-writer.js';
import { CaptureError, FRAME_BYTES, type MinedBlock, OFF_HEADER_LEN, PREFIX_BYTES, type StateRecord } from '../../src/replay/capture/format.js';
import { canonicalKey } from '../../src/replay/tape/canonical-key.js';
import { TapeRecorder, V2_SWAP_TOPIC, V2_SYNC_TOPIC, V3_SWAP_TOPIC, isRecordedMethod } from '../../src/replay/tape/tape-recorder.js';
import { TAPE_MISS_CODE, TapeServer } from '../../src/replay/tape/tape-server.js';

/**
 * The replay tape on a real devnet (anvil with Uniswap V2 and V3): reads go through the recording
 * proxy, sends pass through unrecorded, mined blocks are read back with their pools; then the node
 * is stopped and the tape server answers the same reads with the same answers.
 */

type Reply = { jsonrpc: string; id: unknown; result?: unknown; error?: { code: number; message: string; data?: unknown } };

let nextId = 1;

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** One call; returns the reply's result or error, without the envelope. */
async function call(url: string, method: string, params: unknown[]): Promise<{ result: unknown } | { error: unknown }> {
  const id = nextId++;
  const { status, body } = await post(url, { jsonrpc: '2.0', id, method, params });
  assert.equal(status, 200, `${method}: HTTP ${status}`);
  const r = body as Reply;
  assert.equal(r.id, id);
  return r.error !== undefined ? { error: r.error } : { result: r.result };
}

/** A batch; returns the answers in call order (paired by id). */
async function batch(url: string, calls: readonly (readonly [string, readonly unknown[]])[]): Promise<({ result: unknown } | { error: unknown })[]> {
  const first = nextId;
  nextId += calls.length;
  const { status, body } = await post(url, calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: first + i, method, params })));
  assert.equal(status, 200);
  const replies = body as Reply[];
  assert.equal(replies.length, calls.length);
  const out = new Array<{ result: unknown } | { error: unknown }>(calls.length);
  for (const r of replies) out[(r.id as number) - first] = r.error !== undefined ? { error: r.error } : { result: r.result };
  return out;
}

/** Uppercases the hex digits of every 0x-string (checksum-like spelling): the tape must not care. */
function shout(v: unknown): unknown {
  if (typeof v === 'string') return /^0x[0-9a-f]+$/.test(v) ? `0x${v.slice(2).toUpperCase()}` : v;
  if (Array.isArray(v)) return v.map(shout);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, shout(x)]));
  return v;
}

/** Offsets of every record frame in a segment file. */
function frameOffsets(file: string): number[] {
  const b = readFileSync(file);
  const out: number[] = [];
  for (let at = PREFIX_BYTES + b.readUInt32LE(OFF_HEADER_LEN); at < b.length; at += FRAME_BYTES + b.readUInt32LE(at)) out.push(at);
  return out;
}


function mix(kinds: Partial<Record<TrafficKind, number>>): Record<TrafficKind, number> {
  return Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, kinds[k] ?? 0])) as Record<TrafficKind, number>;
}

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const hex = (n: number) => `0x${n.toString(16)}`;

/** The receipt of `hash` once the node has one (automine mines just after the send returns). */
async function receipt(url: string, hash: Hex): Promise<{ blockNumber: Hex; status: Hex }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await rpc<{ blockNumber: Hex; status: Hex } | null>(url, 'eth_getTransactionReceipt', [hash]);
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`${hash} not mined within 20 s`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('TapeRecorder / TapeServer', () => {
  let net: Devnet;
  let root: string;
  let tapeDir: string;
  let block: number;
  let pair: string;
  let deployer: string;
  /** Every read made through the recorder, with the node's answer. */
  const reads: { method: string; params: unknown[]; answer: { result: unknown } | { error: unknown } }[] = [];
  /** Mined blocks as recordMined returned them. */
  const minedBlocks: MinedBlock[] = [];
  let delegated: { authority: string; block: number } | null = null;
  const servers: TapeServer[] = [];

  before(async () => {
    net = await startDevnet({ blockTime: 0 });
    root = tempDir('orion-tape-');
    tapeDir = join(root, 'capture', 'tape');
    block = Number(await rpc<Hex>(net.anvil.rpcUrl, 'eth_blockNumber'));
    pair = net.deployment.v2[0]!.pairs[0]!.address.toLowerCase();
    deployer = net.deployment.deployer.toLowerCase();
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await net?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('default: records reads (single, batch, error answers), not sends, and mined blocks with the pools they touched', async () => {
    const rec = new TapeRecorder({ upstream: net.anvil.rpcUrl, dir: tapeDir, chainId: net.anvil.chainId });
    await rec.start();
    assert.match(rec.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    rec.writeMeta({ config: { chainId: net.anvil.chainId, simulator: { threads: 2 } }, writer: 'test' });
    const read = async (method: string, params: unknown[]) => {
      const answer = await call(rec.url, method, params);
      reads.push({ method, params, answer });
      return answer;
    };
    const tag = hex(block);
    const badSwap = encodeFunctionData({ abi: V2_PAIR_ABI, functionName: 'swap', args: [0n, 0n, deployer as Hex, '0x'] });
    const getReserves = encodeFunctionData({ abi: V2_PAIR_ABI, functionName: 'getReserves' });

    assert.deepEqual(await read('eth_chainId', []), { result: hex(net.anvil.chainId) });
    await read('eth_getBalance', [deployer, tag]);
    await read('eth_getTransactionCount', [deployer, tag]);
    const code = await read('eth_getCode', [pair, tag]);
    assert.ok('result' in code && typeof code.result === 'string' && code.result.length > 100, 'pair has code');
    assert.deepEqual(await read('eth_getCode', [deployer, tag]), { result: '0x' });
    await read('eth_getStorageAt', [pair, '0x8', tag]);
    await read('eth_call', [{ to: pair, data: getReserves }, tag]);
    await read('eth_getBlockByNumber', [tag, false]);
    await read('eth_getTransactionReceipt', [`0x${'ee'.repeat(32)}`]);
    // An error answer: the pair refuses a swap of nothing, with revert data.
    const reverted = await read('eth_call', [{ from: deployer, to: pair, data: badSwap }, tag]);
    assert.ok('error' in reverted, 'the bad swap reverts');
    assert.match((reverted.error as { message: string }).message, /INSUFFICIENT_OUTPUT_AMOUNT/);
    assert.ok(typeof (reverted.error as { data?: unknown }).data === 'string', 'revert data present');
    // A batch: answers pair with calls by id.
    const batchCalls = [
      ['eth_getBalance', [pair, tag]],
      ['eth_getStorageAt', [pair, '0x6', tag]],
      ['eth_getStorageAt', [pair, '0x7', tag]],
      ['eth_getCode', [net.deployment.weth.toLowerCase(), tag]],
      ['eth_unknownMethod', []],
    ] as const;
    const answers = await batch(rec.url, batchCalls);
    batchCalls.forEach(([method, params], i) => reads.push({ method, params: [...params], answer: answers[i]! }));
    assert.ok('error' in answers[4]!, 'an unknown method is an error answer');

    // A send goes through, and is not recorded.
    const account = privateKeyToAccount(net.anvil.privateKeys[0]!);
    const nonce = await call(rec.url, 'eth_getTransactionCount', [account.address, 'pending']);
    reads.push({ method: 'eth_getTransactionCount', params: [account.address, 'pending'], answer: nonce });
    const raw = await account.signTransaction({ type: 'eip1559', chainId: net.anvil.chainId, nonce: Number((nonce as { result: Hex }).result), to: `0x${'42'.repeat(20)}`, value: 1n, gas: 21_000n, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n });
    const sent = await call(rec.url, 'eth_sendRawTransaction', [raw]);
    assert.ok('result' in sent, `send failed: ${JSON.stringify(sent)}`);
    const transferReceipt = await receipt(net.anvil.rpcUrl, sent.result as Hex);
    assert.equal(transferReceipt.status, '0x1');

    // Swaps on V2 and V3 and a 7702 delegation, straight to the node, then their blocks recorded as mined.
    const run = net.traffic({ rate: 50, count: 6, mix: mix({ 'v2-swap': 1, 'v3-swap': 1 }), settleMs: 20_000 });
    const report = await run.done;
    const del = await net.traffic({ rate: 50, count: 1, mix: mix({ delegate: 1 }), settleMs: 20_000, seed: 9 }).done;
    const txs: TrafficTx[] = [...report.records, ...del.records];
    const blockOf = new Map<string, number>();
    for (const t of txs) blockOf.set(t.hash.toLowerCase(), Number((await receipt(net.anvil.rpcUrl, t.hash)).blockNumber));
    const numbers = [...new Set([Number(transferReceipt.blockNumber), ...blockOf.values()])].sort((a, b) => a - b);
    for (const n of numbers) {
      const m = await rec.recordMined(n);
      assert.ok(m, `block ${n}`);
      minedBlocks.push(m);
    }
    assert.equal(await rec.recordMined(10_000_000), null, 'a block the node does not have');

    const v2 = new Set(net.deployment.v2.flatMap((v) => v.pairs.map((p) => p.address.toLowerCase())));
    const v3 = new Set(net.deployment.v3!.pools.map((p) => p.address.toLowerCase()));
    const minedTx = new Map(minedBlocks.flatMap((b) => b.txs.map((t) => [t.hash, { ...t, block: b.number }] as const)));
    const transfer = minedTx.get((sent.result as string).toLowerCase())!;
    assert.deepEqual({ ...transfer, block: 0 }, { hash: (sent.result as string).toLowerCase(), from: account.address.toLowerCase(), to: `0x${'42'.repeat(20)}`, nonce: Number((nonce as { result: Hex }).result), status: 1, touched: [], block: 0 });
    let swapsSeen = { v2: 0, v3: 0 };
    for (const t of report.records) {
      const m = minedTx.get(t.hash.toLowerCase());
      assert.ok(m, `swap ${t.hash} in a mined record`);
      assert.equal(m.from, t.from.toLowerCase());
      assert.equal(m.nonce, t.nonce);
      if (m.status !== 1) continue;
      assert.ok(m.touched.length > 0, `${t.kind} ${t.method} touched no pool`);
      const venue = t.kind === 'v2-swap' ? v2 : v3;
      for (const a of m.touched) assert.ok(venue.has(a), `${t.kind} touched ${a}, not a ${t.kind === 'v2-swap' ? 'V2 pair' : 'V3 pool'}`);
      assert.equal(new Set(m.touched).size, m.touched.length, 'each pool once');
      swapsSeen = { ...swapsSeen, [t.kind === 'v2-swap' ? 'v2' : 'v3']: swapsSeen[t.kind === 'v2-swap' ? 'v2' : 'v3'] + 1 };
    }
    assert.ok(swapsSeen.v2 > 0 && swapsSeen.v3 > 0, `successful swaps on both venues: ${JSON.stringify(swapsSeen)}`);
    for (const b of minedBlocks) {
      const full = await rpc<{ hash: Hex; parentHash: Hex; timestamp: Hex; baseFeePerGas: Hex }>(net.anvil.rpcUrl, 'eth_getBlockByNumber', [hex(b.number), false]);
      assert.deepEqual([b.hash, b.parentHash, b.timestamp, b.baseFeePerGas], [full.hash, full.parentHash, Number(full.timestamp), full.baseFeePerGas]);
    }

    // The delegated account now has a 7702 designator as code; read it through the recorder.
    const authority = del.records[0]!.authorities![0]!.toLowerCase();
    const delBlock = blockOf.get(del.records[0]!.hash.toLowerCase())!;
    const delCode = await read('eth_getCode', [authority, hex(delBlock)]);
    assert.match((delCode as { result: string }).result, /^0xef0100[0-9a-f]{40}$/);
    delegated = { authority, block: delBlock };

    await rec.close();
    await rec.close(); // idempotent
    const s = rec.stats();
    assert.equal(s.recorded, reads.length);
    assert.equal(s.calls, reads.length + 1, 'the send counts as a call');
    assert.equal(s.upstreamErrors, 0);
    assert.equal(s.unrecorded, 0, String(s.lastUnrecorded));
    assert.equal(s.mined, numbers.length);
    assert.equal(s.bytes, readdirSync(tapeDir).reduce((n, f) => n + readFileSync(join(tapeDir, f)).length, 0));

    const recs = [...openCapture(tapeDir).records()];
    const states = recs.filter((r): r is StateRecord => r.t === 'state');
    assert.deepEqual(states.map((r) => r.m), reads.map((r) => r.method));
    assert.ok(!states.some((r) => /send/i.test(r.m)), 'a send was recorded');
    const nullResult = states.find((r) => r.m === 'eth_getTransactionReceipt')!;
    assert.ok('r' in nullResult && nullResult.r === null && nullResult.e === undefined, 'a null result is a result');
    assert.deepEqual(readdirSync(tapeDir), ['tape-000000.orcap']);
  });

  it('behavior: without eth_getBlockReceipts on the node, receipts are read per transaction', async () => {
    // A filter in front of the real node that says it lacks the method, as some nodes do.
    let blockReceiptsAsked = 0;
    const filter: Server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number; method: string }[] | { id: number; method: string };
      const calls = Array.isArray(body) ? body : [body];
      if (calls.some((c) => c.method === 'eth_getBlockReceipts')) {
        blockReceiptsAsked++;
        const answer = calls.map((c) => ({ jsonrpc: '2.0', id: c.id, error: { code: -32601, message: 'the method eth_getBlockReceipts does not exist/is not available' } }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(Array.isArray(body) ? answer : answer[0]));
        return;
      }
      const up = await fetch(net.anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) });
      res.writeHead(up.status, { 'content-type': 'application/json' });
      res.end(Buffer.from(await up.arrayBuffer()));
    });
    await new Promise<void>((r) => filter.listen(0, '127.0.0.1', r));
    try {
      const rec = new TapeRecorder({ upstream: `http://127.0.0.1:${(filter.address() as AddressInfo).port}`, dir: join(root, 'no-block-receipts'), chainId: net.anvil.chainId });
      for (const want of minedBlocks.slice(0, 3)) assert.deepEqual(await rec.recordMined(want.number), want);
      assert.equal(blockReceiptsAsked, 1, 'asked once, then remembered');
      await rec.close();
    } finally {
      filter.closeAllConnections();
      await new Promise((r) => filter.close(r));
    }
  });

  it('behavior: a read a block number fixes is answered as first answered, even if the node changes its mind; latest reads are not', async () => {
    // A node that answers every call with a new number (as anvil does for its head block while it mines the next).
    let n = 0;
    const fickle: Server = createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      const q = JSON.parse(body) as { id: unknown }[] | { id: unknown };
      const one = (c: { id: unknown }) => ({ jsonrpc: '2.0', id: c.id, result: `0x${(++n).toString(16)}` });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(q) ? q.map(one) : one(q)));
    });
    await new Promise<void>((r) => fickle.listen(0, '127.0.0.1', r));
    const dir = join(root, 'pinned');
    const rec = new TapeRecorder({ upstream: `http://127.0.0.1:${(fickle.address() as AddressInfo).port}`, dir, chainId: 1 });
    await rec.start();
    const at5 = ['0x70997970c51812dc3a010c7d01b50e0d17dc79c8', '0x5'];
    const first = await call(rec.url, 'eth_getTransactionCount', at5);
    const again = await batch(rec.url, [['eth_getTransactionCount', at5], ['eth_getBalance', at5], ['eth_getTransactionCount', ['0x70997970c51812dc3a010c7d01b50e0d17dc79c8', 'latest']]]);
    const latest = await call(rec.url, 'eth_getTransactionCount', ['0x70997970c51812dc3a010c7d01b50e0d17dc79c8', 'latest']);
    await Promise.all([rec.close(), new Promise((r) => fickle.close(r))]);
    assert.deepEqual(again[0], first, 'the block-5 read is answered as the first time');
    assert.notDeepEqual(latest, again[2], 'latest reads go to the node every time');
    assert.equal(rec.stats().pinnedHits, 1);
    const server = new TapeServer({ dir });
    servers.push(server);
    assert.deepEqual(server.answer('eth_getTransactionCount', at5), first);
    const records = [...openCapture(dir, { prefix: 'tape' }).records()].filter((r) => r.t === 'state' && r.m === 'eth_getTransactionCount' && (r as StateRecord).p[1] === '0x5');
    assert.equal(records.length, 1, 'recorded once');
  });

  it('error: an upstream that is down answers 502 with a JSON-RPC error per call, and nothing is recorded', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const rec = new TapeRecorder({ upstream: `http://user:secret@127.0.0.1:${port}/key`, dir: join(root, 'down'), chainId: 1 });
    await rec.start();
    const single = await post(rec.url, { jsonrpc: '2.0', id: 7, method: 'eth_blockNumber', params: [] });
    assert.equal(single.status, 502);
    assert.equal((single.body as Reply).id, 7);
    assert.match((single.body as Reply).error!.message, /upstream http:\/\/127\.0\.0\.1:\d+\/key unreachable \(ECONNREFUSED\)/);
    assert.doesNotMatch(JSON.stringify(single.body), /secret/);
    const many = await post(rec.url, [{ jsonrpc: '2.0', id: 1, method: 'eth_chainId' }, { jsonrpc: '2.0', id: 'b', method: 'eth_blockNumber' }]);
    assert.equal(many.status, 502);
    assert.deepEqual((many.body as Reply[]).map((r) => [r.id, r.error!.code]), [[1, -32000], ['b', -32000]]);
    await rec.close();
    assert.deepEqual({ ...rec.stats(), lastUnrecorded: null }, { calls: 3, recorded: 0, upstreamErrors: 2, mined: 0, unrecorded: 0, lastUnrecorded: null, pinnedHits: 0, bytes: rec.stats().bytes });
    assert.equal([...openCapture(join(root, 'down')).records()].length, 0);
  });

  describe('with the node stopped', () => {
    let tape: TapeServer;

    before(async () => {
      await net.stop();
      tape = new TapeServer({ dir: tapeDir });
      servers.push(tape);
      await tape.start();
    });

    it('default: every recorded read gets the answer the node gave, single or batched, however hex is spelled', async () => {
      assert.equal(tape.size, reads.length);
      assert.equal(tape.chainId, net.anvil.chainId);
      for (const r of reads) assert.deepEqual(await call(tape.url, r.method, r.params), r.answer, `${r.method} ${JSON.stringify(r.params)}`);
      const shouted = await batch(tape.url, reads.map((r) => [r.method, shout(r.params) as unknown[]] as const));
      assert.deepEqual(shouted, reads.map((r) => r.answer));
      assert.deepEqual(tape.meta(), { config: { chainId: net.anvil.chainId, simulator: { threads: 2 } }, writer: 'test' });
      assert.deepEqual(tape.mined(), minedBlocks);
      assert.deepEqual(tape.stats(), { calls: reads.length * 2, served: reads.length * 2, codeFallbacks: 0, conflicts: 0, misses: 0, firstMisses: [] });
    });

    it('behavior: eth_getCode at a later block serves deployed code recorded earlier; not empty code, not a 7702 delegation, not an earlier block', async () => {
      const before = tape.stats();
      const code = reads.find((r) => r.method === 'eth_getCode' && r.params[0] === pair)!.answer;
      assert.deepEqual(await call(tape.url, 'eth_getCode', [pair.toUpperCase().replace('0X', '0x'), hex(block + 5)]), code);
      assert.deepEqual(await call(tape.url, 'eth_getCode', [pair, { blockNumber: hex(block + 1) }]), code);
      const misses: unknown[][] = [
        [pair, hex(block - 1)],
        [pair, 'latest'],
        [deployer, hex(block + 1)],
        [delegated!.authority, hex(delegated!.block + 1)],
      ];
      for (const params of misses) {
        const a = await call(tape.url, 'eth_getCode', params);
        assert.equal((a as { error: { code: number } }).error?.code, TAPE_MISS_CODE, `eth_getCode ${JSON.stringify(params)} should miss`);
      }
      const after = tape.stats();
      assert.equal(after.codeFallbacks - before.codeFallbacks, 2);
      assert.equal(after.misses - before.misses, misses.length);
    });

    it('error: a read the tape lacks is a -32001 error naming method, params and tape, and is remembered', async () => {
      const before = tape.stats();
      const params = [deployer, hex(block + 100)];
      const a = await call(tape.url, 'eth_getBalance', params);
      assert.deepEqual(a, { error: { code: -32001, message: `capture lacks state read: eth_getBalance ${JSON.stringify(params)} (tape ${tapeDir})` } });
      await call(tape.url, 'eth_getBalance', params);
      const s = tape.stats();
      assert.equal(s.misses - before.misses, 2);
      assert.equal(s.calls - before.calls, 2);
      assert.equal(s.served, before.served);
      assert.deepEqual(s.firstMisses.at(-1), { method: 'eth_getBalance', params }, 'remembered once');
      assert.equal(s.firstMisses.filter((m) => m.method === 'eth_getBalance').length, 1);
    });

    it('behavior: a batch of hits and misses answers each call by id; notifications get no answer', async () => {
      const hit = reads.find((r) => r.method === 'eth_getStorageAt')!;
      const err = reads.find((r) => r.method === 'eth_unknownMethod')!;
      const { status, body } = await post(tape.url, [
        { jsonrpc: '2.0', id: 'a', method: hit.method, params: hit.params },
        { jsonrpc: '2.0', id: 'b', method: 'eth_getStorageAt', params: [pair, '0x99', hex(block)] },
        { jsonrpc: '2.0', method: 'eth_chainId', params: [] },
        { jsonrpc: '2.0', id: 'c', method: err.method, params: err.params },
        { jsonrpc: '2.0', id: 'd', method: 'eth_sendRawTransaction', params: ['0x02'] },
      ]);
      assert.equal(status, 200);
      const replies = body as Reply[];
      assert.deepEqual(replies.map((r) => r.id), ['a', 'b', 'c', 'd']);
      assert.deepEqual({ result: replies[0]!.result }, hit.answer);
      assert.equal(replies[1]!.error!.code, TAPE_MISS_CODE);
      assert.match(replies[1]!.error!.message, /^capture lacks state read: eth_getStorageAt \[/);
      assert.deepEqual({ error: replies[2]!.error }, err.answer);
      assert.equal(replies[3]!.error!.code, TAPE_MISS_CODE, 'sends were never recorded');
      const bad = await post(tape.url, '{"jsonrpc":"2.0","id":1,"method"');
      assert.deepEqual(bad.body, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    });

    it('error: a damaged tape fails to load with the CaptureError naming file and offset', () => {
      const copy = join(root, 'damaged');
      cpSync(tapeDir, copy, { recursive: true });
      const file = join(copy, 'tape-000000.orcap');
      const offsets = frameOffsets(file);
      const at = offsets[Math.floor(offsets.length / 2)]!;
      const bytes = readFileSync(file);
      bytes[at + FRAME_BYTES + 3]! ^= 0x40;
      writeFileSync(file, bytes);
      const crc = captureError(() => new TapeServer({ dir: copy }), 'crc');
      assert.equal(crc.file, file);
      assert.equal(crc.offset, at);
      assert.match(crc.message, new RegExp(`tape-000000\\.orcap at byte ${at}: record CRC mismatch`));

      bytes[at + FRAME_BYTES + 3]! ^= 0x40;
      writeFileSync(file, bytes);
      truncateSync(file, bytes.length - 5);
      const torn = captureError(() => new TapeServer({ dir: copy }), 'truncated');
      assert.equal(torn.offset, offsets.at(-1));
      assert.ok(new TapeServer({ dir: copy, allowTruncatedTail: true }).size > 0, 'a torn tail is accepted only on request');
      captureError(() => new TapeServer({ dir: join(root, 'nothing-here') }), 'io');
    });
  });
});

describe('TapeServer on a written tape', () => {
  const root = tempDir('orion-tape-unit-');
  after(() => rmSync(root, { recursive: true, force: true }));
  const addr = `0x${'ab'.repeat(20)}`;
  const delegation = `0xef0100${'cd'.repeat(20)}`;

  function writeTape(dir: string, fill: (w: CaptureWriter) => void): void {
    const w = new CaptureWriter(dir, { chainId: 5, sources: [], prefix: 'tape', startNs: 0, flushMs: 0 });
    fill(w);
    w.close();
  }

  function mined(number: number, hash: string): MinedBlock {
    return { number, hash, parentHash: `0x${(number - 1).toString(16).padStart(64, '0')}`, timestamp: 1000 + number, baseFeePerGas: null, txs: [] };
  }

  it('behavior: first answer wins on conflicts; a 7702 delegation is never a code fallback; a later mined record of a height replaces the earlier', () => {
    const dir = join(root, 'conflicts');
    writeTape(dir, (w) => {
      w.writeState(1, 'eth_blockNumber', [], { result: '0x10' });
      w.writeState(2, 'eth_blockNumber', [], { result: '0x11' });
      w.writeState(3, 'eth_blockNumber', [], { result: '0x12' });
      w.writeState(4, 'eth_getBalance', [addr, '0x10'], { result: '0x5' });
      w.writeState(5, 'eth_getBalance', [addr.toUpperCase().replace('0X', '0x'), '0x10'], { result: '0x5' });
      w.writeState(6, 'eth_getCode', [addr, '0x10'], { result: delegation });
      w.writeState(7, 'eth_call', [{ to: addr, data: '0x01' }, '0x10'], { error: { code: 3, message: 'execution reverted' } });
      w.writeState(8, 'eth_call', [{ data: '0x01', to: addr }, '0x10'], { result: '0x' });
      w.writeMined(9, mined(12, `0x${'01'.repeat(32)}`));
      w.writeMined(10, mined(11, `0x${'02'.repeat(32)}`));
      w.writeMined(11, mined(12, `0x${'03'.repeat(32)}`));
    });
    const tape = new TapeServer({ dir });
    assert.equal(tape.size, 8);
    assert.equal(tape.keys, 4);
    assert.equal(tape.chainId, 5);
    assert.deepEqual(tape.answer('eth_blockNumber', []), { result: '0x10' });
    assert.deepEqual(tape.answer('eth_blockNumber', undefined), { result: '0x10' }, 'no params means []');
    assert.deepEqual(tape.answer('eth_call', [{ to: addr, data: '0x01' }, '0x10']), { error: { code: 3, message: 'execution reverted' } });
    assert.deepEqual(tape.answer('eth_getCode', [addr, '0x10']), { result: delegation }, 'an exact record is served whatever it holds');
    assert.equal((tape.answer('eth_getCode', [addr, '0x11']) as { error: { code: number } }).error.code, TAPE_MISS_CODE);
    assert.deepEqual(tape.mined().map((b) => [b.number, b.hash]), [[11, `0x${'02'.repeat(32)}`], [12, `0x${'03'.repeat(32)}`]]);
    assert.equal(tape.meta(), null);
    const s = tape.stats();
    assert.equal(s.conflicts, 2, 'eth_blockNumber and the eth_call that once reverted');
    assert.deepEqual([s.calls, s.served, s.misses, s.codeFallbacks], [5, 4, 1, 0]);
  });

  it('behavior: the code fallback takes the greatest recorded block at or below the one asked', () => {
    const dir = join(root, 'code');
    writeTape(dir, (w) => {
      w.writeState(1, 'eth_getCode', [addr, '0x20'], { result: '0x6001' });
      w.writeState(2, 'eth_getCode', [addr, '0x10'], { result: '0x' });
      w.writeState(3, 'eth_getCode', [addr, '0x30'], { result: '0x6003' });
    });
    const tape = new TapeServer({ dir });
    assert.equal((tape.answer('eth_getCode', [addr, '0x15']) as { error?: unknown }).error !== undefined, true, 'empty at 0x10: no fallback');
    assert.deepEqual(tape.answer('eth_getCode', [addr, '0x25']), { result: '0x6001' });
    assert.deepEqual(tape.answer('eth_getCode', [addr, '0x3000']), { result: '0x6003' });
    assert.equal(tape.stats().codeFallbacks, 2);
  });

  it('args: canonicalKey lowercases hex and sorts keys, and nothing else', () => {
    assert.equal(canonicalKey('eth_call', [{ To: '0xAB', data: '0xCd' }, 'Latest', 1]), 'eth_call [{"To":"0xab","data":"0xcd"},"Latest",1]');
    assert.equal(canonicalKey('m', [{ b: 1, a: [true, null, 'x'] }]), canonicalKey('m', [{ a: [true, null, 'x'], b: 1 }]));
    assert.notEqual(canonicalKey('m', ['0x1']), canonicalKey('m', ['0x01']));
    assert.notEqual(canonicalKey('m', [1]), canonicalKey('m', ['0x1']));
    assert.equal(canonicalKey('m', ['0xZZ']), 'm ["0xZZ"]');
  });

  it('args: isRecordedMethod leaves out sends and node control', () => {
    for (const m of ['eth_sendRawTransaction', 'eth_sendBundle', 'eth_sendPrivateTransaction', 'eth_cancelBundle', 'eth_callBundle', 'mev_sendBundle', 'anvil_setBalance', 'evm_mine']) assert.equal(isRecordedMethod(m), false, m);
    for (const m of ['eth_call', 'eth_getLogs', 'eth_getBlockReceipts', 'eth_chainId']) assert.equal(isRecordedMethod(m), true, m);
    assert.deepEqual([V2_SYNC_TOPIC, V2_SWAP_TOPIC, V3_SWAP_TOPIC].map((t) => t.length), [66, 66, 66]);
  });
});
