import { type Address, createAddressFromString } from '@ethereumjs/util';
import type { BalanceChange, DecodedTx, PoolTouch } from '../../messages/schema.js';
import { type BlockContext, blockFor, type Execution, executeTx, gasCostOf, type SimLog, type SimResult, type SimVm, toEthereumjsTx, withRevert } from './simulate-tx.js';

/**
 * What a pending transaction did, for the scorer: the Uniswap pools it moved (state before and
 * after) and its sender's net token and ether changes. The transaction runs once on a checkpoint;
 * the "after" values come from its logs and the sender's balance before the revert, the "before"
 * values are read from the same state once the transaction is reverted — the slots the pools'
 * own swap code has just read, so they are already cached and cost no round trip.
 *
 * Pools are recognised by their event signature alone: a contract that emits a `Sync` or V3
 * `Swap` without being a pool is reported too (with whatever its slots hold), so the scorer keeps
 * its own list of known pools and ignores the rest.
 */

/** `Sync(uint112,uint112)`: a Uniswap V2 pair's reserves after a swap, mint, burn or sync. */
export const V2_SYNC_TOPIC = '0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1';
/** `Swap(address,address,int256,int256,uint160,uint128,int24)`: a Uniswap V3 pool's state after a swap. */
export const V3_SWAP_TOPIC = '0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67';
/** ERC20 `Transfer(address,address,uint256)` (ERC721 shares it, with the id as a third indexed topic). */
export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
/** WETH9 `Deposit(address,uint256)`: ether wrapped for `dst`. */
export const WETH_DEPOSIT_TOPIC = '0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c';
/** WETH9 `Withdrawal(address,uint256)`: WETH of `src` unwrapped. */
export const WETH_WITHDRAWAL_TOPIC = '0x7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65';
/** The `token` of a {@link BalanceChange} in ether. */
export const ETH_TOKEN = 'eth';

/**
 * Storage of the pools, as both are deployed on mainnet and the devnet. UniswapV2Pair: slots 0–4
 * are its ERC20 (totalSupply, balanceOf, allowance, DOMAIN_SEPARATOR, nonces), 5–7 factory, token0,
 * token1, and slot 8 packs reserve0 (uint112, low bits), reserve1 (uint112), blockTimestampLast
 * (uint32). UniswapV3Pool (IUniswapV3PoolState order): slot 0 packs slot0 — sqrtPriceX96 (uint160,
 * low bits), tick (int24), observationIndex, observationCardinality(Next), feeProtocol, unlocked —
 * then feeGrowthGlobal0X128 (1), feeGrowthGlobal1X128 (2), protocolFees (3), liquidity (4, uint128).
 */
const V2_RESERVES_SLOT = slotBytes(8);
const V3_SLOT0_SLOT = slotBytes(0);
const V3_LIQUIDITY_SLOT = slotBytes(4);
const MASK_112 = (1n << 112n) - 1n;
const MASK_128 = (1n << 128n) - 1n;
const MASK_160 = (1n << 160n) - 1n;

/** A {@link SimResult} with what the transaction did; `pools` and `balanceChanges` are empty unless it succeeded. */
export interface TxEffects extends SimResult {
  /** Pools moved, in the order the transaction first touched them. */
  pools: PoolTouch[];
  /**
   * Net changes of the sender's balances: ether first (token {@link ETH_TOKEN}, value sent and
   * received, gas excluded), then tokens in ascending address order; zero nets are left out.
   */
  balanceChanges: BalanceChange[];
  /** Wei the sender paid for gas (effective gas price × gas used, plus any blob fee); 0 when invalid. */
  gasCost: bigint;
}

/**
 * Simulates `tx` like `simulateTx` and reports the pools it moved and its sender's balance
 * changes. Rejects only with a StateReadError, as `simulateTx` does.
 * @remarks Allocates; one simulation per call.
 */
export async function simulateWithEffects(sim: SimVm, tx: DecodedTx, ctx: BlockContext): Promise<TxEffects> {
  const block = blockFor(sim, ctx);
  let etx;
  try {
    etx = toEthereumjsTx(tx, sim.common);
  } catch (err) {
    return { status: 'invalid', gasUsed: 0n, logs: [], returnData: new Uint8Array(0), error: err instanceof Error ? err.message : String(err), pools: [], balanceChanges: [], gasCost: 0n };
  }
  const sender = createAddressFromString(tx.from);
  // The balance after is read before the revert; everything "before" after it.
  const { exec, balanceAfter } = await withRevert(sim, async (): Promise<{ exec: Execution; balanceAfter: bigint }> => {
    const exec = await executeTx(sim, etx, block);
    return { exec, balanceAfter: exec.result.status === 'success' ? await balanceOf(sim, sender) : 0n };
  });
  const { result, run } = exec;
  const gasCost = run === undefined ? 0n : gasCostOf(run, block);
  if (result.status !== 'success') return { ...result, pools: [], balanceChanges: [], gasCost };
  const pools = await poolTouches(sim, result.logs);
  const ethDelta = balanceAfter - (await balanceOf(sim, sender)) + gasCost;
  return { ...result, pools, balanceChanges: balanceChangesOf(result.logs, tx.from.toLowerCase(), ethDelta), gasCost };
}

/**
 * The pools `logs` moved, by first touch: "after" from the last `Sync`/`Swap` of each, "before"
 * read from `sim`'s current state, which must be the state before the logs' transaction.
 */
export async function poolTouches(sim: SimVm, logs: readonly SimLog[]): Promise<PoolTouch[]> {
  const touched = new Map<string, PoolTouch>();
  for (const log of logs) {
    const t0 = log.topics[0];
    if (t0 === V2_SYNC_TOPIC && log.data.length === 2 + 128) {
      const after = [word(log.data, 0), word(log.data, 1)];
      const hit = touched.get(log.address);
      if (hit === undefined) touched.set(log.address, { address: log.address, protocol: 'uniswap-v2', before: [], after });
      else if (hit.protocol === 'uniswap-v2') hit.after = after;
    } else if (t0 === V3_SWAP_TOPIC && log.topics.length === 3 && log.data.length === 2 + 5 * 64) {
      // data: amount0, amount1, sqrtPriceX96, liquidity, tick (int24, sign-extended to a word).
      const after = [word(log.data, 2), BigInt.asIntN(256, word(log.data, 4)), word(log.data, 3)];
      const hit = touched.get(log.address);
      if (hit === undefined) touched.set(log.address, { address: log.address, protocol: 'uniswap-v3', before: [], after });
      else if (hit.protocol === 'uniswap-v3') hit.after = after;
    }
  }
  const pools = [...touched.values()];
  await Promise.all(
    pools.map(async (p) => {
      const address = createAddressFromString(p.address);
      if (p.protocol === 'uniswap-v2') {
        const packed = await slotValue(sim, address, V2_RESERVES_SLOT);
        p.before = [packed & MASK_112, (packed >> 112n) & MASK_112];
      } else {
        const [slot0, liquidity] = await Promise.all([slotValue(sim, address, V3_SLOT0_SLOT), slotValue(sim, address, V3_LIQUIDITY_SLOT)]);
        p.before = [slot0 & MASK_160, BigInt.asIntN(24, slot0 >> 160n), liquidity & MASK_128];
      }
    }),
  );
  return pools;
}

/**
 * Net token changes of `owner` (lowercase) from ERC20 `Transfer` and WETH `Deposit`/`Withdrawal`
 * logs, with `ethDelta` as the ether entry: ether first, then tokens by address, zeros left out.
 */
export function balanceChangesOf(logs: readonly SimLog[], owner: string, ethDelta: bigint): BalanceChange[] {
  const deltas = new Map<string, bigint>();
  const add = (token: string, d: bigint) => deltas.set(token, (deltas.get(token) ?? 0n) + d);
  for (const log of logs) {
    const t0 = log.topics[0];
    if (log.data.length !== 2 + 64) continue;
    if (t0 === TRANSFER_TOPIC && log.topics.length === 3) {
      const v = BigInt(log.data);
      if (topicAddress(log.topics[1]!) === owner) add(log.address, -v);
      if (topicAddress(log.topics[2]!) === owner) add(log.address, v);
    } else if (t0 === WETH_DEPOSIT_TOPIC && log.topics.length === 2 && topicAddress(log.topics[1]!) === owner) {
      add(log.address, BigInt(log.data));
    } else if (t0 === WETH_WITHDRAWAL_TOPIC && log.topics.length === 2 && topicAddress(log.topics[1]!) === owner) {
      add(log.address, -BigInt(log.data));
    }
  }
  const out: BalanceChange[] = ethDelta === 0n ? [] : [{ token: ETH_TOKEN, delta: ethDelta }];
  for (const token of [...deltas.keys()].sort()) {
    const delta = deltas.get(token)!;
    if (delta !== 0n) out.push({ token, delta });
  }
  return out;
}

/** Ether balance of `address` on the current state of `sim`. */
async function balanceOf(sim: SimVm, address: Address): Promise<bigint> {
  return (await sim.state.getAccount(address))?.balance ?? 0n;
}

async function slotValue(sim: SimVm, address: Address, slot: Uint8Array): Promise<bigint> {
  const v = await sim.state.getStorage(address, slot);
  return v.length === 0 ? 0n : BigInt(`0x${Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex')}`);
}

/** The `i`th 32-byte word of 0x hex `data`. */
function word(data: string, i: number): bigint {
  return BigInt(`0x${data.slice(2 + i * 64, 2 + (i + 1) * 64)}`);
}

/** The address in an indexed address topic (0x + 24 zero digits + 40). */
function topicAddress(topic: string): string {
  return `0x${topic.slice(26)}`;
}

function slotBytes(n: number): Uint8Array {
  const b = new Uint8Array(32);
  b[31] = n;
  return b;
}
