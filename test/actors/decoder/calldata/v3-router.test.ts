import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Abi,
  type Hex,
  decodeFunctionData,
  encodeAbiParameters,
  encodeFunctionData,
  encodePacked,
  getCreate2Address,
  hexToBytes,
  keccak256,
  parseAbiParameters,
  toFunctionSelector,
} from 'viem';
import { classifyCalldataWithReason } from '../../../../src/actors/decoder/calldata/classify.js';
import { RouterRegistry } from '../../../../src/actors/decoder/calldata/router-registry.js';
import { SWAP_ROUTER02_ABI, V3_ROUTER_ABI, V3_SHARED_ABI, decodeV3Path } from '../../../../src/actors/decoder/calldata/v3-router.js';
import type { SwapLeg } from '../../../../src/messages/schema.js';
import { mulberry32 } from '../../../support/prng.js';
import { ADDRESS_THIS, DAI, DEADLINE, MSG_SENDER, SENDER, USDC, USDC_WETH_500, USDC_WETH_V2, USER, WETH, ZERO } from '../../../support/mainnet.js';
import { testLeg } from '../../../support/swap-leg.js';

const ROUTER = '0xe592427a0aece92de3edee1f18e0157c05861564';
const ROUTER02 = '0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45';
const registry = new RouterRegistry();

const V1_ABI = [...V3_ROUTER_ABI, ...V3_SHARED_ABI] as Abi;
const R02_ABI = [...SWAP_ROUTER02_ABI, ...V3_SHARED_ABI] as Abi;

function v1(functionName: string, args: readonly unknown[]): Hex {
  return encodeFunctionData({ abi: V1_ABI, functionName, args } as never);
}

function r02(functionName: string, args: readonly unknown[]): Hex {
  return encodeFunctionData({ abi: R02_ABI, functionName, args } as never);
}

function pool(a: string, b: string, fee: number): string {
  const [t0, t1] = a < b ? [a, b] : [b, a];
  const salt = keccak256(encodeAbiParameters(parseAbiParameters('address, address, uint24'), [t0 as Hex, t1 as Hex, fee]));
  return getCreate2Address({ from: '0x1f98431c8ad98523631ae4a59f267346ea31f984', salt, bytecodeHash: '0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54' }).toLowerCase();
}

function v2Pair(a: string, b: string): string {
  const [t0, t1] = a < b ? [a, b] : [b, a];
  const salt = keccak256(encodePacked(['address', 'address'], [t0 as Hex, t1 as Hex]));
  return getCreate2Address({ from: '0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f', salt, bytecodeHash: '0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f' }).toLowerCase();
}

/** A V3 path in swap order: token, fee, token, fee, token… */
function path(...hops: (string | number)[]): Hex {
  return encodePacked(hops.map((h) => (typeof h === 'number' ? 'uint24' : 'address')), hops as never);
}

function leg(p: Partial<SwapLeg>): SwapLeg {
  return testLeg({ protocol: 'uniswap-v3', recipient: USER, ...p });
}

function classify(to: string, data: Hex, value = 0n, sender: string | null = null) {
  return classifyCalldataWithReason(to, hexToBytes(data), value, registry, sender);
}

const WETH_DAI_3000 = pool(WETH, DAI, 3000);

/** SwapRouter02 single-pool params (no deadline). */
const single = (p: Record<string, unknown>) => ({ tokenIn: USDC, tokenOut: WETH, fee: 500, recipient: USER, sqrtPriceLimitX96: 0n, ...p });

describe('v3-router', () => {
  it('default', () => {
    const data = v1('exactInputSingle', [
      { tokenIn: USDC, tokenOut: WETH, fee: 500, recipient: USER, deadline: DEADLINE, amountIn: 10n ** 9n, amountOutMinimum: 5n, sqrtPriceLimitX96: 0n },
    ]);
    assert.equal(data.slice(0, 10), '0x414bf389');
    const r = classify(ROUTER, data);
    assert.equal(r.reason, 'ok');
    assert.deepEqual(r.intent, {
      router: ROUTER,
      kind: 'v3-swaprouter',
      method: 'exactInputSingle',
      legs: [leg({ path: [USDC, WETH], fees: [500], pools: [USDC_WETH_500], amountIn: 10n ** 9n, amountOutMin: 5n, deadline: DEADLINE })],
    });
  });

  describe('SwapRouter', () => {
    it('behavior: exactInput splits the path into tokens, fees and pools per hop', () => {
      const r = classify(ROUTER, v1('exactInput', [{ path: path(USDC, 500, WETH, 3000, DAI), recipient: USER, deadline: DEADLINE, amountIn: 100n, amountOutMinimum: 90n }]));
      assert.deepEqual(r.intent?.legs, [
        leg({ path: [USDC, WETH, DAI], fees: [500, 3000], pools: [USDC_WETH_500, WETH_DAI_3000], amountIn: 100n, amountOutMin: 90n, deadline: DEADLINE }),
      ]);
    });

    it('behavior: exactOutputSingle fixes amountOut and bounds amountIn', () => {
      const r = classify(ROUTER, v1('exactOutputSingle', [
        { tokenIn: WETH, tokenOut: DAI, fee: 3000, recipient: USER, deadline: DEADLINE, amountOut: 1000n, amountInMaximum: 7n, sqrtPriceLimitX96: 1n },
      ]));
      assert.equal(r.intent?.method, 'exactOutputSingle');
      assert.deepEqual(r.intent?.legs, [leg({ exact: 'out', path: [WETH, DAI], fees: [3000], pools: [WETH_DAI_3000], amountOut: 1000n, amountInMax: 7n, deadline: DEADLINE })]);
    });

    it('behavior: exactOutput reverses its output→input path into swap direction', () => {
      // Encoded DAI ← 3000 ← WETH ← 500 ← USDC: the swap goes USDC → WETH → DAI.
      const r = classify(ROUTER, v1('exactOutput', [{ path: path(DAI, 3000, WETH, 500, USDC), recipient: USER, deadline: DEADLINE, amountOut: 50n, amountInMaximum: 60n }]));
      assert.deepEqual(r.intent?.legs, [
        leg({ exact: 'out', path: [USDC, WETH, DAI], fees: [500, 3000], pools: [USDC_WETH_500, WETH_DAI_3000], amountOut: 50n, amountInMax: 60n, deadline: DEADLINE }),
      ]);
    });

    it('behavior: value with WETH in marks ethIn; recipient address(0) is the router', () => {
      const data = v1('exactInputSingle', [{ tokenIn: WETH, tokenOut: USDC, fee: 500, recipient: ZERO, deadline: DEADLINE, amountIn: 3n, amountOutMinimum: 1n, sqrtPriceLimitX96: 0n }]);
      const l = classify(ROUTER, data, 3n).intent?.legs[0];
      assert.equal(l?.ethIn, true);
      assert.equal(l?.recipient, ROUTER);
      assert.equal(classify(ROUTER, data, 0n).intent?.legs[0]?.ethIn, false);
      const fromUsdc = v1('exactInputSingle', [{ tokenIn: USDC, tokenOut: WETH, fee: 500, recipient: USER, deadline: DEADLINE, amountIn: 3n, amountOutMinimum: 1n, sqrtPriceLimitX96: 0n }]);
      assert.equal(classify(ROUTER, fromUsdc, 3n).intent?.legs[0]?.ethIn, false);
    });

    it('behavior: multicall swap to the router then unwrapWETH9 pays the recipient in ETH', () => {
      const swap = v1('exactInput', [{ path: path(USDC, 500, WETH), recipient: ZERO, deadline: DEADLINE, amountIn: 100n, amountOutMinimum: 9n }]);
      const r = classify(ROUTER, v1('multicall', [[swap, v1('unwrapWETH9', [9n, USER])]]));
      assert.equal(r.intent?.method, 'multicall');
      assert.deepEqual(r.intent?.legs, [leg({ path: [USDC, WETH], fees: [500], pools: [USDC_WETH_500], amountIn: 100n, amountOutMin: 9n, deadline: DEADLINE, ethOut: true })]);
    });

    it('behavior: multicall with ETH in and refundETH; sweepToken redirects a token output', () => {
      const buy = v1('exactOutputSingle', [
        { tokenIn: WETH, tokenOut: DAI, fee: 3000, recipient: ZERO, deadline: DEADLINE, amountOut: 10n, amountInMaximum: 99n, sqrtPriceLimitX96: 0n },
      ]);
      const r = classify(ROUTER, v1('multicall', [[buy, v1('sweepToken', [DAI, 10n, USER]), v1('refundETH', [])]]), 99n);
      assert.deepEqual(r.intent?.legs, [
        leg({ exact: 'out', path: [WETH, DAI], fees: [3000], pools: [WETH_DAI_3000], amountOut: 10n, amountInMax: 99n, deadline: DEADLINE, ethIn: true }),
      ]);
    });

    it('behavior: SwapRouter02-only calls are not SwapRouter calls', () => {
      const only02 = r02('exactInputSingle', [{ tokenIn: USDC, tokenOut: WETH, fee: 500, recipient: USER, amountIn: 1n, amountOutMinimum: 1n, sqrtPriceLimitX96: 0n }]);
      assert.equal(classify(ROUTER, only02).reason, 'unknown-selector');
      assert.equal(classify(ROUTER, v1('multicall', [[only02]])).reason, 'no-swap');
    });
  });

  describe('SwapRouter02', () => {

    it('behavior: the four V3 functions without deadline', () => {
      const cases: [string, unknown, SwapLeg][] = [
        ['exactInputSingle', single({ amountIn: 10n, amountOutMinimum: 1n }), leg({ path: [USDC, WETH], fees: [500], pools: [USDC_WETH_500], amountIn: 10n, amountOutMin: 1n })],
        [
          'exactInput',
          { path: path(USDC, 500, WETH, 3000, DAI), recipient: USER, amountIn: 10n, amountOutMinimum: 2n },
          leg({ path: [USDC, WETH, DAI], fees: [500, 3000], pools: [USDC_WETH_500, WETH_DAI_3000], amountIn: 10n, amountOutMin: 2n }),
        ],
        [
          'exactOutputSingle',
          single({ amountOut: 10n, amountInMaximum: 11n }),
          leg({ exact: 'out', path: [USDC, WETH], fees: [500], pools: [USDC_WETH_500], amountOut: 10n, amountInMax: 11n }),
        ],
        [
          'exactOutput',
          { path: path(DAI, 3000, WETH, 500, USDC), recipient: USER, amountOut: 10n, amountInMaximum: 12n },
          leg({ exact: 'out', path: [USDC, WETH, DAI], fees: [500, 3000], pools: [USDC_WETH_500, WETH_DAI_3000], amountOut: 10n, amountInMax: 12n }),
        ],
      ];
      for (const [fn, params, expected] of cases) {
        const r = classify(ROUTER02, r02(fn, [params]));
        assert.equal(r.intent?.kind, 'v3-swaprouter02', fn);
        assert.equal(r.intent?.method, fn);
        assert.deepEqual(r.intent?.legs, [expected], fn);
      }
    });

    it('behavior: recipient sentinels resolve to the sender (when given) and the router', () => {
      const data = (recipient: string) => r02('exactInputSingle', [single({ recipient, amountIn: 10n, amountOutMinimum: 1n })]);
      assert.equal(classify(ROUTER02, data(MSG_SENDER), 0n, SENDER).intent?.legs[0]?.recipient, SENDER);
      assert.equal(classify(ROUTER02, data(MSG_SENDER)).intent?.legs[0]?.recipient, null);
      assert.equal(classify(ROUTER02, data(ADDRESS_THIS)).intent?.legs[0]?.recipient, ROUTER02);
      // address(0) is no sentinel in SwapRouter02.
      assert.equal(classify(ROUTER02, data(ZERO)).intent?.legs[0]?.recipient, ZERO);
    });

    it('behavior: V2 functions (4 arguments) use the V2 factory; value with WETH in marks ethIn', () => {
      const r = classify(ROUTER02, r02('swapExactTokensForTokens', [5n, 4n, [WETH, USDC], MSG_SENDER]), 5n, SENDER);
      assert.deepEqual(r.intent?.legs, [leg({ protocol: 'uniswap-v2', path: [WETH, USDC], pools: [USDC_WETH_V2], amountIn: 5n, amountOutMin: 4n, recipient: SENDER, ethIn: true })]);
      const out = classify(ROUTER02, r02('swapTokensForExactTokens', [5n, 6n, [USDC, WETH, DAI], USER]));
      assert.deepEqual(out.intent?.legs, [
        leg({ protocol: 'uniswap-v2', exact: 'out', path: [USDC, WETH, DAI], pools: [USDC_WETH_V2, v2Pair(WETH, DAI)], amountOut: 5n, amountInMax: 6n }),
      ]);
    });

    it('behavior: multicall(deadline) gives legs in order with its deadline; amountIn 0 is the router balance', () => {
      const first = r02('exactInput', [{ path: path(USDC, 500, WETH), recipient: ADDRESS_THIS, amountIn: 100n, amountOutMinimum: 0n }]);
      const second = r02('swapExactTokensForTokens', [0n, 7n, [WETH, DAI], MSG_SENDER]);
      const data = r02('multicall', [DEADLINE, [first, second]]);
      assert.equal(data.slice(0, 10), '0x5ae401dc');
      const r = classify(ROUTER02, data, 0n, SENDER);
      assert.equal(r.intent?.method, 'multicall');
      assert.deepEqual(r.intent?.legs, [
        leg({ path: [USDC, WETH], fees: [500], pools: [USDC_WETH_500], amountIn: 100n, amountOutMin: 0n, recipient: ROUTER02, deadline: DEADLINE }),
        leg({ protocol: 'uniswap-v2', path: [WETH, DAI], pools: [v2Pair(WETH, DAI)], amountIn: null, amountOutMin: 7n, recipient: SENDER, deadline: DEADLINE }),
      ]);
    });

    it('behavior: multicall(previousBlockhash) and multicall(bytes[]) carry no deadline', () => {
      const swap = r02('exactInputSingle', [single({ amountIn: 1n, amountOutMinimum: 1n })]);
      const byHash = r02('multicall', [`0x${'ab'.repeat(32)}`, [swap]]);
      assert.equal(byHash.slice(0, 10), toFunctionSelector('function multicall(bytes32,bytes[])'));
      for (const data of [byHash, r02('multicall', [[swap]])]) {
        const r = classify(ROUTER02, data);
        assert.equal(r.reason, 'ok');
        assert.equal(r.intent?.legs.length, 1);
        assert.equal(r.intent?.legs[0]?.deadline, null);
      }
    });

    it('behavior: unwrapWETH9(amount) and sweepToken(token, amount) pay the sender', () => {
      const toRouter = r02('exactInputSingle', [single({ recipient: ADDRESS_THIS, amountIn: 1n, amountOutMinimum: 1n })]);
      const unwrapped = classify(ROUTER02, r02('multicall', [DEADLINE, [toRouter, r02('unwrapWETH9', [1n])]]), 0n, SENDER);
      assert.equal(unwrapped.intent?.legs[0]?.ethOut, true);
      assert.equal(unwrapped.intent?.legs[0]?.recipient, SENDER);
      const swept = classify(ROUTER02, r02('multicall', [DEADLINE, [toRouter, r02('sweepToken', [WETH, 1n])]]), 0n, SENDER);
      assert.equal(swept.intent?.legs[0]?.ethOut, false);
      assert.equal(swept.intent?.legs[0]?.recipient, SENDER);
      // A sweep of another token leaves the leg with the router.
      const other = classify(ROUTER02, r02('multicall', [DEADLINE, [toRouter, r02('sweepToken', [DAI, 1n])]]), 0n, SENDER);
      assert.equal(other.intent?.legs[0]?.recipient, ROUTER02);
      const withFee = classify(ROUTER02, r02('multicall', [DEADLINE, [toRouter, r02('unwrapWETH9WithFee', [1n, USER, 10n, SENDER])]]));
      assert.equal(withFee.intent?.legs[0]?.recipient, USER);
      assert.equal(withFee.intent?.legs[0]?.ethOut, true);
    });

    it('behavior: SwapRouter calls (with deadline) are not SwapRouter02 calls', () => {
      const v1Call = v1('exactInputSingle', [{ tokenIn: USDC, tokenOut: WETH, fee: 500, recipient: USER, deadline: 1n, amountIn: 1n, amountOutMinimum: 1n, sqrtPriceLimitX96: 0n }]);
      assert.equal(classify(ROUTER02, v1Call).reason, 'unknown-selector');
    });

    it('behavior: an unknown address taking SwapRouter02-only calls is a SwapRouter02, without pools', () => {
      const fork = '0x2626664c2603336e57b271c5c0b26f421741e481';
      const r = classify(fork, r02('multicall', [[r02('exactInputSingle', [single({ amountIn: 1n, amountOutMinimum: 1n })])]]));
      assert.equal(r.intent?.kind, 'v3-swaprouter02');
      assert.deepEqual(r.intent?.legs[0]?.pools, []);
      const v1Fork = classify(fork, v1('multicall', [[v1('exactInput', [{ path: path(USDC, 500, WETH), recipient: USER, deadline: 1n, amountIn: 1n, amountOutMinimum: 1n }])]]));
      assert.equal(v1Fork.intent?.kind, 'v3-swaprouter');
    });

    it('behavior: a multicall with payments only has no swap', () => {
      assert.equal(classify(ROUTER02, r02('multicall', [DEADLINE, [r02('unwrapWETH9', [1n]), r02('refundETH', [])]])).reason, 'no-swap');
    });
  });

  describe('decodeV3Path', () => {
    it('args: reversed turns an exact-output path into swap direction', () => {
      assert.deepEqual(decodeV3Path(path(USDC, 100, WETH, 3000, DAI), false), { path: [USDC, WETH, DAI], fees: [100, 3000] });
      assert.deepEqual(decodeV3Path(path(USDC, 100, WETH, 3000, DAI), true), { path: [DAI, WETH, USDC], fees: [3000, 100] });
    });

    it('error: a path that is not whole hops is malformed', () => {
      for (const bytes of [0, 20, 23, 42, 44, 65, 67]) assert.throws(() => decodeV3Path(`0x${'11'.repeat(bytes)}`, false), { name: 'MalformedCalldataError' }, `${bytes} bytes`);
    });
  });

  describe('malformed calldata', () => {
    const valid: [string, Hex][] = [
      [ROUTER, v1('exactInputSingle', [{ tokenIn: USDC, tokenOut: WETH, fee: 500, recipient: USER, deadline: 1n, amountIn: 1n, amountOutMinimum: 1n, sqrtPriceLimitX96: 0n }])],
      [ROUTER, v1('exactInput', [{ path: path(USDC, 500, WETH), recipient: USER, deadline: 1n, amountIn: 1n, amountOutMinimum: 1n }])],
      [ROUTER, v1('exactOutputSingle', [{ tokenIn: USDC, tokenOut: WETH, fee: 500, recipient: USER, deadline: 1n, amountOut: 1n, amountInMaximum: 1n, sqrtPriceLimitX96: 0n }])],
      [ROUTER, v1('exactOutput', [{ path: path(WETH, 500, USDC), recipient: USER, deadline: 1n, amountOut: 1n, amountInMaximum: 1n }])],
      [ROUTER02, r02('exactInputSingle', [single({ amountIn: 1n, amountOutMinimum: 1n })])],
      [ROUTER02, r02('exactInput', [{ path: path(USDC, 500, WETH), recipient: USER, amountIn: 1n, amountOutMinimum: 1n }])],
      [ROUTER02, r02('exactOutputSingle', [single({ amountOut: 1n, amountInMaximum: 1n })])],
      [ROUTER02, r02('exactOutput', [{ path: path(WETH, 500, USDC), recipient: USER, amountOut: 1n, amountInMaximum: 1n }])],
      [ROUTER02, r02('swapExactTokensForTokens', [1n, 1n, [USDC, WETH], USER])],
      [ROUTER02, r02('swapTokensForExactTokens', [1n, 1n, [USDC, WETH], USER])],
      [ROUTER02, r02('multicall', [DEADLINE, [r02('exactInputSingle', [single({ amountIn: 1n, amountOutMinimum: 1n })]), r02('unwrapWETH9', [1n])]])],
      [ROUTER02, r02('multicall', [`0x${'01'.repeat(32)}`, [r02('swapExactTokensForTokens', [1n, 1n, [USDC, WETH], USER])]])],
      [ROUTER, v1('multicall', [[v1('exactInput', [{ path: path(USDC, 500, WETH), recipient: ZERO, deadline: 1n, amountIn: 1n, amountOutMinimum: 1n }]), v1('unwrapWETH9', [1n, USER])]])],
    ];

    it('error: truncated calldata is malformed wherever viem cannot decode it either', () => {
      for (const [to, data] of valid) {
        const abi = to === ROUTER ? V1_ABI : R02_ABI;
        const full = hexToBytes(data);
        for (let len = 4; len < full.length; len++) {
          const cut = full.subarray(0, len);
          let viemOk = true;
          try {
            decodeFunctionData({ abi, data: data.slice(0, 2 + 2 * len) as Hex });
          } catch {
            viemOk = false;
          }
          const r = classifyCalldataWithReason(to, cut, 0n, registry);
          // Only the zero padding after a byte string may go: then both still decode.
          if (viemOk) assert.equal(r.reason, 'ok', `${data.slice(0, 10)} cut at ${len}`);
          else assert.deepEqual(r, { intent: null, reason: 'malformed' }, `${data.slice(0, 10)} cut at ${len}`);
        }
      }
    });

    it('error: random bytes after each selector are malformed', () => {
      const rng = mulberry32(5);
      for (const [to, data] of valid) {
        for (let i = 0; i < 40; i++) {
          const junk = new Uint8Array(4 + Math.floor(rng() * 600));
          junk.set(hexToBytes(data).subarray(0, 4));
          for (let j = 4; j < junk.length; j++) junk[j] = Math.floor(rng() * 256);
          assert.equal(classifyCalldataWithReason(to, junk, 0n, registry).reason, 'malformed');
        }
      }
    });

    it('error: a fee above 24 bits or a broken path inside a multicall is malformed', () => {
      const good = v1('exactInputSingle', [{ tokenIn: USDC, tokenOut: WETH, fee: 500, recipient: USER, deadline: 1n, amountIn: 1n, amountOutMinimum: 1n, sqrtPriceLimitX96: 0n }]);
      const bytes = hexToBytes(good);
      bytes[4 + 64 + 28] = 1; // fee word = 2^24 + 500
      assert.equal(classifyCalldataWithReason(ROUTER, bytes, 0n, registry).reason, 'malformed');
      const broken = r02('exactInput', [{ path: `0x${'22'.repeat(42)}`, recipient: USER, amountIn: 1n, amountOutMinimum: 1n }]);
      assert.equal(classify(ROUTER02, r02('multicall', [DEADLINE, [r02('unwrapWETH9', [1n]), broken]])).reason, 'malformed');
    });
  });
});
