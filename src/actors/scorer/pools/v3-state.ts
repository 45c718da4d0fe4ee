import { decodeFunctionResult, encodeFunctionData, type Hex, parseAbi } from 'viem';
import { MAX_TICK, MIN_TICK } from './v3-math/tick-math.js';
import type { V3PoolReading, V3TickInfo } from './v3-pool-registry.js';

/** The UniswapV3Pool views {@link readV3Pools} calls. */
export const V3_POOL_STATE_ABI = parseAbi([
  'function token0() view returns (address)',
  'function token1() view returns (address)',
  'function fee() view returns (uint24)',
  'function tickSpacing() view returns (int24)',
  'function slot0() view returns (uint160 sqrtPriceX96, int24 tick, uint16 observationIndex, uint16 observationCardinality, uint16 observationCardinalityNext, uint8 feeProtocol, bool unlocked)',
  'function liquidity() view returns (uint128)',
  'function tickBitmap(int16 wordPosition) view returns (uint256)',
  'function ticks(int24 tick) view returns (uint128 liquidityGross, int128 liquidityNet, uint256 feeGrowthOutside0X128, uint256 feeGrowthOutside1X128, int56 tickCumulativeOutside, uint160 secondsPerLiquidityOutsideX128, uint32 secondsOutside, bool initialized)',
]);

/** Options of {@link readV3Pools}. */
export interface ReadV3PoolsOptions {
  /** Bitmap words read on each side of the current tick's word (each covers 256 · tickSpacing ticks); default 2. */
  wordsAround?: number;
  /** Block to read at; default `latest`, which is pinned to a number first so every batch reads one state. */
  block?: number | 'latest';
}

const META = ['token0', 'token1', 'fee', 'tickSpacing', 'slot0', 'liquidity'] as const;
const META_DATA: readonly Hex[] = META.map((functionName) => encodeFunctionData({ abi: V3_POOL_STATE_ABI, functionName }));

interface Call {
  to: string;
  data: Hex;
}

/**
 * Reads V3 pools from the node at one block with three JSON-RPC batches of `eth_call` (plus an
 * `eth_blockNumber` when `block` is `latest`): token0, token1, fee, tickSpacing, slot0 and
 * liquidity of every pool; then the `tickBitmap` words within `wordsAround` of the current tick's
 * word; then `ticks(i)` for every initialized tick they show. The result's `[tickLo, tickHi]` is the
 * range those words cover, clamped to the tick bounds. A pool whose call fails or which is not
 * initialized is left out, so the caller reconciles what it got; the rest keep the caller's order.
 * @remarks Allocates; runs off the hot path (start-up, refreshes).
 */
export async function readV3Pools(rpcUrl: string, addresses: readonly string[], opts: ReadV3PoolsOptions = {}): Promise<V3PoolReading[]> {
  const wordsAround = opts.wordsAround ?? 2;
  if (!Number.isInteger(wordsAround) || wordsAround < 0) throw new RangeError(`opts.wordsAround must be a non-negative integer, got ${opts.wordsAround}`);
  if (addresses.length === 0) return [];
  let block: number;
  if (opts.block === undefined || opts.block === 'latest') {
    const [n] = await batch(rpcUrl, [['eth_blockNumber', []]]);
    if (typeof n !== 'string') throw new Error('eth_blockNumber failed');
    block = Number(BigInt(n));
  } else block = opts.block;
  const tag = `0x${block.toString(16)}`;

  // 1. Meta, price and liquidity.
  const metaCalls: Call[] = [];
  for (const to of addresses) for (const data of META_DATA) metaCalls.push({ to, data });
  const meta = await ethCalls(rpcUrl, metaCalls, tag);
  const pools: V3PoolReading[] = [];
  for (let i = 0; i < addresses.length; i++) {
    const r = meta.slice(i * META.length, (i + 1) * META.length);
    try {
      if (r.some((x) => x === null)) continue;
      const token0 = decodeFunctionResult({ abi: V3_POOL_STATE_ABI, functionName: 'token0', data: r[0] as Hex });
      const token1 = decodeFunctionResult({ abi: V3_POOL_STATE_ABI, functionName: 'token1', data: r[1] as Hex });
      const fee = decodeFunctionResult({ abi: V3_POOL_STATE_ABI, functionName: 'fee', data: r[2] as Hex });
      const tickSpacing = decodeFunctionResult({ abi: V3_POOL_STATE_ABI, functionName: 'tickSpacing', data: r[3] as Hex });
      const slot0 = decodeFunctionResult({ abi: V3_POOL_STATE_ABI, functionName: 'slot0', data: r[4] as Hex });
      const liquidity = decodeFunctionResult({ abi: V3_POOL_STATE_ABI, functionName: 'liquidity', data: r[5] as Hex });
      if (slot0[0] === 0n || tickSpacing <= 0) continue; // not initialized
      pools.push({
        address: addresses[i]!.toLowerCase(),
        token0: token0.toLowerCase(),
        token1: token1.toLowerCase(),
        fee,
        tickSpacing,
        sqrtPriceX96: slot0[0],
        tick: slot0[1],
        liquidity,
        ticks: [],
        tickLo: 0,
        tickHi: 0,
        block,
      });
    } catch {
      // Short or malformed return data: not a V3 pool.
    }
  }

  // 2. Bitmap words around the current tick.
  const wordCalls: Call[] = [];
  const wordOf: { pool: number; word: number }[] = [];
  pools.forEach((p, pi) => {
    const [wLo, wHi] = wordRange(p.tick, p.tickSpacing, wordsAround);
    p.tickLo = Math.max(MIN_TICK, wLo * 256 * p.tickSpacing);
    p.tickHi = Math.min(MAX_TICK, (wHi * 256 + 255) * p.tickSpacing);
    for (let w = wLo; w <= wHi; w++) {
      wordCalls.push({ to: p.address, data: encodeFunctionData({ abi: V3_POOL_STATE_ABI, functionName: 'tickBitmap', args: [w] }) });
      wordOf.push({ pool: pi, word: w });
    }
  });
  const words = await ethCalls(rpcUrl, wordCalls, tag);
  const failed = new Set<number>();
  const tickCalls: Call[] = [];
  const tickOf: { pool: number; tick: number }[] = [];
  words.forEach((res, i) => {
    const { pool: pi, word: w } = wordOf[i]!;
    if (res === null || res.length < 66) {
      failed.add(pi);
      return;
    }
    const p = pools[pi]!;
    // Bit b of word w is compressed tick w·256 + b; the hex string is big-endian, bit 0 last.
    for (let nib = 0; nib < 64; nib++) {
      const v = Number.parseInt(res[res.length - 1 - nib]!, 16);
      if (v === 0) continue;
      for (let k = 0; k < 4; k++) {
        if ((v & (1 << k)) === 0) continue;
        const tick = (w * 256 + nib * 4 + k) * p.tickSpacing;
        tickCalls.push({ to: p.address, data: encodeFunctionData({ abi: V3_POOL_STATE_ABI, functionName: 'ticks', args: [tick] }) });
        tickOf.push({ pool: pi, tick });
      }
    }
  });

  // 3. The initialized ticks.
  const ticks = await ethCalls(rpcUrl, tickCalls, tag);
  ticks.forEach((res, i) => {
    const { pool: pi, tick } = tickOf[i]!;
    if (res === null) {
      failed.add(pi);
      return;
    }
    try {
      const [liquidityGross, liquidityNet] = decodeFunctionResult({ abi: V3_POOL_STATE_ABI, functionName: 'ticks', data: res as Hex });
      const info: V3TickInfo = { tick, liquidityNet, liquidityGross };
      pools[pi]!.ticks.push(info);
    } catch {
      failed.add(pi);
    }
  });
  const out: V3PoolReading[] = [];
  pools.forEach((p, i) => {
    if (failed.has(i)) return;
    p.ticks.sort((a, b) => a.tick - b.tick);
    out.push(p);
  });
  return out;
}

/** Bitmap words `[lo, hi]` within `around` of the word holding `tick`, clamped to the words valid ticks can use. */
export function wordRange(tick: number, tickSpacing: number, around: number): [number, number] {
  // Compressed ticks round toward negative infinity, as TickBitmap's `compressed--` does.
  const w = Math.floor(Math.floor(tick / tickSpacing) / 256);
  const wMin = Math.floor(Math.ceil(MIN_TICK / tickSpacing) / 256);
  const wMax = Math.floor(Math.floor(MAX_TICK / tickSpacing) / 256);
  return [Math.max(wMin, w - around), Math.min(wMax, w + around)];
}

/** `eth_call`s in one batch; each result is the return data, or null where the call failed. */
async function ethCalls(rpcUrl: string, calls: readonly Call[], tag: string): Promise<(string | null)[]> {
  if (calls.length === 0) return [];
  const res = await batch(
    rpcUrl,
    calls.map((c) => ['eth_call', [{ to: c.to, data: c.data }, tag]]),
  );
  return res.map((r) => (typeof r === 'string' && r.startsWith('0x') ? r : null));
}

/** One JSON-RPC batch; results in call order, undefined where a call returned an error. */
async function batch(rpcUrl: string, calls: readonly (readonly [string, readonly unknown[]])[]): Promise<unknown[]> {
  const body = calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }));
  const res = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`V3 pool state batch: HTTP ${res.status}`);
  const replies = (await res.json()) as { id: number; result?: unknown }[];
  // Replies of a batch may come in any order; ids put them back.
  const out = new Array<unknown>(calls.length);
  for (const r of Array.isArray(replies) ? replies : []) if (typeof r?.id === 'number' && r.id >= 0 && r.id < calls.length) out[r.id] = r.result;
  return out;
}
