/**
 * Uniswap V2 router swaps simulated per second, in the same run:
 *
 * - ours: `simulateTx` on the {@link ForkedStateManager} with a warm {@link RpcState} cache, the
 *   sender taken from the decoded transaction, checkpoint → run → revert;
 * - ours without fast paths: the same with `createSimVm({ fastPaths: false })` (stock interpreter:
 *   no jump analysis cache, EIP Set, keccak memo, MSTORE or shared tx Common), the before of them;
 * - naive: `@ethereumjs/vm` on its default Merkle state manager holding the same accounts, code and
 *   slots, a fresh signed transaction object per run (`createTxFromRLP`, so sender recovery runs in
 *   JS), checkpoint → `runTx` → revert.
 *
 * The swaps are real pending router swaps from the devnet's traffic generator (automine off), so
 * both sides run them on the head state. Writes bench/results/simulator.json.
 * Run: `npx tsc -p . ; node dist/bench/micro/simulator.bench.js`.
 */
import { MerkleStateManager } from '@ethereumjs/statemanager';
import { createTxFromRLP } from '@ethereumjs/tx';
import { createCustomCommon, Mainnet } from '@ethereumjs/common';
import { Account, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { createVM, runTx } from '@ethereumjs/vm';
import { Bench } from 'tinybench';
import type { Hex } from 'viem';
import { decodeTransaction } from '../../src/actors/decoder/tx/decode-tx.js';
import { createSimVm, pendingBlockContext, simulateTx } from '../../src/actors/simulator/simulate-tx.js';
import { ForkedStateManager } from '../../src/actors/simulator/state/forked-state-manager.js';
import { RpcState } from '../../src/actors/simulator/state/rpc-state.js';
import { rpc } from '../../src/devnet/anvil.js';
import { startDevnet } from '../../src/devnet/devnet.js';
import type { BlockEvent } from '../../src/messages/schema.js';
import { writeResult } from '../support/results.js';
import { createBlock } from '@ethereumjs/block';

const TARGET_SPEEDUP = 3;
const SWAPS = 24;

const net = await startDevnet({ blockTime: 0, automine: false, anvil: { niceness: 10 } });
try {
  const url = net.anvil.rpcUrl;
  const run = net.traffic({ rate: 200, count: SWAPS, resyncMs: 0, mix: { 'v2-swap': 1, 'v3-swap': 0, 'pair-swap': 0, 'eth-transfer': 0, 'erc20-transfer': 0, approve: 0, revert: 0, delegate: 0, blob: 0 } });
  const records = (await run.done).records.filter((t) => t.accepted);
  const raws = await Promise.all(records.map((t) => rpc<Hex>(url, 'eth_getRawTransactionByHash', [t.hash])));
  const b = await rpc<Record<string, Hex>>(url, 'eth_getBlockByNumber', ['latest', false]);
  const head: BlockEvent = {
    number: Number(b.number), hash: b.hash!, parentHash: b.parentHash!, timestamp: Number(b.timestamp), baseFeePerGas: BigInt(b.baseFeePerGas!),
    gasLimit: BigInt(b.gasLimit!), gasUsed: BigInt(b.gasUsed!), miner: b.miner!.toLowerCase(), prevRandao: b.mixHash!, excessBlobGas: BigInt(b.excessBlobGas ?? '0x0'), reorg: false,
  };
  const ctx = pendingBlockContext(head);
  // One swap per sender: later ones carry nonces the head state has not reached.
  const seen = new Set<string>();
  const candidates = raws.map((r) => decodeTransaction(hexToBytes(r))).filter((tx) => !seen.has(tx.from) && seen.add(tx.from));

  // Ours: warm the cache with one pass, then every later pass is served from memory.
  const source = new RpcState({ url, blockNumber: head.number });
  const sim = await createSimVm({ state: new ForkedStateManager(source), chainId: net.anvil.chainId, hardfork: net.hardfork });
  // Only swaps that succeed on the head: one built against an earlier pending swap's price can
  // revert on it (the node agrees), and a revert is not the workload measured here.
  const gasOurs: bigint[] = [];
  const txs: typeof candidates = [];
  for (const tx of candidates) {
    const r = await simulateTx(sim, tx, ctx);
    if (r.status !== 'success') continue;
    txs.push(tx);
    gasOurs.push(r.gasUsed);
  }
  if (txs.length < 4) throw new Error(`only ${txs.length} of ${candidates.length} swaps succeed on the head`);
  // Before the fast paths: same warm cache, stock interpreter.
  const slow = await createSimVm({ state: new ForkedStateManager(source), chainId: net.anvil.chainId, hardfork: net.hardfork, fastPaths: false });
  for (let i = 0; i < txs.length; i++) {
    const r = await simulateTx(slow, txs[i]!, ctx);
    if (r.gasUsed !== gasOurs[i]) throw new Error(`gas differs on swap ${i} without fast paths: ${r.gasUsed} vs ${gasOurs[i]}`);
  }

  // Naive: the same state copied into a Merkle state manager, committed once, on a stock Common
  // (ours carries the fast paths, which its copies would inherit).
  const common = createCustomCommon({ chainId: net.anvil.chainId }, Mainnet, { hardfork: net.hardfork });
  const merkle = new MerkleStateManager({ common });
  const snap = source.snapshot();
  await merkle.checkpoint();
  for (const [addr, a] of snap.accounts) {
    const address = createAddressFromString(addr);
    await merkle.putAccount(address, new Account(a.nonce, a.balance));
    if (a.code.length > 0) await merkle.putCode(address, a.code);
  }
  for (const [addr, slots] of snap.storage) {
    const address = createAddressFromString(addr);
    for (const [slot, value] of slots) if (value.length > 0) await merkle.putStorage(address, hexToBytes(slot as Hex), value);
  }
  await merkle.commit();
  const naiveVm = await createVM({ common, stateManager: merkle });
  const block = createBlock(
    { header: { number: ctx.number, timestamp: ctx.timestamp, baseFeePerGas: ctx.baseFeePerGas, coinbase: ctx.coinbase as Hex, mixHash: ctx.prevRandao as Hex, gasLimit: ctx.gasLimit, excessBlobGas: ctx.excessBlobGas, difficulty: 0n } },
    { common, skipConsensusFormatValidation: true },
  );
  const rawBytes = txs.map((tx) => tx.raw);
  async function naive(i: number): Promise<bigint> {
    const tx = createTxFromRLP(rawBytes[i]!, { common });
    await merkle.checkpoint();
    try {
      return (await runTx(naiveVm, { tx, block, skipHardForkValidation: true, skipBlockGasLimitValidation: true })).totalGasSpent;
    } finally {
      await merkle.revert();
    }
  }
  // Both sides must compute the same swaps before anything is timed.
  for (let i = 0; i < txs.length; i++) {
    const g = await naive(i);
    if (g !== gasOurs[i]) throw new Error(`gas differs on swap ${i}: ours ${gasOurs[i]}, naive ${g}`);
  }
  const missesBefore = source.stats.misses;

  let iOurs = 0;
  let iSlow = 0;
  let iNaive = 0;
  const bench = new Bench({ time: 5000, warmupTime: 500 });
  bench
    .add('orion simulateTx (forked state, warm cache, decoded sender)', async () => {
      await simulateTx(sim, txs[iOurs++ % txs.length]!, ctx);
    })
    .add('orion without fast paths (stock interpreter, same state manager)', async () => {
      await simulateTx(slow, txs[iSlow++ % txs.length]!, ctx);
    })
    .add('naive ethereumjs (Merkle state manager, fresh signed tx, JS recovery)', async () => {
      await naive(iNaive++ % txs.length);
    });
  await bench.run();
  const stats = (name: string) => {
    const res = bench.tasks.find((x) => x.name.startsWith(name))!.result as unknown as { latency?: { p50?: number; p99?: number }; throughput?: { mean?: number } };
    return { p50Ms: Math.round((res.latency?.p50 ?? Number.NaN) * 1000) / 1000, p99Ms: Math.round((res.latency?.p99 ?? Number.NaN) * 1000) / 1000, opsPerSec: Math.round(res.throughput?.mean ?? Number.NaN) };
  };
  const ours = stats('orion simulateTx');
  const slowStats = stats('orion without');
  const naiveStats = stats('naive');
  const speedup = Math.round((ours.opsPerSec / naiveStats.opsPerSec) * 100) / 100;
  const fastPathSpeedup = Math.round((ours.opsPerSec / slowStats.opsPerSec) * 100) / 100;
  process.stderr.write(
    `${txs.length} V2 router swaps; cache misses during timing: ${source.stats.misses - missesBefore}\n` +
      `ours:  ${ours.opsPerSec} swaps/s (p50 ${ours.p50Ms} ms, p99 ${ours.p99Ms} ms)\n` +
      `ours without fast paths: ${slowStats.opsPerSec} swaps/s (p50 ${slowStats.p50Ms} ms, p99 ${slowStats.p99Ms} ms); fast paths ${fastPathSpeedup}×\n` +
      `naive: ${naiveStats.opsPerSec} swaps/s (p50 ${naiveStats.p50Ms} ms, p99 ${naiveStats.p99Ms} ms)\n` +
      `speedup ${speedup}× (target ≥ ${TARGET_SPEEDUP}×: ${speedup >= TARGET_SPEEDUP ? 'met' : 'MISSED'})\n`,
  );
  writeResult('simulator', { swapsPerSec: ours.opsPerSec, naiveSwapsPerSec: naiveStats.opsPerSec, speedupVsNaive: speedup, fastPathSpeedup }, {
    swaps: txs.length,
    methods: [...new Set(records.map((t) => t.method))],
    tinybench: { ours, oursWithoutFastPaths: slowStats, naive: naiveStats },
    cacheMissesDuringTiming: source.stats.misses - missesBefore,
    targets: { speedupVsNaive: TARGET_SPEEDUP },
    note: 'V2 Router02 swaps on the devnet head, simulate-and-discard; naive = default MerkleStateManager with the same state, createTxFromRLP per run (JS sender recovery)',
  });
} finally {
  await net.stop();
}
