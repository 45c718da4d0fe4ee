import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeTransaction } from '../../../../src/actors/decoder/tx/decode-tx.js';
import { TxDecodeError, type TxDecodeErrorCode } from '../../../../src/actors/decoder/tx/errors.js';
import { decodeRpcTransaction, encodeRpcTransaction } from '../../../../src/actors/decoder/tx/from-rpc.js';
import { toHex } from '../../../../src/actors/decoder/tx/hex.js';
import type { RpcTransaction } from '../../../../src/messages/schema.js';
import { type Generated, RPC_BLOCK_FILES, generateTransactions, rpcBlockTransactions } from './vectors.js';

function codeOf(fn: () => unknown): TxDecodeErrorCode | 'accepted' {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof TxDecodeError)) throw err;
    return err.code;
  }
  return 'accepted';
}

/** A DecodedTx as comparable plain data (bytes as hex). */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? toHex(x) : x)));
}

let generated: Generated[] = [];

describe('decodeRpcTransaction', () => {
  before(async () => {
    generated = await generateTransactions(23, 5);
  });

  it('default: JSON-RPC block transactions decode to their upstream hash and from', (t) => {
    let total = 0;
    const types: Record<string, number> = {};
    for (const file of RPC_BLOCK_FILES) {
      for (const obj of rpcBlockTransactions(file)) {
        const { tx, hashMismatch } = decodeRpcTransaction(obj);
        assert.equal(hashMismatch, false, `${file} ${String(obj.hash)}`);
        assert.equal(tx.hash, obj.hash);
        assert.equal(tx.from, obj.from);
        assert.equal(tx.nonce, BigInt(obj.nonce as string));
        if (obj.type === '0x3') assert.deepEqual(tx.blobVersionedHashes, obj.blobVersionedHashes);
        types[String(obj.type)] = (types[String(obj.type)] ?? 0) + 1;
        total++;
      }
    }
    assert.equal(total, 146);
    const line = `JSON-RPC block transactions: ${total}/${total} re-serialized to their hash and from (by type ${JSON.stringify(types)})`;
    t.diagnostic(line);
    console.log(line);
  });

  it('behavior: round trip of every type built with viem gives the same DecodedTx as its raw bytes', () => {
    const kinds = new Set<string>();
    for (const g of generated) {
      assert.deepEqual(encodeRpcTransaction(g.rpc), g.bytes, `${g.kind} re-serializes to the signed bytes`);
      const { tx, hashMismatch } = decodeRpcTransaction(g.rpc);
      assert.equal(hashMismatch, false, g.kind);
      assert.equal(tx.hash, g.hash);
      assert.equal(tx.from, g.from);
      assert.deepEqual(plain(tx), plain(decodeTransaction(g.bytes)), g.kind);
      if (g.type === 4) assert.deepEqual(tx.authorizationList!.map((a) => a.authority), g.authorities);
      kinds.add(g.kind);
    }
    assert.deepEqual([...kinds].sort(), ['eip155', 'eip1559', 'eip2930', 'eip4844', 'eip7702', 'legacy']);
  });

  it('behavior: an altered hash or field is flagged as a mismatch, not rejected', () => {
    for (const g of generated) {
      const wrongHash = decodeRpcTransaction({ ...g.rpc, hash: `0x${'00'.repeat(32)}` });
      assert.equal(wrongHash.hashMismatch, true);
      assert.equal(wrongHash.tx.hashMismatch, true);
      assert.equal(wrongHash.tx.hash, g.hash, 'the hash is ours, recomputed');
      const altered = decodeRpcTransaction({ ...g.rpc, value: '0x1234' });
      assert.equal(altered.hashMismatch, true, `${g.kind}: a changed field changes the hash`);
      assert.equal(decodeRpcTransaction({ ...g.rpc, hash: (g.rpc.hash as string).toUpperCase().replace('0X', '0x') }).hashMismatch, false, 'case does not matter');
      const { hash: _h, ...noHash } = g.rpc;
      assert.equal(decodeRpcTransaction(noHash).hashMismatch, false, 'nothing announced, nothing to compare');
    }
  });

  it('args: quantities as numbers or bigints, `data` for `input`, `gasLimit` for `gas`, typed v for yParity', () => {
    const g = generated.find((x) => x.kind === 'eip1559')!;
    const { input, gas, yParity: _y, ...rest } = g.rpc;
    const obj: RpcTransaction = { ...rest, data: input, gasLimit: gas, nonce: Number(BigInt(g.rpc.nonce as string)), value: BigInt(g.rpc.value as string), type: 2 };
    const { tx, hashMismatch } = decodeRpcTransaction(obj);
    assert.equal(hashMismatch, false);
    assert.equal(tx.hash, g.hash);
    const legacy = generated.find((x) => x.kind === 'legacy')!;
    const { type: _t, ...untyped } = legacy.rpc;
    assert.equal(decodeRpcTransaction(untyped).tx.hash, legacy.hash, 'no type means legacy');
  });

  it('args: the decode options apply (chain id)', () => {
    const g = generated.find((x) => x.kind === 'eip2930')!;
    const chainId = BigInt(g.rpc.chainId as string);
    assert.equal(decodeRpcTransaction(g.rpc, { chainId }).tx.hash, g.hash);
    assert.equal(codeOf(() => decodeRpcTransaction(g.rpc, { chainId: chainId + 1n })), 'TX_CHAIN_ID');
  });

  it('error: missing and invalid fields, each with its code', () => {
    const by = (kind: Generated['kind']) => generated.find((x) => x.kind === kind)!.rpc;
    const without = (o: Record<string, unknown>, k: string) => Object.fromEntries(Object.entries(o).filter(([key]) => key !== k));
    const t2 = by('eip1559');
    const t4 = by('eip7702');
    const cases: [unknown, TxDecodeErrorCode][] = [
      [null, 'TX_RPC_NOT_OBJECT'],
      ['0x02f8', 'TX_RPC_NOT_OBJECT'],
      [[t2], 'TX_RPC_NOT_OBJECT'],
      [without(t2, 'nonce'), 'TX_RPC_FIELD_MISSING'],
      [without(t2, 'r'), 'TX_RPC_FIELD_MISSING'],
      [without(t2, 'maxFeePerGas'), 'TX_RPC_FIELD_MISSING'],
      [without(t2, 'accessList'), 'TX_RPC_FIELD_MISSING'],
      [without(t2, 'input'), 'TX_RPC_FIELD_MISSING'],
      [without(by('eip4844'), 'blobVersionedHashes'), 'TX_RPC_FIELD_MISSING'],
      [without(t4, 'authorizationList'), 'TX_RPC_FIELD_MISSING'],
      [{ ...t2, nonce: '12' }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, nonce: '0x' }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, nonce: '0xfg' }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, nonce: -1 }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, nonce: 1.5 }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, input: '0x123' }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, to: 42 }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, accessList: {} }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, accessList: [{ address: `0x${'11'.repeat(20)}` }] }, 'TX_RPC_FIELD_MISSING'],
      [{ ...t2, accessList: [7] }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t4, authorizationList: [{ chainId: '0x1', address: `0x${'11'.repeat(20)}`, nonce: '0x0', yParity: '0x0', r: '0x1' }] }, 'TX_RPC_FIELD_MISSING'],
      [{ ...t2, hash: 5 }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, type: 'two' }, 'TX_RPC_FIELD_INVALID'],
      [{ ...t2, type: '0x7e' }, 'TX_TYPE_UNSUPPORTED'],
      // Well-formed RPC, invalid transaction: the decoder's own codes.
      [{ ...t2, to: `0x${'11'.repeat(19)}` }, 'TX_FIELD_SIZE'],
      [{ ...t2, yParity: '0x2', v: '0x2' }, 'TX_SIG_INVALID'],
    ];
    for (const [obj, code] of cases) assert.equal(codeOf(() => decodeRpcTransaction(obj as RpcTransaction)), code, `${code}: ${JSON.stringify(obj)?.slice(0, 120)}`);
  });
});
