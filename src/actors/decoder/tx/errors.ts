/** Every code, in table order, so metrics can register each counter up front. */
export const TX_DECODE_ERROR_CODES = Object.freeze([
  'TX_EMPTY', 'TX_TOO_LARGE', 'TX_NOT_HEX', 'TX_TYPE_UNSUPPORTED', 'TX_RLP_MALFORMED', 'TX_RLP_TRUNCATED',
  'TX_RLP_NON_CANONICAL', 'TX_RLP_TRAILING', 'TX_FIELD_COUNT', 'TX_FIELD_LEADING_ZERO', 'TX_FIELD_SIZE',
  'TX_FIELD_RANGE', 'TX_FEE_TIP_ABOVE_CAP', 'TX_INTRINSIC_GAS', 'TX_INITCODE_TOO_LARGE', 'TX_TO_REQUIRED',
  'TX_SIG_INVALID', 'TX_SIG_HIGH_S', 'TX_CHAIN_ID', 'TX_BLOB_EMPTY', 'TX_BLOB_TOO_MANY', 'TX_BLOB_VERSION',
  'TX_BLOB_SIDECAR', 'TX_AUTH_EMPTY', 'TX_AUTH_MALFORMED', 'TX_RPC_NOT_OBJECT', 'TX_RPC_FIELD_MISSING',
  'TX_RPC_FIELD_INVALID',
] as const);

/**
 * Why a transaction was rejected. Codes are stable API: metrics count `reject.<code>`, `orion decode`
 * prints them, and tests key on them, so a code is never renamed or reused for another meaning.
 *
 * | code | the input… |
 * |---|---|
 * | `TX_EMPTY` | has no bytes |
 * | `TX_TOO_LARGE` | is longer than `maxBytes` (canonical form; a blob network form may carry its blobs beyond) |
 * | `TX_NOT_HEX` | (hex input) has a character that is not a hex digit, or an odd number of digits |
 * | `TX_TYPE_UNSUPPORTED` | starts with a type byte that is not 1, 2, 3 or 4 (EIP-2718), or the RPC object names another type |
 * | `TX_RLP_MALFORMED` | is not the RLP shape a transaction has: a string where a list belongs or the reverse |
 * | `TX_RLP_TRUNCATED` | has an item whose length runs past the end of the input or of its enclosing list |
 * | `TX_RLP_NON_CANONICAL` | uses a longer encoding than RLP allows (a byte < 0x80 wrapped, long form under 56 bytes, zeros leading a length) |
 * | `TX_RLP_TRAILING` | has bytes after the transaction |
 * | `TX_FIELD_COUNT` | has a list with more or fewer fields than its type defines |
 * | `TX_FIELD_LEADING_ZERO` | has an integer field with a leading zero byte |
 * | `TX_FIELD_SIZE` | has a fixed-size field of the wrong length (address 20 bytes, storage key or blob hash 32) |
 * | `TX_FIELD_RANGE` | has an integer beyond its bound: nonce ≥ 2^64 − 1 (EIP-2681), gas ≥ 2^64, a 256-bit field ≥ 2^256, gas × fee ≥ 2^256 |
 * | `TX_FEE_TIP_ABOVE_CAP` | sets maxPriorityFeePerGas above maxFeePerGas (EIP-1559) |
 * | `TX_INTRINSIC_GAS` | has a gas limit below its intrinsic gas |
 * | `TX_INITCODE_TOO_LARGE` | creates a contract with init code over 49,152 bytes (EIP-3860) |
 * | `TX_TO_REQUIRED` | is a blob or set-code transaction without a destination (EIP-4844, EIP-7702) |
 * | `TX_SIG_INVALID` | has a signature no key can have made: v or yParity not allowed, r or s outside [1, n), or no point recovers |
 * | `TX_SIG_HIGH_S` | has s above n/2 (EIP-2) |
 * | `TX_CHAIN_ID` | is signed for another chain than the configured one |
 * | `TX_BLOB_EMPTY` | is a blob transaction with no blob versioned hash |
 * | `TX_BLOB_TOO_MANY` | carries more than 6 blobs |
 * | `TX_BLOB_VERSION` | has a blob versioned hash whose first byte is not 0x01 (KZG) |
 * | `TX_BLOB_SIDECAR` | is a network form whose blobs, commitments or proofs do not match its versioned hashes |
 * | `TX_AUTH_EMPTY` | is a set-code transaction with an empty authorization list |
 * | `TX_AUTH_MALFORMED` | has an authorization tuple of the wrong shape or with a field out of range (EIP-7702) |
 * | `TX_RPC_NOT_OBJECT` | (RPC) is not an object |
 * | `TX_RPC_FIELD_MISSING` | (RPC) lacks a field its type needs |
 * | `TX_RPC_FIELD_INVALID` | (RPC) has a field that is not the hex quantity, data or list it should be |
 */
export type TxDecodeErrorCode = (typeof TX_DECODE_ERROR_CODES)[number];

/**
 * A transaction the decoder rejects: an expected outcome for bad input from the network, not an
 * engine fault, so it is not an `OrionError` and never restarts an actor. It carries no stack trace
 * (built with `Error.stackTraceLimit` at 0): a rejection is data, and capturing a stack for each of
 * a flood of garbage transactions would cost more than decoding them.
 */
export class TxDecodeError extends Error {
  override name = 'TxDecodeError';
  /** Stable reason, see {@link TxDecodeErrorCode}. */
  readonly code: TxDecodeErrorCode;

  constructor(code: TxDecodeErrorCode, message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.code = code;
  }

  /** The `{code, message}` pair `orion decode` prints and logs carry. */
  toJSON(): { code: TxDecodeErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
