import { keccak256, toBytes } from 'viem';
import type { BlockEvent } from '../../../messages/schema.js';
import type { V2FactoryConfig, V3FactoryConfig } from '../scorer-config.js';
import { PAIR_CREATED_TOPIC, type RpcLog, SYNC_TOPIC, type V2PoolRegistry } from './v2-pool-registry.js';
import { V3_BURN_TOPIC, V3_MINT_TOPIC, V3_SWAP_TOPIC, type V3PoolRegistry } from './v3-pool-registry.js';
import { readV3Pools } from './v3-state.js';

/** `PoolCreated(address indexed token0, address indexed token1, uint24 indexed fee, int24 tickSpacing, address pool)` of a V3 factory. */
export const POOL_CREATED_TOPIC = keccak256(toBytes('PoolCreated(address,address,uint24,int24,address)'));

/**
 * Keeps the scorer's pool registries current from the node: discovery at start (the factories'
 * `PairCreated`/`PoolCreated` logs, configured pairs), then per block the block's logs in one
 * `eth_getLogs` (V2 `Sync`/`PairCreated`, V3 `Swap`/`Mint`/`Burn`/`PoolCreated`), a reconcile of
 * the V2 pairs they touched plus a rotating slice of the others against `getReserves`, a re-read
 * of the V3 pools the registry flags `needsRefresh` (all of them after a reorg), and a full V2
 * reconcile after a reorg. All reads are JSON-RPC batches over HTTP.
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

/** Default budget of one {@link ChainReader} request (connect, send, whole answer), ms. */
export const CHAIN_READ_TIMEOUT_MS = 10_000;

/** JSON-RPC over HTTP, batched. */
export class ChainReader {
  private id = 1;
  /** Requests sent, for metrics. */
  requests = 0;
  /** Budget of each request (ms): a node that stops answering fails the read (`CHAIN_TRANSPORT`) instead of holding it forever. */
  readonly timeoutMs: number;

  constructor(
    readonly url: string,
    opts: { timeoutMs?: number } = {},
  ) {
    const t = opts.timeoutMs ?? CHAIN_READ_TIMEOUT_MS;
    if (!Number.isSafeInteger(t) || t < 1) throw new RangeError(`ChainReader: timeoutMs must be a positive integer of ms, got ${t}`);
    this.timeoutMs = t;
  }

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
        // The signal covers the body too: a node that sends headers and then stalls is cut as well.
        const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.timeoutMs) });
        text = await res.text();
        if (!res.ok) throw new ChainReadError('CHAIN_TRANSPORT', `HTTP ${res.status} from ${this.url}`);
      } catch (err) {
        if (err instanceof ChainReadError) throw err;
        const name = (err as { name?: unknown } | null)?.name;
        if (name === 'TimeoutError' || name === 'AbortError') throw new ChainReadError('CHAIN_TRANSPORT', `${this.url}: no answer within ${this.timeoutMs} ms`);
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
  /** V3 Swap/Mint/Burn logs applied. */
  v3Synced: number;
  /** V3 pools registered (new `PoolCreated`). */
  v3Created: number;
  /** V3 pools re-read from the node (refresh or reorg). */
  v3Refreshed: number;
}

/** The V3 side of a {@link PoolSync}: the registry, its factories, and pool → SwapRouter for the plans. */
export interface V3SyncOptions {
  registry: V3PoolRegistry;
  factories: readonly V3FactoryConfig[];
  /** Filled by the sync: pool address → the router of the factory that created it. */
  routers: Map<string, string>;
  wordsAround: number;
}

/** Registry sync against a node. */
export class PoolSync {
  private rotation = 0;
  private readonly fees: Map<string, bigint>;

  private readonly v3Routers: Map<string, string>;

  constructor(
    readonly reader: ChainReader,
    readonly registry: V2PoolRegistry,
    readonly factories: readonly V2FactoryConfig[],
    readonly reconcilePerBlock: number,
    readonly v3: V3SyncOptions | null = null,
  ) {
    this.fees = new Map(factories.map((f) => [f.address.toLowerCase(), BigInt(f.feeBps)]));
    for (const f of factories) registry.watchFactory(f.address, BigInt(f.feeBps));
    this.v3Routers = new Map((v3?.factories ?? []).map((f) => [f.address.toLowerCase(), f.router.toLowerCase()]));
  }

  /**
   * Reads `pools` (V3 pool addresses created by `factoryOf`'s factory) at `block` and registers
   * them with their router. Pools the node does not answer for are left out.
   */
  async addV3Pools(pools: readonly string[], factoryOf: ReadonlyMap<string, string>, block: number): Promise<number> {
    const v3 = this.v3;
    if (v3 === null || pools.length === 0) return 0;
    const readings = await this.readV3(pools, block);
    for (const r of readings) {
      const router = this.v3Routers.get(factoryOf.get(r.address) ?? '');
      if (router === undefined) continue;
      v3.registry.add(r);
      v3.routers.set(r.address, router);
    }
    return readings.length;
  }

  /**
   * Registers the V3 pools among `addresses` (named by transactions, not yet known) whose
   * `factory()` is a configured V3 factory. Returns how many were added.
   */
  async discoverV3(addresses: readonly string[], block: number): Promise<number> {
    if (this.v3 === null || addresses.length === 0) return 0;
    const res = await this.reader.batch(addresses.map((to) => ['eth_call', [{ to, data: FACTORY }, hex(block)]] as const));
    const factoryOf = new Map<string, string>();
    addresses.forEach((a, i) => {
      const r = res[i]!;
      if (!('result' in r) || typeof r.result !== 'string' || r.result.length < 66) return;
      const f = `0x${r.result.slice(-40)}`.toLowerCase();
      if (this.v3Routers.has(f)) factoryOf.set(a.toLowerCase(), f);
    });
    return this.addV3Pools([...factoryOf.keys()], factoryOf, block);
  }

  /** `readV3Pools` with its failures as {@link ChainReadError}. */
  private async readV3(pools: readonly string[], block: number) {
    try {
      return await readV3Pools(this.reader.url, pools, { wordsAround: this.v3!.wordsAround, block });
    } catch (err) {
      throw new ChainReadError('CHAIN_TRANSPORT', `V3 pool read from ${this.reader.url}: ${(err as Error).message}`);
    }
  }

  /** V3 pools created in `logs` by a configured factory, with the factory of each. */
  private createdV3(logs: readonly RpcLog[]): Map<string, string> {
    const out = new Map<string, string>();
    for (const l of logs) {
      if (l.removed || l.topics[0]?.toLowerCase() !== POOL_CREATED_TOPIC || l.data.length < 130) continue;
      const factory = l.address.toLowerCase();
      if (!this.v3Routers.has(factory)) continue;
      // data: tickSpacing (int24 word), pool (address word).
      out.set(`0x${l.data.slice(-40)}`.toLowerCase(), factory);
    }
    return out;
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
    if (fromBlock !== null && this.v3 !== null && this.v3.factories.length > 0) {
      const logs = await this.reader.call<RpcLog[]>('eth_getLogs', [
        { fromBlock: hex(fromBlock), toBlock: hex(toBlock), address: this.v3.factories.map((f) => f.address), topics: [POOL_CREATED_TOPIC] },
      ]);
      const created = this.createdV3(logs);
      await this.addV3Pools([...created.keys()], created, toBlock);
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
    const r = await this.applyHead(head);
    const c = await this.checkHead(head, r.moved);
    return { ...r.report, ...c };
  }

  /**
   * What scoring must wait for: the block's logs applied in order (V2 `Sync`/`PairCreated`, V3
   * `Swap`/`Mint`/`Burn`), and pools created in it registered. One `eth_getLogs`, plus a read of
   * new V3 pools (rare). Returns the pools the logs moved, for {@link checkHead}.
   */
  async applyHead(head: BlockEvent): Promise<{ report: Omit<SyncReport, 'reconciled' | 'drift' | 'v3Refreshed'>; moved: Set<string> }> {
    const topics = this.v3 === null ? [SYNC_TOPIC, PAIR_CREATED_TOPIC] : [SYNC_TOPIC, PAIR_CREATED_TOPIC, V3_SWAP_TOPIC, V3_MINT_TOPIC, V3_BURN_TOPIC, POOL_CREATED_TOPIC];
    const logs = await this.reader.call<RpcLog[]>('eth_getLogs', [{ blockHash: head.hash, topics: [topics] }]);
    const applied = this.registry.applyLogs(logs, head.number);
    let v3Synced = 0;
    let v3Created = 0;
    const v3 = this.v3;
    if (v3 !== null) {
      const r = v3.registry.applyLogs(logs, head.number);
      v3Synced = r.swaps + r.mints + r.burns;
      const created = this.createdV3(logs);
      v3Created = await this.addV3Pools([...created.keys()], created, head.number);
    }
    const moved = new Set<string>();
    for (const l of logs) if (!l.removed) moved.add(l.address.toLowerCase());
    for (const l of logs) {
      if (l.topics[0]?.toLowerCase() === PAIR_CREATED_TOPIC && l.data.length >= 66) moved.add(`0x${l.data.slice(26, 66)}`.toLowerCase());
    }
    return { report: { logs: logs.length, synced: applied.synced, created: applied.created, v3Synced, v3Created }, moved };
  }

  /**
   * What scoring need not wait for: a reconcile of the V2 pools the block moved plus the next
   * `reconcilePerBlock` in rotation (all of them after a reorg) against `getReserves`, and a re-read
   * of the V3 pools flagged for refresh (skipped as `v3-stale` by the scorer until then). Readings
   * older than a pool's state are ignored by the registries, so this may finish after later heads.
   */
  async checkHead(head: BlockEvent, moved: ReadonlySet<string>): Promise<{ reconciled: number; drift: number; v3Refreshed: number }> {
    let v3Refreshed = 0;
    const v3 = this.v3;
    if (v3 !== null) {
      // After a reorg every pool is re-read, since removed logs are not undone.
      const stale = head.reorg ? v3.registry.all().map((p) => p.address) : v3.registry.refreshList();
      if (stale.length > 0) {
        const readings = await this.readV3(stale, head.number);
        v3.registry.reconcile(readings, head.number);
        v3Refreshed = readings.length;
      }
    }
    const all = this.registry.all();
    let check: string[];
    if (head.reorg) check = all.map((p) => p.address);
    else {
      const set = new Set(moved);
      const n = Math.min(this.reconcilePerBlock, all.length);
      for (let i = 0; i < n; i++) set.add(all[(this.rotation + i) % all.length]!.address);
      this.rotation = all.length === 0 ? 0 : (this.rotation + n) % all.length;
      check = [...set].filter((a) => this.registry.get(a) !== undefined);
    }
    const drift = await this.reconcile(check, head.number);
    return { reconciled: check.length, drift, v3Refreshed };
  }

}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
