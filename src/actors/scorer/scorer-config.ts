/** A Uniswap V2 (or fork) factory whose pairs the scorer tracks. */
export interface V2FactoryConfig {
  address: string;
  /** Swap fee in basis points (30 for Uniswap V2). */
  feeBps: number;
  /** Router02 of this factory, used for the sandwich's front-run and back-run; null when none. */
  router: string | null;
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
  /** Register every pair the factories created from this block on (`PairCreated` logs); null for none. */
  discoverFromBlock: number | null;
  strategies: ('v2-sandwich' | 'backrun-arbitrage')[];
  /** Opportunities with a smaller predicted net profit (wei) are not emitted. Decimal string. */
  minNetProfitWei: string;
  /** Address the plans trade from; verification runs the bundle from it. Null disables verification. */
  searcher: string | null;
  /** Run every opportunity as a bundle in the EVM before emitting it (needs `searcher`). */
  verify: boolean;
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

/** Defaults of {@link ScorerConfig}: Uniswap V2 on mainnet, no searcher (scoring without verification). */
export const DEFAULT_SCORER_CONFIG: ScorerConfig = {
  rpcUrl: null,
  weth: MAINNET_WETH,
  v2Factories: [{ address: '0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f', feeBps: 30, router: '0x7a250d5630b4cf539739df2c5dacb4c659f2488d' }],
  v2Pairs: [],
  discoverFromBlock: null,
  strategies: ['v2-sandwich', 'backrun-arbitrage'],
  minNetProfitWei: '1',
  searcher: null,
  verify: true,
  verifyThreads: 1,
  maxCyclesPerPool: 32,
  reconcilePerBlock: 64,
  gas: { priorityFeeWei: '1000000000', frontrunBumpWei: '1000000000', limitHeadroomPct: 20 },
  hardfork: 'prague',
  chainId: null,
};
