import { maxBaseFee } from './bundle.js';

/**
 * Fees of a replacement or a cancellation: a transaction that takes the place of one of ours in a
 * node's pool must raise both `maxFeePerGas` and `maxPriorityFeePerGas` by the node's price bump
 * (geth and most clients: 10%), or the node refuses it as underpriced.
 */

/** The EIP-1559 fee fields of a transaction, wei. */
export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** `x` raised by `pct` percent, rounded up, and by at least 1 wei (so a 0 tip rises too). */
export function bumpFee(x: bigint, pct: number): bigint {
  const up = (x * BigInt(100 + pct) + 99n) / 100n;
  return up > x ? up : x + 1n;
}

/**
 * Fees that replace `old`: both fields bumped by `pct`, and the cap at least what the base fee can
 * reach in `blocks` blocks from `nextBase` plus the new tip, so the replacement stays includable
 * for the rest of its window even when the base fee rose past the old cap.
 */
export function replacementFees(old: Fees, pct: number, nextBase: bigint, blocks: number): Fees {
  const tip = bumpFee(old.maxPriorityFeePerGas, pct);
  const bumped = bumpFee(old.maxFeePerGas, pct);
  const floor = maxBaseFee(nextBase, Math.max(1, blocks)) + tip;
  return { maxFeePerGas: bumped > floor ? bumped : floor, maxPriorityFeePerGas: tip };
}

