/**
 * Calldata classification cost per call (tinybench), each case next to what a TypeScript user
 * would write in the same run: viem's `decodeFunctionData` on the full ABI (which only decodes; it
 * derives no pools and reads no Universal Router inputs). Also the measured hot spot on its own:
 * V2-style argument decoding, hand-written vs viem's `decodeAbiParameters`, and the cost of a pool
 * address cache miss (two keccaks). Each task runs BATCH calls; figures are the median per call.
 * Writes bench/results/calldata.json.
 */
import { Bench } from 'tinybench';
import { type Abi, type Hex, decodeAbiParameters, decodeFunctionData, encodeAbiParameters, encodeFunctionData, encodePacked, hexToBytes, parseAbiParameters } from 'viem';
import { classifyCalldataWithReason } from '../../src/actors/decoder/calldata/classify.js';
import { clearPoolAddressCache, v2PairAddress } from '../../src/actors/decoder/calldata/pool-address.js';
import { RouterRegistry } from '../../src/actors/decoder/calldata/router-registry.js';
import { Command, UNIVERSAL_ROUTER_ABI } from '../../src/actors/decoder/calldata/universal-router.js';
import { V2_ROUTER_ABI, type V2CallShape, decodeV2Args, decodeV2ArgsViem } from '../../src/actors/decoder/calldata/v2-router.js';
import { SWAP_ROUTER02_ABI, V3_ROUTER_ABI, V3_SHARED_ABI } from '../../src/actors/decoder/calldata/v3-router.js';
import { writeResult } from '../support/results.js';

const BATCH = 200;
const V2_ROUTER = '0x7a250d5630b4cf539739df2c5dacb4c659f2488d';
const V3_ROUTER = '0xe592427a0aece92de3edee1f18e0157c05861564';
const ROUTER02 = '0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45';
const UR = '0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad';
const USDC = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48';
const WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2';
const DAI = '0x6b175474e89094c44da98b954eedeac495271d0f';
const USER = '0x5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e';
const ADDRESS_THIS = '0x0000000000000000000000000000000000000002';
const MSG_SENDER = '0x0000000000000000000000000000000000000001';
const DEADLINE = 1_700_000_000n;
const registry = new RouterRegistry();

const v2Hex = encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactTokensForTokens', args: [2_500n * 10n ** 18n, 10n ** 18n, [DAI, WETH], USER, DEADLINE] });
const v3Hex = encodeFunctionData({
  abi: V3_ROUTER_ABI,
  functionName: 'exactInput',
  args: [{ path: encodePacked(['address', 'uint24', 'address', 'uint24', 'address'], [USDC, 500, WETH, 3000, DAI]), recipient: USER, deadline: DEADLINE, amountIn: 5_000n * 10n ** 6n, amountOutMinimum: 4_990n * 10n ** 18n }],
});
const ethIn = 10n ** 18n;
const urInputs: Hex[] = [
  encodeAbiParameters(parseAbiParameters('address, uint256'), [ADDRESS_THIS, ethIn]),
  encodeAbiParameters(parseAbiParameters('address, uint256, uint256, bytes, bool'), [MSG_SENDER, ethIn, 2_400n * 10n ** 6n, encodePacked(['address', 'uint24', 'address'], [WETH, 500, USDC]), false]),
];
const urHex = encodeFunctionData({ abi: UNIVERSAL_ROUTER_ABI, functionName: 'execute', args: [`0x${Buffer.from([Command.WRAP_ETH, Command.V3_SWAP_EXACT_IN]).toString('hex')}`, urInputs, DEADLINE] });
const R02_ABI = [...SWAP_ROUTER02_ABI, ...V3_SHARED_ABI] as Abi;
const mcHex = encodeFunctionData({
  abi: R02_ABI,
  functionName: 'multicall',
  args: [
    DEADLINE,
    [
      encodeFunctionData({ abi: R02_ABI, functionName: 'exactInputSingle', args: [{ tokenIn: USDC, tokenOut: WETH, fee: 500, recipient: ADDRESS_THIS, amountIn: 10n ** 9n, amountOutMinimum: 1n, sqrtPriceLimitX96: 0n }] }),
      encodeFunctionData({ abi: R02_ABI, functionName: 'unwrapWETH9', args: [1n] }),
    ],
  ],
} as never);
const unknownHex: Hex = `0xa9059cbb${'00'.repeat(12)}${USER.slice(2)}${(10n ** 6n).toString(16).padStart(64, '0')}`;

const v2 = hexToBytes(v2Hex);
const v3 = hexToBytes(v3Hex);
const ur = hexToBytes(urHex);
const mc = hexToBytes(mcHex);
const unknown = hexToBytes(unknownHex);
const v2Args = v2.subarray(4);
const v2Fn = V2_ROUTER_ABI[0];
const v2Shape: V2CallShape = { exact: 'in', ethIn: null, ethOut: false, feeOnTransfer: false, hasDeadline: true };
const V3_ABI = [...V3_ROUTER_ABI, ...V3_SHARED_ABI] as Abi;
const UR_INPUT_SWAP = parseAbiParameters('address, uint256, uint256, bytes, bool');
const UR_INPUT_WRAP = parseAbiParameters('address, uint256');

// Every case must classify as intended before it is timed.
for (const [to, input, value, reason] of [[V2_ROUTER, v2, 0n, 'ok'], [V3_ROUTER, v3, 0n, 'ok'], [UR, ur, ethIn, 'ok'], [ROUTER02, mc, 0n, 'ok'], [USDC, unknown, 0n, 'unknown-selector']] as const) {
  const r = classifyCalldataWithReason(to, input, value, registry, USER);
  if (r.reason !== reason) throw new Error(`bench case ${to}: ${r.reason}, expected ${reason}`);
}

let sink: unknown;
const batch = (f: () => unknown) => () => {
  for (let i = 0; i < BATCH; i++) sink = f();
};

const bench = new Bench({ time: 1500, warmupTime: 300 });
bench
  .add('classify v2 swap', batch(() => classifyCalldataWithReason(V2_ROUTER, v2, 0n, registry, USER)))
  .add('viem decodeFunctionData v2 swap', batch(() => decodeFunctionData({ abi: V2_ROUTER_ABI, data: v2Hex })))
  .add('decodeV2Args (hand-written)', batch(() => decodeV2Args(v2Shape, v2Args)))
  .add('decodeV2ArgsViem (decodeAbiParameters)', batch(() => decodeV2ArgsViem(v2Fn, v2Shape, v2Args)))
  .add('classify v3 exactInput 2 hops', batch(() => classifyCalldataWithReason(V3_ROUTER, v3, 0n, registry, USER)))
  .add('viem decodeFunctionData v3 exactInput', batch(() => decodeFunctionData({ abi: V3_ABI, data: v3Hex })))
  .add('classify UR execute 2 commands', batch(() => classifyCalldataWithReason(UR, ur, ethIn, registry, USER)))
  .add(
    'viem decodeFunctionData UR execute + inputs',
    batch(() => {
      const { args } = decodeFunctionData({ abi: UNIVERSAL_ROUTER_ABI, data: urHex });
      return [decodeAbiParameters(UR_INPUT_WRAP, args[1][0]!), decodeAbiParameters(UR_INPUT_SWAP, args[1][1]!)];
    }),
  )
  .add('classify SwapRouter02 multicall', batch(() => classifyCalldataWithReason(ROUTER02, mc, 0n, registry, USER)))
  .add('classify unknown selector', batch(() => classifyCalldataWithReason(USDC, unknown, 0n, registry, USER)))
  .add(
    'v2 pair address, cache miss',
    batch(() => {
      clearPoolAddressCache();
      return v2PairAddress('0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f', '0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f', USDC, WETH);
    }),
  );
await bench.run();
void sink;

/** Median µs per call of a task. */
const us = (name: string): number => {
  const r = bench.tasks.find((t) => t.name === name)?.result;
  if (r === undefined || !('latency' in r)) throw new Error(`bench task ${name} did not complete`);
  return Math.round((r.latency.p50 * 1000 * 100) / BATCH) / 100;
};
const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;

const m = {
  v2SwapUs: us('classify v2 swap'),
  v3PathUs: us('classify v3 exactInput 2 hops'),
  urExecuteUs: us('classify UR execute 2 commands'),
  multicallUs: us('classify SwapRouter02 multicall'),
  unknownUs: us('classify unknown selector'),
  viemV2SwapUs: us('viem decodeFunctionData v2 swap'),
  viemV3PathUs: us('viem decodeFunctionData v3 exactInput'),
  viemUrExecuteUs: us('viem decodeFunctionData UR execute + inputs'),
  v2ArgsHandUs: us('decodeV2Args (hand-written)'),
  v2ArgsViemUs: us('decodeV2ArgsViem (decodeAbiParameters)'),
  poolCacheMissUs: us('v2 pair address, cache miss'),
};
const metrics = {
  ...m,
  v2ArgsViemVsHand: ratio(m.v2ArgsViemUs, m.v2ArgsHandUs),
  viemVsClassifyV2: ratio(m.viemV2SwapUs, m.v2SwapUs),
  viemVsClassifyV3: ratio(m.viemV3PathUs, m.v3PathUs),
  viemVsClassifyUr: ratio(m.viemUrExecuteUs, m.urExecuteUs),
};
console.table(bench.table());
process.stderr.write(
  `classify p50 per call: v2 ${m.v2SwapUs} µs, v3 path ${m.v3PathUs} µs, UR execute ${m.urExecuteUs} µs, multicall ${m.multicallUs} µs, unknown ${m.unknownUs} µs; ` +
    `hot spot (V2 args): viem ${m.v2ArgsViemUs} µs vs hand-written ${m.v2ArgsHandUs} µs = ${metrics.v2ArgsViemVsHand}x; pool cache miss ${m.poolCacheMissUs} µs\n`,
);
writeResult('calldata', metrics, {
  batch: BATCH,
  note: 'median µs per call (tinybench p50 of batches / batch size); classify includes pools (cached) and the intent; viem decodeFunctionData only decodes',
});
