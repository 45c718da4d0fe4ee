import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Hex, encodeAbiParameters, encodePacked, getCreate2Address, keccak256, parseAbiParameters } from 'viem';
import { clearPoolAddressCache, v2PairAddress, v3PoolAddress } from '../../../../src/actors/decoder/calldata/pool-address.js';
import { mulberry32 } from '../../../support/prng.js';
import { USDC, WETH } from '../../../support/mainnet.js';

const V2_FACTORY = '0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f';
const V2_HASH = '0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f';
const SUSHI_FACTORY = '0xc0aee478e3658e2610c5f7a4a2e1777ce9e4f2ac';
const SUSHI_HASH = '0xe18a34eb0e04b04f7a0ac29a6e80748dca96319b42c54d679cb821dca90c6303';
const V3_FACTORY = '0x1f98431c8ad98523631ae4a59f267346ea31f984';
const V3_HASH = '0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54';

/** The same derivation with viem, as an independent reference. */
function viemV2(factory: string, hash: string, a: string, b: string): string {
  const [t0, t1] = a < b ? [a, b] : [b, a];
  const salt = keccak256(encodePacked(['address', 'address'], [t0 as Hex, t1 as Hex]));
  return getCreate2Address({ from: factory as Hex, salt, bytecodeHash: hash as Hex }).toLowerCase();
}

function viemV3(factory: string, hash: string, a: string, b: string, fee: number): string {
  const [t0, t1] = a < b ? [a, b] : [b, a];
  const salt = keccak256(encodeAbiParameters(parseAbiParameters('address, address, uint24'), [t0 as Hex, t1 as Hex, fee]));
  return getCreate2Address({ from: factory as Hex, salt, bytecodeHash: hash as Hex }).toLowerCase();
}

function randomAddress(rng: () => number): string {
  let s = '0x';
  for (let i = 0; i < 40; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
}

describe('pool-address', () => {
  it('default', () => {
    // Mainnet: the USDC/WETH Uniswap V2 pair, the USDC/WETH 0.05% and 0.3% V3 pools.
    assert.equal(v2PairAddress(V2_FACTORY, V2_HASH, USDC, WETH), '0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc');
    assert.equal(v3PoolAddress(V3_FACTORY, V3_HASH, USDC, WETH, 500), '0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640');
    assert.equal(v3PoolAddress(V3_FACTORY, V3_HASH, USDC, WETH, 3000), '0x8ad599c3a0ff1de082011efddc58f1908eb6e6d8');
  });

  it('behavior: token order does not matter, before or after caching', () => {
    clearPoolAddressCache();
    const a = v2PairAddress(V2_FACTORY, V2_HASH, WETH, USDC);
    clearPoolAddressCache();
    assert.equal(v2PairAddress(V2_FACTORY, V2_HASH, USDC, WETH), a);
    assert.equal(v2PairAddress(V2_FACTORY, V2_HASH, WETH, USDC), a);
    assert.equal(v3PoolAddress(V3_FACTORY, V3_HASH, WETH, USDC, 500), v3PoolAddress(V3_FACTORY, V3_HASH, USDC, WETH, 500));
  });

  it('behavior: factory, init code hash and fee each give a different pool, and the cache keeps them apart', () => {
    const uni = v2PairAddress(V2_FACTORY, V2_HASH, USDC, WETH);
    const sushi = v2PairAddress(SUSHI_FACTORY, SUSHI_HASH, USDC, WETH);
    assert.equal(sushi, viemV2(SUSHI_FACTORY, SUSHI_HASH, USDC, WETH));
    assert.notEqual(uni, sushi);
    assert.notEqual(v3PoolAddress(V3_FACTORY, V3_HASH, USDC, WETH, 100), v3PoolAddress(V3_FACTORY, V3_HASH, USDC, WETH, 500));
  });

  it('behavior: matches viem getCreate2Address for random tokens, factories and fees', () => {
    const rng = mulberry32(3);
    for (let i = 0; i < 200; i++) {
      const [f, a, b] = [randomAddress(rng), randomAddress(rng), randomAddress(rng)];
      const fee = Math.floor(rng() * 0x1000000);
      assert.equal(v2PairAddress(f, V2_HASH, a, b), viemV2(f, V2_HASH, a, b));
      assert.equal(v3PoolAddress(f, V3_HASH, a, b, fee), viemV3(f, V3_HASH, a, b, fee));
    }
  });
});
