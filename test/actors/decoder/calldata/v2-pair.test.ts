import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Hex, encodeFunctionData, hexToBytes } from 'viem';
import { classifyCalldataWithReason } from '../../../../src/actors/decoder/calldata/classify.js';
import { RouterRegistry } from '../../../../src/actors/decoder/calldata/router-registry.js';
import { V2_PAIR_ABI } from '../../../../src/actors/decoder/calldata/v2-pair.js';

const PAIR = '0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc';
const BOT = '0x00000000000000000000000000000000000b0b00';
const registry = new RouterRegistry();

function swap(amount0Out: bigint, amount1Out: bigint, data: Hex = '0x'): Uint8Array {
  return hexToBytes(encodeFunctionData({ abi: V2_PAIR_ABI, functionName: 'swap', args: [amount0Out, amount1Out, BOT, data] }));
}

describe('v2-pair', () => {
  it('default', () => {
    const input = swap(0n, 123n);
    assert.deepEqual([...input.subarray(0, 4)], [0x02, 0x2c, 0x0d, 0x9f]);
    const r = classifyCalldataWithReason('0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc', input, 0n, registry);
    assert.equal(r.reason, 'ok');
    assert.deepEqual(r.intent, {
      router: PAIR,
      kind: 'v2-pair',
      method: 'swap',
      legs: [
        {
          protocol: 'uniswap-v2',
          exact: 'out',
          path: [],
          fees: [],
          pools: [PAIR],
          amountIn: null,
          amountInMax: null,
          amountOut: 123n,
          amountOutMin: null,
          recipient: BOT,
          deadline: null,
          ethIn: false,
          ethOut: false,
          feeOnTransfer: false,
        },
      ],
    });
  });

  it('behavior: the non-zero side is amountOut; a two-sided flash swap has none', () => {
    assert.equal(classifyCalldataWithReason(PAIR, swap(9n, 0n), 0n, registry).intent?.legs[0]?.amountOut, 9n);
    const both = classifyCalldataWithReason(PAIR, swap(9n, 8n, '0x01'), 0n, registry);
    assert.equal(both.reason, 'ok');
    assert.equal(both.intent?.legs[0]?.amountOut, null);
  });

  it('behavior: a known router address has no pair swap', () => {
    assert.equal(classifyCalldataWithReason('0x7a250d5630b4cf539739df2c5dacb4c659f2488d', swap(1n, 0n), 0n, registry).reason, 'unknown-selector');
  });

  it('error: no output, truncation and garbage are malformed', () => {
    assert.equal(classifyCalldataWithReason(PAIR, swap(0n, 0n), 0n, registry).reason, 'malformed');
    const full = swap(1n, 0n, '0xabcdef');
    // Up to the end of the callback data; only its zero padding may go.
    for (let len = 4; len < 4 + 32 * 5 + 3; len++) assert.equal(classifyCalldataWithReason(PAIR, full.subarray(0, len), 0n, registry).reason, 'malformed', `cut at ${len}`);
    assert.equal(classifyCalldataWithReason(PAIR, full.subarray(0, 4 + 32 * 5 + 3), 0n, registry).reason, 'ok');
    const junk = new Uint8Array(200).fill(0xee);
    junk.set(full.subarray(0, 4));
    assert.equal(classifyCalldataWithReason(PAIR, junk, 0n, registry).reason, 'malformed');
  });
});
