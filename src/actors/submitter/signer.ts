import { type NativeSecp256k1, nativeSecp256k1, nativeSecp256k1Error } from '../../runtime/secp256k1-native.js';
import { inspect } from 'node:util';
import { secp256k1 as nobleSecp256k1 } from '@noble/curves/secp256k1';
import { serializeTransaction } from 'viem';
import { keccak256Into } from '../decoder/tx/keccak.js';
import type { Hex, SignedTx } from './types.js';

/**
 * The submitter's signing key: EIP-1559 transactions and EIP-191 messages, synchronously, with
 * native libsecp256k1 (the `secp256k1@5` N-API binding, loaded by its own entry as the decoder's
 * sender recovery does, so it never silently falls back to the JS `elliptic` package). viem's
 * `privateKeyToAccount(...).signTransaction` took 340–830 µs per transaction here, most of it
 * pure-JS curve work and @noble/hashes keccak; this signer keeps viem's serializer, so the bytes are
 * viem's byte for byte, and swaps the curve and the hash (~66 µs p50, bench/micro/signer.bench.ts).
 * Where the binding does not load, @noble/curves signs instead (same RFC 6979 deterministic nonces,
 * low-s: same outputs, ~300 µs) and {@link NativeSigner.backend} says so.
 *
 * The key is held in a private field and never leaves it: `JSON.stringify`, `util.inspect`,
 * `String()` and every error this module throws show at most the address.
 */

/** Which implementation does the curve work. */
export type SignerBackend = 'native' | 'js';

/** The EIP-1559 (type 2) transaction {@link NativeSigner.signTx} signs. Access lists are always empty. */
export interface Eip1559Tx {
  chainId: number;
  nonce: bigint;
  to: Hex;
  data: Hex;
  value: bigint;
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  accessList?: [];
}

const native: NativeSecp256k1 | null = nativeSecp256k1;
const nativeError: string | null = nativeSecp256k1Error;

/** The backend new signers use in this process: `native` unless the binding failed to load. */
export function signerBackend(): SignerBackend {
  return native === null ? 'js' : 'native';
}

/** Why the native binding did not load (for logs and `/health`), or null when it did. */
export function signerBindingError(): string | null {
  return nativeError;
}

/** Reused output of the native binding's signature (r ‖ s); read out before the next call. */
const SIG = new Uint8Array(64);
/** The binding's options argument: defaults (RFC 6979 nonces, no extra data). */
const NO_OPTIONS = Object.freeze({});
/** Reused keccak-256 output; read out before the next call. */
const DIGEST = new Uint8Array(32);
/** EIP-191 prefix, without the decimal byte length that follows it. */
const MESSAGE_PREFIX = '\x19Ethereum Signed Message:\n';
/** Highest nonce a transaction may carry (EIP-2681), also below 2^53 so viem's number type holds it. */
const MAX_NONCE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * keccak-256 of `bytes` into {@link DIGEST}, which it returns. The decoder's allocation-free keccak
 * (WebAssembly, JS fallback; tested against @noble/hashes) took ~2 µs here for a transaction where
 * @noble/hashes `keccak_256` took ~24 µs, and a transaction needs two.
 */
function keccak(bytes: Uint8Array): Uint8Array {
  keccak256Into(bytes, 0, bytes.length, DIGEST, 0);
  return DIGEST;
}

/** Options of {@link NativeSigner.fromHex} and {@link NativeSigner.fromBytes}. */
export interface SignerOptions {
  /** Overrides the process default (tests and benchmarks compare both); `native` where it did not load throws. */
  backend?: SignerBackend;
}

/** `tx` in viem's shape for `serializeTransaction` / `signTransaction` (the signer's and the benchmark's comparison). */
export function viemUnsigned(tx: Eip1559Tx) {
  return {
    type: 'eip1559' as const,
    chainId: tx.chainId,
    nonce: Number(tx.nonce),
    to: tx.to,
    data: tx.data,
    value: tx.value,
    gas: tx.gas,
    maxFeePerGas: tx.maxFeePerGas,
    maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
    accessList: tx.accessList ?? [],
  };
}

/**
 * Signs with one private key. Build it with {@link NativeSigner.fromHex} or
 * {@link NativeSigner.fromBytes}; it shows only its address to anything that prints it.
 */
export class NativeSigner {
  /** The signer's address, lowercase 0x-hex. */
  readonly address: string;
  readonly #key: Uint8Array;
  readonly #backend: SignerBackend;

  private constructor(key: Uint8Array, backend: SignerBackend) {
    this.#key = key;
    this.#backend = backend;
    const pub = backend === 'native' ? native!.publicKeyCreate(key, false) : nobleSecp256k1.getPublicKey(key, false);
    keccak256Into(pub, 1, 65, DIGEST, 0);
    this.address = `0x${Buffer.from(DIGEST.buffer, DIGEST.byteOffset, 32).toString('hex', 12, 32)}`;
  }

  /**
   * A signer from a 32-byte key as hex (64 digits, `0x` optional, either case, surrounding white
   * space ignored). Throws a `TypeError` that names what is wrong and never contains the input.
   */
  static fromHex(hex: string, options: SignerOptions = {}): NativeSigner {
    if (typeof hex !== 'string') throw new TypeError(`private key must be a hex string, got ${hex === null ? 'null' : typeof hex}`);
    let s = hex.trim();
    if (s.length >= 2 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X')) s = s.slice(2);
    // The length is not key material; the digits are, so the message never quotes any of them.
    if (s.length !== 64 || !/^[0-9a-fA-F]{64}$/.test(s)) throw new TypeError('private key must be 32 bytes as 64 hex digits (0x optional)');
    return NativeSigner.#create(Uint8Array.from(Buffer.from(s, 'hex')), options);
  }

  /** A signer from the 32 key bytes, which it copies (the caller may wipe its array). */
  static fromBytes(key: Uint8Array, options: SignerOptions = {}): NativeSigner {
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError('private key must be 32 bytes');
    return NativeSigner.#create(Uint8Array.from(key), options);
  }

  static #create(key: Uint8Array, options: SignerOptions): NativeSigner {
    const backend = options.backend ?? signerBackend();
    if (backend !== 'native' && backend !== 'js') throw new TypeError(`signer backend must be 'native' or 'js'`);
    if (backend === 'native' && native === null) throw new TypeError(`native secp256k1 binding is not loaded: ${nativeError ?? 'unknown error'}`);
    const valid = backend === 'native' ? native!.privateKeyVerify(key) : nobleSecp256k1.utils.isValidPrivateKey(key);
    if (!valid) {
      key.fill(0);
      throw new TypeError('private key is not a valid secp256k1 scalar (zero or not below the curve order)');
    }
    return new NativeSigner(key, backend);
  }

  /** Which implementation this signer's curve work runs on. */
  get backend(): SignerBackend {
    return this.#backend;
  }

  /**
   * Signs an EIP-1559 transaction: viem's serialization of the unsigned fields, keccak-256 of it,
   * a low-s ECDSA signature whose recovery id becomes `yParity`, then the signed serialization and
   * its keccak as the hash. Synchronous.
   * @remarks Allocates (two serializations and their hex strings); ~66 µs p50 natively here, most of
   * it the ECDSA signature.
   */
  signTx(tx: Eip1559Tx): SignedTx {
    if (typeof tx.nonce !== 'bigint' || tx.nonce < 0n || tx.nonce > MAX_NONCE) throw new RangeError('tx.nonce must be a bigint in [0, 2^53 - 1]');
    const unsigned = viemUnsigned(tx);
    const payload = serializeTransaction(unsigned);
    const yParity = this.#sign(keccak(Buffer.from(payload.slice(2), 'hex')));
    const raw = serializeTransaction(unsigned, {
      r: `0x${Buffer.from(SIG.buffer, SIG.byteOffset, 32).toString('hex')}`,
      s: `0x${Buffer.from(SIG.buffer, SIG.byteOffset + 32, 32).toString('hex')}`,
      yParity,
    }) as Hex;
    keccak(Buffer.from(raw.slice(2), 'hex'));
    const hash = `0x${Buffer.from(DIGEST.buffer, DIGEST.byteOffset, 32).toString('hex')}` as Hex;
    return { raw, hash, from: this.address, nonce: tx.nonce };
  }

  /**
   * EIP-191 `personal_sign` of the UTF-8 text: keccak-256 of `"\x19Ethereum Signed Message:\n" +
   * byteLength + bytes`, returned as 65 bytes r ‖ s ‖ v with v = 27 + recovery id. Synchronous.
   * @remarks Allocates; not for the hot path.
   */
  signMessage(message: string): Hex {
    const body = Buffer.from(message, 'utf8');
    const prefixed = Buffer.concat([Buffer.from(`${MESSAGE_PREFIX}${body.length}`, 'utf8'), body]);
    const recid = this.#sign(keccak(prefixed));
    return `0x${Buffer.from(SIG).toString('hex')}${recid === 0 ? '1b' : '1c'}` as Hex;
  }

  /** Signs a 32-byte digest into {@link SIG} (r ‖ s, low-s) and returns the recovery id. */
  #sign(digest: Uint8Array): number {
    if (this.#backend === 'native') {
      // libsecp256k1 signs with RFC 6979 nonces and always normalizes to low-s (EIP-2).
      return native!.ecdsaSign(digest, this.#key, NO_OPTIONS, SIG).recid;
    }
    // noble: RFC 6979 without extra entropy and low-s by default, as viem calls it.
    const sig = nobleSecp256k1.sign(digest, this.#key, { lowS: true });
    SIG.set(sig.toCompactRawBytes());
    return sig.recovery;
  }

  /** What `JSON.stringify` shows: the address only. */
  toJSON(): { address: string } {
    return { address: this.address };
  }

  /** What `String()` and template literals show: the address only. */
  toString(): string {
    return `NativeSigner(${this.address})`;
  }

  /** What `util.inspect` and `console.log` show: the address only. */
  [inspect.custom](): { address: string } {
    return { address: this.address };
  }
}

/**
 * The signer configured by `ORION_PRIVATE_KEY` (64 hex digits, `0x` optional), or null when the
 * variable is unset or empty. A malformed value throws a `TypeError` naming the variable, never
 * quoting it. Read once at boot; the caller hands the signer on, not the variable.
 */
export function signerFromEnv(env: NodeJS.ProcessEnv = process.env, options: SignerOptions = {}): NativeSigner | null {
  const value = env.ORION_PRIVATE_KEY;
  if (value === undefined || value.trim() === '') return null;
  try {
    return NativeSigner.fromHex(value, options);
  } catch (err) {
    // Messages from fromHex never contain the key, so they can be re-prefixed as they are.
    throw new TypeError(`ORION_PRIVATE_KEY: ${err instanceof Error ? err.message : 'invalid'}`);
  }
}
