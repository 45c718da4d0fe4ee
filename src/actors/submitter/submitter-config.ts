/** Config slice of the submitter stage (`config.submitter`). */
export interface SubmitterConfig {
  /**
   * `auto`: send when a signing key is given (`ORION_PRIVATE_KEY`, or the demo's devnet key), dry run
   * otherwise; `dry-run`: build, sign, record, never send.
   */
  mode: 'auto' | 'dry-run';
  /** Route choice: `hybrid` by trade size and profit, or always one route (then its fallbacks). */
  strategy: 'hybrid' | 'flashbots' | 'mev-blocker' | 'private-rpc';
  /** Flashbots-style relays / builders for `eth_sendBundle`. */
  relays: { name: string; url: string }[];
  /** MEV-Blocker RPC (`eth_sendRawTransaction`); null: no such route. */
  mevBlockerUrl: string | null;
  /** A private RPC and the method it takes; null: no such route. */
  privateRpc: { url: string; method: 'eth_sendRawTransaction' | 'eth_sendPrivateTransaction' } | null;
  /** Public mempool fallback (an ordinary node); null: the state node. Used only when `allowPublic`. */
  publicRpcUrl: string | null;
  /** Let the fallback chain end in the public mempool (unprotected; counted as such). */
  allowPublic: boolean;
  /** Blocks a bundle targets: head + 1 … head + `targetBlocks`. */
  targetBlocks: number;
  /** Simulate a bundle at a relay (`eth_callBundle`) before sending it. */
  callBundle: boolean;
  /** Hybrid thresholds in USD of trade size: ≥ `largeUsd` → MEV-Blocker, ≥ `mediumUsd` → relay bundle, below → private RPC. */
  hybrid: { largeUsd: number; mediumUsd: number };
  /** ETH price in USD for the thresholds and `/mev/route` (a static figure; no price feed). */
  ethUsd: number;
  /**
   * How the block builder is paid: `priority-fee` (the tips the scorer planned) or
   * `coinbase-transfer` (a transfer of `shareBps` of the expected profit to `builder`, appended to bundles).
   */
  builderPayment: { mode: 'priority-fee' | 'coinbase-transfer'; shareBps: number; builder: string | null };
  /** Also submit opportunities the scorer did not verify (default: only verified ones). */
  submitUnverified: boolean;
  /** Per-route circuit breaker. */
  breaker: { failureThreshold: number; errorRate: number; minRequests: number; windowMs: number; cooldownMs: number };
  /** Auto-pause on realized losses or reverts within a window. */
  guard: { maxLossWei: string; maxRevertRate: number; minOutcomes: number; windowMs: number };
  /**
   * The ledger (append-only JSON lines, fsync'd); null: no file, an in-memory ledger (nothing
   * survives a restart, `/mev/stats` stays empty; for dry runs and replays that must not write).
   */
  ledgerPath: string | null;
  /**
   * The send queue (`tx-queue.ts`): sends in flight at once, and retries of a submission every
   * route refused with a transport error or HTTP 5xx/429 (never after an unknown outcome), with
   * exponential backoff and seeded jitter, never past its target block.
   */
  queue: {
    /** Submissions being built, signed and sent at once; the rest wait, best expected profit first. */
    concurrency: number;
    /** Attempts per submission, the first included (1: no retry). */
    maxAttempts: number;
    /** First retry delay, ms; doubled for each later retry. */
    backoffMs: number;
    /** Longest retry delay, ms. */
    maxBackoffMs: number;
    /** Share of a delay taken off at random, 0…1: the delay is `d × (1 − jitter × u)`, u uniform in [0, 1). */
    jitter: number;
    /** Seed of the jitter (mulberry32), so delays replay. */
    seed: number;
  };
  /**
   * Replacement and cancellation of sent transactions that are not included: after `afterBlocks`
   * blocks without them, re-sent at the same nonces with fees bumped by `feeBumpPct` (at least the
   * nodes' 10% replacement rule) while their window lasts and the bump leaves a profit, at most
   * `maxReplacements` times; once the window has passed (or the victim landed without them), a
   * transaction route's are cancelled (`cancelExpired`: a 0-value self-transfer at each nonce,
   * fees bumped the same way) so the nonces are freed. Bundles are re-sent under the same
   * `replacementUuid`. `afterBlocks: 0` turns replacement and cancellation off.
   */
  replacement: { afterBlocks: number; feeBumpPct: number; maxReplacements: number; cancelExpired: boolean };
  /** Per request to a route. */
  requestTimeoutMs: number;
  /** Node for nonces, blocks, receipts; null: the scorer's (or simulator's) node, else the first rpc-ws ingest source with ws → http. */
  rpcUrl: string | null;
  /** Chain id signed into transactions; null: the decoder's, else read from the node. */
  chainId: number | null;
}

/** Defaults of {@link SubmitterConfig}. */
export const DEFAULT_SUBMITTER_CONFIG: SubmitterConfig = {
  mode: 'auto',
  strategy: 'hybrid',
  relays: [],
  mevBlockerUrl: null,
  privateRpc: null,
  publicRpcUrl: null,
  allowPublic: false,
  targetBlocks: 3,
  callBundle: false,
  hybrid: { largeUsd: 100_000, mediumUsd: 5_000 },
  ethUsd: 3000,
  builderPayment: { mode: 'priority-fee', shareBps: 0, builder: null },
  submitUnverified: false,
  breaker: { failureThreshold: 5, errorRate: 0.5, minRequests: 10, windowMs: 60_000, cooldownMs: 30_000 },
  guard: { maxLossWei: '100000000000000000', maxRevertRate: 0.5, minOutcomes: 10, windowMs: 3_600_000 },
  ledgerPath: '.orion/ledger.jsonl',
  queue: { concurrency: 4, maxAttempts: 3, backoffMs: 200, maxBackoffMs: 2000, jitter: 0.5, seed: 1 },
  replacement: { afterBlocks: 1, feeBumpPct: 10, maxReplacements: 3, cancelExpired: true },
  requestTimeoutMs: 2000,
  rpcUrl: null,
  chainId: null,
};
