import { type Hex, encodeFunctionData, parseAbi } from 'viem';
import type { Opportunity, TxSpec } from './opportunity.js';

/**
 * ABI-encoding of a plan's searcher transactions: the one place that turns a {@link TxSpec} into
 * `to` + calldata, used by the verification (EVM), the tests that execute plans on anvil, and the
 * submitter that signs them.
 */

const ROUTER02_ABI = parseAbi(['function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[] amounts)']);
const ERC20_ABI = parseAbi(['function transfer(address to, uint256 amount) returns (bool)', 'function balanceOf(address owner) view returns (uint256)']);
const PAIR_ABI = parseAbi(['function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data)']);
const V3_ROUTER_ABI = parseAbi([
  'struct ExactInputSingleParams { address tokenIn; address tokenOut; uint24 fee; address recipient; uint256 deadline; uint256 amountIn; uint256 amountOutMinimum; uint160 sqrtPriceLimitX96; }',
  'function exactInputSingle(ExactInputSingleParams params) payable returns (uint256 amountOut)',
]);

/** One searcher call: target, calldata, ether sent. */
export interface PlanCall {
  to: string;
  data: Hex;
  value: bigint;
}

/**
 * Deadline put in router calls by default: far in the future, so the calldata (and with it the
 * gas the verification measured) is the same whoever encodes the plan. Plans are protected by
 * their exact `amountOutMin` instead: any drift of the pool makes them revert.
 */
export const PLAN_DEADLINE = 0xffffffffn;

/** Options of {@link encodePlan}. */
export interface EncodeOptions {
  /** The searcher: recipient of router and final pair outputs. */
  searcher: string;
  /** Unix-seconds deadline put in router calls; default {@link PLAN_DEADLINE}. */
  deadline?: bigint;
}

/** Calldata of one searcher step; null for a victim (sent as the victim signed it). */
export function encodeStep(spec: TxSpec, opts: EncodeOptions): PlanCall | null {
  const searcher = opts.searcher as Hex;
  switch (spec.kind) {
    case 'victim':
      return null;
    case 'v2-router-exact-in':
      return {
        to: spec.router,
        data: encodeFunctionData({ abi: ROUTER02_ABI, functionName: 'swapExactTokensForTokens', args: [spec.amountIn, spec.amountOutMin, spec.path as Hex[], searcher, opts.deadline ?? PLAN_DEADLINE] }),
        value: 0n,
      };
    case 'erc20-transfer':
      return { to: spec.token, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'transfer', args: [spec.to as Hex, spec.amount] }), value: 0n };
    case 'v2-pair-swap':
      return { to: spec.pair, data: encodeFunctionData({ abi: PAIR_ABI, functionName: 'swap', args: [spec.amount0Out, spec.amount1Out, (spec.to ?? searcher) as Hex, '0x'] }), value: 0n };
    default:
      return encodeOther(spec as Exclude<TxSpec, { kind: 'victim' | 'v2-router-exact-in' | 'erc20-transfer' | 'v2-pair-swap' }>, opts);
  }
}

function encodeOther(spec: { kind: string } & Record<string, unknown>, opts: EncodeOptions): PlanCall {
  if (spec.kind === 'v3-router-exact-input-single') {
    const s = spec as unknown as { router: string; tokenIn: string; tokenOut: string; fee: number; amountIn: bigint; amountOutMinimum: bigint };
    return {
      to: s.router,
      data: encodeFunctionData({
        abi: V3_ROUTER_ABI,
        functionName: 'exactInputSingle',
        args: [{ tokenIn: s.tokenIn as Hex, tokenOut: s.tokenOut as Hex, fee: s.fee, recipient: opts.searcher as Hex, deadline: opts.deadline ?? PLAN_DEADLINE, amountIn: s.amountIn, amountOutMinimum: s.amountOutMinimum, sqrtPriceLimitX96: 0n }],
      }),
      value: 0n,
    };
  }
  throw new TypeError(`plan step of unknown kind ${JSON.stringify(spec.kind)}`);
}

/** Every step of `opp.plan` encoded (null for victims), in plan order. */
export function encodePlan(opp: Pick<Opportunity, 'plan'>, opts: EncodeOptions): (PlanCall | null)[] {
  return opp.plan.map((s) => encodeStep(s, opts));
}

/** `balanceOf(owner)` calldata. */
export function balanceOfData(owner: string): Hex {
  return encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [owner as Hex] });
}
