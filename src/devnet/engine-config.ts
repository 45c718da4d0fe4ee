import type { ConfigInput } from '../runtime/config.js';
import type { Devnet } from './devnet.js';
import { devnetRouters } from './routers.js';

/**
 * The engine config for a devnet: ingest from its websocket, the decoder's routers for its
 * deployment, the simulator and scorer reading its state, the scorer tracking both V2 factories
 * and the V3 factory with its SwapRouter (pairs and pools discovered from block 0) with the devnet's
 * searcher account. Callers overlay their own.
 */
export function devnetEngineConfig(net: Devnet): ConfigInput {
  const { anvil, deployment: d } = net;
  return {
    pipeline: 'live',
    ingest: { sources: [{ kind: 'rpc-ws', name: 'devnet', url: anvil.wsUrl, mode: 'auto' }] },
    decoder: { routers: devnetRouters(d), chainId: anvil.chainId },
    // hardfork: `auto` (the default) reads the devnet's from its head, as against any node.
    simulator: { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId },
    scorer: {
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      weth: d.weth.toLowerCase(),
      v2Factories: d.v2.map((v) => ({ address: v.factory.toLowerCase(), feeBps: 30, router: v.router.toLowerCase() })),
      v3Factories: d.v3 ? [{ address: d.v3.factory.toLowerCase(), router: d.v3.router.toLowerCase() }] : [],
      discoverFromBlock: 0,
      searcher: net.searcher,
    },
  };
}
