import type { RpcLog } from './v2-pool-registry.js';

/** `Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)` of a V3 pool. */
export const V3_SWAP_TOPIC = '0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67';
/** `Mint(address sender, address indexed owner, int24 indexed tickLower, int24 indexed tickUpper, uint128 amount, uint256 amount0, uint256 amount1)`. */
export const V3_MINT_TOPIC = '0x7a53080ba414158be7ec69b987b5fb7d07dee101fe85488f0853ae16239d0bde';
/** `Burn(address indexed owner, int24 indexed tickLower, int24 indexed tickUpper, uint128 amount, uint256 amount0, uint256 amount1)`. */
export const V3_BURN_TOPIC = '0x0c396cd989a39f4459b5fa1aed6a9a8dcdbc45908acfd67e028cd568da98982c';

/**
 * One initialized tick as the pool's `ticks(i)` reports it. `liquidityGross` is kept so a burn
 * knows when the tick becomes uninitialized (the contract clears it when gross reaches 0, even
 * though liquidityNet may have been 0 all along).
 */
export interface V3TickInfo {
  tick: number;
  liquidityNet: bigint;
  liquidityGross: bigint;
}

/**
 * A V3 pool's state as read from the node ({@link readV3Pools}): what a swap needs, plus the tick
 * range `[tickLo, tickHi]` whose initialized ticks `ticks` is known to hold completely (the bitmap
 * words that were read). Outside it the list says nothing.
 */
export interface V3PoolReading {
  /** Pool address, lowercase 0x-hex. */
  address: string;
  token0: string;
  token1: string;
  /** Fee in hundredths of a bip (3000 = 0.3%). */
  fee: number;
  tickSpacing: number;
  sqrtPriceX96: bigint;
  tick: number;
  liquidity: bigint;
  /** Initialized ticks within `[tickLo, tickHi]`, ascending. */
  ticks: V3TickInfo[];
  tickLo: number;
  tickHi: number;
  /** Block the state was read at. */
  block: number;
}

/**
 * A registered pool: a {@link V3PoolReading} kept current from logs. It is a `V3PoolState`, so the
 * v3 math swaps on it directly; the swap is exact as long as the price stays in `[tickLo, tickHi]`.
 * The registry mutates pools (and their tick arrays) in place.
 */
export type V3Pool = V3PoolReading;

/** What {@link V3PoolRegistry.applyLogs} did with a block's logs. */
export interface V3ApplyLogsResult {
  swaps: number;
  mints: number;
  burns: number;
  /** Logs skipped: unregistered pools, other events, removed logs, malformed data. */
  skipped: number;
  /** Pools this call newly marked as needing a re-read (see {@link V3PoolRegistry.needsRefresh}). */
  needsRefresh: number;
}

const INT256_SIGN = 1n << 255n;
const TWO_256 = 1n << 256n;

/**
 * The scorer's registry of Uniswap V3 pools: token pair → pools, kept current from mined blocks'
 * `Swap`, `Mint` and `Burn` logs and checked against the node on reconcile. A pool whose price has
 * left the tick range it was read over, or whose tick list a log could not update, is marked
 * {@link needsRefresh}: the scorer must re-read it ({@link readV3Pools} + {@link reconcile}) before
 * pricing a swap on it, since a missing initialized tick changes the amounts.
 */
export class V3PoolRegistry {
  private readonly byAddress = new Map<string, V3Pool>();
  private readonly byTokens = new Map<string, V3Pool[]>();
  private readonly stale = new Set<string>();
  /** Reconciles that found the registry's state different from the node's. */
  drift = 0;

  /**
   * Adds (or replaces) a pool from a reading; the tick list is copied. Throws a RangeError unless
   * token0 sorts below token1, the tick spacing is positive, the range is ordered and the ticks are
   * ascending inside it.
   */
  add(pool: Omit<V3PoolReading, 'block'> & { block?: number }): V3Pool {
    const p: V3Pool = {
      address: pool.address.toLowerCase(),
      token0: pool.token0.toLowerCase(),
      token1: pool.token1.toLowerCase(),
      fee: pool.fee,
      tickSpacing: pool.tickSpacing,
      sqrtPriceX96: pool.sqrtPriceX96,
      tick: pool.tick,
      liquidity: pool.liquidity,
      ticks: copyTicks(pool.ticks),
      tickLo: pool.tickLo,
      tickHi: pool.tickHi,
      block: pool.block ?? 0,
    };
    if (p.token0 > p.token1) throw new RangeError(`pool ${p.address}: token0 ${p.token0} must sort below token1 ${p.token1}`);
    if (!(p.tickSpacing > 0)) throw new RangeError(`pool ${p.address}: tickSpacing must be positive, got ${p.tickSpacing}`);
    if (!(p.tickLo <= p.tickHi)) throw new RangeError(`pool ${p.address}: tickLo ${p.tickLo} must not exceed tickHi ${p.tickHi}`);
    checkTicks(p);
    const old = this.byAddress.get(p.address);
    if (old) this.unlink(old);
    this.byAddress.set(p.address, p);
    const key = tokenKey(p.token0, p.token1);
    const list = this.byTokens.get(key);
    if (list) list.push(p);
    else this.byTokens.set(key, [p]);
    if (outOfRange(p)) this.stale.add(p.address);
    else this.stale.delete(p.address);
    return p;
  }

  private unlink(p: V3Pool): void {
    const key = tokenKey(p.token0, p.token1);
    const list = this.byTokens.get(key)!.filter((x) => x !== p);
    if (list.length > 0) this.byTokens.set(key, list);
    else this.byTokens.delete(key);
  }

  /** The pool at `address` (any case). */
  get(address: string): V3Pool | undefined {
    return this.byAddress.get(address) ?? this.byAddress.get(address.toLowerCase());
  }

  /** Every registered pool trading `a` against `b` (either order), in registration order. */
  pools(a: string, b: string): readonly V3Pool[] {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return this.byTokens.get(x < y ? tokenKey(x, y) : tokenKey(y, x)) ?? [];
  }

  /** Number of pools. */
  get size(): number {
    return this.byAddress.size;
  }

  /** All pools, in registration order. @remarks Allocates; not for the hot path. */
  all(): V3Pool[] {
    return [...this.byAddress.values()];
  }

  /**
   * True when the pool at `address` must be re-read before the math can price a swap on it: its
   * current tick is outside the range its tick list covers, or a log touched a tick the registry
   * could not track. False for a pool that is fine or not registered.
   */
  needsRefresh(address: string): boolean {
    return this.stale.size > 0 && (this.stale.has(address) || this.stale.has(address.toLowerCase()));
  }

  /** Addresses of the pools that {@link needsRefresh}, sorted. @remarks Allocates. */
  refreshList(): string[] {
    return [...this.stale].sort();
  }

  /**
   * Applies a mined block's logs in order. `Swap` sets price, tick and active liquidity as the
   * pool reports them after the swap. `Mint`/`Burn` change liquidityGross/Net of their two ticks
   * (inserting a tick that becomes initialized, dropping one whose gross falls to 0) and the active
   * liquidity when the current tick is in `[tickLower, tickUpper)`, as `UniswapV3Pool._modifyPosition`
   * does. A tick outside the covered range is not tracked (the range says nothing there). A
   * removed log (reorg) is skipped: the next reconcile restores the state from the node.
   */
  applyLogs(logs: readonly RpcLog[], block: number): V3ApplyLogsResult {
    const r: V3ApplyLogsResult = { swaps: 0, mints: 0, burns: 0, skipped: 0, needsRefresh: 0 };
    for (let i = 0; i < logs.length; i++) {
      const log = logs[i]!;
      const t0 = log.topics[0];
      const topic = t0 === undefined ? '' : t0.length === 66 ? t0.toLowerCase() : '';
      const pool = log.removed || topic === '' ? undefined : this.get(log.address);
      if (pool === undefined) {
        r.skipped++;
        continue;
      }
      const wasStale = this.stale.has(pool.address);
      if (topic === V3_SWAP_TOPIC) {
        // data: amount0, amount1, sqrtPriceX96, liquidity, tick (each one 32-byte word).
        const sqrtPriceX96 = word(log.data, 2);
        const liquidity = word(log.data, 3);
        const tick = word(log.data, 4);
        if (sqrtPriceX96 === null || liquidity === null || tick === null) {
          r.skipped++;
          continue;
        }
        pool.sqrtPriceX96 = sqrtPriceX96;
        pool.liquidity = liquidity;
        pool.tick = Number(signed(tick));
        pool.block = block;
        if (outOfRange(pool)) this.stale.add(pool.address);
        r.swaps++;
      } else if (topic === V3_MINT_TOPIC || topic === V3_BURN_TOPIC) {
        const mint = topic === V3_MINT_TOPIC;
        // Mint data: sender, amount, amount0, amount1; Burn data: amount, amount0, amount1.
        const amount = word(log.data, mint ? 1 : 0);
        const lower = topicInt(log.topics[2]);
        const upper = topicInt(log.topics[3]);
        if (amount === null || lower === null || upper === null) {
          r.skipped++;
          continue;
        }
        const delta = mint ? amount : -amount;
        if (delta !== 0n) {
          const ok = this.updateTick(pool, lower, delta, false) && this.updateTick(pool, upper, delta, true);
          if (!ok) this.stale.add(pool.address);
          if (pool.tick >= lower && pool.tick < upper) pool.liquidity += delta;
        }
        pool.block = block;
        if (mint) r.mints++;
        else r.burns++;
      } else {
        r.skipped++;
        continue;
      }
      if (!wasStale && this.stale.has(pool.address)) r.needsRefresh++;
    }
    return r;
  }

  /** `Tick.update` on the list; false when a burn hits a tick the list does not hold (state unknown). */
  private updateTick(pool: V3Pool, tick: number, delta: bigint, upper: boolean): boolean {
    if (tick < pool.tickLo || tick > pool.tickHi) return true;
    const ticks = pool.ticks;
    const i = lowerBound(ticks, tick);
    const t = ticks[i];
    const net = upper ? -delta : delta;
    if (t !== undefined && t.tick === tick) {
      const gross = t.liquidityGross + delta;
      if (gross < 0n) return false;
      if (gross === 0n) ticks.splice(i, 1);
      else {
        t.liquidityGross = gross;
        t.liquidityNet += net;
      }
      return true;
    }
    if (delta < 0n) return false;
    ticks.splice(i, 0, { tick, liquidityNet: net, liquidityGross: delta });
    return true;
  }

  /**
   * Replaces registered pools' state with readings from the node at `block` (the tick list and its
   * range too, which clears {@link needsRefresh}); returns how many differed from what the logs
   * gave (price, tick, liquidity, or a tick inside both the old and the new range), counted in
   * `drift`. Readings of unregistered pools are ignored: {@link add} them.
   */
  reconcile(readings: readonly V3PoolReading[], block: number): number {
    let differed = 0;
    for (const x of readings) {
      const pool = this.get(x.address);
      // A reading older than what the logs already gave (a late refresh) says nothing new.
      if (!pool || pool.block > block) continue;
      if (pool.sqrtPriceX96 !== x.sqrtPriceX96 || pool.tick !== x.tick || pool.liquidity !== x.liquidity || !sameTicks(pool, x)) differed++;
      pool.sqrtPriceX96 = x.sqrtPriceX96;
      pool.tick = x.tick;
      pool.liquidity = x.liquidity;
      pool.ticks = copyTicks(x.ticks);
      pool.tickLo = x.tickLo;
      pool.tickHi = x.tickHi;
      pool.block = block;
      checkTicks(pool);
      if (outOfRange(pool)) this.stale.add(pool.address);
      else this.stale.delete(pool.address);
    }
    this.drift += differed;
    return differed;
  }
}

function tokenKey(token0: string, token1: string): string {
  return `${token0}:${token1}`;
}

function outOfRange(p: V3Pool): boolean {
  return p.tick < p.tickLo || p.tick > p.tickHi;
}

function copyTicks(ticks: readonly V3TickInfo[]): V3TickInfo[] {
  return ticks.map((t) => ({ tick: t.tick, liquidityNet: t.liquidityNet, liquidityGross: t.liquidityGross }));
}

function checkTicks(p: V3Pool): void {
  for (let i = 0; i < p.ticks.length; i++) {
    const t = p.ticks[i]!.tick;
    if ((i > 0 && t <= p.ticks[i - 1]!.tick) || t < p.tickLo || t > p.tickHi) {
      throw new RangeError(`pool ${p.address}: ticks must be ascending inside [${p.tickLo}, ${p.tickHi}], got ${t} at ${i}`);
    }
  }
}

/** Equal initialized ticks (net and gross) where both ranges overlap. */
function sameTicks(a: V3Pool, b: V3PoolReading): boolean {
  const lo = Math.max(a.tickLo, b.tickLo);
  const hi = Math.min(a.tickHi, b.tickHi);
  let i = lowerBound(a.ticks, lo);
  let j = lowerBound(b.ticks, lo);
  for (;;) {
    const x = a.ticks[i];
    const y = b.ticks[j];
    const xIn = x !== undefined && x.tick <= hi;
    const yIn = y !== undefined && y.tick <= hi;
    if (!xIn || !yIn) return xIn === yIn;
    if (x.tick !== y.tick || x.liquidityNet !== y.liquidityNet || x.liquidityGross !== y.liquidityGross) return false;
    i++;
    j++;
  }
}

/** Index of the first tick >= `t` (ticks.length when none). */
function lowerBound(ticks: readonly V3TickInfo[], t: number): number {
  let lo = 0;
  let hi = ticks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ticks[mid]!.tick < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** 32-byte word `i` of 0x-hex `data` as an unsigned bigint, or null when short or not hex. */
function word(data: string, i: number): bigint | null {
  const end = 2 + 64 * (i + 1);
  if (data.length < end || data.charCodeAt(0) !== 48 || (data.charCodeAt(1) | 32) !== 120) return null;
  try {
    return BigInt(`0x${data.slice(end - 64, end)}`);
  } catch {
    return null;
  }
}

/** An indexed int24 topic (sign-extended to 32 bytes) as a number, or null. */
function topicInt(topic: string | undefined): number | null {
  if (topic === undefined || topic.length !== 66) return null;
  const v = word(topic, 0);
  return v === null ? null : Number(signed(v));
}

function signed(v: bigint): bigint {
  return v >= INT256_SIGN ? v - TWO_256 : v;
}
