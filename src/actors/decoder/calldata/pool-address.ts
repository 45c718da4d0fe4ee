import { keccak_256 } from '@noble/hashes/sha3';

/**
 * Pool addresses by CREATE2, as the routers derive them on chain (`UniswapV2Library.pairFor`,
 * V3 `PoolAddress.computeAddress`): `keccak256(0xff ++ factory ++ salt ++ initCodeHash)[12:]`, with
 * salt `keccak256(token0 ++ token1)` for a V2 pair and `keccak256(abi.encode(token0, token1, fee))`
 * for a V3 pool. Inputs are lowercase 0x-hex; tokens are sorted here.
 *
 * Two keccaks cost ~3 µs, and the same few pools recur in nearly every swap, so results are cached
 * per thread (bounded; cleared whole when full, which is cheaper than LRU bookkeeping on every hit).
 */

const CACHE_LIMIT = 1 << 14;
const cache = new Map<string, string>();

// Reused preimage buffers: the hot path allocates only the hash outputs and the result string.
const create2 = new Uint8Array(85);
create2[0] = 0xff;
const v2Salt = new Uint8Array(40);
const v3Salt = new Uint8Array(96);

/** Uniswap V2 pair of `tokenA` and `tokenB` (either order) under `factory`. */
export function v2PairAddress(factory: string, initCodeHash: string, tokenA: string, tokenB: string): string {
  const t0 = tokenA < tokenB ? tokenA : tokenB;
  const t1 = t0 === tokenA ? tokenB : tokenA;
  const key = `${factory}${t0}${t1}`;
  let pool = cache.get(key);
  if (pool === undefined) {
    hexInto(t0, v2Salt, 0);
    hexInto(t1, v2Salt, 20);
    pool = derive(factory, keccak_256(v2Salt), initCodeHash);
    remember(key, pool);
  }
  return pool;
}

/** Uniswap V3 pool of `tokenA` and `tokenB` (either order) at `fee` (hundredths of a bip) under `factory`. */
export function v3PoolAddress(factory: string, initCodeHash: string, tokenA: string, tokenB: string, fee: number): string {
  const t0 = tokenA < tokenB ? tokenA : tokenB;
  const t1 = t0 === tokenA ? tokenB : tokenA;
  const key = `${factory}${t0}${t1}${fee}`;
  let pool = cache.get(key);
  if (pool === undefined) {
    // abi.encode(address, address, uint24): three left-padded words.
    v3Salt.fill(0);
    hexInto(t0, v3Salt, 12);
    hexInto(t1, v3Salt, 44);
    v3Salt[93] = (fee >>> 16) & 0xff;
    v3Salt[94] = (fee >>> 8) & 0xff;
    v3Salt[95] = fee & 0xff;
    pool = derive(factory, keccak_256(v3Salt), initCodeHash);
    remember(key, pool);
  }
  return pool;
}

/** Empties the per-thread cache (tests, and a registry swap at run time). */
export function clearPoolAddressCache(): void {
  cache.clear();
}

function derive(factory: string, salt: Uint8Array, initCodeHash: string): string {
  hexInto(factory, create2, 1);
  create2.set(salt, 21);
  hexInto(initCodeHash, create2, 53);
  const h = keccak_256(create2);
  return `0x${Buffer.from(h.buffer, h.byteOffset + 12, 20).toString('hex')}`;
}

function remember(key: string, pool: string): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, pool);
}

/** Writes the bytes of 0x-hex `hex` into `out` at `offset`; the caller guarantees valid hex. */
function hexInto(hex: string, out: Uint8Array, offset: number): void {
  for (let i = 2, o = offset; i < hex.length; i += 2, o++) out[o] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
}

function nibble(c: number): number {
  // '0'-'9' → 0-9, 'a'-'f' → 10-15 (lowercase only: every input here is lowercase).
  return c <= 57 ? c - 48 : c - 87;
}
