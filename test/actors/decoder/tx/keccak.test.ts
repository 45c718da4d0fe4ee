import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keccak_256 } from '@noble/hashes/sha3';
import { toHex } from '../../../../src/actors/decoder/tx/hex.js';
import { keccak256, keccak256Into, keccak256IntoJs, keccakBackend } from '../../../../src/actors/decoder/tx/keccak.js';
import { mulberry32 } from '../../../support/prng.js';

describe('keccak256', () => {
  it('default: known digests (empty input, "abc")', () => {
    assert.equal(toHex(keccak256(new Uint8Array(0))), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    assert.equal(toHex(keccak256(new TextEncoder().encode('abc'))), '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
  });

  it('default: the WebAssembly implementation is in use on this platform', () => {
    assert.deepEqual(keccakBackend(), { backend: 'wasm', error: null });
  });

  it('behavior: WebAssembly and JS both equal @noble/hashes on every length through 5 blocks, at every padding boundary', () => {
    const rng = mulberry32(1);
    const wasm = new Uint8Array(32);
    const js = new Uint8Array(32);
    for (let n = 0; n <= 700; n++) {
      const data = Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
      const expected = toHex(keccak_256(data));
      keccak256Into(data, 0, n, wasm, 0);
      keccak256IntoJs(data, 0, n, js, 0);
      assert.equal(toHex(wasm), expected, `wasm, length ${n}`);
      assert.equal(toHex(js), expected, `js, length ${n}`);
    }
  });

  it('behavior: inputs longer than one WebAssembly chunk (400 blocks) hash correctly', () => {
    const rng = mulberry32(4);
    for (const n of [400 * 136 - 1, 400 * 136, 400 * 136 + 1, 131_072 + 77]) {
      const data = Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
      assert.equal(toHex(keccak256(data)), toHex(keccak_256(data)), `length ${n}`);
    }
  });

  it('args: hashes a range of a larger buffer into an offset, leaving the rest untouched', () => {
    const rng = mulberry32(2);
    const buf = Uint8Array.from({ length: 1000 }, () => Math.floor(rng() * 256));
    for (const impl of [keccak256Into, keccak256IntoJs]) {
      const out = new Uint8Array(40).fill(0xee);
      impl(buf, 100, 371, out, 4);
      assert.equal(toHex(out, 4, 36), toHex(keccak_256(buf.subarray(100, 371))));
      assert.deepEqual([...out.subarray(0, 4), ...out.subarray(36)], new Array(8).fill(0xee));
    }
  });
});
