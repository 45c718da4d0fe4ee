import type { DecodedTx, RpcTransaction } from '../../../messages/schema.js';
import { type DecodeOptions, decodeTransaction } from './decode-tx.js';
import { TxDecodeError, type TxDecodeErrorCode } from './errors.js';
import { RlpWriter } from './rlp-writer.js';

/**
 * Transactions that arrive as JSON-RPC objects (`eth_subscribe` full objects, `eth_getTransaction…`)
 * go through the same decoder as raw bytes: the object's fields are re-serialized into the signed
 * canonical encoding of its type, and those bytes are decoded, validated and sender-recovered by
 * {@link decodeTransaction}. The recomputed hash is then compared with the one the node announced:
 * a mismatch means the node and we disagree about the transaction (a field we do not model, a
 * node bug, a tampered relay), so it is flagged for the caller to count, not rejected.
 */

/** Reused across calls; decoding is synchronous, so one call never sees another's bytes. */
const W = new RlpWriter(2048);

function fail(code: TxDecodeErrorCode, message: string): never {
  throw new TxDecodeError(code, message);
}

function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `0x`-prefixed hex text, as JSON-RPC sends quantities and data. */
function isPrefixedHex(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 2 && v.charCodeAt(0) === 48 && (v.charCodeAt(1) | 0x20) === 120;
}

/** Appends `obj[name]`, a hex quantity (or a non-negative safe integer or bigint), as an RLP integer. */
function quantity(obj: Readonly<Record<string, unknown>>, name: string, where: string): void {
  const v = obj[name];
  if (v === undefined || v === null) fail('TX_RPC_FIELD_MISSING', `${where}${name} is missing`);
  if (isPrefixedHex(v)) {
    if (W.hexQuantity(v, 2)) return;
  } else if ((typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n)) {
    W.uint(v);
    return;
  }
  fail('TX_RPC_FIELD_INVALID', `${where}${name} is not a hex quantity`);
}

/** Appends `v`, 0x-hex data, as an RLP string; `what` names it in the error. */
function data(v: unknown, what: string): void {
  if (v === undefined || v === null) fail('TX_RPC_FIELD_MISSING', `${what} is missing`);
  if (!isPrefixedHex(v) || !W.hexData(v, 2)) fail('TX_RPC_FIELD_INVALID', `${what} is not 0x-hex data`);
}

/** The array at `obj[name]`, or a missing/invalid error. */
function array(obj: Readonly<Record<string, unknown>>, name: string): readonly unknown[] {
  const v = obj[name];
  if (v === undefined || v === null) fail('TX_RPC_FIELD_MISSING', `${name} is missing`);
  if (!Array.isArray(v)) fail('TX_RPC_FIELD_INVALID', `${name} is not an array`);
  return v;
}

function accessList(obj: Readonly<Record<string, unknown>>): void {
  const list = array(obj, 'accessList');
  const mark = W.beginList();
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isRecord(item)) fail('TX_RPC_FIELD_INVALID', `accessList[${i}] is not an object`);
    const entry = W.beginList();
    data(item.address, `accessList[${i}].address`);
    const keys = item.storageKeys;
    if (!Array.isArray(keys)) fail(keys === undefined ? 'TX_RPC_FIELD_MISSING' : 'TX_RPC_FIELD_INVALID', `accessList[${i}].storageKeys is not an array`);
    const keysMark = W.beginList();
    for (let k = 0; k < keys.length; k++) data(keys[k], `accessList[${i}].storageKeys[${k}]`);
    W.endList(keysMark);
    W.endList(entry);
  }
  W.endList(mark);
}

function authorizationList(obj: Readonly<Record<string, unknown>>): void {
  const list = array(obj, 'authorizationList');
  const mark = W.beginList();
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    if (!isRecord(a)) fail('TX_RPC_FIELD_INVALID', `authorizationList[${i}] is not an object`);
    const where = `authorizationList[${i}].`;
    const tuple = W.beginList();
    quantity(a, 'chainId', where);
    data(a.address, `${where}address`);
    quantity(a, 'nonce', where);
    // geth and anvil name it yParity; some clients used v (0 or 1 here too).
    quantity(a, a.yParity === undefined ? 'v' : 'yParity', where);
    quantity(a, 'r', where);
    quantity(a, 's', where);
    W.endList(tuple);
  }
  W.endList(mark);
}

/** The transaction type the object declares: `type` as a quantity; absent means legacy. */
function typeOf(obj: Readonly<Record<string, unknown>>): number {
  const t = obj.type;
  if (t === undefined || t === null) return 0;
  let n: number;
  if (typeof t === 'number' && Number.isSafeInteger(t) && t >= 0) n = t;
  else if (typeof t === 'string' && /^0x[0-9a-f]{1,8}$/i.test(t)) n = Number.parseInt(t.slice(2), 16);
  else fail('TX_RPC_FIELD_INVALID', 'type is not a hex quantity');
  if (n > 4) fail('TX_TYPE_UNSUPPORTED', `transaction type ${n} is not supported`);
  return n;
}

/**
 * Rebuilds the signed canonical encoding of an RPC transaction object (exactly the bytes the node
 * hashed), as geth and anvil send them: hex quantities, `type`, `chainId`, `v`/`yParity`, `r`, `s`,
 * `input` (or `data`), `gas` (or `gasLimit`), `accessList`, `authorizationList`,
 * `blobVersionedHashes`. Throws `TX_RPC_…` for a missing or malformed field. @remarks Allocates the result.
 */
export function encodeRpcTransaction(obj: RpcTransaction): Uint8Array {
  if (!isRecord(obj)) fail('TX_RPC_NOT_OBJECT', 'RPC transaction is not an object');
  const type = typeOf(obj);
  W.reset();
  if (type !== 0) W.raw(type);
  const mark = W.beginList();
  if (type !== 0) quantity(obj, 'chainId', '');
  quantity(obj, 'nonce', '');
  if (type < 2) {
    quantity(obj, 'gasPrice', '');
  } else {
    quantity(obj, 'maxPriorityFeePerGas', '');
    quantity(obj, 'maxFeePerGas', '');
  }
  quantity(obj, obj.gas === undefined && obj.gasLimit !== undefined ? 'gasLimit' : 'gas', '');
  // A contract creation has `to: null` (or no `to`): the empty string.
  if (obj.to === undefined || obj.to === null) W.hexData('0x', 2);
  else data(obj.to, 'to');
  quantity(obj, 'value', '');
  data(obj.input === undefined ? obj.data : obj.input, 'input');
  if (type !== 0) accessList(obj);
  if (type === 3) {
    quantity(obj, 'maxFeePerBlobGas', '');
    const hashes = array(obj, 'blobVersionedHashes');
    const hMark = W.beginList();
    for (let i = 0; i < hashes.length; i++) data(hashes[i], `blobVersionedHashes[${i}]`);
    W.endList(hMark);
  }
  if (type === 4) authorizationList(obj);
  // Legacy transactions carry v (27/28, or EIP-155's 35 + 2 × chainId + parity); typed ones yParity.
  quantity(obj, type === 0 || obj.yParity === undefined ? 'v' : 'yParity', '');
  quantity(obj, 'r', '');
  quantity(obj, 's', '');
  W.endList(mark);
  return W.toBytes();
}

/**
 * Decodes a transaction that arrived as an RPC object into the same {@link DecodedTx} its raw bytes
 * would give (same validation, same codes), and reports whether the recomputed hash differs from
 * the object's `hash` (also set on `tx.hashMismatch`). An object without `hash` is not compared.
 * @remarks Allocates the canonical bytes, which `tx.raw` and `tx.input` then view.
 */
export function decodeRpcTransaction(obj: RpcTransaction, opts?: DecodeOptions): { tx: DecodedTx; hashMismatch: boolean } {
  const bytes = encodeRpcTransaction(obj);
  const announced = obj.hash;
  if (announced !== undefined && announced !== null && typeof announced !== 'string') fail('TX_RPC_FIELD_INVALID', 'hash is not a string');
  const tx = decodeTransaction(bytes, opts);
  const hashMismatch = typeof announced === 'string' && announced !== tx.hash && announced.toLowerCase() !== tx.hash;
  tx.hashMismatch = hashMismatch;
  return { tx, hashMismatch };
}
