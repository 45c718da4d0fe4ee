import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Abi, type Hex, decodeFunctionData, encodeFunctionData, hexToBytes } from 'viem';
import {
  CLASSIFY_REASONS,
  classifiedSelectors,
  classifyCalldata,
  classifyCalldataWithReason,
} from '../../../../src/actors/decoder/calldata/classify.js';
import { RouterRegistry } from '../../../../src/actors/decoder/calldata/router-registry.js';
import { UNIVERSAL_ROUTER_ABI } from '../../../../src/actors/decoder/calldata/universal-router.js';
import { V2_PAIR_ABI } from '../../../../src/actors/decoder/calldata/v2-pair.js';
import { V2_ROUTER_ABI } from '../../../../src/actors/decoder/calldata/v2-router.js';
import { SWAP_ROUTER02_ABI, V3_ROUTER_ABI, V3_SHARED_ABI } from '../../../../src/actors/decoder/calldata/v3-router.js';
import { mulberry32 } from '../../../support/prng.js';
import { USDC, USER, WETH } from '../../../support/mainnet.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', '..', '..');
const MAINNET = join(ROOT, '..', 'shared', 'data', 'mainnet');
const V2_ROUTER = '0x7a250d5630b4cf539739df2c5dacb4c659f2488d';
const registry = new RouterRegistry();

/** Every ABI classified here, for viem's decodeFunctionData as the independent reference. */
const ALL_ABI = [...V2_ROUTER_ABI, ...V3_ROUTER_ABI, ...SWAP_ROUTER02_ABI, ...V3_SHARED_ABI, ...UNIVERSAL_ROUTER_ABI, ...V2_PAIR_ABI] as Abi;

interface RpcTx {
  hash: string;
  from: string;
  to: string | null;
  input: Hex;
  value: Hex;
}

function mainnetTxs(): RpcTx[] {
  const seen = new Map<string, RpcTx>();
  for (const f of readdirSync(MAINNET).filter((x) => x.endsWith('.json'))) {
    const block = JSON.parse(readFileSync(join(MAINNET, f), 'utf8')) as { transactions?: unknown[]; result?: { transactions?: unknown[] } };
    for (const t of block.transactions ?? block.result?.transactions ?? []) if (typeof t === 'object' && t !== null) seen.set((t as RpcTx).hash, t as RpcTx);
  }
  return [...seen.values()];
}

/** Token paths of the swaps in `data`, in swap direction, decoded with viem alone. */
function referencePaths(data: Hex): string[][] {
  let call: { functionName: string; args: readonly unknown[] };
  try {
    call = decodeFunctionData({ abi: ALL_ABI, data }) as never;
  } catch {
    return []; // selfPermit, wrapETH, …: not swaps
  }
  const { functionName, args } = call;
  if (functionName === 'multicall') return (args[args.length - 1] as Hex[]).flatMap(referencePaths);
  const first = args[0] as Record<string, unknown>;
  if (typeof first === 'object' && first !== null && 'tokenIn' in first) return [[first.tokenIn as string, first.tokenOut as string].map((a) => a.toLowerCase())];
  if (typeof first === 'object' && first !== null && 'path' in first) {
    const hex = (first.path as string).slice(2).toLowerCase();
    const tokens: string[] = [];
    for (let i = 0; i < hex.length; i += 46) tokens.push(`0x${hex.slice(i, i + 40)}`);
    return [functionName === 'exactOutput' ? tokens.reverse() : tokens];
  }
  const path = args.find((a) => Array.isArray(a)) as string[] | undefined;
  return path === undefined ? [] : [path.map((a) => a.toLowerCase())];
}

describe('classify', () => {
  it('default', () => {
    assert.deepEqual(CLASSIFY_REASONS, ['ok', 'no-target', 'no-input', 'unknown-selector', 'malformed', 'no-swap']);
    const input = hexToBytes(encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapExactTokensForTokens', args: [1n, 1n, [USDC, WETH], USER, 1n] }));
    const r = classifyCalldataWithReason(V2_ROUTER, input, 0n, registry);
    assert.equal(r.reason, 'ok');
    assert.deepEqual(classifyCalldata(V2_ROUTER, input, 0n, registry), r.intent);
  });

  it('behavior: without an intent, the reason says why, and the result is shared and frozen', () => {
    const transfer = hexToBytes(`0xa9059cbb${'00'.repeat(64)}`);
    const cases: [string | null, Uint8Array, string][] = [
      [null, hexToBytes('0x6080604052'), 'no-target'],
      [V2_ROUTER, new Uint8Array(0), 'no-input'],
      [V2_ROUTER, new Uint8Array([0x38, 0xed, 0x17]), 'no-input'],
      [USDC, transfer, 'unknown-selector'],
      [V2_ROUTER, hexToBytes('0x38ed1739'), 'malformed'],
    ];
    for (const [to, input, reason] of cases) {
      const a = classifyCalldataWithReason(to, input, 0n, registry);
      assert.deepEqual(a, { intent: null, reason }, reason);
      assert.ok(Object.isFrozen(a));
      assert.equal(classifyCalldataWithReason(to, input, 0n, registry), a, 'no allocation per call');
    }
  });

  it('behavior: one handler per selector, for every function classified', () => {
    const hex = classifiedSelectors()
      .map((s) => s.toString(16).padStart(8, '0'))
      .sort();
    assert.deepEqual(hex, [
      // V2 Router02
      '38ed1739', '8803dbee', '7ff36ab5', '4a25d94a', '18cbafe5', 'fb3bdb41', '5c11d795', 'b6f9de95', '791ac947',
      // SwapRouter, and the multicall(bytes[]) both routers have
      '414bf389', 'c04b8d59', 'db3e2198', 'f28c0498', 'ac9650d8',
      // SwapRouter02
      '04e45aaf', 'b858183f', '5023b4df', '09b81346', '472b43f3', '42712a67', '5ae401dc', '1f0464d1',
      // Universal Router, V2 pair
      '3593564c', '24856bc3', '022c0d9f',
    ].sort());
  });

  it('behavior: never throws on random and mutated calldata, and has an intent exactly when ok', () => {
    const rng = mulberry32(2024);
    const selectors = classifiedSelectors();
    const targets = [null, V2_ROUTER, '0xe592427a0aece92de3edee1f18e0157c05861564', '0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45', '0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad', USER];
    const seeds = mainnetTxs()
      .filter((t) => t.to !== null && registry.get(t.to) !== undefined)
      .map((t) => hexToBytes(t.input));
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      let input: Uint8Array;
      const seed = seeds[i % Math.max(1, seeds.length)];
      if (seed !== undefined && rng() < 0.5) {
        input = new Uint8Array(seed.subarray(0, Math.max(4, Math.floor(rng() * (seed.length + 1)))));
        for (let k = Math.floor(rng() * 4); k > 0; k--) {
          const at = 4 + Math.floor(rng() * Math.max(1, input.length - 4));
          if (at < input.length) input[at] = Math.floor(rng() * 256);
        }
      } else {
        input = new Uint8Array(Math.floor(rng() * 700));
        for (let j = 0; j < input.length; j++) input[j] = rng() < 0.7 ? 0 : Math.floor(rng() * 256);
        if (input.length >= 4 && rng() < 0.9) new DataView(input.buffer).setUint32(0, selectors[Math.floor(rng() * selectors.length)]!);
      }
      const to = targets[Math.floor(rng() * targets.length)]!;
      const r = classifyCalldataWithReason(to, input, BigInt(Math.floor(rng() * 3)), registry, rng() < 0.5 ? USER : null);
      assert.ok(CLASSIFY_REASONS.includes(r.reason));
      assert.equal(r.intent !== null, r.reason === 'ok');
      if (r.intent !== null) assert.ok(r.intent.legs.length > 0);
      counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
    }
    for (const reason of ['no-target', 'no-input', 'unknown-selector', 'malformed']) assert.ok((counts.get(reason) ?? 0) > 0, `some ${reason}`);
  });

  it('behavior: real router swaps from mainnet blocks are classified, with the tokens their calldata names', { skip: !existsSync(MAINNET) && 'no ../shared/data/mainnet' }, () => {
    const routed = mainnetTxs().filter((t) => t.to !== null && registry.get(t.to) !== undefined);
    assert.ok(routed.length >= 4, `router transactions in the data: ${routed.length}`);
    for (const t of routed) {
      const r = classifyCalldataWithReason(t.to, hexToBytes(t.input), BigInt(t.value), registry, t.from);
      assert.equal(r.reason, 'ok', t.hash);
      assert.equal(r.intent?.router, t.to!.toLowerCase());
      assert.deepEqual(r.intent?.legs.map((l) => l.path), referencePaths(t.input), t.hash);
      for (const l of r.intent?.legs ?? []) assert.equal(l.pools.length, l.path.length - 1, `${t.hash}: a pool per hop`);
    }
    const byHash = new Map(routed.map((t) => [t.hash, classifyCalldata(t.to, hexToBytes(t.input), BigInt(t.value), registry, t.from)]));
    // Block 15571241: 0.1 ETH into SwapRouter02's V2 swap via multicall(deadline, …).
    const ethIn = byHash.get('0xd8ab54c64d7f3d4497cbf7350609d1e86e6299e560cb13123d5e26c194a2ca52');
    assert.equal(ethIn?.kind, 'v3-swaprouter02');
    assert.equal(ethIn?.method, 'multicall');
    assert.deepEqual(ethIn?.legs.map((l) => [l.protocol, l.path[0], l.amountIn, l.ethIn, l.deadline]), [['uniswap-v2', WETH, 10n ** 17n, true, 1663636907n]]);
    // Same block: a two-hop V3 exactInput through the USDT/USDC 0.05% pool.
    const twoHop = byHash.get('0x922fdb2c41b0552d28d612a9d526fb2e87143f7092794458bf08318b16e7bacd')?.legs[0];
    assert.deepEqual(twoHop?.fees, [500, 500]);
    assert.equal(twoHop?.pools[1], '0x7858e59e0c01ea06df3af3d20ac7b0003275d4bf');
  });
});
