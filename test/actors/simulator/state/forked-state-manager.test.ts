import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StateManagerInterface } from '@ethereumjs/common';
import { Account, type Address, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { keccak_256 } from '@noble/hashes/sha3';
import { ForkedStateManager } from '../../../../src/actors/simulator/state/forked-state-manager.js';
import { KECCAK256_EMPTY, RpcState, slotKey } from '../../../../src/actors/simulator/state/rpc-state.js';
import { type Anvil, rpc, startAnvil } from '../../../../src/devnet/anvil.js';
import { mulberry32 } from '../../../support/prng.js';

/** A contract on the node with code and two non-zero slots. */
const C_HEX = '0x1111111111111111111111111111111111111111';
const C_CODE = '0x6001600055';
/** An address the node has never seen (nonce 0, balance 0, no code). */
const E_HEX = '0x2222222222222222222222222222222222222222';
/** An externally owned account with a balance and a nonce. */
const U_HEX = '0x3333333333333333333333333333333333333333';

const C = createAddressFromString(C_HEX);
const E = createAddressFromString(E_HEX);
const U = createAddressFromString(U_HEX);
const K0 = hexToBytes(slotKey(0) as `0x${string}`);
const K1 = hexToBytes(slotKey(1) as `0x${string}`);
const K2 = hexToBytes(slotKey(2) as `0x${string}`);

const toHex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;
const bytes = (h: string) => hexToBytes(h as `0x${string}`);

describe('ForkedStateManager', () => {
  let anvil: Anvil;
  let url: string;
  let block: number;
  let source: RpcState;

  before(async () => {
    anvil = await startAnvil({});
    url = anvil.rpcUrl;
    await rpc(url, 'anvil_setBalance', [C_HEX, '0x1234']);
    await rpc(url, 'anvil_setNonce', [C_HEX, '0x1']);
    await rpc(url, 'anvil_setCode', [C_HEX, C_CODE]);
    await rpc(url, 'anvil_setStorageAt', [C_HEX, slotKey(0), `0x${'0'.repeat(60)}0100`]);
    await rpc(url, 'anvil_setStorageAt', [C_HEX, slotKey(1), `0x${'0'.repeat(62)}07`]);
    await rpc(url, 'anvil_setBalance', [U_HEX, '0xde0b6b3a7640000']);
    await rpc(url, 'anvil_setNonce', [U_HEX, '0x5']);
    await rpc(url, 'evm_mine');
    block = Number(await rpc<string>(url, 'eth_blockNumber'));
    source = new RpcState({ url, blockNumber: block });
  });
  after(async () => {
    await anvil?.stop();
  });

  /** A fresh state manager over the shared (warm) node cache. */
  const fresh = (emptyAccountsExist?: boolean) => new ForkedStateManager(source, emptyAccountsExist);

  /** The node's view, read over RPC (not through any cache). */
  async function node() {
    const tag = `0x${block.toString(16)}`;
    return {
      cBalance: BigInt(await rpc<string>(url, 'eth_getBalance', [C_HEX, tag])),
      cCode: await rpc<string>(url, 'eth_getCode', [C_HEX, tag]),
      cSlot0: await rpc<string>(url, 'eth_getStorageAt', [C_HEX, slotKey(0), tag]),
      uNonce: BigInt(await rpc<string>(url, 'eth_getTransactionCount', [U_HEX, tag])),
      eBalance: BigInt(await rpc<string>(url, 'eth_getBalance', [E_HEX, 'latest'])),
    };
  }

  it('default: reads fall through to the node\'s state at the cached block', async () => {
    const sm = fresh();
    const c = await sm.getAccount(C);
    assert.ok(c);
    assert.equal(c.nonce, 1n);
    assert.equal(c.balance, 0x1234n);
    assert.deepEqual(c.codeHash, keccak_256(bytes(C_CODE)));
    assert.equal(toHex(await sm.getCode(C)), C_CODE);
    assert.equal(await sm.getCodeSize(C), 5);
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x0100', 'slots read unpadded');
    assert.equal(toHex(await sm.getStorage(C, K1)), '0x07');
    assert.equal((await sm.getStorage(C, K2)).length, 0, 'a zero slot reads as empty bytes');
    const u = await sm.getAccount(U);
    assert.equal(u?.nonce, 5n);
    assert.equal(u?.balance, 10n ** 18n);
    assert.deepEqual(u?.codeHash, KECCAK256_EMPTY);
    assert.equal((await sm.getCode(U)).length, 0);
    assert.equal(sm.depth, 0);
  });

  it('behavior: writes are layered over the node cache and never reach the node', async () => {
    const sm = fresh();
    const before = await node();
    const cachedC = source.peekAccount(C_HEX);
    assert.ok(cachedC);
    const cachedBalance = cachedC.balance;
    await sm.putAccount(C, new Account(9n, 99n, undefined, keccak_256(bytes(C_CODE))));
    await sm.putStorage(C, K0, bytes('0x2a'));
    await sm.putCode(U, bytes('0x60ff'));
    await sm.modifyAccountFields(E, { balance: 5n });
    await sm.deleteAccount(createAddressFromString('0x4444444444444444444444444444444444444444'));
    assert.equal((await sm.getAccount(C))?.balance, 99n);
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x2a');
    assert.equal(toHex(await sm.getCode(U)), '0x60ff');
    assert.equal((await sm.getAccount(E))?.balance, 5n);
    // The node and the shared cache are untouched; another state manager over the same cache sees the node.
    assert.deepEqual(await node(), before);
    assert.equal(source.peekAccount(C_HEX)?.balance, cachedBalance);
    assert.equal(toHex(source.peekStorage(C_HEX, slotKey(0)) ?? new Uint8Array()), '0x0100');
    const other = fresh();
    assert.equal((await other.getAccount(C))?.balance, 0x1234n);
    assert.equal(toHex(await other.getStorage(C, K0)), '0x0100');
    assert.equal((await other.getCode(U)).length, 0);
  });

  it('behavior: getAccount returns a copy and putAccount stores a copy', async () => {
    const sm = fresh();
    const a = await sm.getAccount(C);
    assert.ok(a);
    a.balance = 1n;
    assert.equal((await sm.getAccount(C))?.balance, 0x1234n, 'mutating a read account changes nothing');
    const w = new Account(3n, 30n);
    await sm.putAccount(U, w);
    w.balance = 0n;
    const r = await sm.getAccount(U);
    assert.equal(r?.balance, 30n, 'mutating the account after putAccount changes nothing');
    assert.ok(r);
    r.nonce = 100n;
    assert.equal((await sm.getAccount(U))?.nonce, 3n);
  });

  it('args: putAccount with undefined deletes the account', async () => {
    const sm = fresh();
    await sm.putAccount(U, undefined);
    assert.equal(await sm.getAccount(U), undefined);
  });

  it('behavior: deleteAccount removes the account, its code and its storage', async () => {
    const sm = fresh();
    await sm.putStorage(C, K2, bytes('0x05'));
    await sm.deleteAccount(C);
    assert.equal(await sm.getAccount(C), undefined);
    assert.equal((await sm.getCode(C)).length, 0);
    assert.equal(await sm.getCodeSize(C), 0);
    assert.equal((await sm.getStorage(C, K0)).length, 0, 'node storage is gone');
    assert.equal((await sm.getStorage(C, K2)).length, 0, 'overlay storage is gone');
    // Re-created in the same overlay (say, receiving ETH): a fresh account, still without the old storage.
    await sm.putAccount(C, new Account(0n, 1n));
    assert.equal((await sm.getAccount(C))?.balance, 1n);
    assert.equal((await sm.getStorage(C, K0)).length, 0);
    assert.equal((await sm.getCode(C)).length, 0);
  });

  it('behavior: putCode writes the code and the account\'s code hash; getCodeSize follows', async () => {
    const sm = fresh();
    const code = bytes('0x60016002016000f3');
    await sm.putCode(U, code);
    assert.deepEqual(await sm.getCode(U), code);
    assert.equal(await sm.getCodeSize(U), code.length);
    const u = await sm.getAccount(U);
    assert.deepEqual(u?.codeHash, keccak_256(code));
    assert.equal(u?.nonce, 5n, 'the other fields are kept');
    assert.equal(u?.balance, 10n ** 18n);
    await sm.putCode(U, new Uint8Array(0));
    assert.deepEqual((await sm.getAccount(U))?.codeHash, KECCAK256_EMPTY);
    assert.equal(await sm.getCodeSize(U), 0);
  });

  it('behavior: putCode on an absent account creates it', async () => {
    const sm = fresh(false);
    assert.equal(await sm.getAccount(E), undefined);
    await sm.putCode(E, bytes('0x00'));
    const e = await sm.getAccount(E);
    assert.ok(e);
    assert.deepEqual(e.codeHash, keccak_256(bytes('0x00')));
    assert.equal(e.nonce, 0n);
  });

  it('behavior: putStorage and getStorage; slots of other accounts are separate', async () => {
    const sm = fresh();
    await sm.putStorage(C, K0, bytes('0x01'));
    await sm.putStorage(C, K2, bytes('0xffee'));
    await sm.putStorage(U, K0, bytes('0x09'));
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x01');
    assert.equal(toHex(await sm.getStorage(C, K1)), '0x07', 'untouched slots still come from the node');
    assert.equal(toHex(await sm.getStorage(C, K2)), '0xffee');
    assert.equal(toHex(await sm.getStorage(U, K0)), '0x09');
    await sm.putStorage(C, K0, new Uint8Array(0));
    assert.equal((await sm.getStorage(C, K0)).length, 0, 'writing zero shadows the node\'s value');
  });

  it('behavior: putStorage stores values unpadded, as MerkleStateManager does', async () => {
    const sm = fresh();
    const padded = new Uint8Array(32);
    padded[31] = 0x2a;
    await sm.putStorage(C, K0, padded);
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x2a');
    await sm.putStorage(C, K1, new Uint8Array(32));
    assert.equal((await sm.getStorage(C, K1)).length, 0);
  });

  it('behavior: clearStorage empties node and overlay slots; the account stays', async () => {
    const sm = fresh();
    await sm.putStorage(C, K2, bytes('0x05'));
    await sm.clearStorage(C);
    for (const k of [K0, K1, K2]) assert.equal((await sm.getStorage(C, k)).length, 0);
    assert.equal((await sm.getAccount(C))?.balance, 0x1234n);
    assert.equal(toHex(await sm.getCode(C)), C_CODE);
    await sm.putStorage(C, K1, bytes('0x08'));
    assert.equal(toHex(await sm.getStorage(C, K1)), '0x08');
    assert.equal((await sm.getStorage(C, K0)).length, 0);
  });

  it('behavior: modifyAccountFields changes only the given fields and creates an absent account', async () => {
    const sm = fresh(false);
    await sm.modifyAccountFields(C, { balance: 7n });
    const c = await sm.getAccount(C);
    assert.equal(c?.balance, 7n);
    assert.equal(c?.nonce, 1n);
    assert.deepEqual(c?.codeHash, keccak_256(bytes(C_CODE)));
    await sm.modifyAccountFields(C, { nonce: 2n });
    assert.equal((await sm.getAccount(C))?.balance, 7n);
    assert.equal((await sm.getAccount(C))?.nonce, 2n);
    await sm.modifyAccountFields(E, { nonce: 1n });
    const e = await sm.getAccount(E);
    assert.equal(e?.nonce, 1n);
    assert.equal(e?.balance, 0n);
    await sm.deleteAccount(U);
    await sm.modifyAccountFields(U, { balance: 3n });
    assert.equal((await sm.getAccount(U))?.nonce, 0n, 'a deleted account is re-created from scratch');
  });

  it('behavior: revert undoes exactly the writes since the checkpoint', async () => {
    const sm = fresh();
    await sm.putAccount(U, new Account(6n, 60n)); // before any checkpoint: kept
    await sm.putStorage(C, K2, bytes('0x22'));
    await sm.checkpoint();
    assert.equal(sm.depth, 1);
    await sm.putAccount(U, new Account(7n, 70n));
    await sm.putAccount(U, new Account(8n, 80n));
    await sm.modifyAccountFields(C, { balance: 1n });
    await sm.putStorage(C, K0, bytes('0x99'));
    await sm.putStorage(C, K2, bytes('0x33'));
    await sm.putStorage(E, K0, bytes('0x01'));
    await sm.putCode(C, bytes('0xfe'));
    await sm.putCode(E, bytes('0x00'));
    await sm.revert();
    assert.equal(sm.depth, 0);
    assert.equal((await sm.getAccount(U))?.nonce, 6n);
    assert.equal((await sm.getAccount(U))?.balance, 60n);
    assert.equal((await sm.getAccount(C))?.balance, 0x1234n);
    assert.deepEqual((await sm.getAccount(C))?.codeHash, keccak_256(bytes(C_CODE)));
    assert.equal(toHex(await sm.getCode(C)), C_CODE);
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x0100');
    assert.equal(toHex(await sm.getStorage(C, K2)), '0x22');
    assert.equal((await sm.getStorage(E, K0)).length, 0);
    assert.equal((await sm.getCode(E)).length, 0);
    const e = await sm.getAccount(E);
    assert.ok(e?.isEmpty(), 'E is back to the node\'s empty account');
  });

  it('behavior: a deleted account comes back on revert, with its code and storage', async () => {
    const sm = fresh();
    await sm.putStorage(C, K2, bytes('0x05'));
    await sm.checkpoint();
    await sm.putStorage(C, K1, bytes('0x06'));
    await sm.deleteAccount(C);
    await sm.putAccount(C, new Account(0n, 1n));
    await sm.putStorage(C, K0, bytes('0x01'));
    await sm.revert();
    const c = await sm.getAccount(C);
    assert.equal(c?.balance, 0x1234n);
    assert.equal(c?.nonce, 1n);
    assert.equal(toHex(await sm.getCode(C)), C_CODE);
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x0100');
    assert.equal(toHex(await sm.getStorage(C, K1)), '0x07');
    assert.equal(toHex(await sm.getStorage(C, K2)), '0x05');
  });

  it('behavior: revert undoes clearStorage', async () => {
    const sm = fresh();
    await sm.putStorage(C, K2, bytes('0x05'));
    await sm.checkpoint();
    await sm.clearStorage(C);
    await sm.putStorage(C, K2, bytes('0x06'));
    await sm.clearStorage(C);
    await sm.revert();
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x0100');
    assert.equal(toHex(await sm.getStorage(C, K2)), '0x05');
  });

  it('behavior: checkpoints nest; commit keeps writes undoable by the outer checkpoint', async () => {
    const sm = fresh();
    await sm.checkpoint();
    await sm.modifyAccountFields(U, { balance: 1n });
    await sm.checkpoint();
    assert.equal(sm.depth, 2);
    await sm.modifyAccountFields(U, { balance: 2n });
    await sm.putStorage(C, K0, bytes('0x02'));
    await sm.checkpoint();
    assert.equal(sm.depth, 3);
    await sm.modifyAccountFields(U, { balance: 3n });
    await sm.revert();
    assert.equal(sm.depth, 2);
    assert.equal((await sm.getAccount(U))?.balance, 2n, 'inner revert undoes only its own writes');
    await sm.commit();
    assert.equal(sm.depth, 1);
    assert.equal((await sm.getAccount(U))?.balance, 2n, 'commit keeps the writes');
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x02');
    await sm.revert();
    assert.equal(sm.depth, 0);
    assert.equal((await sm.getAccount(U))?.balance, 10n ** 18n, 'the outer revert undoes the committed inner writes too');
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x0100');
  });

  it('behavior: committing the outermost checkpoint keeps the writes for good', async () => {
    const sm = fresh();
    await sm.checkpoint();
    await sm.modifyAccountFields(U, { nonce: 42n });
    await sm.commit();
    assert.equal(sm.depth, 0);
    await sm.checkpoint();
    await sm.modifyAccountFields(U, { nonce: 43n });
    await sm.revert();
    assert.equal((await sm.getAccount(U))?.nonce, 42n);
  });

  it('behavior: a seeded random sequence of writes and checkpoints matches a copy-on-checkpoint model', async () => {
    const sm = fresh();
    const rng = mulberry32(0x5eed);
    const addrs = [C, U, E];
    const keys = [K0, K1, K2];
    type View = Map<string, string>;
    const read = async (): Promise<View> => {
      const v: View = new Map();
      for (const a of addrs) {
        const acc = await sm.getAccount(a);
        v.set(`${a}.acc`, acc === undefined ? 'none' : `${acc.nonce}/${acc.balance}/${toHex(acc.codeHash)}`);
        v.set(`${a}.code`, toHex(await sm.getCode(a)));
        for (const k of keys) v.set(`${a}.${toHex(k)}`, toHex(await sm.getStorage(a, k)));
      }
      return v;
    };
    const saved: View[] = [];
    let ops = 0;
    let reverts = 0;
    for (let step = 0; step < 600; step++) {
      const a = addrs[Math.floor(rng() * addrs.length)] as Address;
      const r = rng();
      if (r < 0.12) {
        saved.push(await read());
        await sm.checkpoint();
      } else if (r < 0.2 && saved.length > 0) {
        const want = saved.pop() as View;
        await sm.revert();
        reverts++;
        assert.deepEqual(await read(), want, `revert at step ${step}`);
      } else if (r < 0.27 && saved.length > 0) {
        saved.pop();
        await sm.commit();
      } else if (r < 0.5) {
        await sm.putStorage(a, keys[Math.floor(rng() * keys.length)] as Uint8Array, Uint8Array.of(1 + Math.floor(rng() * 255)));
      } else if (r < 0.65) {
        await sm.modifyAccountFields(a, { balance: BigInt(Math.floor(rng() * 1000)) });
      } else if (r < 0.72) {
        await sm.putAccount(a, new Account(BigInt(Math.floor(rng() * 10)), BigInt(Math.floor(rng() * 1000))));
      } else if (r < 0.8) {
        await sm.putCode(a, Uint8Array.of(Math.floor(rng() * 256), 0x00));
      } else if (r < 0.88) {
        await sm.clearStorage(a);
      } else if (r < 0.94) {
        await sm.deleteAccount(a);
      } else {
        await sm.putStorage(a, keys[Math.floor(rng() * keys.length)] as Uint8Array, new Uint8Array(0));
      }
      assert.equal(sm.depth, saved.length);
      ops++;
    }
    while (saved.length > 0) {
      const want = saved.pop() as View;
      await sm.revert();
      assert.deepEqual(await read(), want);
    }
    assert.equal(sm.depth, 0);
    assert.equal(ops, 600);
    assert.ok(reverts >= 20, `only ${reverts} reverts mid-sequence`);
  });

  it('behavior: reset drops every overlay write and checkpoint', async () => {
    const sm = fresh();
    await sm.putStorage(C, K0, bytes('0x01'));
    await sm.checkpoint();
    await sm.deleteAccount(U);
    await sm.putCode(C, bytes('0xfe'));
    await sm.checkpoint();
    await sm.originalStorageCache.get(C, K1);
    sm.reset();
    assert.equal(sm.depth, 0);
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x0100');
    assert.equal(toHex(await sm.getCode(C)), C_CODE);
    assert.equal((await sm.getAccount(U))?.balance, 10n ** 18n);
    // The original-storage cache was emptied: it reads the current value again.
    await sm.putStorage(C, K1, bytes('0x77'));
    assert.equal(toHex(await sm.originalStorageCache.get(C, K1)), '0x77');
  });

  it('behavior: originalStorageCache keeps the value a slot had when first read in a transaction', async () => {
    const sm = fresh();
    assert.equal(toHex(await sm.originalStorageCache.get(C, K0)), '0x0100');
    await sm.putStorage(C, K0, bytes('0x05'));
    assert.equal(toHex(await sm.originalStorageCache.get(C, K0)), '0x0100');
    sm.originalStorageCache.clear();
    assert.equal(toHex(await sm.originalStorageCache.get(C, K0)), '0x05');
  });

  it('args: emptyAccountsExist (default true): an empty node account exists', async () => {
    const sm = fresh();
    assert.equal(sm.emptyAccountsExist, true);
    const e = await sm.getAccount(E);
    assert.ok(e);
    assert.ok(e.isEmpty());
    assert.deepEqual(e.codeHash, KECCAK256_EMPTY);
  });

  it('args: emptyAccountsExist false: an empty node account reads as absent; other accounts are unchanged', async () => {
    const sm = fresh(false);
    assert.equal(sm.emptyAccountsExist, false);
    assert.equal(await sm.getAccount(E), undefined);
    assert.equal((await sm.getCode(E)).length, 0);
    assert.equal((await sm.getStorage(E, K0)).length, 0);
    assert.equal((await sm.getAccount(U))?.nonce, 5n);
    assert.equal((await sm.getAccount(C))?.balance, 0x1234n);
    // It only concerns the node's accounts: an empty account written in the overlay exists.
    await sm.putAccount(E, new Account());
    assert.ok((await sm.getAccount(E))?.isEmpty());
  });

  it('behavior: shallowCopy has the overlay (not the checkpoints) and is independent of it', async () => {
    const sm = fresh(false);
    await sm.putStorage(C, K0, bytes('0x01'));
    await sm.modifyAccountFields(U, { balance: 1n });
    await sm.checkpoint();
    await sm.deleteAccount(C);
    const copy = sm.shallowCopy();
    assert.equal(copy.depth, 0);
    assert.equal(copy.source, source);
    assert.equal(copy.emptyAccountsExist, false);
    assert.equal(await copy.getAccount(C), undefined);
    assert.equal((await copy.getAccount(U))?.balance, 1n);
    await copy.putAccount(U, new Account(0n, 2n));
    await copy.putStorage(U, K0, bytes('0x03'));
    assert.equal((await sm.getAccount(U))?.balance, 1n, 'writes to the copy do not reach the original');
    assert.equal((await sm.getStorage(U, K0)).length, 0);
    await sm.revert();
    assert.equal(toHex(await sm.getStorage(C, K0)), '0x01');
    assert.equal(await copy.getAccount(C), undefined, 'reverting the original does not touch the copy');
  });

  it('error: there is no state root', async () => {
    // Called through the interface, with the arguments ethereumjs passes.
    const sm: StateManagerInterface = fresh();
    await assert.rejects(sm.getStateRoot(), /no state root/);
    await assert.rejects(sm.setStateRoot(new Uint8Array(32)), /no state root/);
    assert.equal(await sm.hasStateRoot(new Uint8Array(32)), false);
    sm.clearCaches();
    assert.equal((await sm.getAccount(C))?.balance, 0x1234n);
  });

  it('error: a failed node read rejects the state read with the RpcState error', async () => {
    const broken = new ForkedStateManager(new RpcState({ url, blockNumber: block + 1000 }));
    await assert.rejects(broken.getAccount(C), { name: 'StateReadError', code: 'STATE_RPC_ERROR' });
    await assert.rejects(broken.getStorage(C, K0), { name: 'StateReadError', code: 'STATE_RPC_ERROR' });
    // What the overlay holds needs no node.
    await broken.putStorage(C, K0, bytes('0x01'));
    assert.equal(toHex(await broken.getStorage(C, K0)), '0x01');
  });
});
