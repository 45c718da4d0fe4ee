import { type AbiFunction, parseAbi, toFunctionSelector } from 'viem';
import { readAddress, readBytesArray, readBytesHex, readOffset, readSmall, readUint } from './abi-reader.js';
import {
  type CallContext,
  type CallHandler,
  type IntentKind,
  MalformedCalldataError,
  createLeg,
  kindBit,
  redirectRouterOutput,
  resolveRecipient,
  selectorNumber,
  spendsEth,
  v3Pools,
} from './call-context.js';
import { type V2CallShape, decodeV2Args, v2Leg } from './v2-router.js';

/**
 * Uniswap V3 SwapRouter and SwapRouter02: the four exact-in/exact-out functions of each (SwapRouter's
 * take a deadline, SwapRouter02's do not and get it from `multicall(deadline, …)` when there is one),
 * SwapRouter02's two V2 functions, the three `multicall` overloads, and the payment calls a
 * multicall ends with (`unwrapWETH9`, `sweepToken`, `refundETH`), which tell where the output goes.
 *
 * ETH input: both routers wrap `msg.value` when a swap's input token is WETH, so such a leg has
 * `ethIn` with the amounts its calldata fixes. SwapRouter02 reads `amountIn == 0` as "the router's
 * own balance" (after an earlier leg or `wrapETH`): that `amountIn` is null.
 */
export const V3_ROUTER_ABI = parseAbi([
  // SwapRouter (ISwapRouter)
  'struct ExactInputSingleParams { address tokenIn; address tokenOut; uint24 fee; address recipient; uint256 deadline; uint256 amountIn; uint256 amountOutMinimum; uint160 sqrtPriceLimitX96; }',
  'struct ExactInputParams { bytes path; address recipient; uint256 deadline; uint256 amountIn; uint256 amountOutMinimum; }',
  'struct ExactOutputSingleParams { address tokenIn; address tokenOut; uint24 fee; address recipient; uint256 deadline; uint256 amountOut; uint256 amountInMaximum; uint160 sqrtPriceLimitX96; }',
  'struct ExactOutputParams { bytes path; address recipient; uint256 deadline; uint256 amountOut; uint256 amountInMaximum; }',
  'function exactInputSingle(ExactInputSingleParams params) payable returns (uint256 amountOut)',
  'function exactInput(ExactInputParams params) payable returns (uint256 amountOut)',
  'function exactOutputSingle(ExactOutputSingleParams params) payable returns (uint256 amountIn)',
  'function exactOutput(ExactOutputParams params) payable returns (uint256 amountIn)',
]);

/** SwapRouter02 (IV3SwapRouter, IV2SwapRouter, IMulticallExtended, IPeripheryPaymentsExtended). */
export const SWAP_ROUTER02_ABI = parseAbi([
  'struct ExactInputSingleParams { address tokenIn; address tokenOut; uint24 fee; address recipient; uint256 amountIn; uint256 amountOutMinimum; uint160 sqrtPriceLimitX96; }',
  'struct ExactInputParams { bytes path; address recipient; uint256 amountIn; uint256 amountOutMinimum; }',
  'struct ExactOutputSingleParams { address tokenIn; address tokenOut; uint24 fee; address recipient; uint256 amountOut; uint256 amountInMaximum; uint160 sqrtPriceLimitX96; }',
  'struct ExactOutputParams { bytes path; address recipient; uint256 amountOut; uint256 amountInMaximum; }',
  'function exactInputSingle(ExactInputSingleParams params) payable returns (uint256 amountOut)',
  'function exactInput(ExactInputParams params) payable returns (uint256 amountOut)',
  'function exactOutputSingle(ExactOutputSingleParams params) payable returns (uint256 amountIn)',
  'function exactOutput(ExactOutputParams params) payable returns (uint256 amountIn)',
  'function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to) payable returns (uint256 amountOut)',
  'function swapTokensForExactTokens(uint256 amountOut, uint256 amountInMax, address[] path, address to) payable returns (uint256 amountIn)',
  'function multicall(uint256 deadline, bytes[] data) payable returns (bytes[])',
  'function multicall(bytes32 previousBlockhash, bytes[] data) payable returns (bytes[])',
  'function unwrapWETH9(uint256 amountMinimum) payable',
  'function unwrapWETH9WithFee(uint256 amountMinimum, uint256 feeBips, address feeRecipient) payable',
  'function sweepToken(address token, uint256 amountMinimum) payable',
]);

/** Functions both routers have (IMulticall, IPeripheryPayments, IPeripheryPaymentsWithFee). */
export const V3_SHARED_ABI = parseAbi([
  'function multicall(bytes[] data) payable returns (bytes[])',
  'function unwrapWETH9(uint256 amountMinimum, address recipient) payable',
  'function unwrapWETH9WithFee(uint256 amountMinimum, address recipient, uint256 feeBips, address feeRecipient) payable',
  'function sweepToken(address token, uint256 amountMinimum, address recipient) payable',
  'function refundETH() payable',
]);

/**
 * Splits a V3 path (`token (20) | fee (3) | token (20) | …`, lowercase 0x-hex) into tokens and
 * fees in swap direction. Exact-output paths are encoded output → input: pass `reversed`.
 * @throws MalformedCalldataError unless the path holds at least one hop and whole hops only.
 */
export function decodeV3Path(hex: string, reversed: boolean): { path: string[]; fees: number[] } {
  const bytes = (hex.length - 2) / 2;
  const hops = (bytes - 20) / 23;
  if (!Number.isInteger(hops) || hops < 1) throw new MalformedCalldataError(`V3 path of ${bytes} bytes`);
  const path = new Array<string>(hops + 1);
  const fees = new Array<number>(hops);
  for (let i = 0; i <= hops; i++) {
    const at = 2 + 46 * i;
    path[reversed ? hops - i : i] = `0x${hex.slice(at, at + 40)}`;
    if (i < hops) fees[reversed ? hops - 1 - i : i] = Number.parseInt(hex.slice(at + 40, at + 46), 16);
  }
  return { path, fees };
}

/** What a V3 swap call fixes, whatever the router and function. */
interface V3Call {
  exact: 'in' | 'out';
  /** Tokens in swap direction. */
  path: string[];
  fees: number[];
  /** As in calldata, before the router's sentinels are resolved. */
  recipient: string;
  deadline: bigint | null;
  /** amountIn (exact in) or amountOut (exact out). */
  fixed: bigint;
  /** amountOutMinimum (exact in) or amountInMaximum (exact out). */
  bound: bigint;
}

/**
 * Appends the leg of a V3 router swap. `amountInFromBalance` is SwapRouter02's flag: an exact-in
 * `amountIn` of 0 means the router's own balance, so the leg's `amountIn` is null.
 */
function v3Leg(ctx: CallContext, family: IntentKind, c: V3Call, amountInFromBalance: boolean): void {
  const leg = createLeg('uniswap-v3', c.exact, c.path, c.fees, v3Pools(ctx, c.path, c.fees), resolveRecipient(c.recipient, family, ctx), c.deadline ?? ctx.deadline);
  if (c.exact === 'in') {
    leg.amountIn = amountInFromBalance && c.fixed === 0n ? null : c.fixed;
    leg.amountOutMin = c.bound;
  } else {
    leg.amountOut = c.fixed;
    leg.amountInMax = c.bound;
  }
  leg.ethIn = spendsEth(ctx, c.path[0]);
  ctx.legs.push(leg);
}

const MAX_FEE = 0xffffff;

/**
 * `exact…Single(params)`: a static struct, encoded inline. Words: tokenIn, tokenOut, fee,
 * recipient, [deadline,] amount, bound, sqrtPriceLimitX96.
 */
function decodeSingle(args: Uint8Array, exact: 'in' | 'out', hasDeadline: boolean): V3Call {
  const d = hasDeadline ? 32 : 0;
  const tokenIn = readAddress(args, 0);
  const tokenOut = readAddress(args, 32);
  const fee = readSmall(args, 64, MAX_FEE);
  const call: V3Call = {
    exact,
    path: [tokenIn, tokenOut],
    fees: [fee],
    recipient: readAddress(args, 96),
    deadline: hasDeadline ? readUint(args, 128) : null,
    fixed: readUint(args, 128 + d),
    bound: readUint(args, 160 + d),
  };
  readUint(args, 192 + d); // sqrtPriceLimitX96: not part of the intent, but must be present
  return call;
}

/**
 * `exactInput(params)` / `exactOutput(params)`: a dynamic struct behind one offset. Fields:
 * path (offset, relative to the struct), recipient, [deadline,] amount, bound.
 */
function decodePath(args: Uint8Array, exact: 'in' | 'out', hasDeadline: boolean): V3Call {
  const d = hasDeadline ? 32 : 0;
  const t = readOffset(args, 0, 0);
  const { path, fees } = decodeV3Path(readBytesHex(args, t, t), exact === 'out');
  return {
    exact,
    path,
    fees,
    recipient: readAddress(args, t + 32),
    deadline: hasDeadline ? readUint(args, t + 64) : null,
    fixed: readUint(args, t + 64 + d),
    bound: readUint(args, t + 96 + d),
  };
}

function fn(abi: readonly unknown[], name: string, inputs: number, firstType?: string): AbiFunction {
  const f = (abi as readonly AbiFunction[]).find(
    (x) => x.type === 'function' && x.name === name && x.inputs.length === inputs && (firstType === undefined || x.inputs[0]?.type === firstType),
  );
  if (f === undefined) throw new Error(`no ${name}/${inputs} in ABI`);
  return f;
}

function handler(f: AbiFunction, kind: IntentKind, accepts: readonly IntentKind[], decode: CallHandler['decode']): CallHandler {
  return Object.freeze({ selector: selectorNumber(toFunctionSelector(f)), name: f.name, kind, accepts: accepts.reduce((m, k) => m | kindBit(k), 0), decode });
}

function swapHandlers(abi: readonly unknown[], family: 'v3-swaprouter' | 'v3-swaprouter02'): CallHandler[] {
  // SwapRouter's structs carry a deadline; SwapRouter02 reads amountIn 0 as "my balance".
  const v1 = family === 'v3-swaprouter';
  return [
    handler(fn(abi, 'exactInputSingle', 1), family, [family], (args, ctx) => v3Leg(ctx, family, decodeSingle(args, 'in', v1), !v1)),
    handler(fn(abi, 'exactInput', 1), family, [family], (args, ctx) => v3Leg(ctx, family, decodePath(args, 'in', v1), !v1)),
    handler(fn(abi, 'exactOutputSingle', 1), family, [family], (args, ctx) => v3Leg(ctx, family, decodeSingle(args, 'out', v1), !v1)),
    handler(fn(abi, 'exactOutput', 1), family, [family], (args, ctx) => v3Leg(ctx, family, decodePath(args, 'out', v1), !v1)),
  ];
}

const R02_V2_SHAPES: Readonly<Record<string, V2CallShape>> = {
  swapExactTokensForTokens: Object.freeze({ exact: 'in', ethIn: null, ethOut: false, feeOnTransfer: false, hasDeadline: false }),
  swapTokensForExactTokens: Object.freeze({ exact: 'out', ethIn: null, ethOut: false, feeOnTransfer: false, hasDeadline: false }),
};

function router02V2Handlers(): CallHandler[] {
  return Object.entries(R02_V2_SHAPES).map(([name, s]) =>
    handler(fn(SWAP_ROUTER02_ABI, name, 4), 'v3-swaprouter02', ['v3-swaprouter02'], (args, ctx) => {
      const leg = v2Leg(ctx, 'v3-swaprouter02', s, decodeV2Args(s, args), true);
      // SwapRouter02's `pay` wraps msg.value when the input token is WETH, as for its V3 swaps.
      leg.ethIn = spendsEth(ctx, leg.path[0]);
      ctx.legs.push(leg);
    }),
  );
}

function paymentHandlers(): CallHandler[] {
  const both: IntentKind[] = ['v3-swaprouter', 'v3-swaprouter02'];
  const only02: IntentKind[] = ['v3-swaprouter02'];
  const weth = (ctx: CallContext) => ctx.entry?.weth ?? null;
  return [
    // The forms with a recipient argument pay it as given (no sentinels in PeripheryPayments).
    handler(fn(V3_SHARED_ABI, 'unwrapWETH9', 2), 'v3-swaprouter', both, (args, ctx) => {
      readUint(args, 0);
      redirectRouterOutput(ctx, weth(ctx), readAddress(args, 32), true);
    }),
    handler(fn(V3_SHARED_ABI, 'unwrapWETH9WithFee', 4), 'v3-swaprouter', both, (args, ctx) => {
      readAddress(args, 96);
      redirectRouterOutput(ctx, weth(ctx), readAddress(args, 32), true);
    }),
    handler(fn(V3_SHARED_ABI, 'sweepToken', 3), 'v3-swaprouter', both, (args, ctx) => {
      readUint(args, 32);
      redirectRouterOutput(ctx, readAddress(args, 0), readAddress(args, 64), false);
    }),
    // SwapRouter02's shorter forms pay msg.sender.
    handler(fn(SWAP_ROUTER02_ABI, 'unwrapWETH9', 1), 'v3-swaprouter02', only02, (args, ctx) => {
      readUint(args, 0);
      redirectRouterOutput(ctx, weth(ctx), ctx.sender, true);
    }),
    handler(fn(SWAP_ROUTER02_ABI, 'unwrapWETH9WithFee', 3), 'v3-swaprouter02', only02, (args, ctx) => {
      readAddress(args, 64);
      redirectRouterOutput(ctx, weth(ctx), ctx.sender, true);
    }),
    handler(fn(SWAP_ROUTER02_ABI, 'sweepToken', 2), 'v3-swaprouter02', only02, (args, ctx) => {
      readUint(args, 32);
      redirectRouterOutput(ctx, readAddress(args, 0), ctx.sender, false);
    }),
    // Returns unspent ETH of an exact-output ETH swap: nothing to change on the legs.
    handler(fn(V3_SHARED_ABI, 'refundETH', 0), 'v3-swaprouter', both, () => {}),
  ];
}

/** Calls a multicall may carry, by selector; a nested multicall is not followed. Built once. */
const INNER: ReadonlyMap<number, CallHandler> = new Map(
  [...swapHandlers(V3_ROUTER_ABI, 'v3-swaprouter'), ...swapHandlers(SWAP_ROUTER02_ABI, 'v3-swaprouter02'), ...router02V2Handlers(), ...paymentHandlers()].map(
    (h) => [h.selector, h],
  ),
);

/**
 * Runs the calls of a multicall in order. Calls that are neither swaps nor payments (selfPermit,
 * pull, wrapETH, …) are skipped, as are calls the known router lacks. A known call that does not
 * decode makes the whole multicall malformed, as it would revert the transaction.
 */
function runMulticall(args: Uint8Array, head: number, ctx: CallContext): void {
  const accepts = ctx.entry === undefined ? kindBit('v3-swaprouter') | kindBit('v3-swaprouter02') : kindBit(ctx.entry.kind);
  for (const call of readBytesArray(args, head, 0)) {
    if (call.length < 4) continue;
    const h = INNER.get(((call[0]! << 24) | (call[1]! << 16) | (call[2]! << 8) | call[3]!) >>> 0);
    if (h === undefined || (h.accepts & accepts) === 0) continue;
    // An unknown address that takes SwapRouter02-only calls is a SwapRouter02 (or a fork of it).
    if (ctx.entry === undefined && h.kind === 'v3-swaprouter02') ctx.kind = 'v3-swaprouter02';
    h.decode(call.subarray(4), ctx);
  }
}

function multicallHandlers(): CallHandler[] {
  return [
    handler(fn(V3_SHARED_ABI, 'multicall', 1), 'v3-swaprouter', ['v3-swaprouter', 'v3-swaprouter02'], (args, ctx) => runMulticall(args, 0, ctx)),
    handler(fn(SWAP_ROUTER02_ABI, 'multicall', 2, 'uint256'), 'v3-swaprouter02', ['v3-swaprouter02'], (args, ctx) => {
      ctx.deadline = readUint(args, 0);
      runMulticall(args, 32, ctx);
    }),
    handler(fn(SWAP_ROUTER02_ABI, 'multicall', 2, 'bytes32'), 'v3-swaprouter02', ['v3-swaprouter02'], (args, ctx) => {
      readUint(args, 0); // previousBlockhash: checked on chain, not part of the intent
      runMulticall(args, 32, ctx);
    }),
  ];
}

/** Handlers for the top-level calls of SwapRouter and SwapRouter02. */
export const V3_ROUTER_HANDLERS: readonly CallHandler[] = Object.freeze([
  ...swapHandlers(V3_ROUTER_ABI, 'v3-swaprouter'),
  ...swapHandlers(SWAP_ROUTER02_ABI, 'v3-swaprouter02'),
  ...router02V2Handlers(),
  ...multicallHandlers(),
]);
