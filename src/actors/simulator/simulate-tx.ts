import { type Block, createBlock } from '@ethereumjs/block';
import { type Common, createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx, type TypedTransaction, type TypedTxData } from '@ethereumjs/tx';
import { type Address, bigIntToUnpaddedBytes, bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { createVM, type RunTxResult, runTx, type VM } from '@ethereumjs/vm';
import { keccak_256 } from '@noble/hashes/sha3';
import type { BlockEvent, DecodedTx } from '../../messages/schema.js';
import { nextBaseFee } from '../base-fee.js';
import type { ForkedStateManager } from './state/forked-state-manager.js';

/**
 * Runs one pending transaction on the forked head state and throws its effects away:
 * checkpoint → `runTx` → revert. The sender is the decoder's `tx.from`, handed to ethereumjs
 * instead of letting it recover the signature again in JS (~5 ms); nonce, balance and fee checks
 * still run, as the node's do, so a transaction the node would refuse comes back `invalid`.
 */

/** The block a pending transaction is simulated in: the one after the head. */
export interface BlockContext {
  number: bigint;
  /** Unix seconds. */
  timestamp: bigint;
  baseFeePerGas: bigint;
  /** Lowercase 0x address. */
  coinbase: string;
  /** 0x + 64 hex. */
  prevRandao: string;
  gasLimit: bigint;
  excessBlobGas: bigint;
}

/** One emitted log, hex-encoded as the node reports it. */
export interface SimLog {
  /** Lowercase 0x address. */
  address: string;
  topics: string[];
  data: string;
}

/**
 * What one simulation did. `success`, `revert` (REVERT opcode) and `halt` (out of gas, invalid
 * opcode, …) were executed and cost gas; `invalid` means the node would not include the
 * transaction on this state (nonce, balance, base fee) and `error` says why.
 */
export interface SimResult {
  status: 'success' | 'revert' | 'halt' | 'invalid';
  /** Gas the receipt would show (after refunds and the EIP-7623 floor); 0 when invalid. */
  gasUsed: bigint;
  logs: SimLog[];
  returnData: Uint8Array;
  /** `Error(string)` text or `Panic(0x..)` of a revert; undefined for other revert data. */
  revertReason?: string;
  /** The EVM exception (`revert`, `out of gas`, …) or why the transaction is invalid. */
  error?: string;
}

/** A VM bound to a forked state manager, and the chain rules it runs under. */
export interface SimVm {
  readonly vm: VM;
  readonly state: ForkedStateManager;
  readonly common: Common;
}

/** Options of {@link createSimVm}. */
export interface SimVmOptions {
  state: ForkedStateManager;
  chainId: number | bigint;
  /** ethereumjs hardfork name of the chain (`prague` on the devnet). */
  hardfork: string;
  /**
   * The interpreter fast paths below (EIP lookup, jump analysis cache, keccak memo, MSTORE, shared
   * tx Common); default true. False gives stock ethereumjs over the same state, for the benchmark's
   * before/after and to rule them out when hunting a parity difference.
   */
  fastPaths?: boolean;
}

/** Builds a VM over `state` with mainnet rules at the chain's hardfork and chain id. */
export async function createSimVm(opts: SimVmOptions): Promise<SimVm> {
  if (!(Object.values(Hardfork) as string[]).includes(opts.hardfork)) throw new RangeError(`opts.hardfork: unknown hardfork ${opts.hardfork}`);
  const fast = opts.fastPaths ?? true;
  const common = createCustomCommon({ chainId: Number(opts.chainId) }, Mainnet, fast ? { hardfork: opts.hardfork, customCrypto: { keccak256: memoKeccak256 } } : { hardfork: opts.hardfork });
  if (fast) fastEipLookup(common);
  const vm = await createVM({ common, stateManager: opts.state });
  if (fast) {
    await patchInterpreter();
    jumpAnalysisCaches.set(vm.evm, new WeakMap());
    fastMstore(vm);
    txCommons.set(common, sharedTxCommon(common));
  }
  return { vm, state: opts.state, common };
}

// ---- Interpreter fast paths -------------------------------------------------------------------
// Warm V2 router swaps (bench/micro/simulator.bench.ts): p50 10.4 ms → 4.7 ms on a quiet machine;
// 2.0–3.2× over `fastPaths: false` in the same run (the lower figure on a loaded 2-core box).
// Two costs dominate a warm swap in @ethereumjs/evm 10 and neither changes what executes:
// `Common.isActivatedEIP` is an Array#includes over ~100 EIPs, asked twice per opcode; and every
// call frame re-scans its whole bytecode for JUMPDESTs and PUSH values (a router call enters the
// router, the pair and two tokens: ~40 KB re-analysed per swap). Only VMs built by createSimVm opt in.

/** A Set per activated-EIP list; the list is replaced (not mutated) when the hardfork or EIPs change. */
const eipSets = new WeakMap<readonly number[], Set<number>>();

/**
 * Answers `isActivatedEIP` from a Set of the same list. Set on the instance, so the copies the
 * block header and every transaction take (`Object.assign`) inherit it and stay correct.
 */
function fastEipLookup(common: Common): void {
  (common as unknown as { isActivatedEIP(eip: number): boolean }).isActivatedEIP = function (this: { _activatedEIPsCache: number[] }, eip: number): boolean {
    const list = this._activatedEIPsCache;
    let set = eipSets.get(list);
    if (set === undefined) eipSets.set(list, (set = new Set(list)));
    return set.has(eip);
  };
}

/** Digests of short inputs (mapping slots, log topics and addresses for the bloom), bounded. */
const keccakMemo = new Map<string, Uint8Array>();
const KECCAK_MEMO_MAX = 1 << 16;

/**
 * keccak256 that remembers digests of inputs up to 64 bytes: a swap hashes the same balance and
 * allowance slots and the same log topics on every simulation (the bloom alone hashes each log's
 * address and topics). Callers only read digests (KECCAK256 pushes it as a number, the bloom sets
 * bits), so one array is handed out per input.
 */
function memoKeccak256(data: Uint8Array): Uint8Array {
  if (data.length > 64) return keccak_256(data);
  const key = Buffer.from(data.buffer, data.byteOffset, data.length).toString('latin1');
  let d = keccakMemo.get(key);
  if (d === undefined) {
    if (keccakMemo.size >= KECCAK_MEMO_MAX) keccakMemo.clear();
    keccakMemo.set(key, (d = keccak_256(data)));
  }
  return d;
}

interface EvmInternals {
  _opcodeMap: ({ opHandler: (runState: RunStateInternals) => void } | undefined)[];
}
interface RunStateInternals {
  stack: { pop(): bigint };
  memory: { _store: Uint8Array; extend(offset: number, size: number): void };
}

/**
 * MSTORE without the bigint → hex → bytes → 32-byte copy → memory copy of the stock handler: the
 * word's hex digits are written straight into memory. Gas (memory expansion) is charged before the
 * handler runs, by the unchanged gas handler. Replaced in this VM's opcode table only.
 */
function fastMstore(vm: VM): void {
  const entry = (vm.evm as unknown as EvmInternals)._opcodeMap[0x52];
  if (entry === undefined) return;
  entry.opHandler = (runState) => {
    const offset = runState.stack.pop();
    const word = runState.stack.pop();
    const o = Number(offset);
    const mem = runState.memory;
    mem.extend(o, 32);
    const store = mem._store;
    const hex = word.toString(16);
    let h = hex.length;
    let i = o + 31;
    // Two digits per byte from the right; a leading odd digit is a byte on its own.
    for (; h >= 2; h -= 2, i--) store[i] = (hexDigit(hex.charCodeAt(h - 2)) << 4) | hexDigit(hex.charCodeAt(h - 1));
    if (h === 1) store[i--] = hexDigit(hex.charCodeAt(0));
    while (i >= o) store[i--] = 0;
  };
}

/** Value of a lowercase hex digit's char code (what bigint toString(16) yields). */
function hexDigit(c: number): number {
  return c < 97 ? c - 48 : c - 87;
}

/** Per VM Common, the one Common every simulated transaction shares (see {@link sharedTxCommon}). */
const txCommons = new WeakMap<Common, Common>();

/**
 * A Common for transactions that is not copied per transaction: ethereumjs' tx constructors copy
 * the Common and re-merge the tx params into it (~0.3 ms). The copy is made once, the params merged
 * once (by building one throwaway transaction), and later copies and merges answer with it: nothing
 * mutates a transaction's Common afterwards, because runTx is called with skipHardForkValidation.
 */
function sharedTxCommon(common: Common): Common {
  const shared = createTx({ type: 2 }, { common }).common;
  const c = shared as unknown as { copy(): Common; updateParams(p: unknown): void };
  c.copy = () => shared;
  c.updateParams = () => {};
  return shared;
}

interface JumpAnalysis {
  jumps: Uint8Array;
  pushes: Record<number, bigint>;
  opcodesCached: unknown[];
}
interface InterpreterProto {
  _getValidJumpDestinations(this: { _evm: object }, code: Uint8Array): JumpAnalysis;
}

/**
 * Per opted-in EVM (its opcode table is part of the result), the analysis of each code array.
 * Keyed by identity: {@link ForkedStateManager} hands out the same cached array for an account's
 * code on every read, and the interpreter only reads the analysis.
 */
const jumpAnalysisCaches = new WeakMap<object, WeakMap<Uint8Array, JumpAnalysis>>();

/**
 * Installs the jump-analysis cache on the EVM's interpreter, once per thread. The interpreter is not
 * exported; its module is the sibling of the package entry, and importing it by file URL yields the
 * very instance the EVM uses. Done lazily rather than with a top-level await: piscina loads task
 * modules with `require()` first, and Node 20 fails a later `import()` of a module graph with
 * top-level await that `require()` already touched ("imported again after being required").
 */
let interpreterPatched: Promise<void> | null = null;
function patchInterpreter(): Promise<void> {
  interpreterPatched ??= (async () => {
    const interpreterModule = (await import(new URL('./interpreter.js', import.meta.resolve('@ethereumjs/evm')).href)) as { Interpreter: { prototype: InterpreterProto } };
    const interpreterProto = interpreterModule.Interpreter.prototype;
    const analyseJumps = interpreterProto._getValidJumpDestinations;
    if (typeof analyseJumps !== 'function') throw new Error('@ethereumjs/evm: Interpreter._getValidJumpDestinations not found; the jump analysis cache needs updating');
    interpreterProto._getValidJumpDestinations = function (code) {
      const cache = jumpAnalysisCaches.get(this._evm);
      if (cache === undefined) return analyseJumps.call(this, code);
      let a = cache.get(code);
      if (a === undefined) cache.set(code, (a = analyseJumps.call(this, code)));
      return a;
    };
  })();
  return interpreterPatched;
}


/** Excess blob gas of the block after `head` under Prague (target 6 blobs of 131072 gas). */
function nextExcessBlobGas(head: Pick<BlockEvent, 'excessBlobGas'>, blobGasUsed: bigint): bigint {
  const x = (head.excessBlobGas ?? 0n) + blobGasUsed;
  const target = 6n * 131_072n;
  return x < target ? 0n : x - target;
}

/**
 * The pending block after `head`: number + 1, timestamp + `blockSeconds` (default 12, mainnet's
 * slot; the timestamp matters: Uniswap's oracles write a new observation only when it changed),
 * next base fee, same coinbase, prevrandao and gas limit.
 */
export function pendingBlockContext(head: BlockEvent, opts: { blockSeconds?: number; timestamp?: number; blobGasUsed?: bigint } = {}): BlockContext {
  return {
    number: BigInt(head.number + 1),
    timestamp: BigInt(opts.timestamp ?? head.timestamp + (opts.blockSeconds ?? 12)),
    baseFeePerGas: nextBaseFee(head),
    coinbase: head.miner,
    prevRandao: head.prevRandao,
    gasLimit: head.gasLimit,
    excessBlobGas: nextExcessBlobGas(head, opts.blobGasUsed ?? 0n),
  };
}

// One Block per context object: building a Prague header costs more than a warm simple transfer.
const blocks = new WeakMap<BlockContext, { common: Common; block: Block }>();

/** The ethereumjs block for `ctx`, built once per context object. */
export function blockFor(sim: SimVm, ctx: BlockContext): Block {
  const hit = blocks.get(ctx);
  if (hit !== undefined && hit.common === sim.common) return hit.block;
  const block = createBlock(
    {
      header: {
        number: ctx.number,
        timestamp: ctx.timestamp,
        baseFeePerGas: ctx.baseFeePerGas,
        coinbase: ctx.coinbase as `0x${string}`,
        mixHash: ctx.prevRandao as `0x${string}`,
        gasLimit: ctx.gasLimit,
        excessBlobGas: ctx.excessBlobGas,
        difficulty: 0n,
      },
    },
    { common: sim.common, skipConsensusFormatValidation: true },
  );
  blocks.set(ctx, { common: sim.common, block });
  return block;
}

/**
 * The ethereumjs transaction for `tx`, with `getSenderAddress` answering `tx.from` so the VM never
 * recovers the signature. @remarks Allocates; once per simulated transaction.
 */
export function toEthereumjsTx(tx: DecodedTx, common: Common): TypedTransaction {
  const data: Record<string, unknown> = {
    type: tx.type,
    nonce: tx.nonce,
    gasLimit: tx.gas,
    to: tx.to ?? undefined,
    value: tx.value,
    data: tx.input,
    v: tx.v,
    r: tx.r,
    s: tx.s,
  };
  if (tx.type === 0 || tx.type === 1) data.gasPrice = tx.gasPrice ?? 0n;
  else {
    data.maxFeePerGas = tx.maxFeePerGas ?? 0n;
    data.maxPriorityFeePerGas = tx.maxPriorityFeePerGas ?? 0n;
  }
  if (tx.type !== 0) {
    data.chainId = tx.chainId ?? undefined;
    data.accessList = tx.accessList.map((a) => ({ address: a.address, storageKeys: a.storageKeys }));
  }
  if (tx.type === 3) {
    data.maxFeePerBlobGas = tx.maxFeePerBlobGas ?? 0n;
    data.blobVersionedHashes = tx.blobVersionedHashes ?? [];
  }
  if (tx.type === 4) {
    // Byte form with minimal integers: the authority's signed message is the RLP of these, so a
    // `0x0` that became a 0x00 byte would recover another authority.
    data.authorizationList = (tx.authorizationList ?? []).map((a) => [
      bigIntToUnpaddedBytes(a.chainId),
      hexToBytes(a.address as `0x${string}`),
      bigIntToUnpaddedBytes(a.nonce),
      bigIntToUnpaddedBytes(BigInt(a.yParity)),
      bigIntToUnpaddedBytes(a.r),
      bigIntToUnpaddedBytes(a.s),
    ]);
  }
  // Unfrozen so the sender can be set on the instance; the decoder already recovered it natively.
  const etx = createTx(data as TypedTxData, { common: txCommons.get(common) ?? common, freeze: false });
  const sender = createAddressFromString(tx.from);
  (etx as { getSenderAddress(): Address }).getSenderAddress = () => sender;
  return etx;
}

/** An unsigned EIP-1559 call: a transaction of ours before it is signed. */
export interface UnsignedCall {
  /** Lowercase 0x address the call is sent from. */
  from: string;
  to: string;
  /** 0x hex or bytes. */
  data: string | Uint8Array;
  value?: bigint;
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  nonce: bigint;
}

/**
 * The ethereumjs type-2 transaction for an unsigned call, its sender set the way
 * {@link toEthereumjsTx} sets a decoded one's: nothing to recover, nonce/balance/fee checks intact.
 * @remarks Allocates; once per call.
 */
export function unsignedToEthereumjsTx(call: UnsignedCall, common: Common): TypedTransaction {
  const etx = createTx(
    {
      type: 2,
      nonce: call.nonce,
      gasLimit: call.gas,
      to: call.to as `0x${string}`,
      value: call.value ?? 0n,
      data: typeof call.data === 'string' ? (call.data as `0x${string}`) : call.data,
      maxFeePerGas: call.maxFeePerGas,
      maxPriorityFeePerGas: call.maxPriorityFeePerGas,
    },
    { common: txCommons.get(common) ?? common, freeze: false },
  );
  const sender = createAddressFromString(call.from);
  (etx as { getSenderAddress(): Address }).getSenderAddress = () => sender;
  return etx;
}

/**
 * Wei a sender pays for an executed transaction: gas used at the effective gas price (a type 0/1
 * price, else min(maxFee, baseFee + tip)), plus the blob fee of a type-3 one. This is what leaves
 * the sender beyond `value`; the base fee share is burnt, the tip goes to the coinbase.
 */
export function gasCostOf(run: RunTxResult, block: Block): bigint {
  const blob = run.blobGasUsed !== undefined && run.blobGasUsed > 0n ? run.blobGasUsed * block.header.getBlobGasPrice() : 0n;
  return run.amountSpent + blob;
}

const ERROR_SELECTOR = '08c379a0';
const PANIC_SELECTOR = '4e487b71';

/** `Error(string)` → its text, `Panic(uint256)` → `Panic(0x11)`; anything else → undefined. */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined;
  const sel = Buffer.from(data.buffer, data.byteOffset, 4).toString('hex');
  if (sel === PANIC_SELECTOR && data.length >= 36) {
    return `Panic(0x${BigInt(bytesToHex(data.subarray(4, 36))).toString(16)})`;
  }
  if (sel === ERROR_SELECTOR && data.length >= 68) {
    const offset = Number(BigInt(bytesToHex(data.subarray(4, 36))));
    const start = 4 + offset;
    if (start + 32 > data.length) return undefined;
    const len = Number(BigInt(bytesToHex(data.subarray(start, start + 32))));
    if (start + 32 + len > data.length) return undefined;
    return Buffer.from(data.buffer, data.byteOffset + start + 32, len).toString('utf8');
  }
  return undefined;
}

/** A SimResult for a transaction the VM refused. */
function invalid(err: unknown): SimResult {
  return { status: 'invalid', gasUsed: 0n, logs: [], returnData: new Uint8Array(0), error: err instanceof Error ? err.message : String(err) };
}

/** What {@link executeTx} ran: the simulation result and, unless invalid, the VM's own result. */
export interface Execution {
  result: SimResult;
  /** Undefined when the VM refused the transaction. */
  run?: RunTxResult;
}

/**
 * Runs `etx` in `block` on the current state of `sim` and keeps its effects: no checkpoint is
 * taken or reverted here, so callers wrap it (one transaction in {@link simulateTx}, a whole bundle
 * in `simulateBundle`). A state read that fails rejects with its StateReadError; a transaction
 * the VM refuses comes back `invalid`, its effects already undone by runTx.
 */
export async function executeTx(sim: SimVm, etx: TypedTransaction, block: Block): Promise<Execution> {
  let r: RunTxResult;
  try {
    r = await runTx(sim.vm, { tx: etx, block, skipHardForkValidation: true, skipBlockGasLimitValidation: true });
  } catch (err) {
    // State read failures are the caller's to count; anything else is the VM refusing the transaction.
    if (err instanceof Error && err.name === 'StateReadError') throw err;
    return { result: invalid(err) };
  }
  const ex = r.execResult;
  const returnData = ex.returnValue;
  if (ex.exceptionError === undefined) {
    const logs: SimLog[] = (ex.logs ?? []).map(([address, topics, data]) => ({
      address: bytesToHex(address),
      topics: topics.map((t) => bytesToHex(t)),
      data: bytesToHex(data),
    }));
    return { result: { status: 'success', gasUsed: r.totalGasSpent, logs, returnData }, run: r };
  }
  const error = ex.exceptionError.error;
  if (error === 'revert') {
    const revertReason = decodeRevertReason(returnData);
    const result: SimResult = revertReason === undefined ? { status: 'revert', gasUsed: r.totalGasSpent, logs: [], returnData, error } : { status: 'revert', gasUsed: r.totalGasSpent, logs: [], returnData, revertReason, error };
    return { result, run: r };
  }
  return { result: { status: 'halt', gasUsed: r.totalGasSpent, logs: [], returnData, error }, run: r };
}

/**
 * Runs `body` on a checkpoint of `sim.state` and reverts everything it wrote, even when it throws
 * or the VM left a checkpoint of its own open.
 */
export async function withRevert<T>(sim: SimVm, body: () => Promise<T>): Promise<T> {
  const depth = sim.state.depth;
  await sim.state.checkpoint();
  try {
    return await body();
  } finally {
    while (sim.state.depth > depth) await sim.state.revert();
  }
}

/**
 * Simulates `tx` on the state of `sim` in the block `ctx`, and discards its effects. A state read
 * that fails rejects with the {@link StateReadError} of the read (the caller counts it and skips
 * the transaction); nothing else rejects.
 */
export async function simulateTx(sim: SimVm, tx: DecodedTx, ctx: BlockContext): Promise<SimResult> {
  const block = blockFor(sim, ctx);
  let etx: TypedTransaction;
  try {
    etx = toEthereumjsTx(tx, sim.common);
  } catch (err) {
    return invalid(err);
  }
  return withRevert(sim, async () => (await executeTx(sim, etx, block)).result);
}
