import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1';
import { privateKeyToAccount } from 'viem/accounts';
import { fromHex } from '../../../../src/actors/decoder/tx/hex.js';
import { keccak256 } from '../../../../src/actors/decoder/tx/keccak.js';
import { nativeBindingError, recoverAddress, recoveryBackend } from '../../../../src/actors/decoder/tx/sender.js';
import { mulberry32 } from '../../../support/prng.js';

const N = secp256k1.CURVE.n;

function sig64(r: bigint, s: bigint): Uint8Array {
  return fromHex(r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0'))!;
}

describe('sender', () => {
  it('default: the native libsecp256k1 binding is loaded on this platform', () => {
    assert.equal(recoveryBackend(), 'native', `native binding failed: ${nativeBindingError()}`);
    assert.equal(nativeBindingError(), null);
  });

  it('behavior: native and JS backends recover the signing key\'s address', () => {
    const rng = mulberry32(3);
    for (let i = 0; i < 25; i++) {
      const key = Uint8Array.from({ length: 32 }, () => Math.floor(rng() * 256));
      key[0] = 1 + (key[0]! % 200); // a valid scalar, below n
      const msg = keccak256(key);
      const sig = secp256k1.sign(msg, key);
      const expected = privateKeyToAccount(`0x${Buffer.from(key).toString('hex')}`).address.toLowerCase();
      const compact = sig.toCompactRawBytes();
      assert.equal(recoverAddress(msg, compact, sig.recovery, 'native'), expected);
      assert.equal(recoverAddress(msg, compact, sig.recovery, 'js'), expected);
      // The other recovery id gives some other key, never the signer's.
      assert.notEqual(recoverAddress(msg, compact, sig.recovery ^ 1, 'native'), expected);
    }
  });

  it('error: no key recovers → null, from both backends', () => {
    const msg = keccak256(Uint8Array.of(1));
    // r = 5 is not the x-coordinate of a curve point; r or s zero, or ≥ n, cannot be parsed.
    for (const [r, s] of [[5n, 1n], [0n, 1n], [1n, 0n], [N, 1n], [1n, N]] as const) {
      assert.equal(recoverAddress(msg, sig64(r, s), 0, 'native'), null, `native r=${r} s=${s}`);
      assert.equal(recoverAddress(msg, sig64(r, s), 0, 'js'), null, `js r=${r} s=${s}`);
    }
  });
});
