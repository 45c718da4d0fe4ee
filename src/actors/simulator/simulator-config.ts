/** Config slice of the simulator stage (`config.simulator`). */
export interface SimulatorConfig {
  /**
   * HTTP JSON-RPC endpoint the EVM reads state from. Null: the first `rpc-ws` ingest source's URL
   * with `ws` → `http` (anvil, geth and reth serve both on one port).
   */
  rpcUrl: string | null;
  /** EVM worker threads (piscina); 0 means cores − 1, at least 1. */
  threads: number;
  /** ethereumjs hardfork name of the chain, or `auto`: read from the node's latest header at start-up. */
  hardfork: string;
  /** Chain id; null means the decoder's, else 1. */
  chainId: number | null;
  /**
   * EVM simulations queued or running at most; past it the one of least estimated value (the
   * incoming one included) is shed and counted `shed.full`.
   */
  maxPending: number;
  /**
   * A transaction first seen longer ago than this when its EVM run would start is shed
   * (`shed.age`): its window has passed, and running it would hold back everything after it. 0: never.
   */
  maxAgeMs: number;
  /** Off: unclassified transactions are dropped (counted `skipped.evm-off`) instead of run in the EVM. */
  evm: boolean;
}

/** Defaults of {@link SimulatorConfig}. */
export const DEFAULT_SIMULATOR_CONFIG: SimulatorConfig = {
  rpcUrl: null,
  threads: 0,
  hardfork: 'auto',
  chainId: null,
  maxPending: 256,
  maxAgeMs: 25,
  evm: true,
};
