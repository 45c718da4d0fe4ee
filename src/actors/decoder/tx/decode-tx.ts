import { createHash } from 'node:crypto';
import type { AccessListItem, Authorization, DecodedTx } from '../../../messages/schema.js';
import { TxDecodeError, type TxDecodeErrorCode } from './errors.js';
import { hexInto, hexStart, nibbleAt, toHex } from './hex.js';
import { keccak256Into } from './keccak.js';
import { RlpReader } from './rlp.js';
import { recoverAddress } from './sender.js';

/**
 * The transaction decoder: signed bytes of any type (legacy with or without EIP-155, EIP-2930,
 * EIP-1559, EIP-4844 in canonical or network form, EIP-7702) → one validated, sender-recovered
 * {@link DecodedTx}. Validity follows the fork rules a node applies before it accepts a transaction
 * into its pool: Cancun for types 0–3, Prague for type 4. Every rejection is a thrown
 * {@link TxDecodeError} with a stable code; nothing else is thrown for any input.
 *
 * Hot-path shape: one strict pass over the bytes with offsets (no RLP tree, no copies of fields),
 * integers converted straight from their bytes, addresses and hashes hex-encoded from a byte table,
 * keccak on reused buffers, and one native recovery per signature. `input` and `raw` are views of
 * the caller's bytes (canonical input) — the caller must not reuse that buffer afterwards.
 */

/** Options of {@link decodeTransaction} and {@link decodeHex}. */
export interface DecodeOptions {
  /** Reject transactions signed for another chain. Unset: any chain, and pre-EIP-155 legacy. */
  chainId?: bigint;
  /** Largest canonical encoding accepted, in bytes; default {@link DEFAULT_MAX_TX_BYTES}. */
  maxBytes?: number;
  /**
   * Check the gas limit against intrinsic gas (default true, as a node does). Signing libraries'
   * test vectors often carry gas limits no node would accept; set false to decode those.
   */
  checkIntrinsicGas?: boolean;
  /**
   * Senders already recovered, by transaction hash (a replay's sender hints): a listed transaction
   * takes its sender from here instead of a curve recovery. Every other check still runs.
   */
  senders?: ReadonlyMap<string, string>;
}

/** Default size limit of a canonical transaction: 128 KiB, geth's `txMaxSize`. */
export const DEFAULT_MAX_TX_BYTES = 128 * 1024;
/** EIP-3860 limit on contract-creation init code. */
export const MAX_INITCODE_BYTES = 49_152;
/** Blobs one transaction may carry (Cancun's per-block maximum, and Osaka's per-transaction cap). */
export const MAX_BLOBS_PER_TX = 6;

const BLOB_BYTES = 131_072;
const KZG_BYTES = 48;
/** EIP-7594 cell proofs per blob in the version-1 network wrapper. */
const CELL_PROOFS_PER_BLOB = 128;
/** What a network-form blob transaction may carry beyond its canonical size: blobs, commitments, proofs, headers. */
const NETWORK_FORM_ALLOWANCE = MAX_BLOBS_PER_TX * (BLOB_BYTES + 4 + (KZG_BYTES + 1) * (CELL_PROOFS_PER_BLOB + 1)) + 64;

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const SECP256K1_HALF_N = SECP256K1_N >> 1n;
const TWO_POW_256 = 1n << 256n;

const TX_GAS = 21_000;
const TX_CREATE_GAS = 32_000;
const TX_DATA_ZERO_GAS = 4;
const TX_DATA_NONZERO_GAS = 16;
const INITCODE_WORD_GAS = 2;
const ACCESS_LIST_ADDRESS_GAS = 2_400;
const ACCESS_LIST_KEY_GAS = 1_900;
/** EIP-7702 PER_EMPTY_ACCOUNT_COST, charged per authorization in intrinsic gas. */
const AUTH_GAS = 25_000;
/** EIP-7623 floor: 10 gas per calldata token (zero byte 1 token, non-zero byte 4). Prague, type 4 here. */
const FLOOR_GAS_PER_TOKEN = 10;

// Reused per thread; the decoder is synchronous, so one call never sees another's state.
const R = new RlpReader();
const MSG = new Uint8Array(32);
const SIG = new Uint8Array(64);
const HASH = new Uint8Array(32);
let scratch = new Uint8Array(4096);

function fail(code: TxDecodeErrorCode, message: string): never {
  throw new TxDecodeError(code, message);
}

function scratchFor(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/** Unsigned big-endian `b[s, e)` (at most 6 bytes) as a number. */
function num(b: Uint8Array, s: number, e: number): number {
  let v = 0;
  for (let i = s; i < e; i++) v = v * 256 + b[i]!;
  return v;
}

/** Unsigned big-endian `b[s, e)` as a bigint; small values skip the hex round trip. */
function big(b: Uint8Array, s: number, e: number): bigint {
  return e - s <= 6 ? BigInt(num(b, s, e)) : BigInt(toHex(b, s, e));
}

/** Throws TX_FIELD_COUNT when the enclosing list `end` has no item left for `what`. */
function need(end: number, what: string): void {
  if (R.pos >= end) fail('TX_FIELD_COUNT', `list ends before ${what}`);
}

/** Reads an integer field of at most `maxLen` bytes into R.start/R.end: no leading zero. */
function uintField(end: number, what: string, maxLen: number): void {
  need(end, what);
  R.string(end, what);
  const len = R.end - R.start;
  if (len > 0 && R.buf[R.start] === 0) fail('TX_FIELD_LEADING_ZERO', `${what} has a leading zero byte`);
  if (len > maxLen) fail('TX_FIELD_RANGE', `${what} is ${len} bytes, at most ${maxLen} allowed`);
}

/** Reads a string field of exactly `size` bytes (`orEmpty`: or none) into R.start/R.end. */
function fixedField(end: number, what: string, size: number, orEmpty: boolean): void {
  need(end, what);
  R.string(end, what);
  const len = R.end - R.start;
  if (len !== size && !(orEmpty && len === 0)) fail('TX_FIELD_SIZE', `${what} is ${len} bytes, expected ${size}`);
}

/** Writes an RLP list header for a `len`-byte payload at `p`; returns the offset after it. */
function listHeader(out: Uint8Array, p: number, len: number): number {
  if (len < 56) {
    out[p] = 0xc0 + len;
    return p + 1;
  }
  let n = 0;
  for (let v = len; v > 0; v = Math.floor(v / 256)) n++;
  out[p++] = 0xf7 + n;
  for (let i = n - 1; i >= 0; i--) out[p++] = Math.floor(len / 256 ** i) % 256;
  return p;
}

/** Writes `v` as an RLP integer item at `p`; returns the offset after it. */
function uintItem(out: Uint8Array, p: number, v: bigint): number {
  let n = 0;
  for (let t = v; t > 0n; t >>= 8n) n++;
  if (n === 1 && v < 0x80n) {
    out[p] = Number(v);
    return p + 1;
  }
  out[p++] = 0x80 + n;
  for (let i = p + n - 1; i >= p; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return p + n;
}

/** Copies r and s (each at most 32 bytes, no leading zeros) right-aligned into SIG. */
function loadSig(b: Uint8Array, rS: number, rE: number, sS: number, sE: number): void {
  SIG.fill(0);
  for (let i = rS, j = 32 - (rE - rS); i < rE; i++, j++) SIG[j] = b[i]!;
  for (let i = sS, j = 64 - (sE - sS); i < sE; i++, j++) SIG[j] = b[i]!;
}

/**
 * Gas a transaction pays before execution: base, calldata (EIP-2028), creation and init-code words
 * (EIP-3860), access list (EIP-2930), authorizations (EIP-7702) and, for type 4 under Prague, the
 * EIP-7623 calldata floor when that is higher.
 */
function intrinsic(b: Uint8Array, dS: number, dE: number, create: boolean, alAddresses: number, alKeys: number, auths: number, type: number): number {
  let zeros = 0;
  for (let i = dS; i < dE; i++) if (b[i] === 0) zeros++;
  const len = dE - dS;
  const nonZeros = len - zeros;
  let gas = TX_GAS + zeros * TX_DATA_ZERO_GAS + nonZeros * TX_DATA_NONZERO_GAS;
  if (create) gas += TX_CREATE_GAS + INITCODE_WORD_GAS * Math.ceil(len / 32);
  gas += alAddresses * ACCESS_LIST_ADDRESS_GAS + alKeys * ACCESS_LIST_KEY_GAS;
  if (type === 4) {
    gas += auths * AUTH_GAS;
    const floor = TX_GAS + FLOOR_GAS_PER_TOKEN * (zeros + 4 * nonZeros);
    if (floor > gas) gas = floor;
  }
  return gas;
}

/** Intrinsic gas of a decoded transaction, by the rules {@link decodeTransaction} enforces. */
export function intrinsicGas(tx: DecodedTx): bigint {
  let keys = 0;
  for (const item of tx.accessList) keys += item.storageKeys.length;
  const auths = tx.authorizationList === null ? 0 : tx.authorizationList.length;
  return BigInt(intrinsic(tx.input, 0, tx.input.length, tx.to === null, tx.accessList.length, keys, auths, tx.type));
}

/** Field-level failures inside an authorization tuple that EIP-7702 calls a malformed authorization. */
const AUTH_SHAPE_CODES: ReadonlySet<TxDecodeErrorCode> = new Set<TxDecodeErrorCode>([
  'TX_RLP_MALFORMED', 'TX_FIELD_COUNT', 'TX_FIELD_LEADING_ZERO', 'TX_FIELD_SIZE', 'TX_FIELD_RANGE',
]);

/**
 * Where each authorization's signed fields and signature sit in the input, 6 offsets per tuple
 * (fields start, signed end, r start/end, s start/end), kept so authorities are recovered only
 * once the transaction as a whole has passed every check: an invalid set-code transaction must not
 * cost one recovery per tuple. Per thread; grown when a transaction carries more tuples.
 */
let authOffsets = new Int32Array(6 * 16);

/**
 * Reads one authorization tuple [chainId, address, nonce, yParity, r, s] at R.pos, with its
 * authority still null (see {@link recoverAuthority}). Out-of-range fields reject the transaction
 * (EIP-7702 bounds: nonce < 2^64, yParity < 2^8, 256-bit chainId/r/s), as does any other shape error.
 */
function readAuthorization(b: Uint8Array, listEnd: number, index: number): Authorization {
  try {
    const end = R.list(listEnd, `authorization ${index}`);
    const fieldsStart = R.pos;
    uintField(end, 'authorization chainId', 32);
    const chainId = big(b, R.start, R.end);
    fixedField(end, 'authorization address', 20, false);
    const address = toHex(b, R.start, R.end);
    uintField(end, 'authorization nonce', 8);
    const nonce = big(b, R.start, R.end);
    const signedEnd = R.pos;
    uintField(end, 'authorization yParity', 1);
    const yParity = R.end > R.start ? b[R.start]! : 0;
    uintField(end, 'authorization r', 32);
    const rS = R.start;
    const rE = R.end;
    uintField(end, 'authorization s', 32);
    if (R.pos !== end) fail('TX_FIELD_COUNT', `authorization ${index} has more than 6 fields`);
    if (authOffsets.length < 6 * (index + 1)) {
      const grown = new Int32Array(authOffsets.length * 2);
      grown.set(authOffsets);
      authOffsets = grown;
    }
    const o = 6 * index;
    authOffsets[o] = fieldsStart;
    authOffsets[o + 1] = signedEnd;
    authOffsets[o + 2] = rS;
    authOffsets[o + 3] = rE;
    authOffsets[o + 4] = R.start;
    authOffsets[o + 5] = R.end;
    return { chainId, address, nonce, yParity, r: big(b, rS, rE), s: big(b, R.start, R.end), authority: null };
  } catch (err) {
    if (err instanceof TxDecodeError && AUTH_SHAPE_CODES.has(err.code)) fail('TX_AUTH_MALFORMED', `authorization ${index}: ${err.message}`);
    throw err;
  }
}

/**
 * Sets the authority of authorization `index` of `b`. A signature that is in range but not valid
 * (yParity above 1, r or s outside [1, n), s above n/2, no point) leaves it null: a node skips
 * that tuple, the transaction stands.
 */
function recoverAuthority(b: Uint8Array, a: Authorization, index: number): void {
  const { yParity, r, s } = a;
  if (yParity > 1 || r === 0n || r >= SECP256K1_N || s === 0n || s > SECP256K1_HALF_N) return;
  const o = 6 * index;
  const fieldsStart = authOffsets[o]!;
  const signedEnd = authOffsets[o + 1]!;
  // Signed message: keccak(0x05 ‖ rlp([chainId, address, nonce])); the three fields are contiguous
  // in the tuple, so only a new list header is needed in front of them.
  const len = signedEnd - fieldsStart;
  const out = scratchFor(len + 10);
  out[0] = 0x05;
  let p = listHeader(out, 1, len);
  out.set(b.subarray(fieldsStart, signedEnd), p);
  p += len;
  keccak256Into(out, 0, p, MSG, 0);
  loadSig(b, authOffsets[o + 2]!, authOffsets[o + 3]!, authOffsets[o + 4]!, authOffsets[o + 5]!);
  a.authority = recoverAddress(MSG, SIG, yParity);
}

/**
 * Decodes a canonical signed transaction (`raw` is the whole encoding: a legacy RLP list, or a type
 * byte and its RLP payload) of `type`. `raw` is not copied: `input` and the result's `raw` view it.
 */
function decodeCanonical(raw: Uint8Array, type: number, opts: DecodeOptions | undefined): DecodedTx {
  const b = raw;
  const n = b.length;
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_TX_BYTES;
  if (n > maxBytes) fail('TX_TOO_LARGE', `transaction is ${n} bytes, limit ${maxBytes}`);
  R.reset(b, type === 0 ? 0 : 1);
  const end = R.list(n, 'transaction');
  if (end !== n) fail('TX_RLP_TRAILING', `${n - end} bytes after the transaction`);
  const fieldsStart = R.pos;

  let chainId: bigint | null = null;
  if (type !== 0) {
    uintField(end, 'chainId', 32);
    chainId = big(b, R.start, R.end);
  }
  uintField(end, 'nonce', 8);
  const nonceS = R.start;
  const nonceE = R.end;
  let gasPrice: bigint | null = null;
  let maxPriorityFeePerGas: bigint | null = null;
  let maxFeePerGas: bigint | null = null;
  // The fee that multiplies gas: gasPrice (types 0, 1) or maxFeePerGas; its length bounds gas × fee.
  let feeLen: number;
  if (type < 2) {
    uintField(end, 'gasPrice', 32);
    gasPrice = big(b, R.start, R.end);
    feeLen = R.end - R.start;
  } else {
    uintField(end, 'maxPriorityFeePerGas', 32);
    maxPriorityFeePerGas = big(b, R.start, R.end);
    uintField(end, 'maxFeePerGas', 32);
    maxFeePerGas = big(b, R.start, R.end);
    feeLen = R.end - R.start;
  }
  uintField(end, 'gas', 8);
  const gasS = R.start;
  const gasE = R.end;
  fixedField(end, 'to', 20, true);
  const to = R.end > R.start ? toHex(b, R.start, R.end) : null;
  uintField(end, 'value', 32);
  const value = big(b, R.start, R.end);
  need(end, 'data');
  R.string(end, 'data');
  const dataS = R.start;
  const dataE = R.end;

  const accessList: AccessListItem[] = [];
  let alKeys = 0;
  if (type !== 0) {
    need(end, 'accessList');
    const alEnd = R.list(end, 'accessList');
    while (R.pos < alEnd) {
      const itemEnd = R.list(alEnd, 'access list entry');
      fixedField(itemEnd, 'access list address', 20, false);
      const address = toHex(b, R.start, R.end);
      need(itemEnd, 'access list storage keys');
      const keysEnd = R.list(itemEnd, 'access list storage keys');
      const storageKeys: string[] = [];
      while (R.pos < keysEnd) {
        fixedField(keysEnd, 'storage key', 32, false);
        storageKeys.push(toHex(b, R.start, R.end));
      }
      if (R.pos !== itemEnd) fail('TX_FIELD_COUNT', 'access list entry has more than 2 fields');
      alKeys += storageKeys.length;
      accessList.push({ address, storageKeys });
    }
  }

  let maxFeePerBlobGas: bigint | null = null;
  let blobVersionedHashes: string[] | null = null;
  if (type === 3) {
    uintField(end, 'maxFeePerBlobGas', 32);
    maxFeePerBlobGas = big(b, R.start, R.end);
    need(end, 'blobVersionedHashes');
    const hEnd = R.list(end, 'blobVersionedHashes');
    blobVersionedHashes = [];
    while (R.pos < hEnd) {
      fixedField(hEnd, 'blob versioned hash', 32, false);
      if (b[R.start] !== 0x01) fail('TX_BLOB_VERSION', `blob versioned hash ${blobVersionedHashes.length} has version 0x${b[R.start]!.toString(16).padStart(2, '0')}, expected 0x01`);
      blobVersionedHashes.push(toHex(b, R.start, R.end));
    }
    if (blobVersionedHashes.length === 0) fail('TX_BLOB_EMPTY', 'blob transaction has no blob versioned hashes');
    if (blobVersionedHashes.length > MAX_BLOBS_PER_TX) fail('TX_BLOB_TOO_MANY', `${blobVersionedHashes.length} blobs, at most ${MAX_BLOBS_PER_TX}`);
  }

  let authorizationList: Authorization[] | null = null;
  if (type === 4) {
    need(end, 'authorizationList');
    const aEnd = R.list(end, 'authorizationList');
    authorizationList = [];
    while (R.pos < aEnd) authorizationList.push(readAuthorization(b, aEnd, authorizationList.length));
    if (authorizationList.length === 0) fail('TX_AUTH_EMPTY', 'set-code transaction has an empty authorization list');
  }
  const unsignedEnd = R.pos;

  // Signature: v (legacy) or yParity, then r and s.
  uintField(end, type === 0 ? 'v' : 'yParity', 32);
  const vS = R.start;
  const vE = R.end;
  need(end, 'r');
  R.string(end, 'r');
  const rS = R.start;
  const rE = R.end;
  need(end, 's');
  R.string(end, 's');
  const sS = R.start;
  const sE = R.end;
  if (R.pos !== end) fail('TX_FIELD_COUNT', `type ${type} transaction has more fields than it defines`);
  if (rE > rS && b[rS] === 0) fail('TX_FIELD_LEADING_ZERO', 'r has a leading zero byte');
  if (sE > sS && b[sS] === 0) fail('TX_FIELD_LEADING_ZERO', 's has a leading zero byte');

  // Signature values and chain id first, as a node checks them while decoding, before gas rules.
  // v → recovery id and chain id.
  const v = big(b, vS, vE);
  let parity: number;
  if (type === 0) {
    if (v === 27n || v === 28n) {
      parity = Number(v - 27n);
    } else if (v >= 35n) {
      parity = Number((v - 35n) & 1n);
      chainId = (v - 35n) >> 1n;
    } else {
      fail('TX_SIG_INVALID', `legacy v is ${v}, expected 27, 28 or 35 + 2 × chainId + {0, 1}`);
    }
  } else {
    if (v > 1n) fail('TX_SIG_INVALID', `yParity is ${v}, expected 0 or 1`);
    parity = Number(v);
  }
  if (opts?.chainId !== undefined && chainId !== null && chainId !== opts.chainId) {
    fail('TX_CHAIN_ID', `signed for chain ${chainId}, expected ${opts.chainId}`);
  }
  if (rE - rS > 32 || sE - sS > 32) fail('TX_SIG_INVALID', 'r or s is longer than 32 bytes');
  const r = big(b, rS, rE);
  const s = big(b, sS, sE);
  if (r === 0n || r >= SECP256K1_N) fail('TX_SIG_INVALID', 'r is outside [1, n)');
  if (s === 0n || s >= SECP256K1_N) fail('TX_SIG_INVALID', 's is outside [1, n)');
  if (s > SECP256K1_HALF_N) fail('TX_SIG_HIGH_S', 's is above n/2 (EIP-2)');

  // Rules that need the whole transaction.
  if ((type === 3 || type === 4) && to === null) fail('TX_TO_REQUIRED', `type ${type} transaction cannot create a contract`);
  const nonceLen = nonceE - nonceS;
  if (nonceLen === 8 && num(b, nonceS, nonceS + 4) === 0xffffffff && num(b, nonceS + 4, nonceE) === 0xffffffff) {
    fail('TX_FIELD_RANGE', 'nonce is 2^64 - 1, must be below (EIP-2681)');
  }
  const nonce = big(b, nonceS, nonceE);
  if (maxPriorityFeePerGas !== null && maxFeePerGas !== null && maxPriorityFeePerGas > maxFeePerGas) {
    fail('TX_FEE_TIP_ABOVE_CAP', 'maxPriorityFeePerGas is above maxFeePerGas');
  }
  const gas = big(b, gasS, gasE);
  // gas × fee can only reach 2^256 when their byte lengths add up past 32.
  if (gasE - gasS + feeLen > 32 && gas * (gasPrice ?? maxFeePerGas ?? 0n) >= TWO_POW_256) {
    fail('TX_FIELD_RANGE', 'gas × fee per gas overflows 256 bits');
  }
  if (to === null && dataE - dataS > MAX_INITCODE_BYTES) {
    fail('TX_INITCODE_TOO_LARGE', `init code is ${dataE - dataS} bytes, at most ${MAX_INITCODE_BYTES} (EIP-3860)`);
  }
  if (opts?.checkIntrinsicGas !== false && gasE - gasS <= 6) {
    const required = intrinsic(b, dataS, dataE, to === null, accessList.length, alKeys, authorizationList === null ? 0 : authorizationList.length, type);
    const have = num(b, gasS, gasE);
    if (have < required) fail('TX_INTRINSIC_GAS', `gas limit ${have} is below intrinsic gas ${required}`);
  }

  // Signing hash: the unsigned fields under a new list header (after the type byte for typed
  // transactions; with chainId, 0, 0 appended for EIP-155). The fields are copied once, as they are.
  const fieldsLen = (type === 0 ? dataE : unsignedEnd) - fieldsStart;
  const out = scratchFor(fieldsLen + 64);
  let p = 0;
  if (type !== 0) {
    out[p++] = type;
    p = listHeader(out, p, fieldsLen);
    out.set(b.subarray(fieldsStart, unsignedEnd), p);
    p += fieldsLen;
  } else if (chainId === null) {
    p = listHeader(out, p, fieldsLen);
    out.set(b.subarray(fieldsStart, dataE), p);
    p += fieldsLen;
  } else {
    // The chain id's encoding is needed for the header length: write it past the worst-case
    // header first, then move it behind the fields.
    const tailAt = 9 + fieldsLen;
    const tailEnd = uintItem(out, tailAt, chainId);
    out[tailEnd] = 0x80;
    out[tailEnd + 1] = 0x80;
    const tailLen = tailEnd + 2 - tailAt;
    p = listHeader(out, 0, fieldsLen + tailLen);
    out.copyWithin(p + fieldsLen, tailAt, tailAt + tailLen);
    out.set(b.subarray(fieldsStart, dataE), p);
    p += fieldsLen + tailLen;
  }
  keccak256Into(b, 0, n, HASH, 0);
  const hash = toHex(HASH, 0, 32);
  let from = opts?.senders?.get(hash) ?? null;
  if (from === null) {
    keccak256Into(out, 0, p, MSG, 0);
    loadSig(b, rS, rE, sS, sE);
    from = recoverAddress(MSG, SIG, parity);
    if (from === null) fail('TX_SIG_INVALID', 'no public key recovers from the signature');
  }
  if (authorizationList !== null) for (let i = 0; i < authorizationList.length; i++) recoverAuthority(b, authorizationList[i]!, i);

  return {
    hash,
    type,
    chainId,
    nonce,
    from,
    to,
    value,
    gas,
    gasPrice,
    maxFeePerGas,
    maxPriorityFeePerGas,
    maxFeePerBlobGas,
    input: b.subarray(dataS, dataE),
    accessList,
    blobVersionedHashes,
    authorizationList,
    v,
    r,
    s,
    size: n,
    raw: b,
    firstSeenNs: 0,
    source: 0,
    hashMismatch: false,
    intent: null,
  };
}

/**
 * Decodes a blob transaction in the network form, `0x03 ‖ rlp([tx_payload_body, blobs, commitments,
 * proofs])` (EIP-4844), or the EIP-7594 form with a wrapper version 1 and 128 cell proofs per blob:
 * checks the sidecar against the versioned hashes (counts, sizes, each commitment's versioned hash),
 * then decodes the canonical form it carries. Returns null when the payload is the canonical form.
 * KZG proofs are not verified (that needs the trusted setup); the node that relayed it did.
 */
function decodeNetworkForm(b: Uint8Array, opts: DecodeOptions | undefined): DecodedTx | null {
  const n = b.length;
  R.reset(b, 1);
  const end = R.list(n, 'blob transaction');
  if (end !== n) fail('TX_RLP_TRAILING', `${n - end} bytes after the transaction`);
  const bodyAt = R.pos;
  need(end, 'chainId');
  if (!R.next(end)) return null;
  const bodyEnd = R.pos;

  need(end, 'blobs');
  let version = 0;
  const afterBody = R.pos;
  if (!R.next(end)) {
    // A string after the body is the EIP-7594 wrapper version.
    if (R.end - R.start !== 1 || b[R.start] !== 0x01) fail('TX_BLOB_SIDECAR', 'network wrapper version is not 1');
    version = 1;
    need(end, 'blobs');
  } else {
    R.pos = afterBody; // It was the blobs list: read it again below, as a list.
  }
  const blobsEnd = R.list(end, 'blobs');
  let blobs = 0;
  while (R.pos < blobsEnd) {
    R.string(blobsEnd, 'blob');
    if (R.end - R.start !== BLOB_BYTES) fail('TX_BLOB_SIDECAR', `blob ${blobs} is ${R.end - R.start} bytes, expected ${BLOB_BYTES}`);
    blobs++;
  }
  need(end, 'commitments');
  const commitmentsEnd = R.list(end, 'commitments');
  const commitments: number[] = [];
  while (R.pos < commitmentsEnd) {
    R.string(commitmentsEnd, 'commitment');
    if (R.end - R.start !== KZG_BYTES) fail('TX_BLOB_SIDECAR', `commitment ${commitments.length} is ${R.end - R.start} bytes, expected ${KZG_BYTES}`);
    commitments.push(R.start);
  }
  need(end, 'proofs');
  const proofsEnd = R.list(end, 'proofs');
  let proofs = 0;
  while (R.pos < proofsEnd) {
    R.string(proofsEnd, 'proof');
    if (R.end - R.start !== KZG_BYTES) fail('TX_BLOB_SIDECAR', `proof ${proofs} is ${R.end - R.start} bytes, expected ${KZG_BYTES}`);
    proofs++;
  }
  if (R.pos !== end) fail('TX_FIELD_COUNT', 'network-form blob transaction has more fields than it defines');
  const proofsPerBlob = version === 1 ? CELL_PROOFS_PER_BLOB : 1;
  if (commitments.length !== blobs || proofs !== blobs * proofsPerBlob) {
    fail('TX_BLOB_SIDECAR', `${blobs} blobs, ${commitments.length} commitments, ${proofs} proofs do not match`);
  }

  // The canonical form is the type byte and the body: copied out, so the blobs can be collected.
  const canonical = new Uint8Array(1 + bodyEnd - bodyAt);
  canonical[0] = 3;
  canonical.set(b.subarray(bodyAt, bodyEnd), 1);
  const tx = decodeCanonical(canonical, 3, opts);
  const hashes = tx.blobVersionedHashes!;
  if (hashes.length !== blobs) fail('TX_BLOB_SIDECAR', `${blobs} blobs for ${hashes.length} versioned hashes`);
  for (let i = 0; i < blobs; i++) {
    const at = commitments[i]!;
    const digest = createHash('sha256').update(b.subarray(at, at + KZG_BYTES)).digest();
    digest[0] = 0x01;
    if (toHex(digest, 0, 32) !== hashes[i]) fail('TX_BLOB_SIDECAR', `commitment ${i} does not hash to versioned hash ${i}`);
  }
  return tx;
}

/**
 * Decodes and validates one signed transaction and recovers its sender. `bytes` is the canonical
 * encoding of any type, or a blob transaction's network form (its versioned hashes are kept; hash,
 * `raw` and `size` are of the canonical form). Throws {@link TxDecodeError} for anything a node
 * would refuse, and never anything else. `firstSeenNs`, `source`, `hashMismatch` and `intent` are
 * left at their defaults for the decoder actor to fill.
 */
export function decodeTransaction(bytes: Uint8Array, opts?: DecodeOptions): DecodedTx {
  const n = bytes.length;
  if (n === 0) fail('TX_EMPTY', 'transaction has no bytes');
  const first = bytes[0]!;
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_TX_BYTES;
  if (n > maxBytes && !(first === 3 && n <= maxBytes + NETWORK_FORM_ALLOWANCE)) {
    fail('TX_TOO_LARGE', `transaction is ${n} bytes, limit ${maxBytes}`);
  }
  if (first >= 0xc0) return decodeCanonical(bytes, 0, opts);
  if (first === 1 || first === 2 || first === 4) return decodeCanonical(bytes, first, opts);
  if (first === 3) return decodeNetworkForm(bytes, opts) ?? decodeCanonical(bytes, 3, opts);
  if (first >= 0x80) fail('TX_RLP_MALFORMED', 'transaction is an RLP string, expected a list or a typed envelope');
  return fail('TX_TYPE_UNSUPPORTED', `transaction type 0x${first.toString(16).padStart(2, '0')} is not supported`);
}

/**
 * {@link decodeTransaction} for hex text, with or without `0x`. Rejects odd-length or non-hex text
 * with `TX_NOT_HEX`, and text too long for any accepted transaction before converting it.
 * @remarks Allocates the bytes (which the result's `raw` and `input` then view).
 */
export function decodeHex(hex: string, opts?: DecodeOptions): DecodedTx {
  const from = hexStart(hex);
  const digits = hex.length - from;
  if (digits === 0) fail('TX_EMPTY', 'transaction has no bytes');
  if ((digits & 1) !== 0) fail('TX_NOT_HEX', `odd number of hex digits (${digits})`);
  const n = digits >>> 1;
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_TX_BYTES;
  if (n > maxBytes + NETWORK_FORM_ALLOWANCE || (n > maxBytes && (nibbleAt(hex, from) !== 0 || nibbleAt(hex, from + 1) !== 3))) {
    fail('TX_TOO_LARGE', `transaction is ${n} bytes, limit ${maxBytes}`);
  }
  const bytes = new Uint8Array(n);
  if (!hexInto(hex, from, bytes, 0)) fail('TX_NOT_HEX', 'transaction text has a character that is not a hex digit');
  return decodeTransaction(bytes, opts);
}
