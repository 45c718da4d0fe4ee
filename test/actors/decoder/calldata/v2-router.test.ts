import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Hex, encodeFunctionData, encodePacked, getCreate2Address, hexToBytes, keccak256, toFunctionSelector } from 'viem';
import { classifyCalldataWithReason } from '../../../../src/actors/decoder/calldata/classify.js';
import { RouterRegistry } from '../../../../src/actors/decoder/calldata/router-registry.js';
import {
  V2_ROUTER_ABI,
  type V2CallShape,
  decodeV2Args,
  decodeV2ArgsViem,
} from '../../../../src/actors/decoder/calldata/v2-router.js';
import type { SwapLeg } from '../../../../src/messages/schema.js';
import { mulberry32 } from '../../../support/prng.js';
import { DAI, DEADLINE, USDC, USER, WETH } from '../../../support/mainnet.js';
import { testLeg } from '../../../support/swap-leg.js';

const ROUTER = '0x7a250d5630b4cf539739df2c5dacb4c659f2488d';
const SUSHI = '0xd9e1ce17f2641f24ae83637ab66a2cca9c378b9f';
const USDC_WETH = '0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc';
const DAI_WETH = '0xa478c2975ab1ea89e8196811f51a7b7ade33eb11';
const registry = new RouterRegistry();

type FnName = (typeof V2_ROUTER_ABI)[number]['name'];

function calldata(functionName: FnName, args: readonly unknown[]): Uint8Array {
  return hexToBytes(encodeFunctionData({ abi: V2_ROUTER_ABI, functionName, args } as never));
}

function leg(p: Partial<SwapLeg>): SwapLeg {
  return testLeg({ protocol: 'uniswap-v2', recipient: USER, deadline: DEADLINE, ...p });
}

/** Each Router02 swap function: its arguments, the tx value, and the one leg it must give. */
const CASES: { fn: FnName; args: unknown[]; value: bigint; leg: SwapLeg }[] = [
  {
    fn: 'swapExactTokensForTokens',
    args: [1000n, 900n, [USDC, WETH, DAI], USER, DEADLINE],
    value: 0n,
    leg: leg({ path: [USDC, WETH, DAI], pools: [USDC_WETH, DAI_WETH], amountIn: 1000n, amountOutMin: 900n }),
  },
  {
    fn: 'swapTokensForExactTokens',
    args: [500n, 600n, [DAI, WETH], USER, DEADLINE],
    value: 0n,
    leg: leg({ exact: 'out', path: [DAI, WETH], pools: [DAI_WETH], amountOut: 500n, amountInMax: 600n }),
  },
  {
    fn: 'swapExactETHForTokens',
    args: [77n, [WETH, USDC], USER, DEADLINE],
    value: 10n ** 18n,
    leg: leg({ path: [WETH, USDC], pools: [USDC_WETH], amountIn: 10n ** 18n, amountOutMin: 77n, ethIn: true }),
  },
  {
    fn: 'swapTokensForExactETH',
    args: [10n ** 17n, 400n, [USDC, WETH], USER, DEADLINE],
    value: 0n,
    leg: leg({ exact: 'out', path: [USDC, WETH], pools: [USDC_WETH], amountOut: 10n ** 17n, amountInMax: 400n, ethOut: true }),
  },
  {
    fn: 'swapExactTokensForETH',
    args: [400n, 10n ** 17n, [USDC, WETH], USER, DEADLINE],
    value: 0n,
    leg: leg({ path: [USDC, WETH], pools: [USDC_WETH], amountIn: 400n, amountOutMin: 10n ** 17n, ethOut: true }),
  },
  {
    fn: 'swapETHForExactTokens',
    args: [1234n, [WETH, DAI], USER, DEADLINE],
    value: 3n * 10n ** 18n,
    // value is only the most the router may take; it refunds the rest.
    leg: leg({ exact: 'out', path: [WETH, DAI], pools: [DAI_WETH], amountOut: 1234n, amountInMax: 3n * 10n ** 18n, ethIn: true }),
  },
  {
    fn: 'swapExactTokensForTokensSupportingFeeOnTransferTokens',
    args: [1000n, 1n, [DAI, WETH, USDC], USER, DEADLINE],
    value: 0n,
    leg: leg({ path: [DAI, WETH, USDC], pools: [DAI_WETH, USDC_WETH], amountIn: 1000n, amountOutMin: 1n, feeOnTransfer: true }),
  },
  {
    fn: 'swapExactETHForTokensSupportingFeeOnTransferTokens',
    args: [5n, [WETH, DAI], USER, DEADLINE],
    value: 42n,
    leg: leg({ path: [WETH, DAI], pools: [DAI_WETH], amountIn: 42n, amountOutMin: 5n, ethIn: true, feeOnTransfer: true }),
  },
  {
    fn: 'swapExactTokensForETHSupportingFeeOnTransferTokens',
    args: [9n, 8n, [DAI, WETH], USER, DEADLINE],
    value: 0n,
    leg: leg({ path: [DAI, WETH], pools: [DAI_WETH], amountIn: 9n, amountOutMin: 8n, ethOut: true, feeOnTransfer: true }),
  },
];

function shapeOf(fn: FnName): V2CallShape {
  return {
    exact: fn.startsWith('swapExact') ? 'in' : 'out',
    ethIn: fn.startsWith('swapExactETH') ? 'amountIn' : fn.startsWith('swapETH') ? 'amountInMax' : null,
    ethOut: /ForETH|ForExactETH/.test(fn),
    feeOnTransfer: fn.endsWith('SupportingFeeOnTransferTokens'),
    hasDeadline: true,
  };
}

describe('v2-router', () => {
  it('default', () => {
    const r = classifyCalldataWithReason(ROUTER, calldata('swapExactTokensForTokens', [10n ** 18n, 1n, [WETH, USDC], USER, DEADLINE]), 0n, registry);
    assert.equal(r.reason, 'ok');
    assert.deepEqual(r.intent, {
      router: ROUTER,
      kind: 'v2-router02',
      method: 'swapExactTokensForTokens',
      legs: [leg({ path: [WETH, USDC], pools: [USDC_WETH], amountIn: 10n ** 18n, amountOutMin: 1n })],
    });
  });

  it('behavior: selectors are the Router02 ones', () => {
    const sel = (name: string) => toFunctionSelector(V2_ROUTER_ABI.find((f) => f.name === name)!);
    assert.equal(sel('swapExactTokensForTokens'), '0x38ed1739');
    assert.equal(sel('swapExactETHForTokens'), '0x7ff36ab5');
    assert.equal(sel('swapETHForExactTokens'), '0xfb3bdb41');
    assert.equal(sel('swapExactTokensForETHSupportingFeeOnTransferTokens'), '0x791ac947');
  });

  for (const c of CASES) {
    it(`behavior: ${c.fn} decodes to its exact leg`, () => {
      const r = classifyCalldataWithReason(ROUTER, calldata(c.fn, c.args), c.value, registry);
      assert.equal(r.reason, 'ok');
      assert.equal(r.intent?.method, c.fn);
      assert.equal(r.intent?.kind, 'v2-router02');
      assert.deepEqual(r.intent?.legs, [c.leg]);
    });
  }

  it('behavior: each router derives pools from its own factory (Sushiswap)', () => {
    const r = classifyCalldataWithReason(SUSHI, calldata('swapExactTokensForTokens', [1n, 1n, [USDC, WETH], USER, DEADLINE]), 0n, registry);
    assert.deepEqual(r.intent?.legs[0]?.pools, ['0x397ff1542f962076d0bfe58ea045ffa2d347aca0']);
  });

  it('behavior: a fork at an unknown address is classified by selector, without pools', () => {
    const fork = '0x1b02da8cb0d097eb8d57a175b88c7d8b47997506';
    const r = classifyCalldataWithReason(fork, calldata('swapExactETHForTokens', [1n, [WETH, DAI], USER, DEADLINE]), 5n, registry);
    assert.equal(r.intent?.kind, 'v2-router02');
    assert.equal(r.intent?.router, fork);
    assert.deepEqual(r.intent?.legs, [leg({ path: [WETH, DAI], amountIn: 5n, amountOutMin: 1n, ethIn: true })]);
  });

  it('behavior: a router added at run time (devnet) derives pools from its factory and init code hash', () => {
    const reg = new RouterRegistry();
    const factory = '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512';
    const hash = keccak256('0x1234');
    reg.add({ address: '0x5fbdb2315678afecb367f032d93f642f64180aa3', kind: 'v2-router02', name: 'devnet', v2Factory: factory, v2InitCodeHash: hash });
    const r = classifyCalldataWithReason('0x5fbdb2315678afecb367f032d93f642f64180aa3', calldata('swapExactTokensForTokens', [1n, 1n, [WETH, USDC], USER, DEADLINE]), 0n, reg);
    const salt = keccak256(encodePacked(['address', 'address'], [USDC, WETH]));
    assert.deepEqual(r.intent?.legs[0]?.pools, [getCreate2Address({ from: factory, salt, bytecodeHash: hash }).toLowerCase()]);
  });

  it('error: calldata truncated anywhere is malformed', () => {
    for (const c of CASES) {
      const full = calldata(c.fn, c.args);
      for (let len = 4; len < full.length; len++) {
        const r = classifyCalldataWithReason(ROUTER, full.subarray(0, len), c.value, registry);
        assert.deepEqual(r, { intent: null, reason: 'malformed' }, `${c.fn} cut at ${len}`);
      }
    }
  });

  it('error: a path of fewer than two tokens is malformed (the router reverts)', () => {
    for (const path of [[], [WETH]]) {
      const r = classifyCalldataWithReason(ROUTER, calldata('swapExactTokensForTokens', [1n, 1n, path, USER, DEADLINE]), 0n, registry);
      assert.equal(r.reason, 'malformed');
    }
  });

  it('error: random bytes after each selector are malformed', () => {
    const rng = mulberry32(11);
    for (const c of CASES) {
      const sel = calldata(c.fn, c.args).subarray(0, 4);
      for (let i = 0; i < 50; i++) {
        const junk = new Uint8Array(4 + Math.floor(rng() * 400));
        junk.set(sel);
        for (let j = 4; j < junk.length; j++) junk[j] = Math.floor(rng() * 256);
        assert.equal(classifyCalldataWithReason(ROUTER, junk, 0n, registry).reason, 'malformed');
      }
    }
  });

  it('behavior: the hand-written decoder agrees with viem on valid and mutated calldata', () => {
    const rng = mulberry32(7);
    let agreedOk = 0;
    for (const c of CASES) {
      const fn = V2_ROUTER_ABI.find((f) => f.name === c.fn)!;
      const s = shapeOf(c.fn);
      const base = calldata(c.fn, c.args).subarray(4);
      for (let i = 0; i < 300; i++) {
        const data = new Uint8Array(base);
        // Flip 0–2 bytes, mostly in the low bytes of words (amounts, addresses, offsets, lengths).
        for (let k = Math.floor(rng() * 3); k > 0; k--) {
          const at = Math.floor(rng() * data.length);
          data[at] = data[at]! ^ (1 << Math.floor(rng() * 8));
        }
        let viem: unknown;
        let hand: unknown;
        try {
          viem = decodeV2ArgsViem(fn, s, data);
        } catch {
          viem = 'throws';
        }
        try {
          hand = decodeV2Args(s, data);
        } catch {
          hand = 'throws';
        }
        assert.deepEqual(hand, viem, `${c.fn} mutation ${i}: ${Buffer.from(data).toString('hex') as Hex}`);
        if (viem !== 'throws') agreedOk++;
      }
    }
    assert.ok(agreedOk > 1000, `enough mutations still decode (${agreedOk})`);
  });
});
