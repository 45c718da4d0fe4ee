/**
 * Soak: the synthetic five-stage pipeline at 10k msg/s for 10 minutes (ORION_SOAK_SECONDS to
 * change), sampling RSS every 10 s. Drift is RSS at the end against RSS after a 60 s warm-up; the
 * target is ≤ 5%. Not part of CI (it takes 10 minutes). Writes bench/results/soak.json.
 */
import { Engine } from '../../src/engine.js';
import { validateConfig } from '../../src/runtime/config.js';
import { rssMiB, writeResult } from '../support/results.js';

const seconds = Number(process.env.ORION_SOAK_SECONDS ?? 600);
const warmup = Math.min(60, seconds / 5);
const engine = new Engine(validateConfig({ pipeline: 'synthetic', log: { level: 'warn' }, synthetic: { rate: 10_000, count: 0 } }));
await engine.start();
const samples: { t: number; rssMiB: number; records: number }[] = [];
const t0 = performance.now();
let base = 0;
while ((performance.now() - t0) / 1000 < seconds) {
  await new Promise((r) => setTimeout(r, 10_000));
  const t = Math.round((performance.now() - t0) / 1000);
  const s = { t, rssMiB: rssMiB(), records: engine.stats().output.records };
  samples.push(s);
  if (!base && t >= warmup) base = s.rssMiB;
  process.stderr.write(`soak ${t}s rss ${s.rssMiB} MiB records ${s.records}\n`);
}
await engine.stop();
const end = samples[samples.length - 1]!.rssMiB;
const driftPct = base ? Math.round(((end - base) / base) * 1000) / 10 : 0;
const e2e = engine.stats().endToEndUs;
process.stderr.write(`soak: rss ${base} → ${end} MiB after warm-up (${driftPct}%), e2e p99 ${e2e.p99} µs\n`);
writeResult('soak', { rssDriftPct: driftPct, rssBaseMiB: base, rssEndMiB: end, e2eP99Us: e2e.p99 }, { seconds, samples });
