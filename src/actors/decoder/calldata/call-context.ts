import type { SwapIntent, SwapLeg } from '../../../messages/schema.js';
import { v2PairAddress, v3PoolAddress } from './pool-address.js';
import type { RouterEntry } from './router-registry.js';

/** The kind of contract a swap intent comes from. */
export type IntentKind = SwapIntent['kind'];

/**
 * State of one classification, shared by the outer call and the calls a `multicall` or `execute`
 * carries. One instance per thread is reused (classification is synchronous and never re-entered);
 * only `legs` is fresh per call, since it ends up in the intent.
 */
export interface CallContext {
  /** The contract called (lowercase): the router, or the pair for a direct pair call. */
  router: string;
  /** Its registry entry; undefined for an unknown address (then no pools, no WETH). */
  entry: RouterEntry | undefined;
  /** The transaction's value in wei. */
  value: bigint;
  /** The transaction's sender when the caller knows it; resolves the `msg.sender` sentinel. */
  sender: string | null;
  /** Deadline set by the outer call (`multicall(deadline, …)`, `execute(…, deadline)`). */
  deadline: bigint | null;
  /** Kind reported for the intent: the entry's kind, or the one implied by the functions seen. */
  kind: IntentKind;
  /** Swaps found so far, in execution order. */
  legs: SwapLeg[];
  /** Pool addresses this call may still derive (see {@link MAX_POOLS_PER_CALL}). */
  poolsLeft: number;
}

/**
 * Most pool addresses derived for one transaction. A cache miss costs two keccaks (~20–40 µs
 * here), and calldata is attacker-controlled: a 128 KiB `execute` of hundreds of hops through
 * fresh tokens would otherwise hold the decoder for tens of milliseconds. Real swaps use a handful;
 * legs past the budget keep an empty `pools`, as if the factory were unknown.
 */
export const MAX_POOLS_PER_CALL = 64;

/** One function the classifier decodes, keyed by its 4-byte selector. */
export interface CallHandler {
  /** The selector as an unsigned 32-bit integer. */
  readonly selector: number;
  /** Function name, reported as the intent's `method` when it is the outer call. */
  readonly name: string;
  /**
   * The contract this signature belongs to. It decides the recipient sentinels (SwapRouter maps
   * address(0) to itself, SwapRouter02 and the Universal Router map address(1) and address(2)) and
   * the intent's kind when the address is unknown.
   */
  readonly kind: IntentKind;
  /** Kinds of known contract that have this function (bit per kind, see {@link kindBit}). */
  readonly accepts: number;
  /**
   * Appends the call's legs to `ctx.legs`. `args` is the calldata after the selector.
   * @throws on malformed arguments (the caller turns that into a `malformed` result).
   */
  decode(args: Uint8Array, ctx: CallContext): void;
}

const KIND_BITS: Readonly<Record<IntentKind, number>> = {
  'v2-router02': 1,
  'v3-swaprouter': 2,
  'v3-swaprouter02': 4,
  'universal-router': 8,
  'v2-pair': 16,
};

/** Bit of `kind` in {@link CallHandler.accepts}. */
export function kindBit(kind: IntentKind): number {
  return KIND_BITS[kind];
}

/** Thrown by a handler when calldata with a known selector cannot be what the contract accepts. */
export class MalformedCalldataError extends Error {
  override name = 'MalformedCalldataError';
}

/** address(0): SwapRouter's alias for itself as recipient. */
export const ADDRESS_ZERO = '0x0000000000000000000000000000000000000000';
/** address(1): `msg.sender` in SwapRouter02 and the Universal Router. */
export const MSG_SENDER = '0x0000000000000000000000000000000000000001';
/** address(2): the router itself in SwapRouter02 and the Universal Router. */
export const ADDRESS_THIS = '0x0000000000000000000000000000000000000002';

/**
 * A leg with every amount null and every flag false; handlers fill in what the call fixes. All
 * fields are present from the start so every leg has one shape (one hidden class, one msgpackr
 * structure).
 */
export function createLeg(
  protocol: SwapLeg['protocol'],
  exact: SwapLeg['exact'],
  path: string[],
  fees: number[],
  pools: string[],
  recipient: string | null,
  deadline: bigint | null,
): SwapLeg {
  return {
    protocol,
    exact,
    path,
    fees,
    pools,
    amountIn: null,
    amountInMax: null,
    amountOut: null,
    amountOutMin: null,
    recipient,
    deadline,
    ethIn: false,
    ethOut: false,
    feeOnTransfer: false,
  };
}

/**
 * The address a swap really pays out to, after the contract's sentinels: null when it is the
 * transaction's sender and the caller did not pass one.
 */
export function resolveRecipient(raw: string, family: IntentKind, ctx: CallContext): string | null {
  if (family === 'v3-swaprouter') return raw === ADDRESS_ZERO ? ctx.router : raw;
  if (family === 'v3-swaprouter02' || family === 'universal-router') {
    if (raw === MSG_SENDER) return ctx.sender;
    if (raw === ADDRESS_THIS) return ctx.router;
  }
  return raw;
}

/** V2 pair per hop of `path`, or [] when the router's V2 factory is not known or the budget is spent. */
export function v2Pools(ctx: CallContext, path: readonly string[]): string[] {
  const e = ctx.entry;
  if (e?.v2Factory === undefined || e.v2InitCodeHash === undefined || path.length - 1 > ctx.poolsLeft) return [];
  ctx.poolsLeft -= path.length - 1;
  const pools = new Array<string>(path.length - 1);
  for (let i = 0; i < pools.length; i++) pools[i] = v2PairAddress(e.v2Factory, e.v2InitCodeHash, path[i]!, path[i + 1]!);
  return pools;
}

/** V3 pool per hop of `path` with `fees`, or [] when the router's V3 factory is not known or the budget is spent. */
export function v3Pools(ctx: CallContext, path: readonly string[], fees: readonly number[]): string[] {
  const e = ctx.entry;
  if (e?.v3Factory === undefined || e.v3InitCodeHash === undefined || fees.length > ctx.poolsLeft) return [];
  ctx.poolsLeft -= fees.length;
  const pools = new Array<string>(fees.length);
  for (let i = 0; i < pools.length; i++) pools[i] = v3PoolAddress(e.v3Factory, e.v3InitCodeHash, path[i]!, path[i + 1]!, fees[i]!);
  return pools;
}

/**
 * Whether a router that wraps `msg.value` on demand (SwapRouter's `pay`) spends ETH for a swap
 * starting at `tokenIn`. Without a known WETH, any swap in a call that carries value is assumed to.
 */
export function spendsEth(ctx: CallContext, tokenIn: string | undefined): boolean {
  if (ctx.value === 0n) return false;
  const weth = ctx.entry?.weth;
  return weth === undefined || tokenIn === weth;
}

/**
 * A later `unwrapWETH9` / `sweepToken` / `UNWRAP_WETH` / `SWEEP` pays out what earlier legs left
 * with the router: those legs (recipient = the router, last token = `token`, or any token when
 * `token` is null) now deliver to `recipient`, as ETH when `asEth`.
 */
export function redirectRouterOutput(ctx: CallContext, token: string | null, recipient: string | null, asEth: boolean): void {
  for (const leg of ctx.legs) {
    if (leg.recipient !== ctx.router || leg.path.length === 0) continue;
    if (token !== null && leg.path[leg.path.length - 1] !== token) continue;
    leg.recipient = recipient;
    if (asEth) leg.ethOut = true;
  }
}

/** The selector of a 0x-prefixed 4-byte hex string as an unsigned 32-bit integer. */
export function selectorNumber(hex: string): number {
  return Number.parseInt(hex.slice(2, 10), 16) >>> 0;
}
