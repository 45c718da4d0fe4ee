import { parseAbi, toFunctionSelector } from 'viem';
import { readAddress, readBytes, readUint } from './abi-reader.js';
import { type CallContext, type CallHandler, MalformedCalldataError, createLeg, kindBit, selectorNumber } from './call-context.js';

/**
 * A direct call to a Uniswap V2 (or fork) pair: `swap(amount0Out, amount1Out, to, data)`, on any
 * address, since pairs are too many to list. The leg is exact-out with the pair as its one pool and
 * an empty path: which tokens the pair holds is state, not calldata. `amountOut` is the one non-zero
 * output; when both are non-zero (a two-sided flash swap) it is null. Which side is paid out is
 * not expressible in a SwapLeg; the simulator learns it from the pair.
 */
export const V2_PAIR_ABI = parseAbi(['function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data)']);

const swap = V2_PAIR_ABI[0];

/** Handler for `swap` (selector 0x022c0d9f). */
export const V2_PAIR_HANDLERS: readonly CallHandler[] = Object.freeze([
  Object.freeze({
    selector: selectorNumber(toFunctionSelector(swap)),
    name: 'swap',
    kind: 'v2-pair',
    accepts: kindBit('v2-pair'),
    decode(args: Uint8Array, ctx: CallContext): void {
      const amount0Out = readUint(args, 0);
      const amount1Out = readUint(args, 32);
      const to = readAddress(args, 64);
      readBytes(args, 96, 0); // the callback data: not part of the intent, but must be present
      // The pair reverts with INSUFFICIENT_OUTPUT_AMOUNT: nothing is swapped.
      if (amount0Out === 0n && amount1Out === 0n) throw new MalformedCalldataError('pair swap with no output');
      const leg = createLeg('uniswap-v2', 'out', [], [], [ctx.router], to, null);
      leg.amountOut = amount0Out === 0n ? amount1Out : amount1Out === 0n ? amount0Out : null;
      ctx.legs.push(leg);
    },
  } as const),
]);
