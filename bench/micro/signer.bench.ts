/**
 * Signing cost per transaction (tinybench), the submitter's signer next to what a TypeScript user
 * would write in the same run: viem's `privateKeyToAccount(k).signTransaction` (pure-JS
 * secp256k1). Also the signer's JS fallback (@noble/curves, used where the native binding does not
 * load), and EIP-191 message signing (a relay's `X-Flashbots-Signature` signs one per request).
 * Every task cycles through the same mix of EIP-1559 transactions (swap-sized calldata, nonces and
 * fees varying) and first checks that its bytes equal viem's. Report only: budgets live in
 * perf-budgets.json. Writes bench/results/signer.json.
 * Run: `npx tsc -p . ; node dist/bench/micro/signer.bench.js`.
 */
import { Bench } from 'tinybench';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type Eip1559Tx, NativeSigner, signerBackend } from '../../src/actors/submitter/signer.js';
import { mulberry32 } from '../../test/support/prng.js';
import { writeResult } from '../support/results.js';

/** anvil's first account; a public test key. */
const KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const MIX = 64;

const rng = mulberry32(2025);
const hex = (bytes: number): Hex => `0x${Array.from({ length: bytes }, () => Math.floor(rng() * 256).toString(16).padStart(2, '0')).join('')}`;
const txs: Eip1559Tx[] = Array.from({ length: MIX }, (_, i) => ({
  chainId: 1,
  nonce: 1_000n + BigInt(i),
  to: hex(20),
  // A V2/V3 swap or a multicall: 4-byte selector plus 5–12 words.
  data: hex(4 + 32 * (5 + Math.floor(rng() * 8))),
  value: i % 4 === 0 ? BigInt(Math.floor(rng() * 1e9)) * 10n ** 9n : 0n,
  gas: 150_000n + BigInt(Math.floor(rng() * 200_000)),
  maxFeePerGas: 20n * 10n ** 9n + BigInt(Math.floor(rng() * 1e10)),
  maxPriorityFeePerGas: 10n ** 9n + BigInt(Math.floor(rng() * 1e9)),
}));
const messages = txs.map((_, i) => `0x${(BigInt(i) * 0x9e3779b97f4a7c15n).toString(16).padStart(64, '0')}`);
const viemTx = (tx: Eip1559Tx) => ({ ...tx, nonce: Number(tx.nonce), type: 'eip1559' as const, accessList: [] });

const native = NativeSigner.fromHex(KEY, { backend: signerBackend() });
const js = NativeSigner.fromHex(KEY, { backend: 'js' });
const account = privateKeyToAccount(KEY);

// Every path must produce viem's bytes before anything is timed.
for (const [i, tx] of txs.entries()) {
  const expected = await account.signTransaction(viemTx(tx));
  if (native.signTx(tx).raw !== expected || js.signTx(tx).raw !== expected) throw new Error(`signTx differs from viem on tx ${i}`);
  const m = await account.signMessage({ message: messages[i]! });
  if (native.signMessage(messages[i]!) !== m || js.signMessage(messages[i]!) !== m) throw new Error(`signMessage differs from viem on message ${i}`);
}

let sink: unknown;
let i = 0;
const bench = new Bench({ time: 2000, warmupTime: 300 });
bench
  .add(`orion signTx (${native.backend})`, () => {
    sink = native.signTx(txs[i++ & (MIX - 1)]!);
  })
  .add('orion signTx (js fallback)', () => {
    sink = js.signTx(txs[i++ & (MIX - 1)]!);
  })
  .add('viem signTransaction', async () => {
    sink = await account.signTransaction(viemTx(txs[i++ & (MIX - 1)]!));
  })
  .add(`orion signMessage (${native.backend})`, () => {
    sink = native.signMessage(messages[i++ & (MIX - 1)]!);
  })
  .add('viem signMessage', async () => {
    sink = await account.signMessage({ message: messages[i++ & (MIX - 1)]! });
  });
await bench.run();
void sink;

/** p50/p99 in µs (one decimal) of a task. */
const lat = (name: string): { p50: number; p99: number } => {
  const r = bench.tasks.find((t) => t.name === name)?.result;
  if (r === undefined || !('latency' in r)) throw new Error(`bench task ${name} did not complete`);
  return { p50: Math.round(r.latency.p50 * 10_000) / 10, p99: Math.round(r.latency.p99 * 10_000) / 10 };
};
const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;

const tx = lat(`orion signTx (${native.backend})`);
const txJs = lat('orion signTx (js fallback)');
const txViem = lat('viem signTransaction');
const msg = lat(`orion signMessage (${native.backend})`);
const msgViem = lat('viem signMessage');
const metrics = {
  signTxP50Us: tx.p50,
  signTxP99Us: tx.p99,
  signTxJsP50Us: txJs.p50,
  signTxJsP99Us: txJs.p99,
  viemSignTxP50Us: txViem.p50,
  viemSignTxP99Us: txViem.p99,
  speedupVsViem: ratio(txViem.p50, tx.p50),
  signMessageP50Us: msg.p50,
  signMessageP99Us: msg.p99,
  viemSignMessageP50Us: msgViem.p50,
};
console.table(bench.table());
process.stderr.write(
  `signTx (${native.backend}) p50 ${tx.p50} µs, p99 ${tx.p99} µs; js fallback p50 ${txJs.p50} µs; viem p50 ${txViem.p50} µs, p99 ${txViem.p99} µs = ${metrics.speedupVsViem}x; ` +
    `signMessage p50 ${msg.p50} µs vs viem ${msgViem.p50} µs\n`,
);
writeResult('signer', metrics, {
  backend: native.backend,
  mix: MIX,
  note: 'per-transaction latency (tinybench p50/p99 of single calls) of EIP-1559 signing: viem serialization, keccak, ECDSA, signed serialization and hash; viem = privateKeyToAccount(k).signTransaction, its default pure-JS secp256k1',
});
