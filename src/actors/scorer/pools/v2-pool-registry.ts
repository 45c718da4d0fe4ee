import type { V2PairState } from './v2-math.js';

/** `Sync(uint112 reserve0, uint112 reserve1)`: every V2 pair emits it after each reserve change. */
export const SYNC_TOPIC = '0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1';
/** `PairCreated(address indexed token0, address indexed token1, address pair, uint)` of a V2 factory. */
export const PAIR_CREATED_TOPIC = '0x0d3648bd0f6ba80134a33ba9275ac585d9d315f0ad8355cddefde31afa28d0e9';

/** A log as JSON-RPC returns it (`eth_getLogs`, receipts): hex strings. */
export interface RpcLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber?: string | null;
  removed?: boolean;
}

/** A registered pair: its strategy state plus where it came from and how fresh it is. */
export interface V2Pool extends V2PairState {
  /** Factory that created it, when known (lowercase). */
  factory: string | null;
  /** Block whose state the reserves are (the last Sync applied or the last reconcile). */
  block: number;
}

/** What {@link V2PoolRegistry.applyLogs} did with a block's logs. */
export interface ApplyLogsResult {
  /** Sync logs of registered pairs applied. */
  synced: number;
  /** Pairs created by a watched factory and registered with zero reserves (the Sync after their first mint fills them). */
  created: number;
  /** Logs skipped: unregistered pairs, other events, malformed data. */
  skipped: number;
}

/** A pair's reserves as read from the node, for {@link V2PoolRegistry.reconcile}. */
export interface ReserveReading {
  address: string;
  reserve0: bigint;
  reserve1: bigint;
}

/**
 * The scorer's registry of Uniswap V2 (and fork) pairs: token pair → pools, kept current from the
 * `Sync` logs of mined blocks and checked against the node's `getReserves` on reconcile. Lookups
 * are O(1) by address and by unordered token pair, which is what the sandwich (one pool) and the
 * arbitrage (every pool sharing two tokens) need per transaction.
 */
export class V2PoolRegistry {
  private readonly byAddress = new Map<string, V2Pool>();
  private readonly byTokens = new Map<string, V2Pool[]>();
  private readonly byToken = new Map<string, V2Pool[]>();
  /** token → other token → pools, both ways: the hot path's lookup (no key string built per call). */
  private readonly byPair = new Map<string, Map<string, V2Pool[]>>();
  private readonly factories = new Map<string, bigint>();
  /** Reconciles that found the registry's reserves different from the node's. */
  drift = 0;

  /** Watches `factory`: its `PairCreated` logs register new pairs with `feeBps`. */
  watchFactory(factory: string, feeBps = 30n): void {
    this.factories.set(factory.toLowerCase(), feeBps);
  }

  /** Adds (or replaces) a pair. Tokens are stored lowercase, token0 < token1 as the factory sorts them. */
  add(pool: Omit<V2Pool, 'block' | 'factory'> & { block?: number; factory?: string | null }): V2Pool {
    const p: V2Pool = {
      address: pool.address.toLowerCase(),
      token0: pool.token0.toLowerCase(),
      token1: pool.token1.toLowerCase(),
      reserve0: pool.reserve0,
      reserve1: pool.reserve1,
      feeBps: pool.feeBps,
      factory: pool.factory?.toLowerCase() ?? null,
      block: pool.block ?? 0,
    };
    if (p.token0 > p.token1) throw new RangeError(`pair ${p.address}: token0 ${p.token0} must sort below token1 ${p.token1}`);
    const old = this.byAddress.get(p.address);
    if (old) this.unlink(old);
    this.byAddress.set(p.address, p);
    const key = tokenKey(p.token0, p.token1);
    const list = this.byTokens.get(key);
    if (list) list.push(p);
    else this.byTokens.set(key, [p]);
    for (const t of [p.token0, p.token1]) {
      const l = this.byToken.get(t);
      if (l) l.push(p);
      else this.byToken.set(t, [p]);
    }
    this.linkPair(p.token0, p.token1);
    this.linkPair(p.token1, p.token0);
    return p;
  }

  /** Points `byPair[a][b]` at the token pair's list in `byTokens` (one shared array per pair). */
  private linkPair(a: string, b: string): void {
    const list = this.byTokens.get(a < b ? tokenKey(a, b) : tokenKey(b, a));
    let m = this.byPair.get(a);
    if (!m) this.byPair.set(a, (m = new Map()));
    if (list) m.set(b, list);
    else {
      m.delete(b);
      if (m.size === 0) this.byPair.delete(a);
    }
  }

  private unlink(p: V2Pool): void {
    const key = tokenKey(p.token0, p.token1);
    const list = this.byTokens.get(key)!.filter((x) => x !== p);
    if (list.length > 0) this.byTokens.set(key, list);
    else this.byTokens.delete(key);
    this.linkPair(p.token0, p.token1);
    this.linkPair(p.token1, p.token0);
    for (const t of [p.token0, p.token1]) {
      const l = this.byToken.get(t)!.filter((x) => x !== p);
      if (l.length > 0) this.byToken.set(t, l);
      else this.byToken.delete(t);
    }
  }

  /** Every registered pool holding `token`, in registration order (lowercase input). */
  withToken(token: string): readonly V2Pool[] {
    return this.byToken.get(token) ?? [];
  }

  /** The pair at `address` (any case). */
  get(address: string): V2Pool | undefined {
    return this.byAddress.get(address) ?? this.byAddress.get(address.toLowerCase());
  }

  /** Every registered pool trading `a` against `b` (either order), in registration order. */
  pools(a: string, b: string): readonly V2Pool[] {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return this.byTokens.get(x < y ? tokenKey(x, y) : tokenKey(y, x)) ?? [];
  }

  /** As {@link pools} for lowercase `a` and `b`, with no string built: the scorer's per-candidate lookup. */
  poolsLower(a: string, b: string): readonly V2Pool[] {
    return this.byPair.get(a)?.get(b) ?? NO_POOLS;
  }

  /** Number of pairs. */
  get size(): number {
    return this.byAddress.size;
  }

  /** All pairs. @remarks Allocates; not for the hot path. */
  all(): V2Pool[] {
    return [...this.byAddress.values()];
  }

  /**
   * Applies a mined block's logs in order: `Sync` sets a registered pair's reserves; `PairCreated`
   * from a watched factory registers the pair. A removed log (reorg) is skipped: the next reconcile
   * restores the reserves from the node.
   */
  applyLogs(logs: readonly RpcLog[], block: number): ApplyLogsResult {
    const r: ApplyLogsResult = { synced: 0, created: 0, skipped: 0 };
    for (const log of logs) {
      const topic = log.topics[0]?.toLowerCase();
      if (log.removed) r.skipped++;
      else if (topic === SYNC_TOPIC) {
        const pool = this.get(log.address);
        const data = words(log.data, 2);
        if (!pool || !data) {
          r.skipped++;
          continue;
        }
        pool.reserve0 = data[0]!;
        pool.reserve1 = data[1]!;
        pool.block = block;
        r.synced++;
      } else if (topic === PAIR_CREATED_TOPIC) {
        const fee = this.factories.get(log.address.toLowerCase());
        const data = words(log.data, 2);
        if (fee === undefined || !data || log.topics.length < 3) {
          r.skipped++;
          continue;
        }
        const address = `0x${(data[0]! & ((1n << 160n) - 1n)).toString(16).padStart(40, '0')}`;
        this.add({ address, token0: topicAddress(log.topics[1]!), token1: topicAddress(log.topics[2]!), reserve0: 0n, reserve1: 0n, feeBps: fee, factory: log.address, block });
        r.created++;
      } else r.skipped++;
    }
    return r;
  }

  /** Sets reserves read from the node at `block`; returns how many differed from what the logs gave (counted in `drift`). */
  reconcile(readings: readonly ReserveReading[], block: number): number {
    let differed = 0;
    for (const x of readings) {
      const pool = this.get(x.address);
      // A reading older than what the logs already gave (a late reconcile) says nothing new.
      if (!pool || pool.block > block) continue;
      if (pool.reserve0 !== x.reserve0 || pool.reserve1 !== x.reserve1) differed++;
      pool.reserve0 = x.reserve0;
      pool.reserve1 = x.reserve1;
      pool.block = block;
    }
    this.drift += differed;
    return differed;
  }
}

const NO_POOLS: readonly V2Pool[] = Object.freeze([]);

function tokenKey(token0: string, token1: string): string {
  return `${token0}:${token1}`;
}

function topicAddress(topic: string): string {
  return `0x${topic.slice(-40).toLowerCase()}`;
}

/** The first `n` 32-byte words of 0x-hex `data`, or null when it is shorter or not hex. */
function words(data: string, n: number): bigint[] | null {
  if (!data.startsWith('0x') || data.length < 2 + 64 * n) return null;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const w = data.slice(2 + 64 * i, 2 + 64 * (i + 1));
    if (!/^[0-9a-fA-F]{64}$/.test(w)) return null;
    out.push(BigInt(`0x${w}`));
  }
  return out;
}
