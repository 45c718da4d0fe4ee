import type { ReserveReading } from './v2-pool-registry.js';

/** `getReserves()` selector of a V2 pair. */
const GET_RESERVES = '0x0902f1ac';

/**
 * Reads pairs' reserves from the node at `block` (a number or `latest`) in one JSON-RPC batch of
 * `eth_call getReserves()`. A pair whose call fails or returns short data is left out, so the
 * caller reconciles what it got.
 */
export async function readV2Reserves(rpcUrl: string, pairs: readonly string[], block: number | 'latest' = 'latest'): Promise<ReserveReading[]> {
  if (pairs.length === 0) return [];
  const tag = block === 'latest' ? 'latest' : `0x${block.toString(16)}`;
  const body = pairs.map((to, id) => ({ jsonrpc: '2.0', id, method: 'eth_call', params: [{ to, data: GET_RESERVES }, tag] }));
  const res = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`getReserves batch: HTTP ${res.status}`);
  const replies = (await res.json()) as { id: number; result?: string }[];
  const out: ReserveReading[] = [];
  for (const r of Array.isArray(replies) ? replies : []) {
    const address = pairs[r.id];
    const data = r.result;
    if (address === undefined || typeof data !== 'string' || data.length < 2 + 128) continue;
    out.push({ address: address.toLowerCase(), reserve0: BigInt(`0x${data.slice(2, 66)}`), reserve1: BigInt(`0x${data.slice(66, 130)}`) });
  }
  // Replies of a batch may come in any order; keep the caller's.
  const order = new Map(pairs.map((p, i) => [p.toLowerCase(), i]));
  return out.sort((a, b) => order.get(a.address)! - order.get(b.address)!);
}
