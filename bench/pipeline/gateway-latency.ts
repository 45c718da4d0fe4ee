/**
 * Topology: anvil (prague, 1 s blocks, Uniswap V2 ×2 and V3) ← devnet traffic generator at RATE
 * tx/s (plus probe victims, as in score-latency); anvil → websocket → ingest → decoder → simulator
 * → scorer → main thread → Gateway (uWebSockets.js, `config.gateway.enabled`) → loopback → one `ws`
 * client in a process of its own (fanout-clients.ts), subscribed to opportunities. The real
 * threads, node, traffic and gateway; the client times each frame on arrival against the
 * opportunity's monotonic stamps (CLOCK_MONOTONIC, the same in both processes).
 *
 * The traffic generator and the probes run on a worker thread at niceness 10: they stand for the
 * outside world, and on the main thread (where score-latency runs them) their signing would hold up
 * the gateway, which serves from that thread.
 *
 * Measures, after a warm-up (the engine's histograms reset too), per path (fanout-clients `pathOf`:
 * closed form = `unverified` or `pending`, then `verified` outcomes):
 * - first seen → opportunity frame received (`seenToFrame…`; the budget is the closed-form p99);
 * - scored → frame, split by matching each frame's id with this process's stamps into scored →
 *   results ring (the scorer's ordered output, the `scored` ring, the pass-through submitter),
 *   results ring → frame, and the main thread's hand-over
 *   → frame (the gateway's own hop: publish, uWS's write at the end of the event-loop turn, loopback,
 *   the client's parse), with the sink's batches that the hand-over waits out;
 * - the scorer's own first seen → scored over the same window, for comparison.
 * Writes bench/results/gateway-latency.json.
 *
 *   node dist/bench/pipeline/gateway-latency.js [--rate 500] [--seconds 10] [--warmup 3]
 */
import { setPriority } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Hex } from 'viem';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { startDevnet } from '../../src/devnet/devnet.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import { type TrafficReport, type TrafficTarget, startTraffic } from '../../src/devnet/traffic.js';
import type { Engine } from '../../src/engine.js';
import { hashApiKey } from '../../src/gateway/gateway-config.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { Kind } from '../../src/messages/schema.js';
import { validateConfig } from '../../src/runtime/config.js';
import { createLogger } from '../../src/runtime/log.js';
import { monoNs } from '../../src/runtime/clock.js';
import { type Percentiles, createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';
import { startProbes } from '../support/probes.js';
import { rssMiB, writeResult } from '../support/results.js';
import { ClientsProcess, pathOf } from './fanout-clients.js';

/** What the traffic worker gets. */
interface TrafficJob {
  target: TrafficTarget;
  probeKeys: Hex[];
  rate: number;
  durationMs: number;
}

type TrafficMessage = { type: 'ready' } | { type: 'done'; report: Omit<TrafficReport, 'records'> } | { type: 'error'; message: string };


/** The traffic worker: generator and probes at niceness 10 (Linux niceness is per thread). */
async function trafficWorker(job: TrafficJob): Promise<void> {
  const post = (m: TrafficMessage) => parentPort!.postMessage(m);
  try {
    try {
      setPriority(10);
    } catch {
      // not permitted: run at equal priority
    }
    const traffic = startTraffic(job.target, { rate: job.rate, seed: 42, durationMs: job.durationMs, keepRecords: false });
    await traffic.ready;
    const probes = startProbes(job.target.rpcUrl, job.target.chainId, job.target.deployment, job.probeKeys);
    post({ type: 'ready' });
    const report = await traffic.done;
    probes.stop();
    const { records: _, ...rest } = report;
    post({ type: 'done', report: rest });
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
}

function nextMessage(w: Worker, type: TrafficMessage['type']): Promise<TrafficMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: TrafficMessage) => {
      if (m.type === 'error') reject(new Error(`traffic worker: ${m.message}`));
      else if (m.type === type) resolve(m);
      else return;
      w.off('message', onMessage);
    };
    w.on('message', onMessage);
    w.once('error', reject);
  });
}

/** Count, p50, p99 and max of plain numbers. */
function spread(xs: number[]): { count: number; p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? 0 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rate: { type: 'string', default: '500' }, seconds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' } } });
  const RATE = Number(values.rate);
  const SECONDS = Number(values.seconds);
  const WARMUP_S = Number(values.warmup);
  const KEY = 'bench-latency-key-0123456789abcdef';

  // Imported here, not above: the traffic worker runs this module too and needs neither the
  // engine nor uWebSockets.js loaded into its thread.
  const [{ Engine: EngineClass }, { Gateway: GatewayClass }] = await Promise.all([import('../../src/engine.js'), import('../../src/gateway/gateway.js')]);
  // The node shares this 2-core machine with the engine; at niceness 10 it yields the cores to the
  // stages being measured, as a node on its own machine would.
  const devnet = await startDevnet({ blockTime: 1, anvil: { niceness: 10 } });
  let worker: Worker | null = null;
  let engine: Engine | null = null;
  let gw: Gateway | null = null;
  let engineStopped = false;
  const clients = new ClientsProcess();
  try {
    const base = devnetEngineConfig(devnet);
    const config = validateConfig({
      ...base,
      gateway: { enabled: true, port: 0, apiKeys: [{ name: 'bench', role: 'viewer', sha256: hashApiKey(KEY) }], shutdownGraceMs: 200 },
      log: { level: 'warn' },
    });
    engine = new EngineClass(config);
    const outcomes: Record<string, number> = {};
    /** Per opportunity sent to clients: when it was written to the results ring, and when the main thread handed it to the gateway. */
    const handedOver = new Map<string, { path: string; scoredNs: number; enqueueNs: number; dispatchNs: number; publishedNs: number; batch: { endNs: number; records: number } }>();
    // The sink hands over each batch it takes off the results ring in one synchronous run, and uWS
    // writes what was published once per event-loop turn: a microtask marks where a batch ended.
    let batch: { endNs: number; records: number } | null = null;
    const batchSizes: number[] = [];
    let published = 0;
    let measuring = false;
    // Registered before the gateway attaches, so it runs just before the gateway's publish.
    engine.onOutput((m) => {
      if (!measuring) return;
      if (batch === null) {
        const b = (batch = { endNs: 0, records: 0 });
        queueMicrotask(() => {
          b.endNs = monoNs();
          batchSizes.push(b.records);
          batch = null;
        });
      }
      batch.records++;
      if (m.kind !== Kind.Opportunity) return;
      const dispatchNs = monoNs();
      const o = m.data as Opportunity;
      const revision = (o as { revision?: number }).revision ?? 0;
      const key = o.verification === 'rejected' ? `rejected.${o.rejectReason?.split(':')[0]}` : `${o.verification}.${o.kind}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      // What unfiltered subscribers get: all but opportunities rejected as soon as they were scored.
      if (o.verification === 'rejected' && revision === 0) return;
      published++;
      const id = `${o.id}/${revision}`;
      if (!handedOver.has(id)) handedOver.set(id, { path: pathOf(o.verification), scoredNs: o.timings.scoredNs, enqueueNs: m.enqueueNs, dispatchNs, publishedNs: 0, batch });
    });
    gw = new GatewayClass({ config: config.gateway, log: createLogger('gateway', 'warn'), engine });
    // Registered after the gateway: runs right after its publish returned.
    engine.onOutput((m) => {
      if (!measuring || m.kind !== Kind.Opportunity) return;
      const o = m.data as Opportunity;
      const h = handedOver.get(`${o.id}/${(o as { revision?: number }).revision ?? 0}`);
      if (h !== undefined && h.publishedNs === 0) h.publishedNs = monoNs();
    });
    const rssBefore = rssMiB();
    const address = await gw.listen();
    await engine.start();
    await clients.ask({ op: 'connect', group: 'searcher', url: address.streamUrl, key: KEY, count: 1, mode: 'latency' }, 'connected');
    await clients.ask({ op: 'window', group: 'searcher', label: 'warmup' }, 'window-ready');
    // Six traders make the mix; the last two trader keys send probe victims (see score-latency).
    const keys = devnet.traderKeys.slice(0, -1);
    const job: TrafficJob = {
      target: { rpcUrl: devnet.anvil.rpcUrl, wsUrl: devnet.anvil.wsUrl, chainId: devnet.anvil.chainId, deployment: devnet.deployment, privateKeys: keys.slice(0, -2), hardfork: devnet.hardfork },
      probeKeys: keys.slice(-2),
      rate: RATE,
      durationMs: (WARMUP_S + SECONDS) * 1000,
    };
    worker = new Worker(new URL(import.meta.url), { workerData: job });
    const done = nextMessage(worker, 'done');
    done.catch(() => {});
    await nextMessage(worker, 'ready');
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
    engine.resetLatencyStats();
    await clients.ask({ op: 'window', group: 'searcher', label: 'measure' }, 'window-ready');
    measuring = true;
    const { report } = (await done) as Extract<TrafficMessage, { type: 'done' }>;
    await new Promise((r) => setTimeout(r, 1000)); // the last verifications finish
    measuring = false;
    const window = await clients.ask({ op: 'end', quietMs: 0 }, 'window-report');
    const { latencyUs, frames, arrivals } = await clients.ask({ op: 'summary' }, 'summary');
    // The gateway's own hop, and the results ring's plus the main thread's before it.
    const hops: Record<string, ReturnType<typeof createHistogram>> = {};
    const hop = (name: string) => (hops[name] ??= createHistogram());
    let unmatched = 0;
    for (const [id, recvNs] of arrivals.measure ?? []) {
      const h = handedOver.get(id);
      if (h === undefined) {
        unmatched++;
        continue;
      }
      recordNs(hop(`scoredToRing/${h.path}`), h.enqueueNs - h.scoredNs);
      recordNs(hop(`ringToFrame/${h.path}`), recvNs - h.enqueueNs);
      recordNs(hop(`handoverToFrame/${h.path}`), recvNs - h.dispatchNs);
      recordNs(hop(`publishCall/${h.path}`), h.publishedNs - h.dispatchNs);
      recordNs(hop(`publishedToFrame/${h.path}`), recvNs - h.publishedNs);
      recordNs(hop(`handoverToBatchEnd/${h.path}`), h.batch.endNs - h.dispatchNs);
      recordNs(hop(`batchEndToFrame/${h.path}`), recvNs - h.batch.endNs);
    }
    const hopUs = Object.fromEntries(Object.entries(hops).map(([k, h]) => [k, percentilesUs(h)]));
    const stats = engine.stats();
    const figures = gw.figures();
    await clients.close();
    await gw.close();
    await engine.stop();
    engineStopped = true;

    const none: Percentiles = { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const at = (name: string) => latencyUs[`measure/${name}`] ?? none;
    const seen = at('seen/closed-form');
    const scoredHop = at('scored/closed-form');
    const seenVerified = at('seen/verified');
    const verifiedHop = at('verified/verified');
    const heldHop = hopUs['scoredToRing/closed-form'] ?? none;
    const ringHop = hopUs['ringToFrame/closed-form'] ?? none;
    const gatewayHop = hopUs['handoverToFrame/closed-form'] ?? none;
    const scorer = stats.stages.scorer!;
    const scored = scorer.histogramsUs.firstSeenToScored ?? none;
    const metrics = {
      rate: RATE,
      achievedTxPerSec: report.achievedRate,
      seenToFrameP50Us: seen.p50,
      seenToFrameP99Us: seen.p99,
      scoredToFrameP50Us: scoredHop.p50,
      scoredToFrameP99Us: scoredHop.p99,
      scoredToRingP50Us: heldHop.p50,
      scoredToRingP99Us: heldHop.p99,
      ringToFrameP50Us: ringHop.p50,
      ringToFrameP99Us: ringHop.p99,
      handoverToFrameP50Us: gatewayHop.p50,
      handoverToFrameP99Us: gatewayHop.p99,
      seenToFrameVerifiedP50Us: seenVerified.p50,
      seenToFrameVerifiedP99Us: seenVerified.p99,
      verifiedToFrameP99Us: verifiedHop.p99,
      seenToScoredP50Us: scored.p50,
      seenToScoredP99Us: scored.p99,
      frames: seen.count,
      framesVerified: seenVerified.count,
      published,
      delivered: window.delivered,
      invalidFrames: window.invalid,
    };
    writeResult('gateway-latency', metrics, {
      topology: 'anvil → ws → ingest → decoder → simulator → scorer → main thread → Gateway (uWS) → loopback → ws client (own process)',
      traffic: report,
      outcomes,
      framesByOutcome: frames,
      latencyUs,
      hopsUs: hopUs,
      // Records (all kinds) the sink handed over per synchronous run.
      sinkBatchRecords: spread(batchSizes),
      unmatchedFrames: unmatched,
      client: { cpuMs: window.cpuMs, loopDelayUs: window.loopDelayUs, closed: window.closed },
      gateway: figures,
      engine: { endToEndUs: stats.endToEndUs, output: stats.output },
      scorer: { counters: scorer.counters, histogramsUs: scorer.histogramsUs, serviceUs: scorer.serviceUs, queueWaitUs: scorer.queueWaitUs },
      decoder: { serviceUs: stats.stages.decoder!.serviceUs, queueWaitUs: stats.stages.decoder!.queueWaitUs },
      submitter: { serviceUs: stats.stages.submitter?.serviceUs, queueWaitUs: stats.stages.submitter?.queueWaitUs },
      rssMiB: { before: rssBefore, after: rssMiB() },
    });
    process.stderr.write(
      `gateway-latency @ ${RATE} tx/s (sent ${Math.round(report.achievedRate)}/s): first-seen → frame, closed form: p50 ${seen.p50} µs p99 ${seen.p99} µs over ${seen.count} frames ` +
        `(scored → frame p50 ${scoredHop.p50} µs p99 ${scoredHop.p99} µs, of which scored → results ring p50 ${heldHop.p50} µs p99 ${heldHop.p99} µs; results ring → frame p50 ${ringHop.p50} µs p99 ${ringHop.p99} µs; main thread → gateway → frame p50 ${gatewayHop.p50} µs p99 ${gatewayHop.p99} µs; the scorer's first-seen → scored p50 ${scored.p50} µs p99 ${scored.p99} µs); ` +
        `verified: p50 ${seenVerified.p50} µs p99 ${seenVerified.p99} µs over ${seenVerified.count}; ${window.delivered} of ${published} delivered; outcomes ${JSON.stringify(outcomes)}\n`,
    );
  } finally {
    await clients.close();
    if (worker) await worker.terminate();
    await gw?.close();
    if (engine && !engineStopped) await engine.kill().catch(() => {});
    await devnet.stop();
  }
}

if (isMainThread) await main();
else await trafficWorker(workerData as TrafficJob);
