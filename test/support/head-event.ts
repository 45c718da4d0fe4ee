import type { Hex } from 'viem';
import { rpc } from '../../src/devnet/anvil.js';
import type { BlockEvent } from '../../src/messages/schema.js';

interface RpcBlock { number: Hex; hash: Hex; parentHash: Hex; timestamp: Hex; baseFeePerGas?: Hex; gasLimit: Hex; gasUsed: Hex; miner: Hex; mixHash?: Hex; excessBlobGas?: Hex }

/** A block of the node (default the latest) as the block event ingest would emit. */
export async function headEvent(url: string, block: Hex | 'latest' = 'latest'): Promise<BlockEvent> {
  const b = await rpc<RpcBlock>(url, 'eth_getBlockByNumber', [block, false]);
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

