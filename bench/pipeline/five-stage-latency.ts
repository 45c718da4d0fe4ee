/**
 * Topology: synthetic source (ingest) → decoder → simulator → scorer → submitter → main thread,
 * five worker threads over SAB rings, default wait strategy, 256-byte records, no synthetic work.
 *
 * Runs the pipeline at 1k msg/s, 10k msg/s and saturation. Latency is first-seen (when the source
 * emitted the record) → taken off the results ring by the main thread. It is corrected for
 * coordinated omission at the expected interval 1/rate (HDR's `copyCorrectedForCoordinatedOmission`,
 * equivalent to `recordValueWithExpectedInterval`), so a stall that holds the source back still
 * counts the records that should have been sent meanwhile. The correction runs once, after the run:
 * done per record on the main thread, which is the pipeline's last consumer, it cost O(latency /
 * interval) per late record, so one 200 ms stall at 10k msg/s made the sink fall further behind
 * with every record and the run never ended.
 * Writes bench/results/five-stage-latency.json.
 */
import { Engine } from '../../src/engine.js';
import { monoNs } from '../../src/runtime/clock.js';
import { type ConfigInput, validateConfig } from '../../src/runtime/config.js';
import { createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';
import { rssMiB, writeResult } from '../support/results.js';

const WARMUP_S = 1;

interface RunResult {
  rate: number | 'max';
  msgPerSec: number;
  endToEndUs: ReturnType<typeof percentilesUs>;
  stages: Record<string, { serviceUs: unknown; queueWaitUs: unknown }>;
  drops: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

async function run(rate: number, seconds: number, count = 0): Promise<RunResult> {
  const overrides: ConfigInput = { pipeline: 'synthetic', log: { level: 'warn' }, synthetic: { rate, count, recordBytes: 256, blockEvery: 1000 } };
  // Experiments only: the default wait strategy is what the budgets are about.
  if (process.env.ORION_BENCH_SPIN_MICROS !== undefined) overrides.wait = { spinMicros: Number(process.env.ORION_BENCH_SPIN_MICROS) };
  const engine = new Engine(validateConfig(overrides));
  const raw = createHistogram();
  const intervalNs = rate > 0 ? Math.round(1e9 / rate) : 0;
  let measureFrom = Infinity;
  let measured = 0;
  let firstAt = 0;
  let lastAt = 0;
  engine.onEnvelope((m) => {
    const now = monoNs();
    if (m.firstSeenNs < measureFrom) return;
    if (measured === 0) firstAt = now;
    lastAt = now;
    measured++;
    recordNs(raw, now - m.firstSeenNs);
  });
  const rssBefore = rssMiB();
  await engine.start();
  measureFrom = monoNs() + WARMUP_S * 1e9;
  const deadline = performance.now() + (WARMUP_S + seconds) * 1000;
  while (performance.now() < deadline && (count === 0 || engine.stats().output.records < count)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await engine.stop();
  const rssAfter = rssMiB();
  const stats = engine.stats();
  const stages: RunResult['stages'] = {};
  let drops = 0;
  for (const [name, s] of Object.entries(stats.stages)) {
    stages[name] = { serviceUs: s.serviceUs, queueWaitUs: s.queueWaitUs };
    drops += s.outputDrops;
  }
  const e2e = intervalNs > 0 ? raw.copyCorrectedForCoordinatedOmission(intervalNs) : raw;
  const msgPerSec = lastAt > firstAt ? Math.round((measured - 1) / ((lastAt - firstAt) / 1e9)) : 0;
  return { rate: rate || 'max', msgPerSec, endToEndUs: percentilesUs(e2e), stages, drops, rssBeforeMiB: rssBefore, rssAfterMiB: rssAfter };
}

const r1k = await run(1_000, 4);
const r10k = await run(10_000, 4);
const sat = await run(0, 6, 1_500_000);
const runs = [r1k, r10k, sat];
for (const r of runs) {
  process.stderr.write(
    `five-stage @ ${String(r.rate).padStart(5)} msg/s: ${String(r.msgPerSec).padStart(7)} msg/s out, e2e p50 ${r.endToEndUs.p50} µs, p99 ${r.endToEndUs.p99} µs, p99.9 ${r.endToEndUs.p999} µs, rss ${r.rssBeforeMiB}→${r.rssAfterMiB} MiB\n`,
  );
}
writeResult(
  'five-stage-latency',
  {
    e2e1kP50Us: r1k.endToEndUs.p50,
    e2e1kP99Us: r1k.endToEndUs.p99,
    e2e10kP50Us: r10k.endToEndUs.p50,
    e2e10kP99Us: r10k.endToEndUs.p99,
    e2e10kP999Us: r10k.endToEndUs.p999,
    saturationMsgPerSec: sat.msgPerSec,
    saturationE2eP99Us: sat.endToEndUs.p99,
    drops: runs.reduce((n, r) => n + r.drops, 0),
  },
  { runs },
);
