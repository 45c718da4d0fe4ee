import { headEvent } from './head-event.js';
import { type SimVm, createSimVm } from '../../src/actors/simulator/simulate-tx.js';
import { ForkedStateManager } from '../../src/actors/simulator/state/forked-state-manager.js';
import { RpcState } from '../../src/actors/simulator/state/rpc-state.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import type { TrafficKind } from '../../src/devnet/traffic.js';

/** Shared set-up of the simulator tests: a devnet with automine off and a VM on its forked state. */

export { headEvent };

/** A traffic mix of one kind only. */
export function onlyKind(kind: TrafficKind): Record<TrafficKind, number> {
  return { 'v2-swap': 0, 'v3-swap': 0, 'pair-swap': 0, 'eth-transfer': 0, 'erc20-transfer': 0, approve: 0, revert: 0, delegate: 0, blob: 0, [kind]: 1 };
}

/** A devnet (automine off) and a VM reading its state at the current head. */
export interface SimDevnet {
  net: Devnet;
  url: string;
  source: RpcState;
  state: ForkedStateManager;
  sim: SimVm;
}

export async function startSimDevnet(): Promise<SimDevnet> {
  const net = await startDevnet({ blockTime: 0, automine: false });
  const url = net.anvil.rpcUrl;
  const source = new RpcState({ url, blockNumber: (await headEvent(url)).number });
  const state = new ForkedStateManager(source);
  const sim = await createSimVm({ state, chainId: net.anvil.chainId, hardfork: net.hardfork });
  return { net, url, source, state, sim };
}
