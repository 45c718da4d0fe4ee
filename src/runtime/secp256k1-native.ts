import { createRequire } from 'node:module';
import { describeError } from './errors.js';

/**
 * The native libsecp256k1 binding of `secp256k1@5`, loaded once per thread for sender recovery
 * (decoder) and signing (submitter). The package would silently fall back to JS; here a failed load
 * leaves {@link nativeSecp256k1} null with the reason in {@link nativeSecp256k1Error}, so callers
 * choose their fallback and `/health` can say which is in use.
 */
export interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean, output: Uint8Array): Uint8Array;
  privateKeyVerify(seckey: Uint8Array): boolean;
  publicKeyCreate(seckey: Uint8Array, compressed: boolean, output?: Uint8Array): Uint8Array;
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array, options?: object, output?: Uint8Array): { signature: Uint8Array; recid: number };
}

let binding: NativeSecp256k1 | null = null;
let loadError: string | null = null;
try {
  binding = createRequire(import.meta.url)('secp256k1/bindings') as NativeSecp256k1;
} catch (err) {
  loadError = describeError(err);
}

/** The binding, or null when it did not load in this thread. */
export const nativeSecp256k1: NativeSecp256k1 | null = binding;

/** Why it did not load, or null when it did. */
export const nativeSecp256k1Error: string | null = loadError;
