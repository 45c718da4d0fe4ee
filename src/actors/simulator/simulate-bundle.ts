import type { TypedTransaction } from '@ethereumjs/tx';
import { type Address, createAddressFromString, createZeroAddress, hexToBytes } from '@ethereumjs/util';
import type { DecodedTx } from '../../messages/schema.js';
import { type BlockContext, blockFor, executeTx, gasCostOf, type SimLog, type SimResult, type SimVm, toEthereumjsTx, type UnsignedCall, unsignedToEthereumjsTx, withRevert } from './simulate-tx.js';

/**
 * Verifies a bundle before it is sent: its transactions run in order on one checkpoint of the
 * head state, each on the state the previous ones left, and everything is reverted at the end.
 * A victim runs as signed (sender from the decoder); our own transactions run as unsigned calls
 * whose sender is set without a signature, so a bundle is verified before anything is signed.
 * The watched address's balances are read before the first and after the last transaction.
 */

/** One of our transactions before signing: an EIP-1559 call from `from`. */
export type BundleCall = Omit<UnsignedCall, 'nonce'> & {
  /** Default: the sender's nonce on the state the call runs on (after the bundle's earlier transactions). */
  nonce?: bigint;
};

/** A bundle entry: a decoded signed transaction (a victim) or one of our unsigned calls. */
export type BundleTx = DecodedTx | BundleCall;

/** Options of {@link simulateBundle}. */
export interface BundleOptions {
  /** Address whose ether and token balances are measured (the searcher). */
  watch: string;
  /** ERC20 tokens whose `balanceOf(watch)` is measured. */
  tokens: readonly string[];
}

/** What one bundle transaction did. */
export interface BundleTxResult {
  status: SimResult['status'];
  /** Gas its receipt would show; 0 when invalid. */
  gasUsed: bigint;
  revertReason?: string;
  /** The EVM exception, or why the VM refused the transaction. */
  error?: string;
  logs: SimLog[];
}

/** What a bundle did, and what it did to the watched address. */
export interface BundleResult {
  /** One per bundle transaction, in order. */
  txs: BundleTxResult[];
  /** Net change of the watched address's ether balance, gas it paid included. */
  ethDelta: bigint;
  /** Net change of `balanceOf(watch)` per token, in the order of `opts.tokens`. */
  tokenDeltas: bigint[];
  /** Wei the watched address paid for gas across the bundle (effective gas price × gas used). */
  gasCost: bigint;
}

const BALANCE_OF = '70a08231';
/** Plenty for any token's balanceOf; the call is static and its gas is not charged to anyone. */
const BALANCE_OF_GAS = 1_000_000n;

/**
 * Runs `txs` in order in the block `ctx` on the state of `sim` and reverts them all. A transaction
 * the VM refuses (`invalid`) is skipped, as a builder would skip it, and the next runs on the state
 * before it; a reverting one is executed and pays gas, as on chain. Rejects with a StateReadError
 * when a read fails, and with an Error when a token's `balanceOf` fails.
 * @remarks Allocates; one bundle per call.
 */
export async function simulateBundle(sim: SimVm, txs: readonly BundleTx[], ctx: BlockContext, opts: BundleOptions): Promise<BundleResult> {
  const block = blockFor(sim, ctx);
  const watch = opts.watch.toLowerCase();
  const watchAddress = createAddressFromString(watch);
  const tokens = opts.tokens.map((t) => createAddressFromString(t.toLowerCase()));
  return withRevert(sim, async () => {
    const ethBefore = await etherOf(sim, watchAddress);
    const tokensBefore = await tokenBalances(sim, tokens, watchAddress, block);
    const results: BundleTxResult[] = [];
    let gasCost = 0n;
    for (const tx of txs) {
      const from = tx.from.toLowerCase();
      let etx: TypedTransaction;
      try {
        etx = isDecoded(tx) ? toEthereumjsTx(tx, sim.common) : unsignedToEthereumjsTx({ ...tx, from, nonce: tx.nonce ?? (await nonceOf(sim, createAddressFromString(from))) }, sim.common);
      } catch (err) {
        results.push({ status: 'invalid', gasUsed: 0n, error: err instanceof Error ? err.message : String(err), logs: [] });
        continue;
      }
      const { result, run } = await executeTx(sim, etx, block);
      if (run !== undefined && from === watch) gasCost += gasCostOf(run, block);
      const r: BundleTxResult = { status: result.status, gasUsed: result.gasUsed, logs: result.logs };
      if (result.revertReason !== undefined) r.revertReason = result.revertReason;
      if (result.error !== undefined) r.error = result.error;
      results.push(r);
    }
    const ethAfter = await etherOf(sim, watchAddress);
    const tokensAfter = await tokenBalances(sim, tokens, watchAddress, block);
    return { txs: results, ethDelta: ethAfter - ethBefore, tokenDeltas: tokensAfter.map((b, i) => b - tokensBefore[i]!), gasCost };
  });
}

/** A decoded transaction carries its signed bytes; a call does not. */
function isDecoded(tx: BundleTx): tx is DecodedTx {
  return (tx as DecodedTx).raw !== undefined;
}

async function etherOf(sim: SimVm, address: Address): Promise<bigint> {
  return (await sim.state.getAccount(address))?.balance ?? 0n;
}

async function nonceOf(sim: SimVm, address: Address): Promise<bigint> {
  return (await sim.state.getAccount(address))?.nonce ?? 0n;
}

/**
 * `balanceOf(owner)` of each token, by a static call through the VM on the current state (exact
 * for any token, whatever its storage layout). The caller is the zero address and its nonce is
 * left alone, so the bundle's transactions see no trace of these calls.
 */
async function tokenBalances(sim: SimVm, tokens: readonly Address[], owner: Address, block: ReturnType<typeof blockFor>): Promise<bigint[]> {
  const data = hexToBytes(`0x${BALANCE_OF}${owner.toString().slice(2).padStart(64, '0')}`);
  const out: bigint[] = [];
  for (const token of tokens) {
    const r = await sim.vm.evm.runCall({ to: token, caller: createZeroAddress(), data, gasLimit: BALANCE_OF_GAS, isStatic: true, skipNonceIncrement: true, block });
    const ex = r.execResult;
    if (ex.exceptionError !== undefined || ex.returnValue.length < 32) throw new Error(`balanceOf(${owner.toString()}) on ${token.toString()} failed: ${ex.exceptionError?.error ?? `returned ${ex.returnValue.length} bytes`}`);
    out.push(BigInt(`0x${Buffer.from(ex.returnValue.buffer, ex.returnValue.byteOffset, 32).toString('hex')}`));
  }
  return out;
}
