import type { SwapIntent } from '../../../messages/schema.js';
import { type CallContext, type CallHandler, MAX_POOLS_PER_CALL, kindBit } from './call-context.js';
import type { RouterRegistry } from './router-registry.js';
import { UNIVERSAL_ROUTER_HANDLERS } from './universal-router.js';
import { V2_PAIR_HANDLERS } from './v2-pair.js';
import { V2_ROUTER_HANDLERS } from './v2-router.js';
import { V3_ROUTER_HANDLERS } from './v3-router.js';

/**
 * Why a transaction's calldata did or did not give a swap intent; the decoder counts each.
 * - `ok`: an intent with at least one leg.
 * - `no-target`: contract creation (no `to`).
 * - `no-input`: fewer than 4 bytes of calldata (plain transfer, or a fallback call).
 * - `unknown-selector`: not a function classified here, or one the known contract at `to` lacks.
 * - `malformed`: a known function whose arguments do not decode, or that the contract would revert
 *   on for its shape (short V2/V3 path, commands and inputs of different lengths, …).
 * - `no-swap`: a known entry point carrying no swap (a multicall of payments only, an `execute` of
 *   Permit2 or NFT commands only).
 */
export type ClassifyReason = 'ok' | 'no-target' | 'no-input' | 'unknown-selector' | 'malformed' | 'no-swap';

/** Every {@link ClassifyReason}, for registering counters up front. */
export const CLASSIFY_REASONS: readonly ClassifyReason[] = Object.freeze(['ok', 'no-target', 'no-input', 'unknown-selector', 'malformed', 'no-swap']);

/** An intent (null unless `reason` is `ok`) and why. */
export interface ClassifyResult {
  intent: SwapIntent | null;
  reason: ClassifyReason;
}

/** Selector → handler for every function classified, built once at load. */
const HANDLERS: ReadonlyMap<number, CallHandler> = (() => {
  const m = new Map<number, CallHandler>();
  for (const h of [...V2_ROUTER_HANDLERS, ...V3_ROUTER_HANDLERS, ...UNIVERSAL_ROUTER_HANDLERS, ...V2_PAIR_HANDLERS]) {
    // Two signatures with one selector would silently shadow each other: fail at load instead.
    if (m.has(h.selector)) throw new Error(`selector 0x${h.selector.toString(16).padStart(8, '0')} of ${h.name} is taken by ${m.get(h.selector)!.name}`);
    m.set(h.selector, h);
  }
  return m;
})();

// The results without an intent are shared and frozen: the common path (not a swap) allocates nothing.
const result = (reason: ClassifyReason): ClassifyResult => Object.freeze({ intent: null, reason });
const NO_TARGET = result('no-target');
const NO_INPUT = result('no-input');
const UNKNOWN_SELECTOR = result('unknown-selector');
const MALFORMED = result('malformed');
const NO_SWAP = result('no-swap');

// One context per thread, reset per call; classification is synchronous and never re-entered.
const ctx: CallContext = { router: '', entry: undefined, value: 0n, sender: null, deadline: null, kind: 'v2-router02', legs: [], poolsLeft: 0 };

/**
 * Classifies a transaction's calldata into a swap intent, with the reason when there is none.
 * Never throws. Dispatch is on the 4-byte selector; a known router at `to` fixes the kind and the
 * factories pools are derived from, while an unknown address is still classified by selector (forks
 * reuse the ABIs), without pools. `sender` (lowercase), when given, resolves the routers'
 * `msg.sender` recipient sentinel; without it such a recipient is null.
 */
export function classifyCalldataWithReason(
  to: string | null,
  input: Uint8Array,
  value: bigint,
  registry: RouterRegistry,
  sender: string | null = null,
): ClassifyResult {
  if (to === null) return NO_TARGET;
  if (input.length < 4) return NO_INPUT;
  const selector = ((input[0]! << 24) | (input[1]! << 16) | (input[2]! << 8) | input[3]!) >>> 0;
  const handler = HANDLERS.get(selector);
  if (handler === undefined) return UNKNOWN_SELECTOR;
  const entry = registry.get(to);
  // A known contract that lacks the function would revert the call: it swaps nothing.
  if (entry !== undefined && (handler.accepts & kindBit(entry.kind)) === 0) return UNKNOWN_SELECTOR;
  const legs: SwapIntent['legs'] = [];
  ctx.router = entry?.address ?? to.toLowerCase();
  ctx.entry = entry;
  ctx.value = value;
  ctx.sender = sender;
  ctx.deadline = null;
  ctx.kind = entry?.kind ?? handler.kind;
  ctx.legs = legs;
  ctx.poolsLeft = MAX_POOLS_PER_CALL;
  try {
    handler.decode(input.subarray(4), ctx);
  } catch {
    // Whatever the calldata holds, a bad transaction is counted, never fatal to the decoder.
    return MALFORMED;
  }
  if (legs.length === 0) return NO_SWAP;
  return { intent: { router: ctx.router, kind: ctx.kind, method: handler.name, legs }, reason: 'ok' };
}

/** The swap intent of a transaction's calldata, or null. Never throws; see {@link classifyCalldataWithReason}. */
export function classifyCalldata(
  to: string | null,
  input: Uint8Array,
  value: bigint,
  registry: RouterRegistry,
  sender: string | null = null,
): SwapIntent | null {
  return classifyCalldataWithReason(to, input, value, registry, sender).intent;
}

/** Selectors classified here (unsigned 32-bit), for filters that want to know before decoding. */
export function classifiedSelectors(): number[] {
  return [...HANDLERS.keys()];
}
