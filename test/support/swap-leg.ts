import type { SwapLeg } from '../../src/messages/schema.js';

/** A SwapLeg with every field set (V2, exact in, nothing bound, no flags); `fields` override. */
export function testLeg(fields: Partial<SwapLeg> = {}): SwapLeg {
  return {
    protocol: 'uniswap-v2',
    exact: 'in',
    path: [],
    fees: [],
    pools: [],
    amountIn: null,
    amountInMax: null,
    amountOut: null,
    amountOutMin: null,
    recipient: null,
    deadline: null,
    ethIn: false,
    ethOut: false,
    feeOnTransfer: false,
    ...fields,
  };
}
