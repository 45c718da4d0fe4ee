import { createHash } from 'node:crypto';

/**
 * The scorer's output record (issue 4, item 4): what to do, why it pays, and how sure we are.
 * Ids and ranking are deterministic so the same inputs give the same ordered output in replay.
 */

/** Strategy that produced an opportunity. */
export type OpportunityKind = 'v2-sandwich' | 'v2-arbitrage' | 'backrun-arbitrage' | 'mixed-arbitrage';

/**
 * One unsigned transaction of a bundle plan: either a call the searcher signs (router, pair or
 * token parameters, not yet ABI-encoded: the submitter owns encoding, nonces and fees) or the
 * victim's own transaction, referenced by hash and included as the victim signed it. A bundle is
 * atomic, so a chain of pair calls from a plain account needs no executor contract.
 */
export type TxSpec =
  | {
      kind: 'v2-router-exact-in';
      /** Router02 to call. */
      router: string;
      /** `swapExactTokensForTokens`. */
      method: 'swapExactTokensForTokens';
      amountIn: bigint;
      /** Set to the predicted output: any state drift makes the call revert instead of losing money. */
      amountOutMin: bigint;
      path: string[];
      /** Pairs along `path`, for the verifier and the dashboard. */
      pools: string[];
    }
  | {
      /** ERC20 transfer from the searcher, e.g. paying a pair before its `swap`. */
      kind: 'erc20-transfer';
      token: string;
      to: string;
      amount: bigint;
    }
  | {
      /** `UniswapV2Pair.swap(amount0Out, amount1Out, to, "")`; its input was sent beforehand. */
      kind: 'v2-pair-swap';
      pair: string;
      amount0Out: bigint;
      amount1Out: bigint;
      /** The next pair of a chain, or null for the searcher's own address. */
      to: string | null;
    }
  | {
      kind: 'victim';
      hash: string;
      /** The victim's signed bytes (0x-hex, canonical), as a bundle carries them; absent only in hand-built plans. */
      raw?: string;
    }
  | {
      /** V3 SwapRouter `exactInputSingle` (sqrtPriceLimitX96 0, recipient the searcher): a plain account cannot pay a pool's swap callback. */
      kind: 'v3-router-exact-input-single';
      router: string;
      tokenIn: string;
      tokenOut: string;
      /** Pool fee in hundredths of a bip. */
      fee: number;
      amountIn: bigint;
      /** Set to the predicted output, as `amountOutMin` above. */
      amountOutMinimum: bigint;
      /** The pool the router will swap on, for the verifier and the dashboard. */
      pool: string;
    };

/** Profit in the profit token and in wei; `net = gross - gasCost` in each unit. */
export interface Profit {
  /** Token the profit accrues in (lowercase 0x-hex; WETH for ETH). */
  token: string;
  gross: bigint;
  gasCost: bigint;
  net: bigint;
  grossWei: bigint;
  gasCostWei: bigint;
  netWei: bigint;
}

/** Monotonic ns stamps along the path of the triggering transaction. */
export interface OpportunityTimings {
  firstSeenNs: number;
  scoredNs: number;
  /** When the EVM verification finished; 0 until then. */
  verifiedNs: number;
}

/**
 * Gas of one searcher transaction of the plan: `gasUsed` is an estimate until the verification
 * measures it in the EVM; the transaction pays `baseFee + priorityFee` per gas (EIP-1559, with
 * `maxFeePerGas` = that sum so the price is exact when the base fee is as predicted).
 */
export interface PlanGas {
  gasUsed: bigint;
  /** Limit to sign with: the measured use plus headroom. */
  gasLimit: bigint;
  priorityFee: bigint;
}

/**
 * Where the EVM check of a candidate stands (issue 4, item 5). An opportunity leaves the scorer as
 * soon as it is scored: `unverified` (not sent to verification), `pending` (verification queued;
 * its outcome follows as revision 1, `verified` or `rejected`), or `rejected` at once (a victim's
 * sender nonce already known to be wrong).
 */
export type VerificationStatus = 'unverified' | 'pending' | 'verified' | 'rejected';

/** A scored MEV opportunity. Amounts are bigint wei/token units; addresses lowercase 0x-hex. */
export interface Opportunity {
  /** {@link opportunityId} of kind, victims, pools and amounts. */
  id: string;
  kind: OpportunityKind;
  victimHashes: string[];
  targetBlock: number;
  pools: string[];
  /** Token path of the searcher's trade, starting and ending in the profit token for cycles. */
  tokenPath: string[];
  amountIn: bigint;
  profit: Profit;
  plan: TxSpec[];
  timings: OpportunityTimings;
  verification: VerificationStatus;
  /** Net profit the EVM verification measured, in the profit token; null until verified. */
  simulatedNet: bigint | null;
  /** Why the verification rejected it (`revert:<i>:<reason>`, `gross-mismatch`, `unprofitable`, …); null otherwise. */
  rejectReason: string | null;
  /** Base fee predicted for `targetBlock` (EIP-1559 rule from the head), which the gas cost assumes. */
  baseFee: bigint;
  /** Per plan entry: the gas of a searcher transaction, null for a victim's. Empty until priced. */
  gas: (PlanGas | null)[];
  /** Account the plan's transactions are sent from (the scorer's configured searcher), or null. */
  searcher: string | null;
  /**
   * 0 for the record emitted when scored; 1 for the verification outcome of a `pending` one, a
   * second record with the same id (measured gas, `simulatedNet`, `verified` or `rejected`).
   */
  revision: number;
}

/**
 * Deterministic id: sha256 over kind, victim hashes, target block, pools, token path and the
 * planned amounts. Two runs on the same inputs give the same id, so downstream can dedupe.
 * @remarks Allocates; called once per emitted opportunity, not per candidate size.
 */
export function opportunityId(
  kind: OpportunityKind,
  victimHashes: readonly string[],
  targetBlock: number,
  pools: readonly string[],
  tokenPath: readonly string[],
  amounts: readonly bigint[],
): string {
  const text = [kind, victimHashes.join(','), String(targetBlock), pools.join(','), tokenPath.join(','), amounts.map(String).join(',')].join('|');
  return `0x${createHash('sha256').update(text).digest('hex')}`;
}

/** Ranking: net profit (in wei) descending, then id ascending, so ties order the same everywhere. */
export function compareOpportunities(a: Opportunity, b: Opportunity): number {
  if (a.profit.netWei !== b.profit.netWei) return a.profit.netWei > b.profit.netWei ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Profit-token units per wei as a ratio (`tokenPerWei = num / den`); `{ num: 1n, den: 1n }` when
 * the profit token is WETH. Conversions round against the searcher (gas up, gross down).
 */
export interface TokenPrice {
  num: bigint;
  den: bigint;
}

/** The WETH price: one token unit per wei. */
export const WETH_PRICE: Readonly<TokenPrice> = Object.freeze({ num: 1n, den: 1n });

/** Builds a {@link Profit} from a gross profit in `token` and a gas cost in wei. */
export function makeProfit(token: string, gross: bigint, gasCostWei: bigint, price: Readonly<TokenPrice>): Profit {
  const gasCost = (gasCostWei * price.num + price.den - 1n) / price.den;
  // floor for a possibly negative gross: BigInt division truncates towards zero.
  const q = gross * price.den;
  const grossWei = q >= 0n ? q / price.num : -((-q + price.num - 1n) / price.num);
  return { token, gross, gasCost, net: gross - gasCost, grossWei, gasCostWei, netWei: grossWei - gasCostWei };
}
