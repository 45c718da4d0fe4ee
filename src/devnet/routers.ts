import type { RouterEntry } from '../actors/decoder/calldata/router-registry.js';
import type { UniswapDeployment } from './uniswap.js';

/**
 * The decoder's router entries for a devnet deployment: each V2 Router02 with its factory and
 * init code hash, and the V3 SwapRouter with its factory, so intents name the devnet's pools.
 */
export function devnetRouters(d: UniswapDeployment): RouterEntry[] {
  const out: RouterEntry[] = d.v2.map((v) => ({
    address: v.router.toLowerCase(),
    kind: 'v2-router02',
    name: `devnet-${v.name}-router02`,
    v2Factory: v.factory.toLowerCase(),
    v2InitCodeHash: v.initCodeHash.toLowerCase(),
    weth: d.weth.toLowerCase(),
  }));
  if (d.v3) {
    out.push({
      address: d.v3.router.toLowerCase(),
      kind: 'v3-swaprouter',
      name: 'devnet-uniswap-v3-swaprouter',
      v3Factory: d.v3.factory.toLowerCase(),
      v3InitCodeHash: d.v3.initCodeHash.toLowerCase(),
      weth: d.weth.toLowerCase(),
    });
  }
  return out;
}
