/**
 * Topology: anvil (prague, 1 s blocks, Uniswap V2 ×2 and V3) ← devnet traffic generator at RATE
 * tx/s; anvil → websocket → ingest → decoder → simulator (EVM pool for unclassified txs) → scorer
 * (closed-form V2 sandwich and backrun over the node-synced pool registry, EVM bundle verification
 * from the devnet's searcher) → main thread. The real threads, node and traffic mix, plus probe
 * victims (one swap per block from each of two traders that send nothing else) whose plans can
 * actually be verified: the generator's traders have many txs pending each, so their swaps cannot
 * run first in the next block.
 *
 * Measures, after a warm-up (histograms reset via `engine.resetLatencyStats()`):
 * - first seen → opportunity scored in closed form (the scorer's `firstSeenToScored`);
 * - first seen → opportunity verified in the EVM (the scorer's `firstSeenToVerified`);
 * - opportunities by kind and verification outcome, simulator and scorer counters.
 * Writes bench/results/score-latency.json.
 *
 *   node dist/bench/pipeline/score-latency.js [--rate 500] [--seconds 10] [--warmup 3]
 */
import { setPriority } from 'node:os';
import { parseArgs } from 'node:util';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { startDevnet } from '../../src/devnet/devnet.js';
import { startTraffic } from '../../src/devnet/traffic.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import { Engine } from '../../src/engine.js';
import { Kind } from '../../src/messages/schema.js';
import { validateConfig } from '../../src/runtime/config.js';
import { startProbes } from '../support/probes.js';
import { rssMiB, writeResult } from '../support/results.js';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '500' }, seconds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' } } });
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const WARMUP_S = Number(values.warmup);


// The node shares this 2-core machine with the engine; at niceness 10 it yields the cores to the
// stages being measured, as a node on its own machine would.
const devnet = await startDevnet({ blockTime: 1, anvil: { niceness: 10 } });
try {
  const base = devnetEngineConfig(devnet);
  // Experiments: ORION_BENCH_VERIFY_THREADS overrides the verification pool size.
  const verifyThreads = process.env.ORION_BENCH_VERIFY_THREADS ? Number(process.env.ORION_BENCH_VERIFY_THREADS) : undefined;
  const config = validateConfig({ ...base, scorer: { ...base.scorer, ...(verifyThreads ? { verifyThreads } : {}) }, log: { level: 'warn' } });
  const engine = new Engine(config);
  const outcomes: Record<string, number> = {};
  let measuring = false;
  engine.onOutput((m) => {
    if (m.kind !== Kind.Opportunity || !measuring) return;
    const o = m.data as Opportunity;
    const key = o.verification === 'rejected' ? `rejected.${o.rejectReason?.split(':')[0]}` : `${o.verification}.${o.kind}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  });
  const rssBefore = rssMiB();
  await engine.start();
  try {
    setPriority(10); // this thread runs the traffic generator and the sink, neither measured
  } catch {
    // not permitted: measure at equal priority
  }
  // The mix comes from six traders; two more send probe victims: one router swap per trader and
  // block, so each can run first in the next block (the generator's traders send ~80 txs a block
  // each, so nearly all their swaps wait behind their own earlier ones, and a plan around such a
  // victim is rejected from one nonce read, without an EVM run).
  const keys = devnet.traderKeys.slice(0, -1);
  const traffic = startTraffic(
    { rpcUrl: devnet.anvil.rpcUrl, wsUrl: devnet.anvil.wsUrl, chainId: devnet.anvil.chainId, deployment: devnet.deployment, privateKeys: keys.slice(0, -2), hardfork: devnet.hardfork },
    { rate: RATE, seed: 42, durationMs: (WARMUP_S + SECONDS) * 1000, keepRecords: false },
  );
  await traffic.ready;
  const probes = startProbes(devnet.anvil.rpcUrl, devnet.anvil.chainId, devnet.deployment, keys.slice(-2));
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  engine.resetLatencyStats();
  measuring = true;
  const report = await traffic.done;
  probes.stop();
  await new Promise((r) => setTimeout(r, 1000)); // the last verifications finish
  const stats = engine.stats();
  await engine.stop();
  const scorer = stats.stages.scorer!;
  const sim = stats.stages.simulator!;
  const none = { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  const scored = scorer.histogramsUs.firstSeenToScored ?? none;
  const verified = scorer.histogramsUs.firstSeenToVerified ?? none;
  const metrics = {
    rate: RATE,
    achievedTxPerSec: report.achievedRate,
    seenToScoredP50Us: scored.p50,
    seenToScoredP99Us: scored.p99,
    seenToVerifiedP50Us: verified.p50,
    seenToVerifiedP99Us: verified.p99,
    scored: scored.count,
    verified: verified.count,
  };
  writeResult('score-latency', metrics, {
    topology: 'anvil → ws → ingest → decoder → simulator (EVM pool) → scorer (closed form + EVM verification) → main',
    traffic: { ...report, records: undefined },
    outcomes,
    scorer: { counters: scorer.counters, histogramsUs: scorer.histogramsUs, serviceUs: scorer.serviceUs, queueWaitUs: scorer.queueWaitUs },
    simulator: { counters: sim.counters, histogramsUs: sim.histogramsUs, serviceUs: sim.serviceUs, queueWaitUs: sim.queueWaitUs },
    decoder: { serviceUs: stats.stages.decoder!.serviceUs, queueWaitUs: stats.stages.decoder!.queueWaitUs },
    rssMiB: { before: rssBefore, after: rssMiB() },
  });
  process.stderr.write(
    `score @ ${RATE} tx/s (sent ${report.achievedRate}/s): first-seen → scored p50 ${scored.p50} µs p99 ${scored.p99} µs; → verified p50 ${verified.p50} µs p99 ${verified.p99} µs; outcomes ${JSON.stringify(outcomes)}\n`,
  );
} finally {
  await devnet.stop();
}
