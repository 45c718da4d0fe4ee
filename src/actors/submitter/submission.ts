import type { OpportunityKind } from '../scorer/opportunity.js';
import type { RouteName } from './types.js';

/**
 * Where a submission stands. `dry-run`: built, signed and recorded, not sent (no key, or dry run
 * configured). `skipped`: not built (see `reason`: paused, breaker open, stale, unverified…).
 * `sent`: a route accepted it; `failed`: every route refused it (after any retries). Then, from the
 * chain: `included` (all its transactions in one block, in order), `reverted` (included, but one of
 * ours reverted), `missed` (its blocks passed without it), `replaced`, `cancelled`, `reopened` (a
 * reorg removed the block it was included in; tracking resumes).
 *
 * `replaced` is either of two things, told apart by `block`: with `block: null`, the submitter
 * replaced its own transactions (same nonces, fees bumped; `txHashes` lists the new ones and
 * tracking goes on); with a block, its window passed and one of our nonces had been mined by a
 * transaction that is none of ours (final). `cancelled` (final): withdrawn before it was sent (the
 * operator's `op=cancel`; `block: null`), or its cancellation was mined (a 0-value self-transfer at
 * its nonce; `gasPaidWei` is what that cost) or its bundle withdrawn from the relays.
 */
export type SubmissionStatus = 'dry-run' | 'skipped' | 'sent' | 'failed' | 'included' | 'reverted' | 'missed' | 'replaced' | 'cancelled' | 'reopened';

/** Payload of `Kind.Submission`: one state change of one submission, from the submitter. */
export interface Submission {
  /** Submission id: the opportunity id (one submission per opportunity). */
  id: string;
  kind: OpportunityKind;
  status: SubmissionStatus;
  /** Route that took it (or would have, for a dry run); null when skipped or failed everywhere. */
  route: RouteName | null;
  /** Whether that route keeps it out of the public mempool. */
  protected: boolean;
  /** The searcher account; null when skipped before signing. */
  account: string | null;
  /** Every transaction of the bundle in order (victims' and ours). */
  txHashes: string[];
  /** Nonces of our transactions, in plan order. */
  nonces: bigint[];
  targetBlock: number;
  /** The opportunity's predicted net profit (wei), after fees and any builder payment. */
  predictedNetWei: bigint;
  /** Measured from the chain once included: balance change less gas paid (wei); null before. */
  realizedNetWei: bigint | null;
  /** Gas our transactions paid (wei), once included. */
  gasPaidWei: bigint | null;
  /** Block it was included in (or the last block it targeted, when missed). */
  block: number | null;
  /** Why it was skipped, failed, missed or replaced; route errors. */
  reason: string | null;
  /** Monotonic ns: first seen (victim), signed (bundle ready to send), sent (route answered). */
  timings: { firstSeenNs: number; signedNs: number; sentNs: number };
}
