/**
 * Turns an opportunity's plan into the transactions to sign: calldata from the plan, gas and tips
 * as the scorer priced them (measured gas once verified), fee caps that stay valid for every target
 * block, and the builder payment the policy asks for.
 */
import type { Opportunity } from '../scorer/opportunity.js';
import { encodeStep } from '../scorer/plan-calls.js';
import type { Eip1559Tx } from './signer.js';
import type { SubmitterConfig } from './submitter-config.js';
import type { Hex } from './types.js';

/** One of our transactions before signing: everything but the nonce, which is reserved at send time. */
export type UnsignedTx = Omit<Eip1559Tx, 'nonce' | 'accessList'>;

/** A bundle laid out in plan order: victims by their signed bytes, ours to sign. */
export interface BundlePlan {
  steps: ({ victim: { hash: Hex; raw: Hex } } | { ours: UnsignedTx })[];
  /** The builder payment (wei) a coinbase transfer carries; 0 when paid by priority fees. */
  builderPaymentWei: bigint;
  /** Predicted net profit after the builder payment and its gas (wei). */
  predictedNetWei: bigint;
  /** Most our transactions can pay for gas and value, at their fee caps (the balance they need). */
  maxCostWei: bigint;
}

/** Gas of a plain ether transfer (the coinbase payment). */
const TRANSFER_GAS = 21_000n;

/**
 * The highest base fee `blocks` blocks ahead can reach from `baseFee` under EIP-1559 (+12.5% a
 * block, rounded up): fee caps at this plus the tip keep a bundle valid for its whole window, while
 * the price paid (base fee + tip) stays what the scorer predicted when the base fee is as predicted.
 */
export function maxBaseFee(baseFee: bigint, blocks: number): bigint {
  let b = baseFee;
  for (let i = 1; i < blocks; i++) b = b + (b + 7n) / 8n;
  return b;
}

/**
 * Lays out `opp`'s bundle. Throws a TypeError naming the step when a victim's signed bytes or a
 * searcher step's gas are missing (an opportunity from an older scorer or a hand-built plan).
 */
export function buildBundle(opp: Opportunity, c: SubmitterConfig, chainId: number): BundlePlan {
  const searcher = opp.searcher;
  if (searcher === null) throw new TypeError(`opportunity ${opp.id} has no searcher account`);
  const feeCap = maxBaseFee(opp.baseFee, c.targetBlocks);
  const steps: BundlePlan['steps'] = [];
  let maxCostWei = 0n;
  let lastTip = 0n;
  for (let i = 0; i < opp.plan.length; i++) {
    const s = opp.plan[i]!;
    if (s.kind === 'victim') {
      if (s.raw === undefined) throw new TypeError(`opportunity ${opp.id}: plan step ${i} (victim ${s.hash}) carries no signed bytes`);
      steps.push({ victim: { hash: s.hash as Hex, raw: s.raw as Hex } });
      continue;
    }
    const g = opp.gas[i];
    if (g === null || g === undefined) throw new TypeError(`opportunity ${opp.id}: plan step ${i} has no gas`);
    const call = encodeStep(s, { searcher })!;
    const tx: UnsignedTx = { chainId, to: call.to as Hex, data: call.data, value: call.value, gas: g.gasLimit, maxFeePerGas: feeCap + g.priorityFee, maxPriorityFeePerGas: g.priorityFee };
    maxCostWei += tx.gas * tx.maxFeePerGas + tx.value;
    lastTip = g.priorityFee;
    steps.push({ ours: tx });
  }
  let builderPaymentWei = 0n;
  let predictedNetWei = opp.profit.netWei;
  const p = c.builderPayment;
  if (p.mode === 'coinbase-transfer' && p.builder !== null && p.shareBps > 0 && opp.profit.netWei > 0n) {
    builderPaymentWei = (opp.profit.netWei * BigInt(p.shareBps)) / 10_000n;
    const tx: UnsignedTx = { chainId, to: p.builder.toLowerCase() as Hex, data: '0x', value: builderPaymentWei, gas: TRANSFER_GAS, maxFeePerGas: feeCap + lastTip, maxPriorityFeePerGas: lastTip };
    maxCostWei += tx.gas * tx.maxFeePerGas + tx.value;
    predictedNetWei -= builderPaymentWei + TRANSFER_GAS * (opp.baseFee + lastTip);
    steps.push({ ours: tx });
  }
  return { steps, builderPaymentWei, predictedNetWei, maxCostWei };
}
