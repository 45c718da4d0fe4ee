import { type NativeSecp256k1, nativeSecp256k1, nativeSecp256k1Error } from '../../../runtime/secp256k1-native.js';
import { secp256k1 as nobleSecp256k1 } from '@noble/curves/secp256k1';
import { OrionError } from '../../../runtime/errors.js';
import { toHex } from './hex.js';
import { keccak256Into } from './keccak.js';

/**
 * Sender recovery: public key from (message hash, r, s, recovery id), address = the last 20 bytes of
 * keccak-256 over the 64-byte key. Native libsecp256k1 (the `secp256k1@5` N-API binding, ~50 µs
 * here) does the curve work; the pure-JS @noble/curves path (~30x slower) exists only for platforms
 * where the binding does not load, and {@link recoveryBackend} says which one runs so stats, logs and
 * `/health` can show it. The binding is loaded by its own entry, not through `secp256k1`'s index,
 * which would silently fall back to the JS `elliptic` package.
 */

/** Which implementation recovers public keys. */
export type RecoveryBackend = 'native' | 'js';

/** The native binding (src/runtime/secp256k1-native.ts), loaded once per thread. */
const native: NativeSecp256k1 | null = nativeSecp256k1;
const nativeError: string | null = nativeSecp256k1Error;

/** The backend in use for this process: `native` unless the binding failed to load. */
export function recoveryBackend(): RecoveryBackend {
  return native === null ? 'js' : 'native';
}

/** Why the native binding did not load (for logs and `/health`), or null when it did. */
export function nativeBindingError(): string | null {
  return nativeError;
}

/** Reused outputs: the uncompressed key (0x04 ‖ x ‖ y) and the keccak of x ‖ y. */
const PUBKEY = new Uint8Array(65);
const DIGEST = new Uint8Array(32);

/**
 * Recovers the address that signed `msg32` with the compact signature `sig64` (r ‖ s, 32 bytes
 * each, big-endian) and recovery id `recid` (0 or 1); returns it as lowercase 0x-hex, or null when no
 * public key recovers (r not an x-coordinate, r or s zero or ≥ n, point at infinity). It does not
 * check low-s: callers apply EIP-2 before they call. `backend` overrides the process default (tests
 * and benchmarks compare both); asking for `native` where it did not load throws.
 */
export function recoverAddress(msg32: Uint8Array, sig64: Uint8Array, recid: number, backend: RecoveryBackend = recoveryBackend()): string | null {
  let pub: Uint8Array;
  if (backend === 'native') {
    if (native === null) throw new OrionError('ORION_ERR_DECODE', 'native secp256k1 binding is not loaded', { details: nativeError ?? undefined });
    try {
      pub = native.ecdsaRecover(sig64, recid, msg32, false, PUBKEY);
    } catch {
      // The binding throws for an unparsable signature or a failed recovery; both mean "no key".
      return null;
    }
  } else {
    try {
      pub = nobleSecp256k1.Signature.fromCompact(sig64).addRecoveryBit(recid).recoverPublicKey(msg32).toRawBytes(false);
    } catch {
      return null;
    }
  }
  keccak256Into(pub, 1, 65, DIGEST, 0);
  return toHex(DIGEST, 12, 32);
}
