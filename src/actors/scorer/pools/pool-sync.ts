import type { BlockEvent } from '../../../messages/schema.js';
import type { V2FactoryConfig } from '../scorer-config.js';
import { PAIR_CREATED_TOPIC, type RpcLog, SYNC_TOPIC, type V2PoolRegistry } from './v2-pool-registry.js';

/**
 * Keeps the scorer's pool registry current from the node: discovery at start (the factories'
 * `PairCreated` logs, configured pairs), then per block the block's `Sync`/`PairCreated` logs,
 * a reconcile of the pools they touched plus a rotating slice of the others against
 * `getReserves`, and a full reconcile after a reorg. All reads are JSON-RPC batches over HTTP.
 */

/** A node read failed; the scorer counts `chain.<code>` and keeps its last state. */
export class ChainReadError extends Error {
  override name = 'ChainReadError';
  constructor(
    readonly code: 'CHAIN_TRANSPORT' | 'CHAIN_RPC_ERROR' | 'CHAIN_BAD_REPLY',
    message: string,
  ) {
    super(message);
  }
}

const GET_RESERVES = '0x0902f1ac';
const TOKEN0 = '0x0dfe1681';
const TOKEN1 = '0xd21220a7';
const FACTORY = '0xc45a0155';
/** Largest batch sent at once. */
const MAX_BATCH = 500;

/** JSON-RPC over HTTP, batched. */
export class ChainReader {
  private id = 1;
  /** Requests sent, for metrics. */
  requests = 0;

  constructor(readonly url: string) {}

  /** Runs `calls` as batches of at most {@link MAX_BATCH}; each result or its error, in call order. */
  async batch(calls: readonly (readonly [method: string, params: readonly unknown[]])[]): Promise<({ result: unknown } | { error: string })[]> {
    const out: ({ result: unknown } | { error: string })[] = [];
    for (let i = 0; i < calls.length; i += MAX_BATCH) {
      const chunk = calls.slice(i, i + MAX_BATCH);
      const first = this.id;
      this.id += chunk.length;
      const body = JSON.stringify(chunk.map(([method, params], k) => ({ jsonrpc: '2.0', id: first + k, method, params })));
      let text: string;
      try {
        this.requests++;
        const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        text = await res.text();
        if (!res.ok) throw new ChainReadError('CHAIN_TRANSPORT', `HTTP ${res.status} from ${this.url}`);
      } catch (err) {
        if (err instanceof ChainReadError) throw err;
        throw new ChainReadError('CHAIN_TRANSPORT', `${this.url}: ${(err as Error).message}`);
      }
      let replies: unknown;
      try {
        replies = JSON.parse(text);
      } catch {
        throw new ChainReadError('CHAIN_BAD_REPLY', `not JSON from ${this.url}: ${text.slice(0, 120)}`);
      }
      if (!Array.isArray(replies)) {
        const e = (replies as { error?: { message?: string } })?.error?.message;
        throw new ChainReadError(e ? 'CHAIN_RPC_ERROR' : 'CHAIN_BAD_REPLY', e ?? `batch reply is not an array from ${this.url}`);
      }
      const got = new Array<{ result: unknown } | { error: string }>(chunk.length);
      for (const r of replies as { id: number; result?: unknown; error?: { message?: string } }[]) {
        const k = r.id - first;
        if (k < 0 || k >= chunk.length) continue;
        got[k] = r.error ? { error: r.error.message ?? 'error' } : { result: r.result };
      }
      for (let k = 0; k < chunk.length; k++) out.push(got[k] ?? { error: 'no reply' });
    }
    return out;
  }

  /** One call; throws {@link ChainReadError} on an error reply. */
  async call<T>(method: string, params: readonly unknown[]): Promise<T> {
    const [r] = await this.batch([[method, params]]);
    if ('error' in r!) throw new ChainReadError('CHAIN_RPC_ERROR', `${method}: ${r.error}`);
    return r!.result as T;
  }
}

/** What a sync step did, for metrics. */
export interface SyncReport {
  logs: number;
  synced: number;
  created: number;
  reconciled: number;
  drift: number;
}

/** Registry sync against a node. */
export class PoolSync {
  private rotation = 0;
  private readonly fees: Map<string, bigint>;

  constructor(
    readonly reader: ChainReader,
    readonly registry: V2PoolRegistry,
    readonly factories: readonly V2FactoryConfig[],
    readonly reconcilePerBlock: number,
  ) {
    this.fees = new Map(factories.map((f) => [f.address.toLowerCase(), BigInt(f.feeBps)]));
    for (const f of factories) registry.watchFactory(f.address, BigInt(f.feeBps));
  }

  /** Registers the factories' pairs created in [fromBlock, toBlock] and `pairs`, with their reserves at `toBlock`. */
  async discover(fromBlock: number | null, toBlock: number, pairs: readonly string[]): Promise<number> {
    const before = this.registry.size;
    if (fromBlock !== null && this.factories.length > 0) {
      const logs = await this.reader.call<RpcLog[]>('eth_getLogs', [
        { fromBlock: hex(fromBlock), toBlock: hex(toBlock), address: this.factories.map((f) => f.address), topics: [PAIR_CREATED_TOPIC] },
      ]);
      this.registry.applyLogs(logs, toBlock);
    }
    await this.addPairs(pairs.filter((p) => this.registry.get(p) === undefined), toBlock);
    await this.reconcile(this.registry.all().map((p) => p.address), toBlock);
    return this.registry.size - before;
  }

  /** Reads token0/token1/factory of unknown pairs and registers those whose factory is configured (or any, for `force`). */
  async addPairs(addresses: readonly string[], block: number, force = true): Promise<number> {
    if (addresses.length === 0) return 0;
    const tag = hex(block);
    const calls = addresses.flatMap((a) => [TOKEN0, TOKEN1, FACTORY].map((data) => ['eth_call', [{ to: a, data }, tag]] as const));
    const res = await this.reader.batch(calls);
    let added = 0;
    for (let i = 0; i < addresses.length; i++) {
      const [t0, t1, f] = [res[3 * i]!, res[3 * i + 1]!, res[3 * i + 2]!].map((r) => ('result' in r && typeof r.result === 'string' && r.result.length >= 66 ? `0x${r.result.slice(-40)}` : null));
      if (!t0 || !t1) continue;
      const fee = f ? this.fees.get(f) : undefined;
      if (fee === undefined && !force) continue;
      this.registry.add({ address: addresses[i]!, token0: t0, token1: t1, reserve0: 0n, reserve1: 0n, feeBps: fee ?? 30n, factory: f, block });
      added++;
    }
    return added;
  }

  /** Sets the reserves of `addresses` from `getReserves` at `block`; returns how many differed. */
  async reconcile(addresses: readonly string[], block: number): Promise<number> {
    if (addresses.length === 0) return 0;
    const tag = hex(block);
    const res = await this.reader.batch(addresses.map((to) => ['eth_call', [{ to, data: GET_RESERVES }, tag]] as const));
    const readings = [];
    for (let i = 0; i < addresses.length; i++) {
      const r = res[i]!;
      if (!('result' in r) || typeof r.result !== 'string' || r.result.length < 130) continue;
      readings.push({ address: addresses[i]!, reserve0: BigInt(`0x${r.result.slice(2, 66)}`), reserve1: BigInt(`0x${r.result.slice(66, 130)}`) });
    }
    return this.registry.reconcile(readings, block);
  }

  /**
   * Brings the registry to `head`: its `Sync`/`PairCreated` logs in order, new pairs' reserves, then
   * a reconcile of what moved plus the next `reconcilePerBlock` pools (all of them after a reorg).
   */
  async onHead(head: BlockEvent): Promise<SyncReport> {
    const logs = await this.reader.call<RpcLog[]>('eth_getLogs', [{ blockHash: head.hash, topics: [[SYNC_TOPIC, PAIR_CREATED_TOPIC]] }]);
    const applied = this.registry.applyLogs(logs, head.number);
    const all = this.registry.all();
    let check: string[];
    if (head.reorg) check = all.map((p) => p.address);
    else {
      const moved = new Set<string>();
      for (const l of logs) if (!l.removed) moved.add(l.address.toLowerCase());
      for (const l of logs) {
        if (l.topics[0]?.toLowerCase() === PAIR_CREATED_TOPIC && l.data.length >= 66) moved.add(`0x${l.data.slice(26, 66)}`.toLowerCase());
      }
      const n = Math.min(this.reconcilePerBlock, all.length);
      for (let i = 0; i < n; i++) moved.add(all[(this.rotation + i) % all.length]!.address);
      this.rotation = all.length === 0 ? 0 : (this.rotation + n) % all.length;
      check = [...moved].filter((a) => this.registry.get(a) !== undefined);
    }
    const drift = await this.reconcile(check, head.number);
    return { logs: logs.length, synced: applied.synced, created: applied.created, reconciled: check.length, drift };
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
