import { type Block, createBlock } from '@ethereumjs/block';
import { type Common, createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx, type TypedTransaction, type TypedTxData } from '@ethereumjs/tx';
import { type Address, bigIntToUnpaddedBytes, bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { createVM, runTx, type VM } from '@ethereumjs/vm';
import type { BlockEvent, DecodedTx } from '../../messages/schema.js';
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
}

/** Builds a VM over `state` with mainnet rules at the chain's hardfork and chain id. */
export async function createSimVm(opts: SimVmOptions): Promise<SimVm> {
  if (!(Object.values(Hardfork) as string[]).includes(opts.hardfork)) throw new RangeError(`opts.hardfork: unknown hardfork ${opts.hardfork}`);
  const common = createCustomCommon({ chainId: Number(opts.chainId) }, Mainnet, { hardfork: opts.hardfork });
  const vm = await createVM({ common, stateManager: opts.state });
  return { vm, state: opts.state, common };
}

/** Base fee of the block after `head` (EIP-1559: ±1/8 toward a half-full block). */
export function nextBaseFee(head: Pick<BlockEvent, 'baseFeePerGas' | 'gasUsed' | 'gasLimit'>): bigint {
  const base = head.baseFeePerGas ?? 0n;
  const target = head.gasLimit / 2n;
  if (target === 0n || head.gasUsed === target) return base;
  if (head.gasUsed > target) {
    const delta = (base * (head.gasUsed - target)) / target / 8n;
    return base + (delta > 1n ? delta : 1n);
  }
  return base - (base * (target - head.gasUsed)) / target / 8n;
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

function blockFor(sim: SimVm, ctx: BlockContext): Block {
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
  const etx = createTx(data as TypedTxData, { common, freeze: false });
  const sender = createAddressFromString(tx.from);
  (etx as { getSenderAddress(): Address }).getSenderAddress = () => sender;
  return etx;
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
    return { status: 'invalid', gasUsed: 0n, logs: [], returnData: new Uint8Array(0), error: err instanceof Error ? err.message : String(err) };
  }
  const depth = sim.state.depth;
  await sim.state.checkpoint();
  try {
    const r = await runTx(sim.vm, { tx: etx, block, skipHardForkValidation: true, skipBlockGasLimitValidation: true });
    const ex = r.execResult;
    const returnData = ex.returnValue;
    const logs: SimLog[] = (ex.logs ?? []).map(([address, topics, data]) => ({
      address: bytesToHex(address),
      topics: topics.map((t) => bytesToHex(t)),
      data: bytesToHex(data),
    }));
    if (ex.exceptionError === undefined) return { status: 'success', gasUsed: r.totalGasSpent, logs, returnData };
    const error = ex.exceptionError.error;
    if (error === 'revert') {
      const revertReason = decodeRevertReason(returnData);
      return revertReason === undefined ? { status: 'revert', gasUsed: r.totalGasSpent, logs: [], returnData, error } : { status: 'revert', gasUsed: r.totalGasSpent, logs: [], returnData, revertReason, error };
    }
    return { status: 'halt', gasUsed: r.totalGasSpent, logs: [], returnData, error };
  } catch (err) {
    // State read failures are the caller's to count; anything else is the VM refusing the transaction.
    if (err instanceof Error && err.name === 'StateReadError') throw err;
    return { status: 'invalid', gasUsed: 0n, logs: [], returnData: new Uint8Array(0), error: err instanceof Error ? err.message : String(err) };
  } finally {
    // Unwind to where we started even if the VM left a checkpoint open on an exception.
    while (sim.state.depth > depth) await sim.state.revert();
  }
}
