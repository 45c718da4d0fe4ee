import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Hex, decodeFunctionData, encodeAbiParameters, encodeFunctionData, encodePacked, hexToBytes, parseAbiParameters } from 'viem';
import { MAX_POOLS_PER_CALL } from '../../../../src/actors/decoder/calldata/call-context.js';
import { classifyCalldataWithReason } from '../../../../src/actors/decoder/calldata/classify.js';
import { RouterRegistry } from '../../../../src/actors/decoder/calldata/router-registry.js';
import { CONTRACT_BALANCE, Command, UNIVERSAL_ROUTER_ABI } from '../../../../src/actors/decoder/calldata/universal-router.js';
import type { SwapLeg } from '../../../../src/messages/schema.js';
import { mulberry32 } from '../../../support/prng.js';
import { ADDRESS_THIS, DAI, DAI_WETH_V2, DEADLINE, MSG_SENDER, SENDER, USDC, USDC_WETH_500, USDC_WETH_V2, USER, WETH } from '../../../support/mainnet.js';
import { testLeg } from '../../../support/swap-leg.js';

const UR = '0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad';
const UR_V1 = '0xef1c6e67703c7bd7107eed8303fbe6ec2554bf6b';
const registry = new RouterRegistry();

const v3Input = (recipient: string, amount: bigint, bound: bigint, path: Hex, payerIsUser: boolean) =>
  encodeAbiParameters(parseAbiParameters('address, uint256, uint256, bytes, bool'), [recipient as Hex, amount, bound, path, payerIsUser]);
const v2Input = (recipient: string, amount: bigint, bound: bigint, path: string[], payerIsUser: boolean) =>
  encodeAbiParameters(parseAbiParameters('address, uint256, uint256, address[], bool'), [recipient as Hex, amount, bound, path as Hex[], payerIsUser]);
const amountInput = (recipient: string, amount: bigint) => encodeAbiParameters(parseAbiParameters('address, uint256'), [recipient as Hex, amount]);
const sweepInput = (token: string, recipient: string, min: bigint) => encodeAbiParameters(parseAbiParameters('address, address, uint256'), [token as Hex, recipient as Hex, min]);

function path(...hops: (string | number)[]): Hex {
  return encodePacked(hops.map((h) => (typeof h === 'number' ? 'uint24' : 'address')), hops as never);
}

function execute(commands: number[], inputs: Hex[], deadline: bigint | null = DEADLINE): Hex {
  const c = `0x${Buffer.from(commands).toString('hex')}` as Hex;
  return encodeFunctionData({ abi: UNIVERSAL_ROUTER_ABI, functionName: 'execute', args: deadline === null ? [c, inputs] : [c, inputs, deadline] });
}

function classify(data: Hex, value = 0n, sender: string | null = SENDER, to = UR) {
  return classifyCalldataWithReason(to, hexToBytes(data), value, registry, sender);
}

function leg(p: Partial<SwapLeg>): SwapLeg {
  return testLeg({ protocol: 'uniswap-v3', recipient: SENDER, deadline: DEADLINE, ...p });
}

describe('universal-router', () => {
  it('default', () => {
    // ETH → USDC as the Uniswap interface sends it: wrap the value, swap it from the router.
    const value = 10n ** 18n;
    const data = execute([Command.WRAP_ETH, Command.V3_SWAP_EXACT_IN], [amountInput(ADDRESS_THIS, value), v3Input(MSG_SENDER, value, 1800n, path(WETH, 500, USDC), false)]);
    assert.equal(data.slice(0, 10), '0x3593564c');
    const r = classify(data, value);
    assert.equal(r.reason, 'ok');
    assert.deepEqual(r.intent, {
      router: UR,
      kind: 'universal-router',
      method: 'execute',
      legs: [leg({ path: [WETH, USDC], fees: [500], pools: [USDC_WETH_500], amountIn: value, amountOutMin: 1800n, ethIn: true })],
    });
  });

  it('behavior: V3_SWAP_EXACT_OUT reverses its path; V2 swaps give pairs per hop', () => {
    const r = classify(
      execute(
        [Command.V3_SWAP_EXACT_OUT, Command.V2_SWAP_EXACT_IN, Command.V2_SWAP_EXACT_OUT],
        [
          v3Input(USER, 50n, 60n, path(WETH, 500, USDC), true),
          v2Input(USER, 7n, 6n, [USDC, WETH, DAI], true),
          v2Input(MSG_SENDER, 5n, 9n, [DAI, WETH], true),
        ],
      ),
    );
    assert.deepEqual(r.intent?.legs, [
      leg({ exact: 'out', path: [USDC, WETH], fees: [500], pools: [USDC_WETH_500], amountOut: 50n, amountInMax: 60n, recipient: USER }),
      leg({ protocol: 'uniswap-v2', path: [USDC, WETH, DAI], pools: [USDC_WETH_V2, DAI_WETH_V2], amountIn: 7n, amountOutMin: 6n, recipient: USER }),
      leg({ protocol: 'uniswap-v2', exact: 'out', path: [DAI, WETH], pools: [DAI_WETH_V2], amountOut: 5n, amountInMax: 9n }),
    ]);
  });

  it('behavior: legs come in command order; CONTRACT_BALANCE and V2 amount 0 leave amountIn null', () => {
    const r = classify(
      execute(
        [Command.V2_SWAP_EXACT_IN, Command.V3_SWAP_EXACT_IN, Command.V2_SWAP_EXACT_IN],
        [
          v2Input(ADDRESS_THIS, 100n, 0n, [USDC, WETH], true),
          v3Input(MSG_SENDER, CONTRACT_BALANCE, 3n, path(WETH, 500, USDC), false),
          v2Input(MSG_SENDER, 0n, 4n, [WETH, DAI], false),
        ],
      ),
    );
    const legs = r.intent?.legs ?? [];
    assert.deepEqual(legs.map((l) => [l.protocol, l.path[0], l.amountIn, l.amountOutMin, l.recipient]), [
      ['uniswap-v2', USDC, 100n, 0n, UR],
      ['uniswap-v3', WETH, null, 3n, SENDER],
      ['uniswap-v2', WETH, null, 4n, SENDER],
    ]);
  });

  it('behavior: UNWRAP_WETH pays a swap left with the router out as ETH; SWEEP redirects a token', () => {
    const r = classify(
      execute(
        [Command.V2_SWAP_EXACT_IN, Command.UNWRAP_WETH],
        [v2Input(ADDRESS_THIS, 100n, 9n, [USDC, WETH], true), amountInput(MSG_SENDER, 9n)],
      ),
    );
    assert.deepEqual(r.intent?.legs, [leg({ protocol: 'uniswap-v2', path: [USDC, WETH], pools: [USDC_WETH_V2], amountIn: 100n, amountOutMin: 9n, ethOut: true })]);
    const swept = classify(execute([Command.V3_SWAP_EXACT_IN, Command.SWEEP], [v3Input(ADDRESS_THIS, 1n, 1n, path(WETH, 500, USDC), true), sweepInput(USDC, USER, 1n)]));
    assert.equal(swept.intent?.legs[0]?.recipient, USER);
    assert.equal(swept.intent?.legs[0]?.ethOut, false);
  });

  it('behavior: an exact-output ETH swap with its refund UNWRAP_WETH keeps its recipient', () => {
    const r = classify(
      execute(
        [Command.WRAP_ETH, Command.V3_SWAP_EXACT_OUT, Command.UNWRAP_WETH],
        [amountInput(ADDRESS_THIS, 5n), v3Input(USER, 10n, 5n, path(USDC, 500, WETH), false), amountInput(MSG_SENDER, 0n)],
      ),
      5n,
    );
    assert.deepEqual(r.intent?.legs, [
      leg({ exact: 'out', path: [WETH, USDC], fees: [500], pools: [USDC_WETH_500], amountOut: 10n, amountInMax: 5n, recipient: USER, ethIn: true }),
    ]);
  });

  it('behavior: a swap paid by the user is not ETH in, even after WRAP_ETH', () => {
    const r = classify(execute([Command.WRAP_ETH, Command.V2_SWAP_EXACT_IN], [amountInput(ADDRESS_THIS, 1n), v2Input(USER, 1n, 1n, [WETH, USDC], true)]), 1n);
    assert.equal(r.intent?.legs[0]?.ethIn, false);
  });

  it('behavior: the allow-revert flag is masked off; other commands are skipped, whatever their input', () => {
    const r = classify(
      execute(
        [0x0a, 0x80 | Command.V2_SWAP_EXACT_IN, 0x05, 0x10, 0x3f],
        ['0x', v2Input(USER, 1n, 1n, [USDC, WETH], true), '0xdeadbeef', `0x${'ff'.repeat(64)}`, '0x00'],
      ),
    );
    assert.equal(r.reason, 'ok');
    assert.equal(r.intent?.legs.length, 1);
    assert.equal(r.intent?.legs[0]?.amountIn, 1n);
  });

  it('args: execute without deadline gives legs without deadline', () => {
    const data = execute([Command.V2_SWAP_EXACT_IN], [v2Input(USER, 1n, 1n, [USDC, WETH], true)], null);
    assert.equal(data.slice(0, 10), '0x24856bc3');
    assert.equal(classify(data).intent?.legs[0]?.deadline, null);
  });

  it('args: without the sender, a msg.sender recipient is null', () => {
    const data = execute([Command.V2_SWAP_EXACT_IN], [v2Input(MSG_SENDER, 1n, 1n, [USDC, WETH], true)]);
    assert.equal(classify(data, 0n, null).intent?.legs[0]?.recipient, null);
  });

  it('behavior: both deployed Universal Routers and an unknown one (no pools, no WETH) are classified', () => {
    const data = execute([Command.WRAP_ETH, Command.V2_SWAP_EXACT_IN], [amountInput(ADDRESS_THIS, 1n), v2Input(USER, 1n, 1n, [WETH, USDC], false)]);
    assert.deepEqual(classify(data, 1n, SENDER, UR_V1).intent?.legs[0]?.pools, [USDC_WETH_V2]);
    const other = '0x1095692a6237d83c6a72f3f5efedb9a670c49223';
    const r = classify(data, 1n, SENDER, other);
    assert.equal(r.intent?.kind, 'universal-router');
    assert.deepEqual(r.intent?.legs[0]?.pools, []);
    assert.equal(r.intent?.legs[0]?.ethIn, true);
  });

  it('behavior: pools are derived for at most MAX_POOLS_PER_CALL hops per transaction; legs still come', () => {
    const n = MAX_POOLS_PER_CALL; // n two-hop legs: twice the budget
    const r = classify(execute(new Array<number>(n).fill(Command.V2_SWAP_EXACT_IN), new Array<Hex>(n).fill(v2Input(USER, 1n, 1n, [USDC, WETH, DAI], true))));
    assert.equal(r.intent?.legs.length, n);
    const withPools = r.intent?.legs.filter((l) => l.pools.length === 2).length;
    assert.equal(withPools, MAX_POOLS_PER_CALL / 2);
    assert.ok(r.intent?.legs.slice(MAX_POOLS_PER_CALL / 2).every((l) => l.pools.length === 0));
  });

  it('behavior: an execute of non-swap commands only has no swap', () => {
    assert.equal(classify(execute([0x0a, 0x04], ['0x', sweepInput(USDC, USER, 0n)])).reason, 'no-swap');
    assert.equal(classify(execute([], [])).reason, 'no-swap');
  });

  it('error: commands and inputs of different lengths are malformed (the router reverts)', () => {
    assert.equal(classify(execute([Command.V2_SWAP_EXACT_IN, 0x0a], [v2Input(USER, 1n, 1n, [USDC, WETH], true)])).reason, 'malformed');
  });

  it('error: a swap input that does not decode, or a short path, is malformed', () => {
    assert.equal(classify(execute([Command.V3_SWAP_EXACT_IN], ['0x1234'])).reason, 'malformed');
    assert.equal(classify(execute([Command.V3_SWAP_EXACT_IN], [v3Input(USER, 1n, 1n, `0x${'11'.repeat(40)}`, true)])).reason, 'malformed');
    assert.equal(classify(execute([Command.V2_SWAP_EXACT_IN], [v2Input(USER, 1n, 1n, [USDC], true)])).reason, 'malformed');
    assert.equal(classify(execute([Command.UNWRAP_WETH], [`0x${'00'.repeat(31)}`])).reason, 'malformed');
  });

  it('error: truncated calldata is malformed wherever viem cannot decode it either', () => {
    const value = 10n ** 18n;
    const data = execute(
      [Command.WRAP_ETH, Command.V3_SWAP_EXACT_IN, Command.V2_SWAP_EXACT_OUT, Command.UNWRAP_WETH],
      [amountInput(ADDRESS_THIS, value), v3Input(ADDRESS_THIS, value, 1n, path(WETH, 500, USDC), false), v2Input(ADDRESS_THIS, 1n, 2n, [USDC, WETH], false), amountInput(MSG_SENDER, 0n)],
    );
    const full = hexToBytes(data);
    for (let len = 4; len < full.length; len++) {
      let viemOk = true;
      try {
        const { args } = decodeFunctionData({ abi: UNIVERSAL_ROUTER_ABI, data: data.slice(0, 2 + 2 * len) as Hex });
        // The inputs the classifier reads must decode too (the last one is 64 bytes).
        viemOk = (args[1] as Hex[]).every((x) => x.length >= 2 + 128);
      } catch {
        viemOk = false;
      }
      const r = classifyCalldataWithReason(UR, full.subarray(0, len), value, registry, SENDER);
      assert.equal(r.reason, viemOk ? 'ok' : 'malformed', `cut at ${len}`);
    }
  });

  it('error: random bytes after each execute selector are malformed', () => {
    const rng = mulberry32(9);
    for (const sel of [0x3593564c, 0x24856bc3]) {
      for (let i = 0; i < 200; i++) {
        const junk = new Uint8Array(4 + Math.floor(rng() * 600));
        new DataView(junk.buffer).setUint32(0, sel);
        for (let j = 4; j < junk.length; j++) junk[j] = Math.floor(rng() * 256);
        assert.equal(classifyCalldataWithReason(UR, junk, 0n, registry).reason, 'malformed');
      }
    }
  });
});
