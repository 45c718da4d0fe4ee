import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DecodeOptions, decodeHex, decodeTransaction } from '../../../../src/actors/decoder/tx/decode-tx.js';
import { TxDecodeError } from '../../../../src/actors/decoder/tx/errors.js';
import { decodeRpcTransaction } from '../../../../src/actors/decoder/tx/from-rpc.js';
import { fromHex, toHex } from '../../../../src/actors/decoder/tx/hex.js';
import { keccak256 } from '../../../../src/actors/decoder/tx/keccak.js';
import type { DecodedTx, RpcTransaction } from '../../../../src/messages/schema.js';
import { mulberry32 } from '../../../support/prng.js';
import { ethersCases, generateTransactions, mainnetRaw, rpcBlockTransactions, RPC_BLOCK_FILES, transactionTests } from './vectors.js';

const SEED = 0x5eed_7c0d;
const CASES = 200_000;

/** Offsets of every RLP header in a valid encoding (after the type byte of a typed transaction). */
function headers(b: Uint8Array): number[] {
  const out: number[] = [];
  const walk = (p: number, end: number): void => {
    while (p < end) {
      out.push(p);
      const h = b[p]!;
      if (h < 0x80) {
        p += 1;
        continue;
      }
      let start: number;
      let len: number;
      if (h < 0xb8 || (h >= 0xc0 && h < 0xf8)) {
        start = p + 1;
        len = h < 0xc0 ? h - 0x80 : h - 0xc0;
      } else {
        const n = h < 0xc0 ? h - 0xb7 : h - 0xf7;
        start = p + 1 + n;
        len = 0;
        for (let i = p + 1; i < start; i++) len = len * 256 + b[i]!;
      }
      if (h >= 0xc0) walk(start, start + len);
      p = start + len;
    }
  };
  walk(b[0]! < 0x80 ? 1 : 0, b.length);
  return out;
}

interface Seed {
  bytes: Uint8Array;
  headers: number[];
}

/** The outcome of one decode: the tx, or the code; anything else thrown is recorded as a failure. */
function attempt(input: Uint8Array, opts: DecodeOptions | undefined, failures: string[], codes: Record<string, number>): DecodedTx | null {
  try {
    return decodeTransaction(input, opts);
  } catch (err) {
    if (err instanceof TxDecodeError) {
      codes[err.code] = (codes[err.code] ?? 0) + 1;
      return null;
    }
    if (failures.length < 10) failures.push(`${String(err)} on ${toHex(input).slice(0, 200)}`);
    return null;
  }
}

describe('decodeTransaction (fuzz)', () => {
  it(`behavior: ${CASES.toLocaleString('en')} random and mutated transactions give a DecodedTx or a TxDecodeError, nothing else`, { timeout: 240_000 }, async (t) => {
    const generated = await generateTransactions(97, 6);
    const seeds: Seed[] = [];
    const add = (bytes: Uint8Array) => seeds.push({ bytes, headers: headers(bytes) });
    for (const m of mainnetRaw()) add(fromHex(m.raw)!);
    for (const v of transactionTests()) if (!('exception' in v.expected)) add(fromHex(v.txbytes)!);
    const ethers = ethersCases();
    for (let i = 0; i < ethers.length; i += 25) for (const f of ['signedLegacy', 'signedEip155', 'signedBerlin', 'signedLondon', 'signedCancun'] as const) if (ethers[i]![f]) add(fromHex(ethers[i]![f])!);
    for (const g of generated) add(g.bytes);
    const networks = generated.filter((g) => g.network !== null).map((g) => ({ bytes: g.network!, headers: headers(g.network!) }));

    const rng = mulberry32(SEED);
    const int = (n: number) => Math.floor(rng() * n);
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
    const pick = <T>(xs: readonly T[]) => xs[int(xs.length)]!;
    const failures: string[] = [];
    const codes: Record<string, number> = {};
    const ops: Record<string, number> = {};
    let accepted = 0;
    const started = performance.now();

    for (let i = 0; i < CASES; i++) {
      // 1 in 200 mutates a network-form blob transaction (130 KiB+); the rest the small seeds.
      const seed = int(200) === 0 ? pick(networks) : pick(seeds);
      const src = seed.bytes;
      let out: Uint8Array;
      const op = int(11);
      switch (op) {
        case 0: { // flip 1–3 bits
          out = src.slice();
          for (let k = 1 + int(3); k > 0; k--) out[int(out.length)]! ^= 1 << int(8);
          break;
        }
        case 1: { // overwrite a byte with a boundary value or noise
          out = src.slice();
          out[int(out.length)] = pick([0x00, 0x01, 0x7f, 0x80, 0x81, 0xb7, 0xb8, 0xbf, 0xc0, 0xf7, 0xf8, 0xff, int(256)]);
          break;
        }
        case 2: // truncate
          out = src.slice(0, int(src.length));
          break;
        case 3: { // append noise
          out = new Uint8Array(src.length + 1 + int(8));
          out.set(src);
          out.set(randomBytes(out.length - src.length), src.length);
          break;
        }
        case 4: { // splice the head of one seed onto the tail of another
          const other = pick(seeds).bytes;
          const a = int(src.length + 1);
          const b = int(other.length + 1);
          out = new Uint8Array(a + other.length - b);
          out.set(src.subarray(0, a));
          out.set(other.subarray(b), a);
          break;
        }
        case 5: // edit a length field: an RLP header ±1, ±noise, or to a long form
        case 6: {
          out = src.slice();
          const h = pick(seed.headers);
          const r = int(4);
          out[h] = r === 0 ? out[h]! + 1 : r === 1 ? out[h]! - 1 : r === 2 ? out[h]! ^ (1 << int(8)) : pick([0xb8, 0xb9, 0xbf, 0xf8, 0xf9, 0xff]);
          if (h + 1 < out.length && int(3) === 0) out[h + 1] = pick([0x00, 0xff, int(256)]);
          break;
        }
        case 7: { // insert or delete one byte
          const at = int(src.length);
          if (int(2) === 0) {
            out = new Uint8Array(src.length + 1);
            out.set(src.subarray(0, at));
            out[at] = int(256);
            out.set(src.subarray(at), at + 1);
          } else {
            out = new Uint8Array(src.length - 1);
            out.set(src.subarray(0, at));
            out.set(src.subarray(at + 1), at);
          }
          break;
        }
        case 8: { // change the type byte (or turn legacy into typed)
          out = src[0]! < 0x80 ? src.slice() : new Uint8Array(src.length + 1);
          if (src[0]! >= 0x80) out.set(src, 1);
          out[0] = pick([0, 1, 2, 3, 4, 5, 0x7f]);
          break;
        }
        case 9: // pure noise, sometimes behind a plausible type and list header
          out = randomBytes(int(300));
          if (out.length > 2 && int(2) === 0) {
            out[0] = 1 + int(4);
            out[1] = 0xc0 + int(64);
          }
          break;
        default: { // duplicate a slice in place
          const a = int(src.length);
          const b = a + int(Math.min(40, src.length - a) + 1);
          out = new Uint8Array(src.length + b - a);
          out.set(src.subarray(0, b));
          out.set(src.subarray(a), b);
        }
      }
      ops[op] = (ops[op] ?? 0) + 1;
      const opts: DecodeOptions | undefined = i % 7 === 0 ? { chainId: 1n } : i % 11 === 0 ? { maxBytes: 256 } : undefined;
      const tx = attempt(out, opts, failures, codes);
      if (tx !== null) {
        accepted++;
        // What is accepted is self-consistent: its hash is of its canonical bytes, which decode the same.
        assert.equal(tx.hash, toHex(keccak256(tx.raw)));
        assert.equal(tx.size, tx.raw.length);
        assert.equal(decodeTransaction(tx.raw, { ...opts, maxBytes: tx.raw.length }).hash, tx.hash);
      }
      // Give the test runner's timers a chance on this 2-core machine.
      if (i % 20_000 === 19_999) await new Promise((res) => setImmediate(res));
    }

    const seconds = (performance.now() - started) / 1000;
    assert.deepEqual(failures, [], 'only TxDecodeError may be thrown');
    const rejected = CASES - accepted;
    t.diagnostic(`fuzz: ${CASES} cases from ${seeds.length} seeds (+${networks.length} network forms), seed 0x${SEED.toString(16)}: ${accepted} accepted, ${rejected} rejected, 0 other throws, ${seconds.toFixed(1)} s`);
    t.diagnostic(`  rejections by code: ${JSON.stringify(codes)}`);
    t.diagnostic(`  cases by mutation: ${JSON.stringify(ops)}`);
    console.log(`decoder fuzz: ${CASES} cases, ${accepted} accepted, ${rejected} rejected with a TxDecodeError, 0 other throws`);
    // Mutation must reach deep: many distinct rejection codes, not one wall at the front.
    assert.ok(Object.keys(codes).length >= 15, `only ${Object.keys(codes).length} distinct codes`);
  });

  it('behavior: random hex text and mutated RPC objects give only TxDecodeError', () => {
    const rng = mulberry32(SEED + 1);
    const int = (n: number) => Math.floor(rng() * n);
    const failures: string[] = [];
    const guard = (label: string, fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        if (!(err instanceof TxDecodeError) && failures.length < 10) failures.push(`${label}: ${String(err)}`);
      }
    };
    const alphabet = '0123456789abcdefABCDEFxX gz\u00e9\u0000';
    for (let i = 0; i < 10_000; i++) {
      let s = int(2) === 0 ? '0x' : '';
      for (let n = int(200); n > 0; n--) s += alphabet[int(alphabet.length)];
      guard(s, () => decodeHex(s));
    }
    const objects = RPC_BLOCK_FILES.flatMap(rpcBlockTransactions);
    const junk = [null, undefined, 0, -1, 1.5, 2 ** 60, 10n, '', '0x', '0x0', '0xzz', 'abc', `0x${'ff'.repeat(40)}`, [], {}, [[]], true, { address: 1 }];
    for (let i = 0; i < 10_000; i++) {
      const obj: Record<string, unknown> = { ...objects[int(objects.length)]! };
      const keys = Object.keys(obj);
      for (let k = 1 + int(3); k > 0; k--) {
        const key = keys[int(keys.length)]!;
        if (int(3) === 0) delete obj[key];
        else obj[key] = junk[int(junk.length)];
      }
      guard(JSON.stringify(obj, (_, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 160), () => decodeRpcTransaction(obj as RpcTransaction));
    }
    assert.deepEqual(failures, []);
  });
});
