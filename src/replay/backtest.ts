import type { Opportunity } from '../actors/scorer/opportunity.js';

/**
 * Backtest against what landed: with the mined blocks a capture recorded, what happened to each
 * predicted opportunity's victim on chain.
 *
 * For an opportunity (its last revision; rejected ones are left out) whose victim was mined in one
 * of its target blocks (`targetBlock` … `targetBlock + window − 1`):
 * - **taken by others**: in that block, another sender touched one of the opportunity's pools
 *   (a Uniswap Sync/Swap log) right after the victim (a backrun), or, for a sandwich, a sender
 *   touched the pool right before the victim and again right after it;
 * - **we would have been first**: nobody else did, so our bundle, placed around the victim, would
 *   have traded the pool first.
 * Hit rate = would-have-been-first ÷ opportunities considered; missed value = the predicted net
 * profit of those taken by others. An opportunity whose victim was not mined in its window (the
 * capture ended, or it was dropped or replaced) counts as `victimNotMined`.
 */

/** A mined block as the capture's `mined` records hold it (the fields the backtest reads). */
export interface MinedBlockLike {
  number: number;
  txs: readonly { hash: string; from: string; touched: readonly string[] }[];
}

/** One opportunity's fate. */
export interface BacktestEntry {
  id: string;
  kind: string;
  victim: string;
  predictedNetWei: string;
  outcome: 'first' | 'taken' | 'victim-not-mined';
  /** The block the victim was mined in, when it was. */
  block: number | null;
  /** Who took it (sender of the competing transaction), when taken. */
  by: string | null;
}

/** What {@link backtest} returns (the report's `backtest`). */
export interface BacktestReport {
  /** Mined blocks the capture holds. */
  minedBlocks: number;
  /** Non-rejected opportunities with a victim. */
  considered: number;
  victimMined: number;
  victimNotMined: number;
  takenByOthers: number;
  wouldHaveBeenFirst: number;
  /** wouldHaveBeenFirst ÷ considered (0 when none). */
  hitRate: number;
  /** Predicted net profit (wei, decimal string) of the opportunities others took. */
  missedValueWei: string;
  /** Predicted net profit (wei, decimal string) of the ones we would have been first on. */
  capturableValueWei: string;
  /** Per opportunity, the 50 of highest predicted profit. */
  top: BacktestEntry[];
}

/**
 * Compares `opportunities` (final revisions) with `mined`. `window`: blocks an opportunity targets
 * (the submitter's `targetBlocks`); `searcher`: our own account, never counted as a competitor.
 */
export function backtest(opportunities: Iterable<Opportunity>, mined: readonly MinedBlockLike[], window: number, searcher: string | null): BacktestReport {
  const where = new Map<string, { block: MinedBlockLike; index: number }>();
  for (const b of mined) b.txs.forEach((t, index) => where.set(t.hash.toLowerCase(), { block: b, index }));
  const us = searcher?.toLowerCase() ?? null;
  const entries: BacktestEntry[] = [];
  let missed = 0n;
  let capturable = 0n;
  const r = { considered: 0, victimMined: 0, victimNotMined: 0, takenByOthers: 0, wouldHaveBeenFirst: 0 };
  for (const o of opportunities) {
    if (o.verification === 'rejected') continue;
    const step = o.plan.find((s) => s.kind === 'victim');
    if (step === undefined || step.kind !== 'victim') continue;
    r.considered++;
    const victim = step.hash.toLowerCase();
    const pools = new Set(o.pools.map((p) => p.toLowerCase()));
    const at = where.get(victim);
    const e: BacktestEntry = { id: o.id, kind: o.kind, victim, predictedNetWei: o.profit.netWei.toString(), outcome: 'victim-not-mined', block: null, by: null };
    if (at === undefined || at.block.number < o.targetBlock || at.block.number >= o.targetBlock + window) {
      r.victimNotMined++;
      entries.push(e);
      continue;
    }
    r.victimMined++;
    e.block = at.block.number;
    const txs = at.block.txs;
    const sender = txs[at.index]!.from.toLowerCase();
    const touches = (i: number) => {
      const t = txs[i];
      if (t === undefined) return null;
      const from = t.from.toLowerCase();
      if (from === sender || from === us) return null;
      return t.touched.some((a) => pools.has(a.toLowerCase())) ? from : null;
    };
    // The next transaction that trades one of the pools after the victim, and the one before it.
    let after: string | null = null;
    for (let i = at.index + 1; i < txs.length; i++) {
      if (txs[i]!.touched.some((a) => pools.has(a.toLowerCase()))) {
        after = touches(i);
        break;
      }
    }
    let before: string | null = null;
    for (let i = at.index - 1; i >= 0; i--) {
      if (txs[i]!.touched.some((a) => pools.has(a.toLowerCase()))) {
        before = touches(i);
        break;
      }
    }
    const sandwiched = before !== null && before === after;
    const taken = o.kind === 'v2-sandwich' ? sandwiched || before !== null : after !== null;
    if (taken) {
      r.takenByOthers++;
      missed += o.profit.netWei;
      e.outcome = 'taken';
      e.by = (o.kind === 'v2-sandwich' ? before : after) ?? after;
    } else {
      r.wouldHaveBeenFirst++;
      capturable += o.profit.netWei;
      e.outcome = 'first';
    }
    entries.push(e);
  }
  entries.sort((a, b) => (BigInt(b.predictedNetWei) > BigInt(a.predictedNetWei) ? 1 : BigInt(b.predictedNetWei) < BigInt(a.predictedNetWei) ? -1 : a.id < b.id ? -1 : 1));
  return {
    minedBlocks: mined.length,
    ...r,
    hitRate: r.considered === 0 ? 0 : Math.round((r.wouldHaveBeenFirst / r.considered) * 10_000) / 10_000,
    missedValueWei: missed.toString(),
    capturableValueWei: capturable.toString(),
    top: entries.slice(0, 50),
  };
}
