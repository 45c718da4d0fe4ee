import type { SwapIntent } from '../../../messages/schema.js';

/**
 * A contract the classifier knows, as plain data so a list of them travels in a worker's config
 * (structured clone) and in JSON. Addresses and hashes are 0x-hex; the registry stores them
 * lowercase. A factory and its init code hash come as a pair: pools are derived by CREATE2 only
 * when both are known.
 */
export interface RouterEntry {
  address: string;
  kind: SwapIntent['kind'];
  /** Human label for logs and the dashboard (`uniswap-v2-router02`, `sushiswap-router`, …). */
  name: string;
  /** Uniswap V2 (or fork) factory the router's V2 swaps go through. */
  v2Factory?: string;
  /** keccak256 of the pair creation code, as in `UniswapV2Library.pairFor`. */
  v2InitCodeHash?: string;
  /** Uniswap V3 (or fork) factory the router's V3 swaps go through. */
  v3Factory?: string;
  /** keccak256 of the pool creation code, as in `PoolAddress.computeAddress`. */
  v3InitCodeHash?: string;
  /** The router's WETH9: tells which leg spends or receives ETH when the router wraps or unwraps. */
  weth?: string;
}

/** WETH9 on Ethereum mainnet. */
export const MAINNET_WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2';

const UNISWAP_V2_FACTORY = '0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f';
const UNISWAP_V2_INIT_CODE_HASH = '0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f';
const SUSHISWAP_FACTORY = '0xc0aee478e3658e2610c5f7a4a2e1777ce9e4f2ac';
const SUSHISWAP_INIT_CODE_HASH = '0xe18a34eb0e04b04f7a0ac29a6e80748dca96319b42c54d679cb821dca90c6303';
const UNISWAP_V3_FACTORY = '0x1f98431c8ad98523631ae4a59f267346ea31f984';
const UNISWAP_V3_INIT_CODE_HASH = '0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54';

const V2 = { v2Factory: UNISWAP_V2_FACTORY, v2InitCodeHash: UNISWAP_V2_INIT_CODE_HASH } as const;
const V3 = { v3Factory: UNISWAP_V3_FACTORY, v3InitCodeHash: UNISWAP_V3_INIT_CODE_HASH } as const;

/**
 * Uniswap and Sushiswap routers on Ethereum mainnet. Universal Router addresses are from
 * Uniswap/universal-router `deploy-addresses/mainnet.json` (V1, V1_2_V2Support and V2; V2's V4
 * commands are skipped, its V2/V3 commands are the same). Every router's V2 swaps use the V2
 * factory, as their `UniswapV2Library.pairFor` does.
 */
export const MAINNET_ROUTERS: readonly RouterEntry[] = Object.freeze([
  { address: '0x7a250d5630b4cf539739df2c5dacb4c659f2488d', kind: 'v2-router02', name: 'uniswap-v2-router02', ...V2, weth: MAINNET_WETH },
  {
    address: '0xd9e1ce17f2641f24ae83637ab66a2cca9c378b9f',
    kind: 'v2-router02',
    name: 'sushiswap-router',
    v2Factory: SUSHISWAP_FACTORY,
    v2InitCodeHash: SUSHISWAP_INIT_CODE_HASH,
    weth: MAINNET_WETH,
  },
  { address: '0xe592427a0aece92de3edee1f18e0157c05861564', kind: 'v3-swaprouter', name: 'uniswap-v3-swaprouter', ...V3, weth: MAINNET_WETH },
  { address: '0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45', kind: 'v3-swaprouter02', name: 'uniswap-v3-swaprouter02', ...V2, ...V3, weth: MAINNET_WETH },
  { address: '0xef1c6e67703c7bd7107eed8303fbe6ec2554bf6b', kind: 'universal-router', name: 'uniswap-universal-router-v1', ...V2, ...V3, weth: MAINNET_WETH },
  { address: '0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad', kind: 'universal-router', name: 'uniswap-universal-router-v1.2', ...V2, ...V3, weth: MAINNET_WETH },
  { address: '0x66a9893cc07d91d95644aedd05d03f95e1dba8af', kind: 'universal-router', name: 'uniswap-universal-router-v2', ...V2, ...V3, weth: MAINNET_WETH },
].map((e) => Object.freeze(e as RouterEntry)));

const KINDS: ReadonlySet<string> = new Set(['v2-router02', 'v3-swaprouter', 'v3-swaprouter02', 'universal-router', 'v2-pair']);
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;

/**
 * Known contracts by lowercase address. Built once at start-up (mainnet defaults plus what the
 * config or the devnet adds); `get` is the only call on the hot path.
 */
export class RouterRegistry {
  private readonly byAddress = new Map<string, RouterEntry>();

  /** `extra` entries are added after `defaults`, so they replace a default at the same address. */
  constructor(extra: Iterable<RouterEntry> = [], defaults: Iterable<RouterEntry> = MAINNET_ROUTERS) {
    for (const e of defaults) this.add(e);
    for (const e of extra) this.add(e);
  }

  /**
   * Adds or replaces an entry, stored lowercase and frozen.
   * @throws TypeError naming the field when an address, hash or kind is malformed, or a factory
   * comes without its init code hash (or the reverse).
   */
  add(entry: RouterEntry): void {
    const where = `router entry ${JSON.stringify(entry?.name ?? entry?.address)}`;
    if (typeof entry !== 'object' || entry === null) throw new TypeError('router entry must be an object');
    if (!KINDS.has(entry.kind)) throw new TypeError(`${where}: kind must be one of ${[...KINDS].join(', ')}`);
    if (typeof entry.name !== 'string') throw new TypeError(`${where}: name must be a string`);
    const out: RouterEntry = { address: checked(entry.address, ADDRESS, `${where}: address`), kind: entry.kind, name: entry.name };
    for (const [f, h] of [['v2Factory', 'v2InitCodeHash'], ['v3Factory', 'v3InitCodeHash']] as const) {
      if ((entry[f] === undefined) !== (entry[h] === undefined)) throw new TypeError(`${where}: ${f} and ${h} must be given together`);
      if (entry[f] !== undefined) {
        out[f] = checked(entry[f], ADDRESS, `${where}: ${f}`);
        out[h] = checked(entry[h], HASH, `${where}: ${h}`);
      }
    }
    if (entry.weth !== undefined) out.weth = checked(entry.weth, ADDRESS, `${where}: weth`);
    this.byAddress.set(out.address, Object.freeze(out));
  }

  /** The entry at `address` (any case), or undefined. */
  get(address: string): RouterEntry | undefined {
    // Addresses from the decoder are already lowercase: try that first, lowercase only on a miss.
    return this.byAddress.get(address) ?? this.byAddress.get(address.toLowerCase());
  }

  /** Number of entries. */
  get size(): number {
    return this.byAddress.size;
  }

  /** Every entry, as plain objects: what a worker's config carries to rebuild this registry. */
  entries(): RouterEntry[] {
    return [...this.byAddress.values()].map((e) => ({ ...e }));
  }
}

function checked(value: unknown, re: RegExp, field: string): string {
  if (typeof value !== 'string' || !re.test(value)) throw new TypeError(`${field} must be 0x-hex of ${re === ADDRESS ? 20 : 32} bytes, got ${JSON.stringify(value)}`);
  return value.toLowerCase();
}
