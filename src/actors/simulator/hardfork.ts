import type { Logger } from '../../runtime/log.js';

/**
 * The chain's hardfork, read from its latest block header: each fork since London added a header
 * field (EIP-1559 base fee, the merge's zero difficulty, Shanghai's withdrawals root, Cancun's blob
 * gas, Prague's requests hash). `auto` in the config resolves through this at start-up.
 */

/** Header fields that tell the forks apart, as JSON-RPC returns them. */
export interface HeaderFields {
  baseFeePerGas?: string | null;
  difficulty?: string | null;
  withdrawalsRoot?: string | null;
  blobGasUsed?: string | null;
  excessBlobGas?: string | null;
  requestsHash?: string | null;
}

/** The newest fork whose header field `block` has; throws for a pre-London header. */
export function hardforkOfHeader(block: HeaderFields): 'prague' | 'cancun' | 'shanghai' | 'paris' | 'london' {
  if (block.requestsHash) return 'prague';
  if (block.blobGasUsed || block.excessBlobGas) return 'cancun';
  if (block.withdrawalsRoot) return 'shanghai';
  if (block.baseFeePerGas) return block.difficulty && BigInt(block.difficulty) === 0n ? 'paris' : 'london';
  throw new RangeError('the chain head has no base fee: a pre-London chain is not supported');
}

/** {@link hardforkOfHeader} of the node's latest block (HTTP JSON-RPC). */
export async function detectHardfork(rpcUrl: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: ['latest', false] }) });
  } catch (err) {
    throw new Error(`cannot read the chain's hardfork: eth_getBlockByNumber from ${rpcUrl} failed: ${(err as Error).message}`);
  }
  if (!res.ok) throw new Error(`eth_getBlockByNumber from ${rpcUrl}: HTTP ${res.status}`);
  const reply = (await res.json()) as { result?: HeaderFields | null; error?: { message?: string } };
  if (!reply.result) throw new Error(`eth_getBlockByNumber from ${rpcUrl}: ${reply.error?.message ?? 'no block'}`);
  return hardforkOfHeader(reply.result);
}

/**
 * `configured`, or the node's when it is `auto`. When the node cannot be read, `auto` is kept and
 * `log` warned: the EVM worker reads it again before its first run, counting a failure per
 * transaction as any other state read, so a node that is down at start does not stop the engine.
 */
export async function resolveHardfork(configured: string, rpcUrl: string, log?: Pick<Logger, 'warn'>): Promise<string> {
  if (configured !== 'auto') return configured;
  try {
    return await detectHardfork(rpcUrl);
  } catch (err) {
    log?.warn('hardfork not known yet; the EVM reads it before its first run', { error: (err as Error).message });
    return 'auto';
  }
}
