import type { RouterEntry } from './calldata/router-registry.js';
import type { EarlyFilterConfig } from './early-filter.js';

/** Config slice of the decoder actor. */
export interface DecoderConfig {
  /** Reject transactions signed for another chain; null accepts any (and pre-EIP-155). */
  chainId: number | null;
  /** Largest canonical transaction accepted, in bytes (blobs of the network form excluded). */
  maxTxBytes: number;
  /** Routers, factories and pairs known beyond the mainnet defaults (the devnet adds its own). */
  routers: RouterEntry[];
  filter: EarlyFilterConfig;
  /**
   * A capture's sender hints (`senders.bin`, src/replay/capture/senders.ts): transactions listed
   * there take the sender the capture run recovered instead of a recovery. `orion replay` sets it;
   * null (the default) recovers every sender.
   */
  senderHints?: string | null;
}
