import { type AbiFunction, decodeAbiParameters, parseAbi, toFunctionSelector } from 'viem';
import type { SwapLeg } from '../../../messages/schema.js';
import { readAddress, readAddressArray, readUint } from './abi-reader.js';
import {
  type CallContext,
  type CallHandler,
  type IntentKind,
  MalformedCalldataError,
  createLeg,
  kindBit,
  resolveRecipient,
  selectorNumber,
  v2Pools,
} from './call-context.js';

/**
 * Uniswap V2 Router02 swap functions (and every fork that kept its ABI: Sushiswap, …).
 *
 * ETH in SwapLeg terms: an ETH-input function has no amount argument, the router wraps all of
 * `msg.value`. So `swapExactETHFor…` gets `amountIn = value` (the exact input), and
 * `swapETHForExactTokens` gets `amountInMax = value` (the router refunds what it did not need),
 * `amountIn` staying null. Paths keep WETH where the router wraps or unwraps; `ethIn`/`ethOut` say so.
 */
export const V2_ROUTER_ABI = parseAbi([
  'function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline)',
  'function swapTokensForExactTokens(uint256 amountOut, uint256 amountInMax, address[] path, address to, uint256 deadline)',
  'function swapExactETHForTokens(uint256 amountOutMin, address[] path, address to, uint256 deadline) payable',
  'function swapTokensForExactETH(uint256 amountOut, uint256 amountInMax, address[] path, address to, uint256 deadline)',
  'function swapExactTokensForETH(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline)',
  'function swapETHForExactTokens(uint256 amountOut, address[] path, address to, uint256 deadline) payable',
  'function swapExactTokensForTokensSupportingFeeOnTransferTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline)',
  'function swapExactETHForTokensSupportingFeeOnTransferTokens(uint256 amountOutMin, address[] path, address to, uint256 deadline) payable',
  'function swapExactTokensForETHSupportingFeeOnTransferTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline)',
]);

/**
 * The shape of a V2-style swap call: `exact` says which amount is fixed; `ethIn` is where
 * `msg.value` goes (`amountIn` or `amountInMax`) when the function takes ETH and so has one amount
 * argument fewer.
 */
export interface V2CallShape {
  exact: 'in' | 'out';
  ethIn: 'amountIn' | 'amountInMax' | null;
  ethOut: boolean;
  feeOnTransfer: boolean;
  hasDeadline: boolean;
}

/** Decoded arguments of a V2-style swap call; `amount0` is absent (null) for an ETH-input function. */
export interface V2CallArgs {
  amount0: bigint | null;
  amount1: bigint;
  path: string[];
  to: string;
  deadline: bigint | null;
}

/**
 * Decodes V2-style swap arguments `(uint256 a?, uint256 b, address[] path, address to,
 * uint256 deadline?)` with the hand-written reader. Addresses come back lowercase.
 * @throws MalformedCalldataError on malformed calldata.
 */
export function decodeV2Args(shape: V2CallShape, args: Uint8Array): V2CallArgs {
  const k = shape.ethIn === null ? 2 : 1;
  return {
    amount0: k === 2 ? readUint(args, 0) : null,
    amount1: readUint(args, 32 * (k - 1)),
    path: readAddressArray(args, 32 * k, 0),
    to: readAddress(args, 32 * k + 32),
    deadline: shape.hasDeadline ? readUint(args, 32 * k + 64) : null,
  };
}

/**
 * The same decoding with viem's `decodeAbiParameters`: the reference the hand-written
 * {@link decodeV2Args} replaced on the hot path (~7 µs per call here), kept for the tests and the
 * benchmark that compare the two.
 * @remarks Allocates; not for the hot path.
 */
export function decodeV2ArgsViem(fn: AbiFunction, shape: V2CallShape, args: Uint8Array): V2CallArgs {
  const v = decodeAbiParameters(fn.inputs, args) as readonly unknown[];
  const i = shape.ethIn === null ? 1 : 0;
  const path = (v[i + 1] as string[]).map((a) => a.toLowerCase());
  return {
    amount0: i === 1 ? (v[0] as bigint) : null,
    amount1: v[i] as bigint,
    path,
    to: (v[i + 2] as string).toLowerCase(),
    deadline: shape.hasDeadline ? (v[i + 3] as bigint) : null,
  };
}

/**
 * The leg of a V2-style router swap. `family` picks the recipient sentinels; `amountInFromBalance`
 * is SwapRouter02's "contract balance" flag (amountIn 0 means the router's own balance).
 * @throws MalformedCalldataError when the path has fewer than two tokens (the router reverts).
 */
export function v2Leg(ctx: CallContext, family: IntentKind, shape: V2CallShape, a: V2CallArgs, amountInFromBalance = false): SwapLeg {
  if (a.path.length < 2) throw new MalformedCalldataError(`V2 path of ${a.path.length} token(s)`);
  const leg = createLeg('uniswap-v2', shape.exact, a.path, [], v2Pools(ctx, a.path), resolveRecipient(a.to, family, ctx), a.deadline ?? ctx.deadline);
  if (shape.exact === 'in') {
    leg.amountIn = shape.ethIn === 'amountIn' ? ctx.value : amountInFromBalance && a.amount0 === 0n ? null : a.amount0;
    leg.amountOutMin = a.amount1;
  } else {
    leg.amountOut = shape.ethIn === 'amountInMax' ? a.amount1 : a.amount0;
    leg.amountInMax = shape.ethIn === 'amountInMax' ? ctx.value : a.amount1;
  }
  leg.ethIn = shape.ethIn !== null;
  leg.ethOut = shape.ethOut;
  leg.feeOnTransfer = shape.feeOnTransfer;
  return leg;
}

const SHAPES: Readonly<Record<string, V2CallShape>> = {
  swapExactTokensForTokens: shape('in', null, false, false),
  swapTokensForExactTokens: shape('out', null, false, false),
  swapExactETHForTokens: shape('in', 'amountIn', false, false),
  swapTokensForExactETH: shape('out', null, true, false),
  swapExactTokensForETH: shape('in', null, true, false),
  swapETHForExactTokens: shape('out', 'amountInMax', false, false),
  swapExactTokensForTokensSupportingFeeOnTransferTokens: shape('in', null, false, true),
  swapExactETHForTokensSupportingFeeOnTransferTokens: shape('in', 'amountIn', false, true),
  swapExactTokensForETHSupportingFeeOnTransferTokens: shape('in', null, true, true),
};

function shape(exact: 'in' | 'out', ethIn: V2CallShape['ethIn'], ethOut: boolean, feeOnTransfer: boolean): V2CallShape {
  return Object.freeze({ exact, ethIn, ethOut, feeOnTransfer, hasDeadline: true });
}

/** Handlers for every Router02 swap function. */
export const V2_ROUTER_HANDLERS: readonly CallHandler[] = V2_ROUTER_ABI.map((fn): CallHandler => {
  const s = SHAPES[fn.name]!;
  return Object.freeze({
    selector: selectorNumber(toFunctionSelector(fn)),
    name: fn.name,
    kind: 'v2-router02',
    accepts: kindBit('v2-router02'),
    decode(args: Uint8Array, ctx: CallContext): void {
      ctx.legs.push(v2Leg(ctx, 'v2-router02', s, decodeV2Args(s, args)));
    },
  });
});
