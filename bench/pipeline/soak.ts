/**
 * Soak: the synthetic five-stage pipeline at 10k msg/s for 10 minutes (ORION_SOAK_SECONDS to
 * change), sampling RSS every 10 s (ORION_SOAK_SAMPLE_SECONDS). Drift is RSS at the end against RSS
 * after a 60 s warm-up; the target is ≤ 5%. Each sample also records every thread's V8 memory (heap
 * by space, external, ArrayBuffers; the actors' from their latest metrics snapshot), so a drift can
 * be traced to the thread and the kind of memory that grew. Not part of CI (it takes 10 minutes).
 * Writes bench/results/soak.json.
 */
import { Engine } from '../../src/engine.js';
import { validateConfig } from '../../src/runtime/config.js';
import { type ThreadMemory, threadMemory } from '../../src/runtime/metrics.js';
import { rssMiB, writeResult } from '../support/results.js';

const seconds = Number(process.env.ORION_SOAK_SECONDS ?? 600);
const sampleSeconds = Number(process.env.ORION_SOAK_SAMPLE_SECONDS ?? 10);
const warmup = Math.min(60, seconds / 5);
const engine = new Engine(validateConfig({ pipeline: 'synthetic', log: { level: 'warn' }, synthetic: { rate: 10_000, count: 0 } }));
await engine.start();

const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;

/** A thread's memory in MiB: heap total and its larger spaces, external, ArrayBuffers. */
function compact(m: ThreadMemory): Record<string, number> {
  return {
    heap: mib(m.heapTotal),
    used: mib(m.heapUsed),
    new: mib(m.spaces.new_space ?? 0),
    old: mib(m.spaces.old_space ?? 0),
    code: mib(m.spaces.code_space ?? 0),
    lo: mib(m.spaces.large_object_space ?? 0),
    ext: mib(m.external),
    ab: mib(m.arrayBuffers),
    malloc: mib(m.malloced),
  };
}

interface Sample {
  t: number;
  rssMiB: number;
  records: number;
  threads: Record<string, Record<string, number>>;
}
const samples: Sample[] = [];
const t0 = performance.now();
let base: Sample | null = null;
while ((performance.now() - t0) / 1000 < seconds) {
  await new Promise((r) => setTimeout(r, sampleSeconds * 1000));
  const t = Math.round((performance.now() - t0) / 1000);
  const threads: Sample['threads'] = { main: compact(threadMemory()) };
  for (const s of engine.supervisor.stageStats()) if (s.memory) threads[s.name] = compact(s.memory);
  const s: Sample = { t, rssMiB: rssMiB(), records: engine.stats().output.records, threads };
  samples.push(s);
  if (!base && t >= warmup) base = s;
  const sum = (k: string) => Math.round(Object.values(threads).reduce((n, m) => n + (m[k] ?? 0), 0) * 10) / 10;
  process.stderr.write(`soak ${t}s rss ${s.rssMiB} MiB records ${s.records}; all threads: heap ${sum('heap')} (new ${sum('new')}, old ${sum('old')}, code ${sum('code')}), ext ${sum('ext')}, ab ${sum('ab')} MiB\n`);
}
await engine.stop();
const last = samples[samples.length - 1]!;
const end = last.rssMiB;
const driftPct = base ? Math.round(((end - base.rssMiB) / base.rssMiB) * 1000) / 10 : 0;
// What grew after the warm-up, per thread and kind of memory (MiB), largest first.
const growth: { thread: string; what: string; fromMiB: number; toMiB: number }[] = [];
if (base) {
  for (const [thread, m] of Object.entries(last.threads)) {
    for (const [what, to] of Object.entries(m)) {
      const from = base.threads[thread]?.[what] ?? 0;
      if (what !== 'used' && Math.abs(to - from) >= 0.5) growth.push({ thread, what, fromMiB: from, toMiB: to });
    }
  }
  growth.sort((a, b) => b.toMiB - b.fromMiB - (a.toMiB - a.fromMiB));
}
const e2e = engine.stats().endToEndUs;
process.stderr.write(`soak: rss ${base?.rssMiB ?? 0} → ${end} MiB after warm-up (${driftPct}%), e2e p99 ${e2e.p99} µs\n`);
for (const g of growth.slice(0, 8)) process.stderr.write(`  ${g.thread} ${g.what}: ${g.fromMiB} → ${g.toMiB} MiB\n`);
writeResult('soak', { rssDriftPct: driftPct, rssBaseMiB: base?.rssMiB ?? 0, rssEndMiB: end, e2eP99Us: e2e.p99 }, { seconds, growth, samples });
