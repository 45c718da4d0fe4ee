/**
 * Route choice: which route a trade goes to first, and the fallback chain after it. Shared by the
 * submitter (for each bundle) and `GET /mev/route` (the recommendation for a trade an operator
 * describes), so both say the same thing.
 */
import type { SubmitterConfig } from './submitter-config.js';
import type { RouteName } from './types.js';

/** A route choice and why. */
export interface RouteChoice {
  /** Routes to try in order; empty when none is configured (then the submission is dry-run only). */
  chain: RouteName[];
  /** Human-readable reason for the first route. */
  reason: string;
  /**
   * Expected MEV loss in USD on the first route: 0 for a protected route (a bundle or a private
   * transaction is not visible to sandwichers), else the public-mempool exposure
   * {@link publicExposureUsd}.
   */
  expectedMevLossUsd: number;
  /** What the same trade would expect to lose in the public mempool. */
  publicExposureUsd: number;
}

/**
 * What a swap of `sizeUsd` could lose to a sandwich in the public mempool: a sandwicher can take up
 * to the victim's slippage allowance, bounded here by {@link PUBLIC_SLIPPAGE_BPS} of the size (a
 * typical default allowance), or the whole expected profit of a searcher trade (a public backrun is
 * copied or front-run), whichever is larger.
 */
export function publicExposureUsd(sizeUsd: number, profitUsd: number): number {
  return Math.max((sizeUsd * PUBLIC_SLIPPAGE_BPS) / 10_000, profitUsd);
}

/** Slippage allowance assumed for public-mempool exposure (basis points). */
export const PUBLIC_SLIPPAGE_BPS = 50;

/** Routes the config makes available. */
export function availableRoutes(c: SubmitterConfig): Set<RouteName> {
  const s = new Set<RouteName>();
  if (c.relays.length > 0) s.add('flashbots');
  if (c.mevBlockerUrl !== null) s.add('mev-blocker');
  if (c.privateRpc !== null) s.add('private-rpc');
  if (c.allowPublic) s.add('public');
  return s;
}

/**
 * The route chain for a trade of `sizeUsd` expecting `profitUsd`: the strategy's route (hybrid: by
 * size, large → MEV-Blocker, medium → relay bundle, small → private RPC), then the other protected
 * routes, then the public mempool if allowed. Routes not configured are left out.
 */
export function chooseRoutes(c: SubmitterConfig, sizeUsd: number, profitUsd: number, available: ReadonlySet<RouteName> = availableRoutes(c)): RouteChoice {
  let first: RouteName;
  let reason: string;
  if (c.strategy !== 'hybrid') {
    first = c.strategy;
    reason = `strategy ${c.strategy}`;
  } else if (sizeUsd >= c.hybrid.largeUsd) {
    first = 'mev-blocker';
    reason = `size $${round(sizeUsd)} ≥ $${c.hybrid.largeUsd}: large trades go to MEV-Blocker (private, backrun rebates)`;
  } else if (sizeUsd >= c.hybrid.mediumUsd) {
    first = 'flashbots';
    reason = `size $${round(sizeUsd)} ≥ $${c.hybrid.mediumUsd}: medium trades go to relays as bundles (all-or-nothing, no revert cost)`;
  } else {
    first = 'private-rpc';
    reason = `size $${round(sizeUsd)} < $${c.hybrid.mediumUsd}: small trades go to the private RPC`;
  }
  const order: RouteName[] = [first, ...(['flashbots', 'mev-blocker', 'private-rpc'] as const).filter((r) => r !== first), 'public'];
  const chain = order.filter((r) => available.has(r));
  if (chain.length > 0 && chain[0] !== first) reason = `${reason}; ${first} is not configured, so ${chain[0]}`;
  const exposure = publicExposureUsd(sizeUsd, profitUsd);
  return { chain, reason, expectedMevLossUsd: chain[0] === 'public' ? exposure : 0, publicExposureUsd: exposure };
}

function round(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(2);
}
