import type { BlockEvent } from '../messages/schema.js';

/**
 * Base fee of the block after `head` (EIP-1559: ±1/8 toward a half-full block; 0 before London).
 * The simulator's pending block, the scorer's pricing and the submitter's fees all use this one.
 */
export function nextBaseFee(head: Pick<BlockEvent, 'baseFeePerGas' | 'gasUsed' | 'gasLimit'>): bigint {
  const base = head.baseFeePerGas ?? 0n;
  const target = head.gasLimit / 2n;
  if (target === 0n || head.gasUsed === target) return base;
  if (head.gasUsed > target) {
    const delta = (base * (head.gasUsed - target)) / target / 8n;
    return base + (delta > 1n ? delta : 1n);
  }
  return base - (base * (target - head.gasUsed)) / target / 8n;
}
