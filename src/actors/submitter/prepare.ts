import { monoNs } from '../../runtime/clock.js';
import type { Opportunity } from '../scorer/opportunity.js';
import { type BundlePlan, buildBundle } from './bundle.js';
import type { NonceManager } from './nonce-manager.js';
import { chooseRoutes } from './route-policy.js';
import type { Eip1559Tx } from './signer.js';
import type { Submission } from './submission.js';
import type { SubmitterConfig } from './submitter-config.js';
import type { Hex, RouteName, Sendable, SignedTx } from './types.js';

/**
 * The submitter's path from a verified opportunity to what a route is handed: `buildBundle`, the
 * route choice, the one-submission-per-pool-and-block claim, the nonce reservation, a signature per
 * searcher transaction, and the `Submission` record and `Sendable` assembly. The submitter runs it
 * for every live or dry-run submission; bench/micro/submit.bench.ts times it with the native signer
 * and with viem's.
 */

/** Signs our transactions: the native signer, or any other (viem's, in the benchmark). */
export interface TxSigner {
  /** Lowercase 0x-address the key signs for. */
  readonly address: string;
  signTx(tx: Eip1559Tx): SignedTx | Promise<SignedTx>;
}

/** What {@link prepareSubmission} reads and updates. */
export interface PrepareDeps {
  readonly config: SubmitterConfig & { chainId: number; weth: string };
  /** Routes configured. */
  readonly routes: ReadonlySet<RouteName>;
  /** Pools each target block's submissions trade through; a prepared submission adds its own. */
  readonly claimed: Map<number, Set<string>>;
  readonly nonces: NonceManager;
  /** Null: dry run without a key (nothing is signed, no nonce reserved). */
  readonly signer: TxSigner | null;
}

/** A submission built and signed, ready for the ledger and its routes. */
export interface PreparedSubmission {
  opp: Opportunity;
  plan: BundlePlan;
  /** Routes to try, in order (empty: none configured). */
  chain: RouteName[];
  account: string;
  /** Our nonces in plan order (empty without a signer). */
  nonces: bigint[];
  /** Our signed transactions in plan order (empty without a signer). */
  signed: SignedTx[];
  /** Gas each of ours is expected to use (the scorer's measure; 21000 for a builder payment), as `signed`. */
  gasUsed: bigint[];
  /** Ether our transactions send (the coinbase payment). */
  valueWei: bigint;
  /** The bundle as routes take it; its arrays are updated in place when transactions are re-signed. */
  sendable: Sendable;
  /** The record of it (status `dry-run`, route the first of `chain`), for the caller to update. */
  base: Submission;
}

/** A submission that is not to be sent, and why (`reason:` prefixed by the counter key). */
export interface SkippedSubmission {
  skip: string;
}

/** A relay `replacementUuid` (v4 layout) derived from the submission id, so a retry replaces its bundle. */
export function uuidOf(id: string): string {
  const h = id.replace(/^0x/, '').padEnd(32, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Gas of the coinbase payment's plain transfer. */
const TRANSFER_GAS = 21_000n;

/**
 * Builds, routes, reserves nonces for and signs `opp`'s bundle. Expected refusals come back as a
 * {@link SkippedSubmission} (`unbuildable`, `needs-bundle-route`, `conflict`, `wrong-account`);
 * only a failed nonce read rejects. Without a signer nothing waits and the answer is synchronous
 * (a dry run's record goes out in the same turn as its input); with one, a promise (the nonce
 * reservation). `laps`, when given, receives the monotonic time after each step (build, route,
 * nonce, sign, assemble).
 * @remarks Allocates; once per submission (~120 KB for a 3-transaction plan, mostly signing).
 */
export function prepareSubmission(d: PrepareDeps, opp: Opportunity, laps?: Float64Array): PreparedSubmission | SkippedSubmission | Promise<PreparedSubmission | SkippedSubmission> {
  const c = d.config;
  let plan: BundlePlan;
  try {
    plan = buildBundle(opp, c, c.chainId);
  } catch (err) {
    return { skip: `unbuildable: ${(err as Error).message}` };
  }
  if (laps) laps[0] = monoNs();
  const sizeUsd = (Number(opp.amountIn) / 1e18) * c.ethUsd * (opp.profit.token === c.weth ? 1 : Number(opp.profit.grossWei) / Math.max(1, Number(opp.profit.gross)));
  const profitUsd = (Number(plan.predictedNetWei) / 1e18) * c.ethUsd;
  // A plan of several of our transactions (a direct pair-swap cycle) is safe only all-or-nothing:
  // a transaction route sends them one by one, and a leg that lands without the next loses the
  // amount in. Such plans go to bundle routes only. A sandwich's two legs are apart by design and
  // are ordered around the victim by their tips.
  const oursCount = plan.steps.filter((s) => 'ours' in s).length - (plan.builderPaymentWei > 0n ? 1 : 0);
  const atomicOnly = oursCount > 1 && opp.kind !== 'v2-sandwich';
  const available = new Set([...d.routes].filter((r) => !atomicOnly || r === 'flashbots'));
  const choice = chooseRoutes(c, sizeUsd, profitUsd, available);
  if (atomicOnly && choice.chain.length === 0 && d.routes.size > 0) return { skip: `needs-bundle-route: ${oursCount} transactions of ours must land together, and no relay is configured` };
  // Plans are verified one by one on the head state: two for the same block through the same pool
  // would each break the other's exact amounts. The first one prepared keeps the pool.
  let claimed = d.claimed.get(opp.targetBlock);
  if (claimed === undefined) d.claimed.set(opp.targetBlock, (claimed = new Set()));
  const clash = opp.pools.find((p) => claimed!.has(p.toLowerCase()));
  if (clash !== undefined) return { skip: `conflict: pool ${clash} is already traded by a submission for block ${opp.targetBlock}` };
  for (const p of opp.pools) claimed.add(p.toLowerCase());
  const signer = d.signer;
  const account = signer?.address ?? opp.searcher!;
  if (signer !== null && signer.address !== opp.searcher?.toLowerCase()) {
    return { skip: `wrong-account: the plan trades from ${opp.searcher}, the key signs for ${signer.address}` };
  }
  if (laps) laps[1] = monoNs();
  if (signer === null) {
    if (laps) laps[2] = monoNs();
    return signAndAssemble(d.config, opp, plan, choice.chain, account, null, [], laps);
  }
  return d.nonces.reserve(account, plan.steps.filter((s) => 'ours' in s).length).then((nonces) => {
    if (laps) laps[2] = monoNs();
    return signAndAssemble(d.config, opp, plan, choice.chain, account, signer, nonces, laps);
  });
}

/** Signs our transactions with `nonces` (none without a signer) and assembles the record and the Sendable. */
function signAndAssemble(
  c: PrepareDeps['config'],
  opp: Opportunity,
  plan: BundlePlan,
  chain: RouteName[],
  account: string,
  signer: TxSigner | null,
  nonces: bigint[],
  laps: Float64Array | undefined,
): PreparedSubmission | Promise<PreparedSubmission> {
  const signed: SignedTx[] = [];
  const gasUsed: bigint[] = [];
  const rawTxs: Hex[] = [];
  const txHashes: Hex[] = [];
  const ours: number[] = [];
  let valueWei = 0n;
  const assemble = (): PreparedSubmission => {
    const signedNs = monoNs();
    if (laps) laps[3] = signedNs;
    const route = chain[0] ?? 'dry-run';
    const base: Submission = {
      id: opp.id,
      kind: opp.kind,
      status: 'dry-run',
      route,
      protected: route !== 'public',
      account,
      txHashes,
      nonces,
      targetBlock: opp.targetBlock,
      predictedNetWei: plan.predictedNetWei,
      realizedNetWei: null,
      gasPaidWei: null,
      block: null,
      reason: null,
      timings: { firstSeenNs: opp.timings.firstSeenNs, signedNs, sentNs: 0 },
    };
    const sendable: Sendable = { id: opp.id, rawTxs, txHashes, ours, targetBlock: opp.targetBlock, blocks: c.targetBlocks, replacementUuid: uuidOf(opp.id) };
    if (laps) laps[4] = monoNs();
    return { opp, plan, chain, account, nonces, signed, gasUsed, valueWei, sendable, base };
  };
  const add = (tx: SignedTx, i: number): void => {
    signed.push(tx);
    // Plan steps and bundle steps line up, but for the builder payment appended last.
    gasUsed.push(opp.gas[i]?.gasUsed ?? TRANSFER_GAS);
    ours.push(rawTxs.length);
    rawTxs.push(tx.raw);
    txHashes.push(tx.hash);
  };
  /** Lays out the steps from `from` on, signing ours; resumes after an asynchronous signature. */
  const steps = (from: number): PreparedSubmission | Promise<PreparedSubmission> => {
    for (let i = from; i < plan.steps.length; i++) {
      const s = plan.steps[i]!;
      if ('victim' in s) {
        rawTxs.push(s.victim.raw);
        txHashes.push(s.victim.hash);
        continue;
      }
      valueWei += s.ours.value;
      if (signer === null) continue;
      const r = signer.signTx({ ...s.ours, nonce: nonces[signed.length]! });
      // The native signer answers synchronously: no await (and no microtask) on its path.
      if (r instanceof Promise) {
        return r.then((tx) => {
          add(tx, i);
          return steps(i + 1);
        });
      }
      add(r, i);
    }
    return assemble();
  };
  return steps(0);
}
