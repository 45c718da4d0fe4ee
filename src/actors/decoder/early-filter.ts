import type { BlockEvent, DecodedTx } from '../../messages/schema.js';

/** Strategies the scorer can run; the early filter keeps what any enabled one could use. */
export type StrategyName = 'sandwich' | 'backrun' | 'arbitrage' | 'liquidation';

/** Why the early filter dropped a transaction; each is a counter (`filtered.<reason>`). */
export type FilterReason = 'contract-creation' | 'no-calldata' | 'token-transfer' | 'approval' | 'expired' | 'no-swap';

/** Config slice of the early filter. */
export interface EarlyFilterConfig {
  /** Off: every decoded transaction passes (backtests that want the whole flow). */
  enabled: boolean;
  strategies: StrategyName[];
  /** Drop swaps whose every deadline is before the head's timestamp (they can only revert). */
  dropExpired: boolean;
}

// ERC20 selectors that move balances or allowances but no pool price.
const TRANSFER = 0xa9059cbb;
const TRANSFER_FROM = 0x23b872dd;
const APPROVE = 0x095ea7b3;
const INCREASE_ALLOWANCE = 0x39509351;

/**
 * Drops, before simulation, what cannot create an opportunity under the enabled strategies. Every
 * drop has a reason; nothing is dropped silently. What is unknown (calls to unknown contracts) is
 * kept when backrun, arbitrage or liquidation is on, since only the simulator can tell what it does.
 */
export class EarlyFilter {
  private readonly needsUnknown: boolean;

  constructor(private readonly config: EarlyFilterConfig) {
    this.needsUnknown = config.strategies.some((s) => s !== 'sandwich');
  }

  /** The reason to drop `tx`, or null to keep it. `head` is the latest block event, if any. */
  check(tx: DecodedTx, head: BlockEvent | null): FilterReason | null {
    if (!this.config.enabled) return null;
    if (this.config.strategies.length === 0) return 'no-swap';
    if (tx.intent !== null) {
      if (this.config.dropExpired && head !== null && expired(tx, head)) return 'expired';
      return null;
    }
    if (tx.to === null) return 'contract-creation';
    const input = tx.input;
    if (input.length === 0) return 'no-calldata';
    if (input.length >= 4) {
      const sel = ((input[0]! << 24) | (input[1]! << 16) | (input[2]! << 8) | input[3]!) >>> 0;
      if (sel === TRANSFER || sel === TRANSFER_FROM) return 'token-transfer';
      if (sel === APPROVE || sel === INCREASE_ALLOWANCE) return 'approval';
    }
    return this.needsUnknown ? null : 'no-swap';
  }
}

function expired(tx: DecodedTx, head: BlockEvent): boolean {
  const legs = tx.intent!.legs;
  if (legs.length === 0) return false;
  const now = BigInt(head.timestamp);
  // A multicall reverts as a whole when any leg's deadline passed; legs without one never expire.
  return legs.some((l) => l.deadline !== null && l.deadline < now);
}
