/** A Uniswap V2 (or fork) factory whose pairs the scorer tracks. */
export interface V2FactoryConfig {
  address: string;
  /** Swap fee in basis points (30 for Uniswap V2). */
  feeBps: number;
  /** Router02 of this factory, used for the sandwich's front-run and back-run; null when none. */
  router: string | null;
}

/** A Uniswap V3 factory whose pools the scorer tracks, and the SwapRouter its plans trade through. */
export interface V3FactoryConfig {
  address: string;
  /** v3-periphery SwapRouter bound to this factory (V3 hops of backruns call `exactInputSingle` on it). */
  router: string;
}

/** Gas policy of the plans the scorer prices. */
export interface ScorerGasConfig {
  /** Priority fee of a searcher transaction that follows its victim (back-run, arbitrage), capped at the victim's tip − 1 wei. */
  priorityFeeWei: string;
  /** The front-run pays the victim's tip plus this, so it is ordered first by fee. */
  frontrunBumpWei: string;
  /** Headroom on the measured gas for the gas limit, in percent. */
  limitHeadroomPct: number;
}

/** Config slice of the scorer stage (`config.scorer`). */
export interface ScorerConfig {
  /** HTTP JSON-RPC endpoint for pool discovery, mined-block logs and reconciles; null as for the simulator. */
  rpcUrl: string | null;
  /** WETH: the token cycles start and end in, and profits are priced in. */
  weth: string;
  v2Factories: V2FactoryConfig[];
  /** Extra V2 pairs to track from the start (token0/token1/reserves are read from the node). */
  v2Pairs: string[];
  /** Uniswap V3 factories: their pools feed V3 victims and V2↔V3 backruns. Empty for V2 only. */
  v3Factories: V3FactoryConfig[];
  /** Tick-bitmap words read on each side of a V3 pool's current word (each 256 · tickSpacing ticks). */
  v3WordsAround: number;
  /** Register every pair/pool the factories created from this block on (`PairCreated`/`PoolCreated` logs); null for none. */
  discoverFromBlock: number | null;
  strategies: ('v2-sandwich' | 'backrun-arbitrage')[];
  /** Opportunities with a smaller predicted net profit (wei) are not emitted. Decimal string. */
  minNetProfitWei: string;
  /** Address the plans trade from; verification runs the bundle from it. Null disables verification. */
  searcher: string | null;
  /** Run every opportunity as a bundle in the EVM before emitting it (needs `searcher`). */
  verify: boolean;
  /**
   * Opportunities verified per target block at most, in input order; later ones go out at once as
   * `unverified` (counted `verify.skipped`). Each verification is a few EVM transactions, and a
   * block's worth of them must finish before the block does. 0: no limit.
   */
  verifyPerBlock: number;
  /**
   * Verifications waiting for a thread at most; an opportunity found while the queue is full goes
   * out at once as `unverified` (`verify.skipped-busy`), so verified ones stay fresh. 0: no limit
   * (replays that compare runs: this depends on timing).
   */
  verifyMaxQueue: number;
  /** EVM threads of the verification pool; 0 means 1. */
  verifyThreads: number;
  /** Candidate cycles per touched pool at most, in a fixed order. */
  maxCyclesPerPool: number;
  /** Pools re-read from the node per block besides those with logs, in rotation (drift check). */
  reconcilePerBlock: number;
  gas: ScorerGasConfig;
  /** As the simulator's: hardfork and chain id of the verification EVM. */
  hardfork: string;
  chainId: number | null;
}

/** Mainnet WETH. */
export const MAINNET_WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2';

/** Defaults of {@link ScorerConfig}: Uniswap V2 and V3 on mainnet, no searcher (scoring without verification). */
export const DEFAULT_SCORER_CONFIG: ScorerConfig = {
  rpcUrl: null,
  weth: MAINNET_WETH,
  v2Factories: [{ address: '0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f', feeBps: 30, router: '0x7a250d5630b4cf539739df2c5dacb4c659f2488d' }],
  v2Pairs: [],
  v3Factories: [{ address: '0x1f98431c8ad98523631ae4a59f267346ea31f984', router: '0xe592427a0aece92de3edee1f18e0157c05861564' }],
  v3WordsAround: 2,
  discoverFromBlock: null,
  strategies: ['v2-sandwich', 'backrun-arbitrage'],
  minNetProfitWei: '1',
  searcher: null,
  verify: true,
  verifyPerBlock: 16,
  verifyMaxQueue: 2,
  verifyThreads: 1,
  maxCyclesPerPool: 32,
  reconcilePerBlock: 64,
  gas: { priorityFeeWei: '1000000000', frontrunBumpWei: '1000000000', limitHeadroomPct: 20 },
  hardfork: 'auto',
  chainId: null,
};
