/**
 * Topology: anvil (prague, 1 s blocks, Uniswap V2/V3 deployed) ← devnet traffic generator at RATE
 * tx/s; anvil → websocket (`eth_subscribe` full pending objects) → ingest worker → ring → decoder
 * worker → ring → main thread. The real threads, the real node, the traffic generator's mix.
 *
 * Measures, after a warm-up (latency histograms reset via `engine.resetLatencyStats()`):
 * - ingest: websocket frame arrived → RawTx record on the ring (ingest's `frameToRing` histogram);
 * - decoder: first-seen → DecodedTx record on the next ring, from each output's envelope
 *   (`enqueueNs - firstSeenNs`, exact per record, taken on the main thread);
 * - throughput, decoder service time, and what the traffic generator achieved.
 * Writes bench/results/ingest-latency.json.
 *
 *   node dist/bench/pipeline/ingest-latency.js [--rate 1000] [--seconds 10]
 */
import { setPriority } from 'node:os';
import { parseArgs } from 'node:util';
import { startDevnet } from '../../src/devnet/devnet.js';
import { devnetRouters } from '../../src/devnet/routers.js';
import { Engine, livePipeline } from '../../src/engine.js';
import { Kind } from '../../src/messages/schema.js';
import { validateConfig } from '../../src/runtime/config.js';
import { createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';
import { rssMiB, writeResult } from '../support/results.js';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' } } });
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const WARMUP_S = Number(values.warmup);

// The node shares this 2-core machine with the engine: at niceness 10 it yields the cores to the
// ingest and decoder threads being measured, as a node on its own machine would.
const devnet = await startDevnet({ blockTime: 1, anvil: { niceness: 10 } });
const { anvil, deployment } = devnet;
try {
  const config = validateConfig({
    log: { level: 'warn' },
    pipeline: 'live',
    ingest: { sources: [{ kind: 'rpc-ws', name: 'anvil', url: anvil.wsUrl, mode: 'full' }] },
    decoder: { chainId: anvil.chainId, routers: devnetRouters(deployment), filter: { enabled: false } },
  });
  const engine = new Engine(config, { pipeline: livePipeline(config, { until: 'decoder' }) });
  const seenToDecoded = createHistogram();
  let measuring = false;
  let decoded = 0;
  engine.onOutput((m) => {
    if (m.kind !== Kind.DecodedTx) return;
    decoded++;
    if (measuring) recordNs(seenToDecoded, m.enqueueNs - m.firstSeenNs);
  });
  const rssBefore = rssMiB();
  await engine.start();
  // This thread is the load generator (traffic) and the sink, neither of which is measured: at
  // niceness 10 it yields the cores to the ingest and decoder threads (Linux niceness is per
  // thread, and the workers were started above at the normal priority).
  try {
    setPriority(10);
  } catch {
    // not permitted: measure at equal priority
  }
  const traffic = devnet.traffic({ rate: RATE, seed: 42, durationMs: (WARMUP_S + SECONDS) * 1000, keepRecords: false });
  await traffic.ready;
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  engine.resetLatencyStats();
  measuring = true;
  const decodedAtStart = decoded;
  const t0 = performance.now();
  const report = await traffic.done;
  await new Promise((r) => setTimeout(r, 500)); // the last pending txs reach the decoder
  const elapsed = (performance.now() - t0) / 1000;
  const stats = engine.stats();
  await engine.stop();
  const ingest = stats.stages.ingest!;
  const decoder = stats.stages.decoder!;
  const frameToRing = ingest.histogramsUs.frameToRing!;
  const e2e = percentilesUs(seenToDecoded);
  const metrics = {
    rate: RATE,
    achievedTxPerSec: report.achievedRate,
    decodedPerSec: Math.round((decoded - decodedAtStart) / elapsed),
    frameToRingP50Us: frameToRing.p50,
    frameToRingP99Us: frameToRing.p99,
    seenToDecodedP50Us: e2e.p50,
    seenToDecodedP99Us: e2e.p99,
    seenToDecodedP999Us: e2e.p999,
    decoderServiceP50Us: decoder.serviceUs.p50,
    decoderServiceP99Us: decoder.serviceUs.p99,
    rejected: Object.entries(decoder.counters).filter(([k]) => k.startsWith('reject.')).reduce((n, [, v]) => n + v, 0),
  };
  writeResult('ingest-latency', metrics, {
    topology: 'anvil → ws → ingest worker → ring → decoder worker → ring → main',
    traffic: { ...report, records: undefined },
    ingest: { counters: ingest.counters, histogramsUs: ingest.histogramsUs, outputDrops: ingest.outputDrops },
    decoder: { counters: decoder.counters, serviceUs: decoder.serviceUs, queueWaitUs: decoder.queueWaitUs },
    rssMiB: { before: rssBefore, after: rssMiB() },
  });
  process.stderr.write(
    `ingest @ ${RATE} tx/s (sent ${report.achievedRate}/s, decoded ${metrics.decodedPerSec}/s): frame → ring p50 ${frameToRing.p50} µs p99 ${frameToRing.p99} µs; first-seen → DecodedTx on ring p50 ${e2e.p50} µs p99 ${e2e.p99} µs p99.9 ${e2e.p999} µs; decoder service p50 ${decoder.serviceUs.p50} µs\n`,
  );
} finally {
  await devnet.stop();
}
