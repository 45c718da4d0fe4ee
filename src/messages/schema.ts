import { createHash } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import type { Opportunity } from '../actors/scorer/opportunity.js';

export type { Opportunity } from '../actors/scorer/opportunity.js';
import type { Submission } from '../actors/submitter/submission.js';
export type { Submission } from '../actors/submitter/submission.js';

/**
 * The one message schema of Orion, shared by every thread: the record kinds, their msgpackr
 * `structures` (fixed at start-up, never extended at run time, so every thread encodes a known shape
 * the same way), and a hash of both that a thread compares before it starts.
 */
export const SCHEMA_VERSION = 1;

/** Record kinds, as stored in the envelope's first byte. */
export const Kind = {
  /** A synthetic transaction from the synthetic pipeline (benchmarks, tests). */
  SyntheticTx: 1,
  /** A new head, carried in band on the same rings as transactions so every stage sees one order. */
  BlockEvent: 2,
  /** A transaction as a source delivered it (raw bytes or an RPC object), from ingest. */
  RawTx: 3,
  /** A decoded, sender-recovered, validated transaction with its swap intent, from the decoder. */
  DecodedTx: 4,
  /** A transaction the decoder could not classify, run in the EVM on the head state: what it did. */
  SimulatedTx: 5,
  /** A scored (and, when configured, EVM-verified) MEV opportunity, from the scorer. */
  Opportunity: 6,
  /** A state change of a submission (built, sent, included, missed, …), from the submitter. */
  Submission: 7,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Kind number → name, for logs, dead letters and stats. */
export const KIND_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(Kind).map(([name, id]) => [id, name])),
);

/** Payload of {@link Kind.SyntheticTx}: a stand-in transaction of configurable size. */
export interface SyntheticTx {
  /** Bytes standing in for the raw transaction. */
  body: Uint8Array;
  /** Count of stages that handled it, so tests see every stage ran. */
  hops: number;
}

/**
 * Payload of {@link Kind.BlockEvent}: a new head as the node announced it. Hashes and addresses are
 * lowercase 0x-hex. `reorg` is true when the head does not extend the previous head.
 */
export interface BlockEvent {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
  baseFeePerGas: bigint | null;
  gasLimit: bigint;
  gasUsed: bigint;
  miner: string;
  /** `mixHash` after the merge (prevrandao); zero hash when the node gave none. */
  prevRandao: string;
  excessBlobGas: bigint | null;
  reorg: boolean;
}

/**
 * A transaction as the node sent it over JSON-RPC (`eth_subscribe` full objects,
 * `eth_getTransactionByHash`): quantities and data as 0x-hex strings, exactly as received.
 */
export type RpcTransaction = Readonly<Record<string, unknown>>;

/**
 * Payload of {@link Kind.RawTx}: one pending transaction from ingest, deduplicated across sources.
 * Exactly one of `raw` and `rpc` is set. The envelope's `firstSeenNs` is the earliest time any
 * source saw it.
 */
export interface RawTx {
  /** Index of the source that saw it first (`config.ingest.sources[i]`, or a capture's source). */
  source: number;
  /** Signed transaction bytes: the canonical (typed) encoding, or the EIP-4844 network form. */
  raw: Uint8Array | null;
  /** The RPC object when the source delivered objects rather than bytes. */
  rpc: RpcTransaction | null;
  /** Hash the source announced (lowercase 0x-hex), or null. The decoder checks it. */
  hash: string | null;
}

/** One EIP-2930 access-list entry. */
export interface AccessListItem {
  address: string;
  storageKeys: string[];
}

/** One EIP-7702 authorization tuple with its recovered authority (null when not recoverable). */
export interface Authorization {
  chainId: bigint;
  address: string;
  nonce: bigint;
  yParity: number;
  r: bigint;
  s: bigint;
  authority: string | null;
}

/**
 * One swap inside a transaction, as far as calldata tells it. Tokens, pools and addresses are
 * lowercase 0x-hex. Amounts not fixed by calldata (ETH input taken from `value`, a router's
 * "contract balance" sentinel) are null.
 */
export interface SwapLeg {
  protocol: 'uniswap-v2' | 'uniswap-v3';
  /** `in`: amountIn fixed, amountOutMin bound. `out`: amountOut fixed, amountInMax bound. */
  exact: 'in' | 'out';
  /** Token path in swap direction (WETH stands for ETH). Empty for a direct pair call. */
  path: string[];
  /** Uniswap V3 fee per hop (hundredths of a bip); empty for V2. */
  fees: number[];
  /** Pool per hop when it can be derived (the pair called directly, or CREATE2 from a known factory). */
  pools: string[];
  amountIn: bigint | null;
  amountInMax: bigint | null;
  amountOut: bigint | null;
  amountOutMin: bigint | null;
  recipient: string | null;
  /** Unix seconds, or null when the call has none. */
  deadline: bigint | null;
  ethIn: boolean;
  ethOut: boolean;
  /** `...SupportingFeeOnTransferTokens` variants. */
  feeOnTransfer: boolean;
}

/** What a transaction's calldata says it swaps. */
export interface SwapIntent {
  /** The contract called: a router, a Universal Router, or a pair. */
  router: string;
  /** `v2-router02`, `v3-swaprouter`, `v3-swaprouter02`, `universal-router` or `v2-pair`. */
  kind: 'v2-router02' | 'v3-swaprouter' | 'v3-swaprouter02' | 'universal-router' | 'v2-pair';
  /** Function name of the outer call (`multicall`, `execute`, `swapExactTokensForTokens`, …). */
  method: string;
  /** The swaps in execution order. */
  legs: SwapLeg[];
}

/**
 * Payload of {@link Kind.DecodedTx}: the one canonical form of a pending transaction, whatever its
 * type and however it arrived. Addresses and hashes are lowercase 0x-hex; quantities are bigint.
 * Fields a type does not have are null (lists: empty for access lists, null otherwise).
 */
export interface DecodedTx {
  hash: string;
  /** 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844, 4 EIP-7702. */
  type: number;
  /** Null for a pre-EIP-155 legacy transaction. */
  chainId: bigint | null;
  nonce: bigint;
  /** Recovered once, here; later stages never recover again. */
  from: string;
  /** Null for contract creation. */
  to: string | null;
  value: bigint;
  gas: bigint;
  gasPrice: bigint | null;
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
  maxFeePerBlobGas: bigint | null;
  input: Uint8Array;
  accessList: AccessListItem[];
  blobVersionedHashes: string[] | null;
  authorizationList: Authorization[] | null;
  /** Signature: v for legacy (27/28 or EIP-155), yParity (0/1) for typed transactions. */
  v: bigint;
  r: bigint;
  s: bigint;
  /** Byte length of the canonical signed encoding (without blobs). */
  size: number;
  /** Canonical signed bytes (typed envelope; blobs stripped), as a bundle would carry them. */
  raw: Uint8Array;
  /** Monotonic ns when ingest first saw it. */
  firstSeenNs: number;
  source: number;
  /** True when it arrived as an RPC object whose re-serialized hash differs from the announced one. */
  hashMismatch: boolean;
  intent: SwapIntent | null;
}

/** One log a simulated transaction emitted (0x-hex, lowercase). */
export interface SimLogRecord {
  address: string;
  topics: string[];
  data: string;
}

/**
 * A Uniswap pool a simulated transaction moved, with its state before and after it: V2
 * `[reserve0, reserve1]`, V3 `[sqrtPriceX96, tick, liquidity]`.
 */
export interface PoolTouch {
  address: string;
  protocol: 'uniswap-v2' | 'uniswap-v3';
  before: bigint[];
  after: bigint[];
}

/** Net change of the sender's balance of one token (`eth` for ether, before gas). */
export interface BalanceChange {
  token: string;
  delta: bigint;
}

/**
 * Payload of {@link Kind.SimulatedTx}: what an unclassified transaction did when run on the head
 * state, as the scorer needs it (pools moved and how, the sender's balance changes).
 */
export interface SimulatedTx {
  tx: DecodedTx;
  /** Head block whose state it ran on (the pending block is this + 1). */
  block: number;
  status: 'success' | 'revert' | 'halt' | 'invalid';
  gasUsed: bigint;
  logs: SimLogRecord[];
  revertReason: string | null;
  /** The EVM exception or why the VM refused the transaction; null on success. */
  error: string | null;
  pools: PoolTouch[];
  balanceChanges: BalanceChange[];
  /** Monotonic ns when the simulation finished. */
  simulatedNs: number;
}

/** Payload type of each kind. */
export interface PayloadOf {
  [Kind.SyntheticTx]: SyntheticTx;
  [Kind.BlockEvent]: BlockEvent;
  [Kind.RawTx]: RawTx;
  [Kind.DecodedTx]: DecodedTx;
  [Kind.SimulatedTx]: SimulatedTx;
  [Kind.Opportunity]: Opportunity;
  [Kind.Submission]: Submission;
}

/**
 * Shared record structures, one per payload shape, in a fixed order. Appending is compatible with
 * nothing older: every change bumps the schema hash, and threads built from another schema refuse
 * to start.
 */
const STRUCTURES: readonly (readonly string[])[] = [
  ['body', 'hops'],
  ['number', 'hash', 'parentHash', 'timestamp', 'baseFeePerGas', 'gasLimit', 'gasUsed', 'miner', 'prevRandao', 'excessBlobGas', 'reorg'],
  ['source', 'raw', 'rpc', 'hash'],
  [
    'hash', 'type', 'chainId', 'nonce', 'from', 'to', 'value', 'gas', 'gasPrice', 'maxFeePerGas',
    'maxPriorityFeePerGas', 'maxFeePerBlobGas', 'input', 'accessList', 'blobVersionedHashes',
    'authorizationList', 'v', 'r', 's', 'size', 'raw', 'firstSeenNs', 'source', 'hashMismatch', 'intent',
  ],
  ['router', 'kind', 'method', 'legs'],
  [
    'protocol', 'exact', 'path', 'fees', 'pools', 'amountIn', 'amountInMax', 'amountOut', 'amountOutMin',
    'recipient', 'deadline', 'ethIn', 'ethOut', 'feeOnTransfer',
  ],
  ['address', 'storageKeys'],
  ['chainId', 'address', 'nonce', 'yParity', 'r', 's', 'authority'],
  ['tx', 'block', 'status', 'gasUsed', 'logs', 'revertReason', 'error', 'pools', 'balanceChanges', 'simulatedNs'],
  ['address', 'topics', 'data'],
  ['address', 'protocol', 'before', 'after'],
  ['token', 'delta'],
  [
    'id', 'kind', 'victimHashes', 'targetBlock', 'pools', 'tokenPath', 'amountIn', 'profit', 'plan', 'timings',
    'verification', 'simulatedNet', 'rejectReason', 'baseFee', 'gas', 'searcher', 'revision',
  ],
  ['token', 'gross', 'gasCost', 'net', 'grossWei', 'gasCostWei', 'netWei'],
  ['firstSeenNs', 'scoredNs', 'verifiedNs'],
  ['gasUsed', 'gasLimit', 'priorityFee'],
  [
    'id', 'kind', 'status', 'route', 'protected', 'account', 'txHashes', 'nonces', 'targetBlock',
    'predictedNetWei', 'realizedNetWei', 'gasPaidWei', 'block', 'reason', 'timings',
  ],
  ['firstSeenNs', 'signedNs', 'sentNs'],
];

/** sha256 over the version, kinds and structures; identical in every thread of one build. */
export const SCHEMA_HASH: string = createHash('sha256')
  .update(JSON.stringify({ version: SCHEMA_VERSION, kinds: Kind, structures: STRUCTURES }))
  .digest('hex');

function options() {
  return {
    // Copies: msgpackr mutates the array it is given when it may share structures.
    structures: STRUCTURES.map((s) => [...s]),
    maxSharedStructures: STRUCTURES.length,
    // Unknown shapes are written inline, self-describing, instead of growing the shared set.
    shouldShareStructure: () => false,
    useBigIntExtension: true,
    // Byte payloads must not alias the reader's reused copy buffer.
    copyBuffers: true,
  };
}

/** A packer bound to the shared structures. One per thread: msgpackr packers are not re-entrant. */
export function createPackr(): Packr {
  return new Packr(options());
}

/** An unpacker bound to the shared structures. */
export function createUnpackr(): Unpackr {
  return new Unpackr(options());
}
