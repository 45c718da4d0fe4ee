import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { keccak_256 } from '@noble/hashes/sha3';
import { KECCAK256_EMPTY, RpcState, StateReadError, type StateReadErrorCode, slotKey } from '../../../../src/actors/simulator/state/rpc-state.js';
import { type Anvil, rpc, startAnvil } from '../../../../src/devnet/anvil.js';

/** A contract whose code is `PUSH1 1 PUSH1 0 SSTORE`: calling it sets slot 0 to 1. */
const C = '0x1111111111111111111111111111111111111111';
const C_CODE = '0x6001600055';
/** An address nobody touches. */
const EMPTY_ADDR = '0x2222222222222222222222222222222222222222';
const S0 = slotKey(0);
const S1 = slotKey(1);
/** Slot 2 is never written. */
const S2 = slotKey(2);

const hex = (n: number) => `0x${n.toString(16)}`;
const toHex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;
/** The node's 32-byte slot word as the unpadded bytes RpcState returns. */
const unpadded = (word: string) => {
  const b = Buffer.from(word.slice(2), 'hex');
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return toHex(b.subarray(i));
};

function rejectsWith(code: StateReadErrorCode) {
  return (err: unknown) => {
    assert.ok(err instanceof StateReadError, `expected a StateReadError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.fatal, false);
    return true;
  };
}

interface Call { id: number; method: string; params: unknown[] }

/** A JSON-RPC endpoint on 127.0.0.1 whose reply each test sets: `reply(calls)` returns the raw body (and status). */
class FakeNode {
  server: Server;
  url = '';
  requests = 0;
  reply: (calls: Call[]) => { status?: number; body: string } = () => ({ body: '[]' });

  constructor() {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const calls = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Call[];
        const { status = 200, body } = this.reply(calls);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers every call with `result(call)` (a JSON value), ids echoed. */
  results(result: (c: Call) => unknown): void {
    this.reply = (calls) => ({ body: JSON.stringify(calls.map((c) => ({ jsonrpc: '2.0', id: c.id, result: result(c) }))) });
  }
}

/** A well-formed answer for each read method. */
function goodResult(c: Call): unknown {
  switch (c.method) {
    case 'eth_getTransactionCount': return '0x5';
    case 'eth_getBalance': return '0xde0b6b3a7640000';
    case 'eth_getCode': return '0x6000';
    case 'eth_getStorageAt': return `0x${'0'.repeat(62)}2a`;
    default: return null;
  }
}

describe('RpcState', () => {
  let anvil: Anvil;
  let url: string;
  let dev: string;
  /** Block with C's code and slots set; `next` is the block after a transaction changed them. */
  let pinned: number;
  let next: number;
  const fake = new FakeNode();

  before(async () => {
    anvil = await startAnvil({});
    url = anvil.rpcUrl;
    [dev] = (await rpc<string[]>(url, 'eth_accounts')).map((a) => a.toLowerCase()) as [string];
    await rpc(url, 'anvil_setBalance', [C, '0x1234']);
    await rpc(url, 'anvil_setNonce', [C, '0x7']);
    await rpc(url, 'anvil_setCode', [C, C_CODE]);
    await rpc(url, 'anvil_setStorageAt', [C, S0, `0x${'0'.repeat(60)}0100`]);
    await rpc(url, 'anvil_setStorageAt', [C, S1, `0x${'ab'.repeat(32)}`]);
    await rpc(url, 'evm_mine');
    pinned = Number(await rpc<string>(url, 'eth_blockNumber'));
    // A real transaction (automine): C's balance grows, its slot 0 becomes 1, dev's nonce and balance change.
    const hash = await rpc<string>(url, 'eth_sendTransaction', [{ from: dev, to: C, value: '0x10', gas: '0x30000' }]);
    let receipt: { blockNumber: string } | null = null;
    while (receipt === null) {
      receipt = await rpc<{ blockNumber: string } | null>(url, 'eth_getTransactionReceipt', [hash]);
      if (receipt === null) await new Promise((r) => setTimeout(r, 20));
    }
    next = Number(receipt.blockNumber);
    assert.equal(next, pinned + 1);
    await fake.listen();
  });
  after(async () => {
    await anvil?.stop();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  });

  async function nodeAccount(address: string, block: number) {
    const tag = hex(block);
    const [nonce, balance, code] = await Promise.all([
      rpc<string>(url, 'eth_getTransactionCount', [address, tag]),
      rpc<string>(url, 'eth_getBalance', [address, tag]),
      rpc<string>(url, 'eth_getCode', [address, tag]),
    ]);
    return { nonce: BigInt(nonce), balance: BigInt(balance), code };
  }

  async function assertAccountMatchesNode(s: RpcState, address: string, block: number) {
    const got = await s.account(address);
    const want = await nodeAccount(address, block);
    assert.equal(got.nonce, want.nonce, `nonce of ${address} at ${block}`);
    assert.equal(got.balance, want.balance, `balance of ${address} at ${block}`);
    assert.equal(toHex(got.code), want.code, `code of ${address} at ${block}`);
    assert.deepEqual(got.codeHash, want.code === '0x' ? KECCAK256_EMPTY : keccak_256(Buffer.from(want.code.slice(2), 'hex')));
  }

  it('default: account, code and storage reads equal the node\'s answers at the pinned block', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    assert.equal(s.blockNumber, pinned);
    for (const a of [C, dev, EMPTY_ADDR]) await assertAccountMatchesNode(s, a, pinned);
    for (const slot of [S0, S1, S2]) {
      const word = await rpc<string>(url, 'eth_getStorageAt', [C, slot, hex(pinned)]);
      assert.equal(toHex(await s.slot(C, slot)), unpadded(word), `slot ${slot}`);
    }
    // Spot values, so a test of equality with a broken node would still notice.
    const c = await s.account(C);
    assert.equal(c.nonce, 7n);
    assert.equal(c.balance, 0x1234n);
    assert.equal(toHex(c.code), C_CODE);
    assert.equal(toHex(await s.slot(C, S0)), '0x0100');
    assert.equal(toHex(await s.slot(C, S1)), `0x${'ab'.repeat(32)}`);
    assert.equal((await s.slot(C, S2)).length, 0);
    const e = await s.account(EMPTY_ADDR);
    assert.deepEqual([e.nonce, e.balance, e.code.length], [0n, 0n, 0]);
    assert.deepEqual(e.codeHash, KECCAK256_EMPTY);
  });

  it('behavior: reads the pinned block, not the head', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    const later = new RpcState({ url, blockNumber: next });
    assert.equal((await s.account(C)).balance, 0x1234n);
    assert.equal((await later.account(C)).balance, 0x1244n);
    assert.equal(toHex(await s.slot(C, S0)), '0x0100');
    assert.equal(toHex(await later.slot(C, S0)), '0x01');
    await assertAccountMatchesNode(s, dev, pinned);
    await assertAccountMatchesNode(later, dev, next);
    assert.notEqual((await s.account(dev)).nonce, (await later.account(dev)).nonce);
  });

  it('behavior: reads issued in one turn go out as one batch', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    const reads = [s.account(C), s.account(dev), s.slot(C, S0), s.slot(C, S1)];
    assert.equal(s.stats.batches, 0, 'nothing is sent before the turn ends');
    await Promise.all(reads);
    assert.equal(s.stats.batches, 1);
    assert.equal(s.stats.calls, 3 + 3 + 1 + 1);
    assert.equal(s.stats.misses, 4);
    assert.equal(s.stats.hits, 0);
  });

  it('behavior: reads in different turns go out as different batches', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    await s.account(C);
    await s.slot(C, S0);
    assert.equal(s.stats.batches, 2);
    assert.equal(s.stats.calls, 4);
  });

  it('args: maxBatch splits a turn\'s reads into batches of at most that many calls', async () => {
    const s = new RpcState({ url, blockNumber: pinned, maxBatch: 2 });
    await Promise.all([s.account(C), s.account(dev), s.slot(C, S0)]);
    assert.equal(s.stats.calls, 7);
    assert.equal(s.stats.batches, 4);
    await assertAccountMatchesNode(s, C, pinned);
    await assertAccountMatchesNode(s, dev, pinned);
  });

  it('behavior: a read in flight is shared, not sent twice', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    const a1 = s.account(C);
    const a2 = s.account(C);
    const s1 = s.slot(C, S0);
    const s2 = s.slot(C, S0);
    assert.ok(a1 instanceof Promise);
    assert.equal(a2, a1);
    assert.equal(s2, s1);
    const [x, y] = await Promise.all([a1, a2]);
    assert.equal(x, y);
    assert.deepEqual(await s1, await s2);
    assert.equal(s.stats.calls, 4);
    assert.equal(s.stats.misses, 2);
  });

  it('behavior: a read shared across turns while in flight is still sent once', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    const a1 = s.account(dev);
    await Promise.resolve(); // the batch has been handed to fetch, not answered
    const a2 = s.account(dev);
    assert.equal(a2, a1);
    await a2;
    assert.equal(s.stats.batches, 1);
    assert.equal(s.stats.calls, 3);
  });

  it('behavior: after the first read, reads are cache hits answered synchronously', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    const first = await s.account(C);
    const firstSlot = await s.slot(C, S1);
    const before = { ...s.stats, errors: { ...s.stats.errors } };
    const again = s.account(C);
    const againSlot = s.slot(C, S1);
    assert.ok(!(again instanceof Promise), 'a warm account read returns the value, not a promise');
    assert.ok(!(againSlot instanceof Promise), 'a warm slot read returns the value, not a promise');
    assert.equal(again, first);
    assert.equal(againSlot, firstSlot);
    assert.equal(s.stats.hits, before.hits + 2);
    assert.equal(s.stats.misses, before.misses);
    assert.equal(s.stats.batches, before.batches);
    assert.equal(s.peekAccount(C), first);
    assert.equal(s.peekStorage(C, S1), firstSlot);
    assert.deepEqual(s.size, { accounts: 1, slots: 1 });
  });

  it('behavior: a zero slot is cached as empty bytes and then hit', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    assert.equal((await s.slot(C, S2)).length, 0);
    assert.equal(s.peekStorage(C, S2)?.length, 0);
    assert.equal((s.slot(C, S2) as Uint8Array).length, 0);
    assert.equal(s.stats.hits, 1);
  });

  it('behavior: peek returns undefined for what has not been read', () => {
    const s = new RpcState({ url, blockNumber: pinned });
    assert.equal(s.peekAccount(C), undefined);
    assert.equal(s.peekStorage(C, S0), undefined);
    assert.deepEqual(s.size, { accounts: 0, slots: 0 });
  });

  it('behavior: invalidate drops the cache and reads the new block', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    await s.prefetch([C, dev], [[C, S0]]);
    assert.deepEqual(s.size, { accounts: 2, slots: 1 });
    s.invalidate(next);
    assert.equal(s.blockNumber, next);
    assert.deepEqual(s.size, { accounts: 0, slots: 0 });
    assert.equal(s.peekAccount(C), undefined);
    assert.equal(s.peekStorage(C, S0), undefined);
    const p = s.account(C);
    assert.ok(p instanceof Promise, 'a read after invalidate goes to the node');
    assert.equal((await p).balance, 0x1244n);
    assert.equal(toHex(await s.slot(C, S0)), '0x01');
    await assertAccountMatchesNode(s, dev, next);
  });

  it('behavior: contract code is kept across heads (nonce and balance are re-read), empty code is not, and forgetCode drops it', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    await s.prefetch([C, EMPTY_ADDR]);
    s.invalidate(next);
    const calls = s.stats.calls;
    const c = await s.account(C);
    assert.equal(s.stats.calls - calls, 2, 'nonce and balance only');
    assert.equal(c.balance, 0x1244n, 'the new head\'s balance');
    assert.equal(toHex(c.code), C_CODE);
    await s.account(EMPTY_ADDR);
    assert.equal(s.stats.calls - calls, 5, 'an account without code is read whole: a CREATE may fill it');
    s.forgetCode();
    s.invalidate(next);
    const before = s.stats.calls;
    await assertAccountMatchesNode(s, C, next);
    assert.equal(s.stats.calls - before, 3);
  });

  it('behavior: replies for the block before invalidate reach their caller but are not cached', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    const oldAccount = s.account(C);
    const oldSlot = s.slot(C, S0);
    s.invalidate(next);
    // Not shared with the old block's reads still in flight.
    const newAccount = s.account(C);
    assert.notEqual(newAccount, oldAccount);
    assert.equal((await oldAccount).balance, 0x1234n);
    assert.equal(toHex(await oldSlot), '0x0100');
    const fresh = await newAccount;
    assert.equal(fresh.balance, 0x1244n);
    assert.equal(s.peekAccount(C), fresh);
    assert.equal(s.peekStorage(C, S0), undefined, 'the old block\'s slot was not cached');
    assert.equal(toHex(await s.slot(C, S0)), '0x01');
  });

  it('behavior: invalidate while a batch is in flight does not cache the old block\'s reply', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    const old = s.account(C);
    await Promise.resolve(); // sent
    s.invalidate(next);
    assert.equal((await old).balance, 0x1234n);
    assert.equal(s.peekAccount(C), undefined);
    assert.deepEqual(s.size, { accounts: 0, slots: 0 });
  });

  it('behavior: prefetch warms accounts and slots in one batch', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    await s.prefetch([C, dev, EMPTY_ADDR], [[C, S0], [C, S1], [C, S2]]);
    assert.equal(s.stats.batches, 1);
    assert.equal(s.stats.calls, 9 + 3);
    assert.deepEqual(s.size, { accounts: 3, slots: 3 });
    const batches = s.stats.batches;
    for (const a of [C, dev, EMPTY_ADDR]) assert.ok(!(s.account(a) instanceof Promise));
    for (const k of [S0, S1, S2]) assert.ok(!(s.slot(C, k) instanceof Promise));
    assert.equal(s.stats.hits, 6);
    assert.equal(s.stats.batches, batches);
    assert.equal(s.peekAccount(C)?.balance, 0x1234n);
    assert.equal(toHex(s.peekStorage(C, S0) ?? new Uint8Array([0xff])), '0x0100');
  });

  it('behavior: prefetch of what is cached sends nothing', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    await s.prefetch([C], [[C, S0]]);
    await s.prefetch([C], [[C, S0]]);
    await s.prefetch([]);
    assert.equal(s.stats.batches, 1);
  });

  it('behavior: snapshot copies the cache', async () => {
    const s = new RpcState({ url, blockNumber: pinned });
    await s.prefetch([C], [[C, S0]]);
    const snap = s.snapshot();
    assert.equal(snap.accounts.get(C), s.peekAccount(C));
    assert.equal(toHex(snap.storage.get(C)?.get(S0) ?? new Uint8Array()), '0x0100');
    s.invalidate(next);
    assert.equal(snap.accounts.size, 1, 'a snapshot outlives invalidate');
  });

  it('default: slotKey pads a slot number to 32 bytes', () => {
    assert.equal(slotKey(0), `0x${'0'.repeat(64)}`);
    assert.equal(slotKey(8n), `0x${'0'.repeat(63)}8`);
    assert.equal(slotKey(255), `0x${'0'.repeat(62)}ff`);
  });

  it('args: the constructor checks url, blockNumber and maxBatch', () => {
    assert.throws(() => new RpcState({ url: '', blockNumber: 1 }), TypeError);
    assert.throws(() => new RpcState({ url, blockNumber: -1 }), RangeError);
    assert.throws(() => new RpcState({ url, blockNumber: 1.5 }), RangeError);
    assert.throws(() => new RpcState({ url, blockNumber: 1, maxBatch: 0 }), RangeError);
    assert.throws(() => new RpcState({ url, blockNumber: 1, maxBatch: 2.5 }), RangeError);
  });

  it('args: invalidate checks the block number', () => {
    const s = new RpcState({ url, blockNumber: pinned });
    assert.throws(() => s.invalidate(-1), RangeError);
    assert.throws(() => s.invalidate(Number.NaN), RangeError);
    assert.equal(s.blockNumber, pinned);
  });

  it('error: a JSON-RPC error from the node rejects with STATE_RPC_ERROR, counted per call', async () => {
    const s = new RpcState({ url, blockNumber: next + 1000 });
    await assert.rejects(Promise.resolve(s.account(C)), rejectsWith('STATE_RPC_ERROR'));
    assert.equal(s.stats.errors.STATE_RPC_ERROR, 3);
    await assert.rejects(Promise.resolve(s.slot(C, S0)), rejectsWith('STATE_RPC_ERROR'));
    assert.equal(s.stats.errors.STATE_RPC_ERROR, 4);
    assert.deepEqual(s.size, { accounts: 0, slots: 0 }, 'failures are not cached');
    assert.equal(s.stats.errors.STATE_TRANSPORT + s.stats.errors.STATE_BAD_REPLY, 0);
  });

  it('error: a failed read is not cached or shared; the next read asks again', async () => {
    const s = new RpcState({ url, blockNumber: next + 1000 });
    await assert.rejects(Promise.resolve(s.slot(C, S0)), rejectsWith('STATE_RPC_ERROR'));
    await assert.rejects(Promise.resolve(s.slot(C, S0)), rejectsWith('STATE_RPC_ERROR'));
    assert.equal(s.stats.batches, 2);
    // After the head catches up (invalidate to a block that exists), the same reads succeed.
    s.invalidate(pinned);
    assert.equal(toHex(await s.slot(C, S0)), '0x0100');
  });

  it('error: prefetch rejects with the first failure and keeps what succeeded', async () => {
    let n = 0;
    fake.reply = (calls) => ({
      body: JSON.stringify(calls.map((c) => (c.method === 'eth_getStorageAt' && n++ === 0
        ? { jsonrpc: '2.0', id: c.id, error: { code: -32000, message: 'missing trie node' } }
        : { jsonrpc: '2.0', id: c.id, result: goodResult(c) }))),
    });
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    await assert.rejects(s.prefetch([C], [[C, S0], [C, S1]]), (err: unknown) => {
      rejectsWith('STATE_RPC_ERROR')(err);
      assert.match((err as Error).message, /missing trie node/);
      return true;
    });
    assert.equal(s.stats.batches, 1);
    assert.equal(s.stats.errors.STATE_RPC_ERROR, 1);
    assert.equal(s.peekAccount(C)?.nonce, 5n);
    assert.equal(s.peekStorage(C, S0), undefined);
    assert.equal(toHex(s.peekStorage(C, S1) ?? new Uint8Array()), '0x2a');
  });

  it('error: connection refused rejects with STATE_TRANSPORT, counted per call', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const s = new RpcState({ url: `http://127.0.0.1:${port}`, blockNumber: 1 });
    const a = s.account(C);
    const b = s.slot(C, S0);
    await assert.rejects(Promise.resolve(a), rejectsWith('STATE_TRANSPORT'));
    await assert.rejects(Promise.resolve(b), rejectsWith('STATE_TRANSPORT'));
    assert.equal(s.stats.errors.STATE_TRANSPORT, 4);
    assert.equal(s.stats.batches, 1);
  });

  it('error: a non-2xx HTTP status rejects with STATE_TRANSPORT', async () => {
    fake.reply = () => ({ status: 503, body: 'overloaded' });
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    await assert.rejects(Promise.resolve(s.slot(C, S0)), (err: unknown) => {
      rejectsWith('STATE_TRANSPORT')(err);
      assert.match((err as Error).message, /503/);
      return true;
    });
    assert.equal(s.stats.errors.STATE_TRANSPORT, 1);
  });

  it('error: a reply that is not JSON rejects with STATE_BAD_REPLY', async () => {
    fake.reply = () => ({ body: '<html>bad gateway</html>' });
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    await assert.rejects(Promise.resolve(s.account(C)), rejectsWith('STATE_BAD_REPLY'));
    assert.equal(s.stats.errors.STATE_BAD_REPLY, 3);
    assert.equal(s.stats.errors.STATE_TRANSPORT, 0);
  });

  it('error: a reply that is not a batch (one object) rejects with STATE_BAD_REPLY', async () => {
    fake.reply = () => ({ body: JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'batch too large' } }) });
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    await assert.rejects(Promise.resolve(s.slot(C, S0)), rejectsWith('STATE_BAD_REPLY'));
    assert.equal(s.stats.errors.STATE_BAD_REPLY, 1);
  });

  it('error: a call missing from the batch reply rejects with STATE_BAD_REPLY; the others are answered', async () => {
    fake.reply = (calls) => ({
      body: JSON.stringify([null, 7, { jsonrpc: '2.0', id: 'x', result: '0x1' }, ...calls.filter((c) => c.method !== 'eth_getStorageAt').map((c) => ({ jsonrpc: '2.0', id: c.id, result: goodResult(c) }))]),
    });
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    const a = s.account(C);
    const b = s.slot(C, S0);
    assert.equal((await a).nonce, 5n);
    await assert.rejects(Promise.resolve(b), rejectsWith('STATE_BAD_REPLY'));
    assert.equal(s.stats.errors.STATE_BAD_REPLY, 1);
  });

  it('behavior: batch replies in any order are matched by id', async () => {
    fake.reply = (calls) => ({ body: JSON.stringify(calls.map((c) => ({ jsonrpc: '2.0', id: c.id, result: goodResult(c) })).reverse()) });
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    const [a, v] = await Promise.all([s.account(C), s.slot(C, S0)]);
    assert.equal(a.nonce, 5n);
    assert.equal(a.balance, 10n ** 18n);
    assert.equal(toHex(a.code), '0x6000');
    assert.equal(toHex(v), '0x2a');
  });

  it('behavior: requests carry the pinned block tag and lowercase params as given', async () => {
    const seen: Call[] = [];
    fake.reply = (calls) => {
      seen.push(...calls);
      return { body: JSON.stringify(calls.map((c) => ({ jsonrpc: '2.0', id: c.id, result: goodResult(c) }))) };
    };
    const s = new RpcState({ url: fake.url, blockNumber: 300 });
    await Promise.all([s.account(C), s.slot(C, S1)]);
    assert.deepEqual(seen.map((c) => [c.method, c.params]).sort(), [
      ['eth_getBalance', [C, '0x12c']],
      ['eth_getCode', [C, '0x12c']],
      ['eth_getStorageAt', [C, S1, '0x12c']],
      ['eth_getTransactionCount', [C, '0x12c']],
    ]);
    assert.equal(new Set(seen.map((c) => c.id)).size, 4, 'ids are unique in a batch');
  });

  it('error: a result of the wrong type rejects with STATE_BAD_REPLY and is counted', async () => {
    fake.results((c) => (c.method === 'eth_getBalance' ? 42 : goodResult(c)));
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    await assert.rejects(Promise.resolve(s.account(C)), rejectsWith('STATE_BAD_REPLY'));
    assert.equal(s.peekAccount(C), undefined);
    assert.equal(s.stats.errors.STATE_BAD_REPLY, 1, 'a malformed result counts as a failed call');
  });

  it('error: code of odd length rejects with STATE_BAD_REPLY and is counted', async () => {
    fake.results((c) => (c.method === 'eth_getCode' ? '0x600' : goodResult(c)));
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    await assert.rejects(Promise.resolve(s.account(C)), rejectsWith('STATE_BAD_REPLY'));
    assert.equal(s.stats.errors.STATE_BAD_REPLY, 1, 'a malformed result counts as a failed call');
  });

  it('error: a quantity that is not hex rejects with STATE_BAD_REPLY', async () => {
    fake.results((c) => (c.method === 'eth_getTransactionCount' ? '0xzz' : goodResult(c)));
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    await assert.rejects(Promise.resolve(s.account(C)), rejectsWith('STATE_BAD_REPLY'));
  });

  it('error: storage data that is not hex rejects with STATE_BAD_REPLY', async () => {
    fake.results((c) => (c.method === 'eth_getStorageAt' ? `0x${'zz'.repeat(32)}` : goodResult(c)));
    const s = new RpcState({ url: fake.url, blockNumber: 1 });
    await assert.rejects(Promise.resolve(s.slot(C, S0)), rejectsWith('STATE_BAD_REPLY'));
    assert.equal(s.peekStorage(C, S0), undefined);
  });
});
