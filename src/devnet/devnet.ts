import type { Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { type Anvil, type AnvilOptions, rpc, startAnvil } from './anvil.js';
import { startTraffic, type TrafficOptions, type TrafficRun } from './traffic.js';
import { deployUniswap, type UniswapDeployment } from './uniswap.js';

/** Options of {@link startDevnet}. */
export interface DevnetOptions {
  /** Seconds between blocks (fractions allowed); default 1, so pending transactions stay visible a while. 0 = no interval. */
  blockTime?: number;
  /** With `blockTime: 0`: mine each transaction at once (default) or, if false, only on `evm_mine`. */
  automine?: boolean;
  /** EVM hardfork; default `prague` (type 4 transactions need it). */
  hardfork?: string;
  /** Seeds the price offsets between venues and is the default traffic seed; default 1. */
  seed?: number;
  /** Deploy Uniswap V3 as well; default true. */
  v3?: boolean;
  /** Block gas limit; default 300M, room for ~1000 tx/s in 1 s blocks without the base fee climbing. */
  gasLimit?: number | bigint;
  /** ETH per dev account; default 1,000,000. */
  balanceEth?: number;
  /** Anything else for anvil. */
  anvil?: Omit<AnvilOptions, 'blockTime' | 'hardfork' | 'gasLimit' | 'balanceEth' | 'noMining'>;
}

/** A running devnet: anvil with Uniswap deployed and funded traders. */
export interface Devnet {
  readonly anvil: Anvil;
  readonly deployment: UniswapDeployment;
  readonly hardfork: string;
  /** Keys of `deployment.accounts`, the traders (anvil keys 1..9; key 0 deployed and keeps the rest of the tokens). */
  readonly traderKeys: readonly Hex[];
  /**
   * The searcher's key: the last trader (funded with every token and WETH, routers approved). The
   * traffic generator never sends from it, so the engine's plans own its nonces.
   */
  readonly searcherKey: Hex;
  /** Address of {@link searcherKey}, lowercase. */
  readonly searcher: string;
  /** Starts a traffic generator against this devnet; the seed defaults to the devnet's. */
  traffic(opts: Omit<TrafficOptions, 'seed'> & { seed?: number }): TrafficRun;
  /** Stops every traffic run, then anvil. */
  stop(): Promise<void>;
}

/**
 * Starts anvil (hardfork prague, 1 s blocks, 300M gas limit by default), deploys Uniswap V2 twice
 * and V3 (see {@link deployUniswap}) and returns it ready for traffic. Deployment runs under
 * automine, which takes well under a second, and the block interval starts afterwards; a fractional
 * block time cannot be set over RPC, so then anvil starts with it and deployment mines on demand.
 */
export async function startDevnet(opts: DevnetOptions = {}): Promise<Devnet> {
  const blockTime = opts.blockTime ?? 1;
  if (!(blockTime >= 0) || !Number.isFinite(blockTime)) throw new RangeError(`opts.blockTime must be >= 0 seconds, got ${opts.blockTime}`);
  const hardfork = opts.hardfork ?? 'prague';
  const seed = opts.seed ?? 1;
  const intervalOverRpc = blockTime > 0 && Number.isInteger(blockTime);
  const anvil = await startAnvil({
    ...opts.anvil,
    hardfork,
    gasLimit: opts.gasLimit ?? 300_000_000,
    balanceEth: opts.balanceEth ?? 1_000_000,
    ...(blockTime > 0 && !intervalOverRpc ? { blockTime } : {}),
  });
  let deployment: UniswapDeployment;
  try {
    deployment = await deployUniswap(anvil, { seed, ...(opts.v3 === undefined ? {} : { v3: opts.v3 }) });
    if (intervalOverRpc) await rpc(anvil.rpcUrl, 'evm_setIntervalMining', [blockTime]);
    else if (blockTime === 0 && opts.automine === false) await rpc(anvil.rpcUrl, 'evm_setAutomine', [false]);
  } catch (err) {
    await anvil.stop();
    throw err;
  }
  const traders = new Set(deployment.accounts.map((a) => a.toLowerCase()));
  const traderKeys = anvil.privateKeys.filter((k) => traders.has(privateKeyToAddress(k).toLowerCase()));
  const runs = new Set<TrafficRun>();
  let stopped: Promise<void> | undefined;
  return {
    anvil,
    deployment,
    hardfork,
    traderKeys,
    searcherKey: traderKeys[traderKeys.length - 1]!,
    searcher: privateKeyToAddress(traderKeys[traderKeys.length - 1]!).toLowerCase(),
    traffic(trafficOpts) {
      const run = startTraffic(
        { rpcUrl: anvil.rpcUrl, wsUrl: anvil.wsUrl, chainId: anvil.chainId, deployment, privateKeys: traderKeys.slice(0, -1), hardfork },
        { ...trafficOpts, seed: trafficOpts.seed ?? seed },
      );
      runs.add(run);
      void run.done.then(() => runs.delete(run), () => runs.delete(run));
      return run;
    },
    stop() {
      stopped ??= (async () => {
        await Promise.allSettled([...runs].map((r) => r.stop()));
        await anvil.stop();
      })();
      return stopped;
    },
  };
}
