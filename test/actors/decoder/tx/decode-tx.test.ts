import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1';
import { type Hex, fromRlp, keccak256 as viemKeccak, parseTransaction, toHex as viemHex, toRlp } from 'viem';
import { DEFAULT_MAX_TX_BYTES, type DecodeOptions, decodeHex, decodeTransaction, intrinsicGas } from '../../../../src/actors/decoder/tx/decode-tx.js';
import { TxDecodeError, type TxDecodeErrorCode } from '../../../../src/actors/decoder/tx/errors.js';
import { fromHex, toHex } from '../../../../src/actors/decoder/tx/hex.js';
import { keccak256 } from '../../../../src/actors/decoder/tx/keccak.js';
import type { DecodedTx } from '../../../../src/messages/schema.js';
import { type Generated, eestTests, ethersCases, generateTransactions, mainnetRaw, transactionTests, versionedHash } from './vectors.js';

const N = secp256k1.CURVE.n;

/** The code a decode throws, or 'accepted'; anything thrown that is not a TxDecodeError fails the test. */
function codeOf(fn: () => unknown): TxDecodeErrorCode | 'accepted' {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof TxDecodeError)) throw err;
    return err.code;
  }
  return 'accepted';
}

const decodeCode = (hex: string, opts?: DecodeOptions) => codeOf(() => decodeHex(hex, opts));

/**
 * Which of our codes stand for each ethereum-tests exception. Where a vector breaks two rules the
 * suite names one and we may report the other (a signature with a bad v that also misstates the
 * chain), so some exceptions admit two codes.
 */
const EXCEPTION_CODES: [RegExp, TxDecodeErrorCode[]][] = [
  [/RLP_LEADING_ZEROS_(DATA_SIZE|NONCE_SIZE)$|RLP_ERROR_SIZE_LEADING_ZEROS/, ['TX_RLP_NON_CANONICAL']],
  [/RLP_LEADING_ZEROS_/, ['TX_FIELD_LEADING_ZERO']],
  [/RLP_INVALID_ACCESS_LIST_|ADDRESS_TOO_(LONG|SHORT)/, ['TX_FIELD_SIZE']],
  [/RLP_INVALID_(DATA|GASLIMIT|HEADER|NONCE|SIGNATURE_R|SIGNATURE_S|TO)$/, ['TX_RLP_MALFORMED']],
  [/RLP_ERROR_SIZE$/, ['TX_RLP_TRAILING', 'TX_RLP_TRUNCATED']],
  [/RLP_ERROR_EOF/, ['TX_RLP_MALFORMED', 'TX_RLP_TRUNCATED']],
  [/RLP_TOO_(FEW|MANY)_ELEMENTS/, ['TX_FIELD_COUNT']],
  [/TYPE_NOT_SUPPORTED/, ['TX_TYPE_UNSUPPORTED', 'TX_RLP_MALFORMED']],
  // TransactionWithGasLimitOverflowZeros64 writes 2^64 scale with zeros in front: both rules apply.
  [/GASLIMIT_OVERFLOW$/, ['TX_FIELD_RANGE', 'TX_FIELD_LEADING_ZERO']],
  [/NONCE_OVERFLOW|NONCE_TOO_BIG|GASPRICE_OVERFLOW|PRIORITY_OVERFLOW|VALUE_OVERFLOW|GASLIMIT_PRICE_PRODUCT_OVERFLOW/, ['TX_FIELD_RANGE']],
  [/PRIORITY_GREATER_THAN_MAX_FEE/, ['TX_FEE_TIP_ABOVE_CAP']],
  [/INTRINSIC_GAS_TOO_LOW/, ['TX_INTRINSIC_GAS']],
  [/INITCODE_SIZE_EXCEEDED/, ['TX_INITCODE_TOO_LARGE']],
  [/INVALID_CHAINID/, ['TX_CHAIN_ID', 'TX_SIG_INVALID']],
  [/INVALID_SIGNATURE_VRS|EC_RECOVERY_FAIL/, ['TX_SIG_INVALID', 'TX_SIG_HIGH_S']],
];

function codesFor(exception: string): TxDecodeErrorCode[] {
  const hit = EXCEPTION_CODES.find(([re]) => re.test(exception));
  assert.ok(hit, `no code mapping for ${exception}`);
  return hit[1];
}

/** Re-encodes a signed transaction with its RLP fields edited (the signature then no longer matches). */
function edit(hex: string, f: (fields: unknown[]) => void): Hex {
  const typed = Number.parseInt(hex.slice(2, 4), 16) < 0x80;
  const fields = fromRlp((typed ? `0x${hex.slice(4)}` : hex) as Hex, 'hex') as unknown[];
  f(fields);
  return `${typed ? hex.slice(0, 4) : '0x'}${toRlp(fields as never).slice(2)}` as Hex;
}

const q = (v: bigint) => (v === 0n ? '0x' : viemHex(v));

/** `address` of a private key, derived independently of the decoder (noble + viem's keccak). */
const addressCache = new Map<string, string>();
function addressOf(privateKey: string): string {
  let a = addressCache.get(privateKey);
  if (a === undefined) {
    const pub = secp256k1.getPublicKey(privateKey.slice(2), false);
    a = `0x${viemKeccak(pub.subarray(1)).slice(-40)}`;
    addressCache.set(privateKey, a);
  }
  return a;
}

let generated: Generated[] = [];
const byKind = (kind: Generated['kind']) => generated.filter((g) => g.kind === kind);

describe('decodeTransaction', () => {
  before(async () => {
    generated = await generateTransactions(11, 4);
  });

  it('default: ethereum-tests TransactionTests, Cancun column — valid give hash and sender, invalid are rejected', (t) => {
    // The suite signs for chain 1: its INVALID_CHAINID vectors are EIP-155 signatures for others.
    const opts = { chainId: 1n };
    const vectors = transactionTests();
    let valid = 0;
    let rejected = 0;
    let otherFork = 0;
    const byCode: Record<string, number> = {};
    for (const v of vectors) {
      if (v.fork !== 'Cancun') otherFork++;
      const where = `${v.file} ${v.name} (${v.fork})`;
      if ('exception' in v.expected) {
        const code = decodeCode(v.txbytes, opts);
        assert.ok(codesFor(v.expected.exception).includes(code as TxDecodeErrorCode), `${where}: expected ${v.expected.exception}, got ${code}`);
        byCode[code] = (byCode[code] ?? 0) + 1;
        rejected++;
      } else {
        const tx = decodeHex(v.txbytes, opts);
        assert.equal(tx.hash, v.expected.hash, where);
        assert.equal(tx.from, v.expected.sender, where);
        assert.equal(intrinsicGas(tx), BigInt(v.expected.intrinsicGas), `${where} intrinsic gas`);
        valid++;
      }
    }
    assert.equal(valid + rejected, vectors.length);
    assert.deepEqual([valid, rejected], [50, 160]);
    const line = `TransactionTests (Cancun): valid ok ${valid}/50, invalid rejected ${rejected}/160, total ${valid + rejected}/${vectors.length}`;
    t.diagnostic(line);
    t.diagnostic(`  ${otherFork} invalid vectors have no Cancun column (invalid in every fork); their latest fork's verdict is used`);
    t.diagnostic(`  rejections by code: ${JSON.stringify(byCode)}`);
    console.log(line);
  });

  it('default: EIP-7702 vectors (execution-spec-tests, Prague) are rejected as their fixtures expect', (t) => {
    const vectors = eestTests();
    for (const v of vectors) {
      const expected: TxDecodeErrorCode = v.exception.includes('EMPTY_AUTHORIZATION_LIST') ? 'TX_AUTH_EMPTY' : 'TX_AUTH_MALFORMED';
      assert.equal(decodeCode(v.txbytes), expected, `${v.name}: ${v.exception}`);
    }
    assert.equal(vectors.length, 19);
    const line = `EIP-7702 fixtures: rejected ${vectors.length}/${vectors.length}`;
    t.diagnostic(line);
    console.log(line);
  });

  it('default: ethers.js signed forms decode to the addresses of their private keys', (t) => {
    const forms = ['signedLegacy', 'signedEip155', 'signedBerlin', 'signedLondon', 'signedCancun'] as const;
    const counts: Record<string, { ok: number; noBlobs: number; lowGas: number }> = {};
    for (const c of ethersCases()) {
      const address = addressOf(c.privateKey);
      const f = c.transaction;
      for (const form of forms) {
        const hex = c[form];
        if (!hex) continue;
        const n = (counts[form] ??= { ok: 0, noBlobs: 0, lowGas: 0 });
        const hashes = (f.blobVersionedHashes as string[] | undefined) ?? [];
        if (form === 'signedCancun' && hashes.length === 0) {
          // A blob transaction without blobs is invalid since Cancun; ethers signs it anyway.
          assert.equal(decodeCode(hex), 'TX_BLOB_EMPTY', `${c.name} ${form}`);
          n.noBlobs++;
          continue;
        }
        // Signing-library vectors use gas limits no node accepts: decode them without that rule,
        // and check that the rule rejects exactly the ones below intrinsic gas.
        const tx = decodeHex(hex, { checkIntrinsicGas: false });
        const where = `${c.name} ${form}`;
        assert.equal(tx.from, address, where);
        assert.equal(tx.hash, viemKeccak(hex as Hex), where);
        assert.equal(tx.nonce, BigInt((f.nonce as number | undefined) ?? 0), where);
        assert.equal(tx.gas, BigInt((f.gasLimit as string | undefined) ?? 0), where);
        assert.equal(tx.to, (f.to as string | undefined)?.toLowerCase() ?? null, where);
        assert.equal(tx.value, BigInt((f.value as string | undefined) ?? 0), where);
        assert.equal(toHex(tx.input), ((f.data as string | undefined) ?? '0x').toLowerCase(), where);
        assert.equal(tx.chainId, form === 'signedLegacy' ? null : BigInt((f.chainId as string | undefined) ?? 0), where);
        if (form === 'signedCancun') assert.deepEqual(tx.blobVersionedHashes, hashes, where);
        const below = tx.gas < intrinsicGas(tx);
        assert.equal(decodeCode(hex), below ? 'TX_INTRINSIC_GAS' : 'accepted', `${where} with the intrinsic gas rule`);
        if (below) n.lowGas++;
        n.ok++;
      }
    }
    const line = `ethers signed forms: ${forms.map((f) => `${f} ${counts[f]!.ok} → key address`).join(', ')}; ` +
      `blob forms without blobs rejected (TX_BLOB_EMPTY): ${counts.signedCancun!.noBlobs}; ` +
      `below intrinsic gas (decoded only with checkIntrinsicGas: false): ${forms.reduce((a, f) => a + counts[f]!.lowGas, 0)}`;
    t.diagnostic(line);
    console.log(line);
    assert.deepEqual(forms.map((f) => counts[f]!.ok + counts[f]!.noBlobs), [3200, 1664, 3200, 3200, 1664]);
  });

  it('default: real mainnet and testnet transactions decode to their upstream hash and from', (t) => {
    const txs = mainnetRaw();
    const types: Record<number, number> = {};
    for (const m of txs) {
      const bytes = fromHex(m.raw)!;
      const tx = decodeTransaction(bytes);
      assert.equal(tx.hash, m.hash, m.source);
      assert.equal(tx.from, m.from, m.source);
      assert.equal(tx.type, m.type, m.source);
      assert.equal(tx.raw, bytes, 'raw is the input, not a copy');
      assert.equal(tx.size, bytes.length);
      types[tx.type] = (types[tx.type] ?? 0) + 1;
    }
    assert.equal(txs.length, 196);
    const line = `mainnet raw transactions: ${txs.length}/${txs.length} hash and from match (by type ${JSON.stringify(types)})`;
    t.diagnostic(line);
    console.log(line);
  });

  it('behavior: every field of each type matches viem\'s parse of the same bytes', () => {
    for (const g of generated) {
      const tx = decodeTransaction(g.bytes);
      const p = parseTransaction(g.hex);
      const where = `${g.kind} ${g.hash}`;
      assert.equal(tx.hash, g.hash, where);
      assert.equal(tx.from, g.from, where);
      assert.equal(tx.type, g.type, where);
      assert.equal(tx.nonce, BigInt(p.nonce ?? 0), where);
      assert.equal(tx.to, p.to ?? null, where);
      assert.equal(tx.value, p.value ?? 0n, where);
      assert.equal(tx.gas, p.gas, where);
      assert.equal(toHex(tx.input), p.data ?? '0x', where);
      assert.equal(tx.chainId, p.chainId === undefined ? null : BigInt(p.chainId), where);
      assert.equal(tx.gasPrice, p.gasPrice ?? null, where);
      assert.equal(tx.maxFeePerGas, p.maxFeePerGas ?? null, where);
      assert.equal(tx.maxPriorityFeePerGas, p.maxPriorityFeePerGas ?? null, where);
      assert.equal(tx.maxFeePerBlobGas, p.maxFeePerBlobGas ?? null, where);
      assert.deepEqual(tx.accessList, p.accessList ?? [], where);
      assert.deepEqual(tx.blobVersionedHashes, p.blobVersionedHashes ?? null, where);
      assert.equal(tx.r, BigInt(p.r!), where);
      assert.equal(tx.s, BigInt(p.s!), where);
      assert.equal(tx.v, g.type === 0 ? p.v : BigInt(p.yParity!), where);
      if (g.type === 4) {
        assert.equal(tx.authorizationList!.length, p.authorizationList!.length);
        tx.authorizationList!.forEach((a, i) => {
          const e = p.authorizationList![i]!;
          assert.deepEqual({ ...a }, { chainId: BigInt(e.chainId), address: e.address, nonce: BigInt(e.nonce), yParity: e.yParity, r: BigInt(e.r), s: BigInt(e.s), authority: g.authorities[i] });
        });
      } else {
        assert.equal(tx.authorizationList, null);
      }
      assert.deepEqual([tx.firstSeenNs, tx.source, tx.hashMismatch, tx.intent], [0, 0, false, null]);
      assert.equal(tx.input.buffer, g.bytes.buffer, 'input views the input bytes');
    }
  });

  it('behavior: keys in the order of the shared msgpack structure', () => {
    const tx = decodeTransaction(byKind('eip7702')[0]!.bytes);
    assert.deepEqual(Object.keys(tx), [
      'hash', 'type', 'chainId', 'nonce', 'from', 'to', 'value', 'gas', 'gasPrice', 'maxFeePerGas', 'maxPriorityFeePerGas', 'maxFeePerBlobGas',
      'input', 'accessList', 'blobVersionedHashes', 'authorizationList', 'v', 'r', 's', 'size', 'raw', 'firstSeenNs', 'source', 'hashMismatch', 'intent',
    ]);
    assert.deepEqual(Object.keys(tx.authorizationList![0]!), ['chainId', 'address', 'nonce', 'yParity', 'r', 's', 'authority']);
  });

  it('behavior: a blob transaction in network form decodes to its canonical form, versioned hashes kept', () => {
    for (const g of byKind('eip4844')) {
      const tx = decodeTransaction(g.network!);
      assert.ok(g.network!.length > DEFAULT_MAX_TX_BYTES, 'blobs may take the network form past the size limit');
      assert.equal(tx.hash, g.hash);
      assert.equal(tx.from, g.from);
      assert.deepEqual(tx.raw, g.bytes);
      assert.equal(tx.size, g.bytes.length);
      assert.deepEqual(tx.blobVersionedHashes, g.rpc.blobVersionedHashes);
      assert.notEqual(tx.raw.buffer, g.network!.buffer, 'the canonical bytes are a copy, so the blobs can be freed');
    }
  });

  it('behavior: the EIP-7594 network wrapper (version 1, 128 cell proofs per blob) is accepted', () => {
    const g = byKind('eip4844')[0]!;
    const fields = fromRlp(viemHex(g.network!.subarray(1)), 'hex') as Hex[][];
    const [body, blobs, commitments] = fields as [Hex[], Hex[], Hex[]];
    const proofs = Array.from({ length: 128 * blobs.length }, () => viemHex(new Uint8Array(48)));
    const v1 = fromHex(`0x03${toRlp([body, '0x01', blobs, commitments, proofs] as never).slice(2)}`)!;
    assert.equal(decodeTransaction(v1).hash, g.hash);
    const bad = fromHex(`0x03${toRlp([body, '0x01', blobs, commitments, proofs.slice(1)] as never).slice(2)}`)!;
    assert.equal(codeOf(() => decodeTransaction(bad)), 'TX_BLOB_SIDECAR');
    const v2 = fromHex(`0x03${toRlp([body, '0x02', blobs, commitments, proofs] as never).slice(2)}`)!;
    assert.equal(codeOf(() => decodeTransaction(v2)), 'TX_BLOB_SIDECAR');
  });

  it('error: a network form whose sidecar does not match its versioned hashes', () => {
    const g = byKind('eip4844')[0]!;
    const [body, blobs, commitments, proofs] = fromRlp(viemHex(g.network!.subarray(1)), 'hex') as [Hex[], Hex[], Hex[], Hex[]];
    const wrap = (...items: unknown[]) => fromHex(`0x03${toRlp(items as never).slice(2)}`)!;
    const other = viemHex(new Uint8Array(48).fill(7));
    assert.equal(versionedHash(fromHex(commitments[0]!)!), (g.rpc.blobVersionedHashes as string[])[0]);
    assert.equal(codeOf(() => decodeTransaction(wrap(body, blobs, [other, ...commitments.slice(1)], proofs))), 'TX_BLOB_SIDECAR');
    assert.equal(codeOf(() => decodeTransaction(wrap(body, blobs, commitments, proofs.slice(1)))), 'TX_BLOB_SIDECAR');
    assert.equal(codeOf(() => decodeTransaction(wrap(body, [...blobs, blobs[0]], [...commitments, other], [...proofs, other]))), 'TX_BLOB_SIDECAR');
    assert.equal(codeOf(() => decodeTransaction(wrap(body, ['0x00', ...blobs.slice(1)], commitments, proofs))), 'TX_BLOB_SIDECAR');
  });

  it('behavior: an authorization whose signature does not recover gets authority null, the transaction stands', () => {
    const g = byKind('eip7702').find((x) => x.authorities.length >= 2) ?? byKind('eip7702')[0]!;
    const tweak = (f: (auth: unknown[]) => void) => decodeHex(edit(g.hex, (fields) => f((fields[9] as unknown[][])[0]!)), { checkIntrinsicGas: false });
    const base = decodeTransaction(g.bytes);
    const yParity2 = tweak((a) => { a[3] = '0x02'; });
    const highS = tweak((a) => { a[5] = q(N - BigInt(a[5] as Hex)); });
    const zeroR = tweak((a) => { a[4] = '0x'; });
    for (const tx of [yParity2, highS, zeroR]) {
      assert.equal(tx.authorizationList![0]!.authority, null);
      assert.deepEqual(tx.authorizationList!.slice(1).map((a) => a.authority), base.authorizationList!.slice(1).map((a) => a.authority));
    }
    assert.equal(yParity2.authorizationList![0]!.yParity, 2);
  });

  it('args: chainId rejects other chains, accepts pre-EIP-155 legacy, and is not checked when unset', () => {
    for (const g of generated) {
      const tx = decodeTransaction(g.bytes);
      if (tx.chainId === null) {
        assert.equal(codeOf(() => decodeTransaction(g.bytes, { chainId: 5n })), 'accepted', 'pre-EIP-155 is valid on any chain');
        continue;
      }
      assert.equal(decodeTransaction(g.bytes, { chainId: tx.chainId }).hash, g.hash);
      assert.equal(codeOf(() => decodeTransaction(g.bytes, { chainId: tx.chainId! + 1n })), 'TX_CHAIN_ID', g.kind);
    }
  });

  it('args: maxBytes bounds the canonical size; the default is 128 KiB', () => {
    const g = byKind('eip1559')[0]!;
    assert.equal(codeOf(() => decodeTransaction(g.bytes, { maxBytes: g.bytes.length })), 'accepted');
    assert.equal(codeOf(() => decodeTransaction(g.bytes, { maxBytes: g.bytes.length - 1 })), 'TX_TOO_LARGE');
    const big = edit(byKind('eip1559')[0]!.hex, (f) => { f[7] = viemHex(new Uint8Array(DEFAULT_MAX_TX_BYTES)); });
    assert.equal(decodeCode(big), 'TX_TOO_LARGE');
    assert.equal(decodeHex(big, { maxBytes: 2 * DEFAULT_MAX_TX_BYTES, checkIntrinsicGas: false }).size, fromHex(big)!.length);
    const net = byKind('eip4844')[0]!.network!;
    assert.equal(codeOf(() => decodeTransaction(net, { maxBytes: 100 })), 'TX_TOO_LARGE', 'the canonical form inside a network form is bounded too');
    assert.equal(decodeHex(toHex(net)).hash, byKind('eip4844')[0]!.hash, 'hex text of a network form may exceed maxBytes');
    assert.equal(decodeCode(`0x${'ab'.repeat(4 * DEFAULT_MAX_TX_BYTES)}`), 'TX_TOO_LARGE', 'hex text too long is refused before it is converted');
  });

  it('error: empty, non-hex and odd-length input', () => {
    assert.equal(codeOf(() => decodeTransaction(new Uint8Array(0))), 'TX_EMPTY');
    assert.equal(decodeCode(''), 'TX_EMPTY');
    assert.equal(decodeCode('0x'), 'TX_EMPTY');
    const hex = byKind('eip1559')[0]!.hex;
    assert.equal(decodeCode(`${hex}0`), 'TX_NOT_HEX');
    assert.equal(decodeCode(`${hex.slice(0, -2)}zz`), 'TX_NOT_HEX');
    assert.equal(decodeCode(` ${hex.slice(1)}`), 'TX_NOT_HEX');
    assert.equal(decodeHex(hex.slice(2)).hash, byKind('eip1559')[0]!.hash, 'bare hex is accepted');
    assert.equal(decodeHex(hex.toUpperCase().replace('0X', '0x')).hash, byKind('eip1559')[0]!.hash, 'upper case is accepted');
  });

  it('error: malformed and truncated RLP, trailing bytes, unknown types', () => {
    for (const g of generated) {
      for (let n = 1; n < g.bytes.length; n++) {
        assert.equal(codeOf(() => decodeTransaction(g.bytes.subarray(0, n))), 'TX_RLP_TRUNCATED', `${g.kind} cut at ${n}`);
      }
      const longer = new Uint8Array(g.bytes.length + 1);
      longer.set(g.bytes);
      assert.equal(codeOf(() => decodeTransaction(longer)), 'TX_RLP_TRAILING', g.kind);
    }
    assert.equal(decodeCode('0x05c0'), 'TX_TYPE_UNSUPPORTED');
    assert.equal(decodeCode('0x00c0'), 'TX_TYPE_UNSUPPORTED');
    assert.equal(decodeCode('0x7ec0'), 'TX_TYPE_UNSUPPORTED');
    assert.equal(decodeCode('0x8180'), 'TX_RLP_MALFORMED', 'a legacy transaction must be a list');
    assert.equal(decodeCode('0x02c0'), 'TX_FIELD_COUNT');
    const legacy = byKind('eip155')[0]!.hex;
    assert.equal(decodeCode(edit(legacy, (f) => f.push('0x01'))), 'TX_FIELD_COUNT');
    assert.equal(decodeCode(edit(legacy, (f) => f.splice(5, 1))), 'TX_FIELD_COUNT');
    assert.equal(decodeCode(edit(legacy, (f) => { f[0] = ['0x01']; })), 'TX_RLP_MALFORMED');
    assert.equal(decodeCode(edit(byKind('eip1559')[0]!.hex, (f) => { f[8] = '0x'; })), 'TX_RLP_MALFORMED', 'access list given as a string');
  });

  it('error: field encodings and bounds, each with its code', () => {
    const t2 = byKind('eip1559')[0]!.hex;
    const cases: [Hex, TxDecodeErrorCode][] = [
      [edit(t2, (f) => { f[1] = '0x0001'; }), 'TX_FIELD_LEADING_ZERO'],
      [edit(t2, (f) => { f[6] = '0x00'; }), 'TX_FIELD_LEADING_ZERO'],
      [edit(t2, (f) => { f[5] = viemHex(new Uint8Array(19).fill(1)); }), 'TX_FIELD_SIZE'],
      [edit(t2, (f) => { f[5] = viemHex(new Uint8Array(21).fill(1)); }), 'TX_FIELD_SIZE'],
      [edit(t2, (f) => { f[8] = [[viemHex(new Uint8Array(20).fill(1)), [viemHex(new Uint8Array(31).fill(1))]]]; }), 'TX_FIELD_SIZE'],
      [edit(t2, (f) => { f[8] = [[viemHex(new Uint8Array(20).fill(1))]]; }), 'TX_FIELD_COUNT'],
      [edit(t2, (f) => { f[1] = q(2n ** 64n - 1n); }), 'TX_FIELD_RANGE'],
      [edit(t2, (f) => { f[1] = q(2n ** 64n); }), 'TX_FIELD_RANGE'],
      [edit(t2, (f) => { f[4] = q(2n ** 64n); }), 'TX_FIELD_RANGE'],
      [edit(t2, (f) => { f[6] = q(2n ** 256n); }), 'TX_FIELD_RANGE'],
      [edit(t2, (f) => { f[0] = q(2n ** 256n); }), 'TX_FIELD_RANGE'],
      [edit(t2, (f) => { f[3] = q(2n ** 255n); f[2] = '0x01'; f[4] = q(2n ** 40n); }), 'TX_FIELD_RANGE'],
      [edit(t2, (f) => { f[2] = q(BigInt(f[3] as Hex) + 1n); }), 'TX_FEE_TIP_ABOVE_CAP'],
      [edit(t2, (f) => { f[4] = q(20_999n); }), 'TX_INTRINSIC_GAS'],
      [edit(t2, (f) => { f[5] = '0x'; f[4] = q(10n ** 7n); f[7] = viemHex(new Uint8Array(49_153)); }), 'TX_INITCODE_TOO_LARGE'],
    ];
    for (const [hex, code] of cases) assert.equal(decodeCode(hex), code, `${code} ${hex.slice(0, 60)}`);
    // At the limit it is accepted (edited, so it recovers some other sender).
    assert.equal(decodeCode(edit(t2, (f) => { f[5] = '0x'; f[4] = q(10n ** 7n); f[7] = viemHex(new Uint8Array(49_152)); })), 'accepted');
  });

  it('error: blob and set-code rules (EIP-4844, EIP-7702)', () => {
    const t3 = byKind('eip4844')[0]!.hex;
    const t4 = byKind('eip7702')[0]!.hex;
    const hash = (version: number) => viemHex(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? version : i)));
    assert.equal(decodeCode(edit(t3, (f) => { f[5] = '0x'; })), 'TX_TO_REQUIRED');
    assert.equal(decodeCode(edit(t4, (f) => { f[5] = '0x'; })), 'TX_TO_REQUIRED');
    assert.equal(decodeCode(edit(t3, (f) => { f[10] = []; })), 'TX_BLOB_EMPTY');
    assert.equal(decodeCode(edit(t3, (f) => { f[10] = Array.from({ length: 7 }, () => hash(1)); })), 'TX_BLOB_TOO_MANY');
    assert.equal(decodeCode(edit(t3, (f) => { f[10] = [hash(2)]; })), 'TX_BLOB_VERSION');
    assert.equal(decodeCode(edit(t3, (f) => { f[10] = [viemHex(new Uint8Array(33).fill(1))]; })), 'TX_FIELD_SIZE');
    assert.equal(decodeCode(edit(t4, (f) => { f[9] = []; })), 'TX_AUTH_EMPTY');
    assert.equal(decodeCode(edit(t4, (f) => { (f[9] as unknown[][])[0]!.push('0x01'); })), 'TX_AUTH_MALFORMED');
    assert.equal(decodeCode(edit(t4, (f) => { (f[9] as unknown[][])[0]![2] = '0x0001'; })), 'TX_AUTH_MALFORMED');
    assert.equal(decodeCode(edit(t4, (f) => { (f[9] as unknown[][])[0]![1] = viemHex(new Uint8Array(19)); })), 'TX_AUTH_MALFORMED');
    assert.equal(decodeCode(edit(t4, (f) => { (f[9] as unknown[])[0] = '0x01'; })), 'TX_AUTH_MALFORMED');
  });

  it('behavior: type 4 pays the EIP-7623 calldata floor (Prague); types 0–3 do not (Cancun)', () => {
    const data = viemHex(new Uint8Array(10_000).fill(0xff));
    // Standard: 21000 + 16 × 10000 (+ 25000 per authorization); floor: 21000 + 10 × 4 × 10000.
    const gas = q(21_000n + 160_000n + 25_000n * 3n + 1n);
    const t2 = edit(byKind('eip1559')[0]!.hex, (f) => { f[7] = data; f[4] = gas; f[8] = []; });
    const t4 = edit(byKind('eip7702')[0]!.hex, (f) => { f[7] = data; f[4] = gas; f[8] = []; });
    assert.notEqual(decodeCode(t2), 'TX_INTRINSIC_GAS');
    assert.equal(decodeCode(t4), 'TX_INTRINSIC_GAS');
    const floor = q(21_000n + 400_000n);
    assert.notEqual(decodeCode(edit(t4, (f) => { f[4] = floor; })), 'TX_INTRINSIC_GAS');
  });

  it('error: bad signatures — v, yParity, r and s out of range, high s, nothing recovers', () => {
    const t2 = byKind('eip1559')[0]!;
    const legacy = byKind('eip155')[0]!;
    const pre = byKind('legacy')[0]!;
    const sig = (hex: Hex, v: Hex, r: Hex, s: Hex) => edit(hex, (f) => f.splice(f.length - 3, 3, v, r, s));
    const [y, r, s] = (fromRlp(`0x${t2.hex.slice(4)}`, 'hex') as Hex[]).slice(-3) as [Hex, Hex, Hex];
    const cases: [Hex, TxDecodeErrorCode][] = [
      [sig(t2.hex, '0x02', r, s), 'TX_SIG_INVALID'],
      [sig(t2.hex, y, '0x', s), 'TX_SIG_INVALID'],
      [sig(t2.hex, y, r, '0x'), 'TX_SIG_INVALID'],
      [sig(t2.hex, y, q(N), s), 'TX_SIG_INVALID'],
      [sig(t2.hex, y, r, q(N + 1n)), 'TX_SIG_INVALID'],
      [sig(t2.hex, y, viemHex(new Uint8Array(33).fill(1)), s), 'TX_SIG_INVALID'],
      [sig(t2.hex, y, '0x05', s), 'TX_SIG_INVALID'], // no curve point has x = 5
      [sig(t2.hex, y, r, '0x0001'), 'TX_FIELD_LEADING_ZERO'],
      [sig(legacy.hex, '0x1d', r, s), 'TX_SIG_INVALID'], // v = 29
      [sig(legacy.hex, '0x22', r, s), 'TX_SIG_INVALID'], // v = 34
      [sig(pre.hex, '0x00', r, s), 'TX_FIELD_LEADING_ZERO'],
    ];
    for (const [hex, code] of cases) assert.equal(decodeCode(hex), code, `${code} ${hex.slice(-140)}`);
    // The same signature with s mirrored (n − s) and the parity flipped recovers the same key:
    // only EIP-2 tells it apart.
    for (const g of [t2, legacy, pre]) {
      const fields = fromRlp((g.type === 0 ? g.hex : `0x${g.hex.slice(4)}`) as Hex, 'hex') as Hex[];
      const [v0, r0, s0] = fields.slice(-3) as [Hex, Hex, Hex];
      // Flip the parity: 27 ↔ 28, 35 + 2c ↔ 36 + 2c, yParity 0 ↔ 1.
      const flipped = g.type === 0 ? q(BigInt(v0) % 2n === 1n ? BigInt(v0) + 1n : BigInt(v0) - 1n) : v0 === '0x' ? '0x01' : '0x';
      assert.equal(decodeCode(sig(g.hex, flipped, r0, q(N - BigInt(s0)))), 'TX_SIG_HIGH_S', g.kind);
    }
  });

  it('behavior: decodes never share state between calls', () => {
    const a = byKind('eip7702')[0]!;
    const b = byKind('eip4844')[1]!;
    const first: DecodedTx = decodeTransaction(a.bytes);
    const snapshot = JSON.stringify(first, (_, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? toHex(v) : v));
    decodeTransaction(b.bytes);
    codeOf(() => decodeHex('0x02c0'));
    assert.equal(JSON.stringify(first, (_, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? toHex(v) : v)), snapshot);
    assert.equal(toHex(keccak256(first.raw)), first.hash);
  });
});
