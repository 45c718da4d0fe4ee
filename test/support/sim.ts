import type { Hex } from 'viem';
import { type SimVm, createSimVm } from '../../src/actors/simulator/simulate-tx.js';
import { ForkedStateManager } from '../../src/actors/simulator/state/forked-state-manager.js';
import { RpcState } from '../../src/actors/simulator/state/rpc-state.js';
import { rpc } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import type { TrafficKind } from '../../src/devnet/traffic.js';
import type { BlockEvent } from '../../src/messages/schema.js';

/** Shared set-up of the simulator tests: a devnet with automine off and a VM on its forked state. */

interface RpcBlock { number: Hex; hash: Hex; parentHash: Hex; timestamp: Hex; baseFeePerGas?: Hex; gasLimit: Hex; gasUsed: Hex; miner: Hex; mixHash?: Hex; excessBlobGas?: Hex }

/** The node's latest block as the block event ingest would emit. */
export async function headEvent(url: string): Promise<BlockEvent> {
  const b = await rpc<RpcBlock>(url, 'eth_getBlockByNumber', ['latest', false]);
  return {
    number: Number(b.number),
    hash: b.hash,
    parentHash: b.parentHash,
    timestamp: Number(b.timestamp),
    baseFeePerGas: b.baseFeePerGas === undefined ? null : BigInt(b.baseFeePerGas),
    gasLimit: BigInt(b.gasLimit),
    gasUsed: BigInt(b.gasUsed),
    miner: b.miner.toLowerCase(),
    prevRandao: b.mixHash ?? `0x${'0'.repeat(64)}`,
    excessBlobGas: b.excessBlobGas === undefined ? null : BigInt(b.excessBlobGas),
    reorg: false,
  };
}

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
