import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  amountInRevert,
  amountOutRevert,
  getAmountIn,
  getAmountOut,
  minAmountIn,
  pairSwapRevert,
  swapExactIn,
  type V2PairState,
} from '../../../../src/actors/scorer/pools/v2-math.js';
import { mulberry32 } from '../../../../src/runtime/prng.js';

/** `../shared/data/uniswap` from the project root (this file runs from dist/test/actors/scorer/pools/). */
const VECTORS = fileURLToPath(new URL('../../../../../../shared/data/uniswap/v2_vectors.json', import.meta.url));

interface Vectors {
  getAmountOut_pair_swap: { rows: [number, number, number, string][] };
  optimistic: { rows: [number | string, number, number, number | string][] };
  router: { cases: { fn: 'getAmountOut' | 'getAmountIn'; amountIn?: number; amountOut?: number; reserveIn: number; reserveOut: number; expected: number | string }[] };
}
const v = JSON.parse(readFileSync(VECTORS, 'utf8')) as Vectors;
const E18 = 10n ** 18n;
/** The vectors' convention: numbers are ×10^18 (expandTo18Decimals), quoted strings are raw wei. */
const amt = (x: number | string): bigint => (typeof x === 'string' ? BigInt(x) : BigInt(x) * E18);

describe('v2-math', () => {
  it('default: pair swap vectors (UniswapV2Pair.spec swapTestCases), expected succeeds and expected + 1 reverts with K', () => {
    assert.equal(v.getAmountOut_pair_swap.rows.length, 7);
    for (const [i, rIn, rOut, exp] of v.getAmountOut_pair_swap.rows) {
      const amountIn = amt(i);
      const reserveIn = amt(rIn);
      const reserveOut = amt(rOut);
      const expected = BigInt(exp);
      assert.equal(getAmountOut(amountIn, reserveIn, reserveOut), expected);
      // swap(0, expected) after transferring amountIn of token0: token0 = in, token1 = out.
      assert.equal(pairSwapRevert(reserveIn, reserveOut, amountIn, 0n, 0n, expected), null);
      assert.equal(pairSwapRevert(reserveIn, reserveOut, amountIn, 0n, 0n, expected + 1n), 'K');
    }
  });

  it('default: optimistic (flash-swap repay) vectors, output + 1 reverts with K', () => {
    assert.equal(v.optimistic.rows.length, 4);
    for (const [o, t0, t1, i] of v.optimistic.rows) {
      const out = amt(o);
      const input = amt(i);
      // Token0 taken out and repaid in token0: the pair charges the fee on the repaid amount.
      assert.equal(pairSwapRevert(amt(t0), amt(t1), input, 0n, out, 0n), null);
      assert.equal(pairSwapRevert(amt(t0), amt(t1), input, 0n, out + 1n, 0n), 'K');
    }
  });

  it('default: router library vectors (UniswapV2Router02.spec), values and reverts', () => {
    for (const c of v.router.cases) {
      const rIn = BigInt(c.reserveIn);
      const rOut = BigInt(c.reserveOut);
      if (c.fn === 'getAmountOut') {
        const a = BigInt(c.amountIn!);
        if (typeof c.expected === 'string') {
          assert.equal(getAmountOut(a, rIn, rOut), null);
          assert.equal(amountOutRevert(a, rIn, rOut), c.expected.replace('revert ', ''));
        } else {
          assert.equal(getAmountOut(a, rIn, rOut), BigInt(c.expected));
          assert.equal(amountOutRevert(a, rIn, rOut), null);
        }
      } else {
        const a = BigInt(c.amountOut!);
        if (typeof c.expected === 'string') {
          assert.equal(getAmountIn(a, rIn, rOut), null);
          assert.equal(amountInRevert(a, rIn, rOut), c.expected.replace('revert ', ''));
        } else {
          assert.equal(getAmountIn(a, rIn, rOut), BigInt(c.expected));
          assert.equal(amountInRevert(a, rIn, rOut), null);
        }
      }
    }
  });

  it('behavior: 30 bps in basis points equals the library 997/1000 on random amounts', () => {
    const rnd = mulberry32(7);
    for (let k = 0; k < 2000; k++) {
      const a = BigInt(Math.floor(rnd() * 1e15)) * BigInt(1 + Math.floor(rnd() * 1e6));
      const rIn = BigInt(Math.floor(rnd() * 1e15) + 1) * BigInt(1 + Math.floor(rnd() * 1e9));
      const rOut = BigInt(Math.floor(rnd() * 1e15) + 1) * BigInt(1 + Math.floor(rnd() * 1e9));
      const lib = a === 0n ? null : (a * 997n * rOut) / (rIn * 1000n + a * 997n);
      assert.equal(getAmountOut(a, rIn, rOut), lib);
      if (a > 0n && a < rOut) assert.equal(getAmountIn(a, rIn, rOut), (rIn * a * 1000n) / ((rOut - a) * 997n) + 1n);
    }
  });

  it('behavior: minAmountIn is the least input reaching the output; getAmountIn never charges less', () => {
    const rnd = mulberry32(11);
    for (let k = 0; k < 2000; k++) {
      const fee = [30n, 25n, 5n, 100n][k % 4]!;
      const rIn = BigInt(Math.floor(rnd() * 1e12) + 1000) * (k % 3 === 0 ? 1n : 10n ** 6n);
      const rOut = BigInt(Math.floor(rnd() * 1e12) + 1000) * (k % 5 === 0 ? 1n : 10n ** 9n);
      const out = BigInt(Math.floor(rnd() * Number(rOut / 3n))) + 1n;
      const m = minAmountIn(out, rIn, rOut, fee)!;
      assert.ok(getAmountOut(m, rIn, rOut, fee)! >= out);
      if (m > 1n) assert.ok(getAmountOut(m - 1n, rIn, rOut, fee)! < out);
      const lib = getAmountIn(out, rIn, rOut, fee)!;
      assert.ok(lib === m || lib === m + 1n);
      // The pair accepts getAmountIn's input for that output, as the router relies on.
      assert.equal(pairSwapRevert(rIn, rOut, lib, 0n, 0n, out, fee), null);
    }
  });

  it('behavior: swapExactIn moves reserves as the pair does and keeps K non-decreasing', () => {
    const pair: V2PairState = { address: '0xp', token0: '0xa', token1: '0xb', reserve0: 5n * E18, reserve1: 10n * E18, feeBps: 30n };
    const k0 = pair.reserve0 * pair.reserve1;
    const out = swapExactIn(pair, true, E18);
    assert.equal(out, 1662497915624478906n);
    assert.equal(pair.reserve0, 6n * E18);
    assert.equal(pair.reserve1, 10n * E18 - 1662497915624478906n);
    assert.ok(pair.reserve0 * pair.reserve1 >= k0);
    const back = swapExactIn(pair, false, out!);
    assert.ok(back! < E18);
  });

  it('error: zero input, empty pools and draining outputs are reported, not thrown', () => {
    assert.equal(getAmountOut(1n, 0n, 0n), null);
    assert.equal(getAmountIn(100n, 100n, 100n), null);
    assert.equal(amountInRevert(100n, 100n, 100n), 'INSUFFICIENT_LIQUIDITY');
    assert.equal(pairSwapRevert(100n, 100n, 10n, 0n, 0n, 0n), 'INSUFFICIENT_OUTPUT_AMOUNT');
    assert.equal(pairSwapRevert(100n, 100n, 10n, 0n, 0n, 100n), 'INSUFFICIENT_LIQUIDITY');
    assert.equal(pairSwapRevert(100n, 100n, 0n, 0n, 0n, 1n), 'INSUFFICIENT_INPUT_AMOUNT');
    const pair: V2PairState = { address: '0xp', token0: '0xa', token1: '0xb', reserve0: 1000n, reserve1: 1000n, feeBps: 30n };
    assert.equal(swapExactIn(pair, true, 1n), null);
    assert.equal(pair.reserve0, 1000n);
  });
});
