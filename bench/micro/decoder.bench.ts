/**
 * Transaction decoder vs what a TypeScript user would write, in the same run, on a realistic mix:
 * the real signed transactions in ../shared/data/mainnet (legacy, EIP-1559, blob) plus generated
 * ones of every type (legacy with and without EIP-155, 2930, 1559, 4844, 7702 with 1–3
 * authorizations) signed with viem. Both sides produce the same facts: fields, hash, sender, and
 * each 7702 authority.
 *
 * - ours: `decodeTransaction(bytes)` (strict RLP, validation, native libsecp256k1 recovery);
 * - viem: `parseTransaction(hex)` + `recoverTransactionAddress` + `keccak256` (+
 *   `recoverAuthorizationAddress` per authorization), viem's default path (pure-JS secp256k1).
 *
 * Two measurements: an HDR pass timing every decode one by one (per-transaction p50/p99), and
 * tinybench cycling through the mix (one transaction per iteration). Writes bench/results/decoder.json.
 * Run: `npx tsc -p . ; node dist/bench/micro/decoder.bench.js`.
 */
import { Bench } from 'tinybench';
import { type Hex, keccak256, parseTransaction, recoverTransactionAddress } from 'viem';
import { recoverAuthorizationAddress } from 'viem/utils';
import { decodeTransaction } from '../../src/actors/decoder/tx/decode-tx.js';
import { fromHex } from '../../src/actors/decoder/tx/hex.js';
import { recoveryBackend } from '../../src/actors/decoder/tx/sender.js';
import { createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';
import { generateTransactions, mainnetRaw } from '../../test/actors/decoder/tx/vectors.js';
import { writeResult } from '../support/results.js';

const TARGET_P50_US = 120;
const TARGET_SPEEDUP = 25;
const OURS_ROUNDS = 40;
const VIEM_ROUNDS = 2;

interface Item {
  label: string;
  hex: Hex;
  bytes: Uint8Array;
}

const mix: Item[] = mainnetRaw().map((m) => ({ label: `mainnet type ${m.type}`, hex: m.raw as Hex, bytes: fromHex(m.raw)! }));
for (const g of await generateTransactions(2024, 10)) mix.push({ label: g.kind, hex: g.hex, bytes: g.bytes });

/** viem's default path to the same facts. */
async function viaViem(hex: Hex): Promise<string> {
  const tx = parseTransaction(hex);
  const from = await recoverTransactionAddress({ serializedTransaction: hex as never });
  const hash = keccak256(hex);
  if (tx.authorizationList) for (const a of tx.authorizationList) await recoverAuthorizationAddress({ authorization: a });
  return from + hash;
}

// Both sides must agree before anything is timed.
for (const item of mix) {
  const ours = decodeTransaction(item.bytes);
  const theirs = await recoverTransactionAddress({ serializedTransaction: item.hex as never });
  if (ours.from !== theirs.toLowerCase()) throw new Error(`sender differs on ${item.label} ${item.hex.slice(0, 40)}`);
}

/** Times each decode into an HDR histogram (ns); per label too. */
async function hdrPass(rounds: number, decode: (item: Item) => unknown): Promise<{ all: ReturnType<typeof percentilesUs>; byLabel: Record<string, number>; seconds: number }> {
  const all = createHistogram();
  const byLabel = new Map<string, ReturnType<typeof createHistogram>>();
  let busy = 0;
  for (let r = 0; r < rounds; r++) {
    for (const item of mix) {
      const t0 = performance.now();
      const out = decode(item);
      if (out instanceof Promise) await out;
      const ns = (performance.now() - t0) * 1e6;
      busy += ns;
      recordNs(all, ns);
      let h = byLabel.get(item.label);
      if (h === undefined) byLabel.set(item.label, (h = createHistogram()));
      recordNs(h, ns);
    }
  }
  return { all: percentilesUs(all), byLabel: Object.fromEntries([...byLabel].map(([k, h]) => [k, percentilesUs(h).p50])), seconds: busy / 1e9 };
}

// Warm up both paths (JIT, viem's lazy noble import) before the timed passes.
for (let r = 0; r < 5; r++) for (const item of mix) decodeTransaction(item.bytes);
for (const item of mix.slice(0, 40)) await viaViem(item.hex);

const ours = await hdrPass(OURS_ROUNDS, (item) => decodeTransaction(item.bytes));
const viem = await hdrPass(VIEM_ROUNDS, (item) => viaViem(item.hex));

let iOurs = 0;
let iViem = 0;
const bench = new Bench({ time: 3000, warmupTime: 300 });
bench
  .add('orion decodeTransaction', () => {
    decodeTransaction(mix[iOurs++ % mix.length]!.bytes);
  })
  .add('viem parseTransaction + recoverTransactionAddress', async () => {
    await viaViem(mix[iViem++ % mix.length]!.hex);
  });
await bench.run();
const stats = (name: string) => {
  const res = bench.tasks.find((x) => x.name === name)!.result as unknown as { latency?: { p50?: number; p99?: number; mean?: number }; throughput?: { mean?: number } };
  return { p50Us: Math.round((res.latency?.p50 ?? Number.NaN) * 1000 * 10) / 10, p99Us: Math.round((res.latency?.p99 ?? Number.NaN) * 1000 * 10) / 10, opsPerSec: Math.round(res.throughput?.mean ?? Number.NaN) };
};
const tbOurs = stats('orion decodeTransaction');
const tbViem = stats('viem parseTransaction + recoverTransactionAddress');

const speedup = Math.round((viem.all.p50 / ours.all.p50) * 10) / 10;
const txPerSec = Math.round(ours.all.count / ours.seconds);
const lines = [
  `mix: ${mix.length} transactions (${mainnetRaw().length} mainnet/testnet, ${mix.length - mainnetRaw().length} generated), recovery backend: ${recoveryBackend()}`,
  `ours (HDR, ${ours.all.count} decodes): p50 ${ours.all.p50} µs, p99 ${ours.all.p99} µs, ${txPerSec} tx/s; tinybench p50 ${tbOurs.p50Us} µs, ${tbOurs.opsPerSec} ops/s`,
  `viem (HDR, ${viem.all.count} decodes): p50 ${viem.all.p50} µs, p99 ${viem.all.p99} µs; tinybench p50 ${tbViem.p50Us} µs, ${tbViem.opsPerSec} ops/s`,
  `speedup vs viem (ratio of medians): ${speedup}× (target ≥ ${TARGET_SPEEDUP}×: ${speedup >= TARGET_SPEEDUP ? 'met' : 'MISSED'}); p50 target ≤ ${TARGET_P50_US} µs: ${ours.all.p50 <= TARGET_P50_US ? 'met' : 'MISSED'}`,
  `ours p50 by kind (µs): ${JSON.stringify(ours.byLabel)}`,
];
process.stderr.write(`${lines.join('\n')}\n`);
writeResult(
  'decoder',
  { decodeP50Us: ours.all.p50, decodeP99Us: ours.all.p99, viemP50Us: viem.all.p50, speedupVsViem: speedup, txPerSec },
  {
    mix: { total: mix.length, mainnet: mainnetRaw().length, generatedPerKind: 10 },
    recoveryBackend: recoveryBackend(),
    hdr: { ours: ours.all, viem: viem.all, oursP50ByKindUs: ours.byLabel, viemP50ByKindUs: viem.byLabel },
    tinybench: { ours: tbOurs, viem: tbViem },
    targets: { decodeP50Us: TARGET_P50_US, speedupVsViem: TARGET_SPEEDUP },
    note: 'per-transaction latency of decode + validation + hash + sender (and 7702 authorities); viem = parseTransaction + recoverTransactionAddress + keccak256 (+ recoverAuthorizationAddress), its default pure-JS secp256k1',
  },
);
