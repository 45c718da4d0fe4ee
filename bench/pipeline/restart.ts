/**
 * Topology: the synthetic five-stage pipeline at 5k msg/s with crashes injected into the decoder and
 * the scorer (thread exit and thrown error, each once on its record). The resume time of a crash is
 * the end-to-end latency of the record that caused it: from when it was due at the source, through
 * the crash, the supervisor's detection and backoff, the new thread's start-up and redelivery, to
 * its arrival at the main thread. Writes bench/results/restart.json.
 */
import { Engine } from '../../src/engine.js';
import { monoNs } from '../../src/runtime/clock.js';
import { type FaultSpec, validateConfig } from '../../src/runtime/config.js';
import { writeResult } from '../support/results.js';

const RATE = 5_000;
const faults: FaultSpec[] = [];
for (let i = 0; i < 8; i++) {
  faults.push({ stage: i % 2 === 0 ? 'decoder' : 'scorer', seq: 5_000 + i * 2_500, action: i % 4 < 2 ? 'exit' : 'throw', times: 1 });
}
const count = 5_000 + faults.length * 2_500;
const engine = new Engine(validateConfig({ pipeline: 'synthetic', log: { level: 'warn' }, synthetic: { rate: RATE, count, blockEvery: 0, faults } }));
const faultSeqs = new Set(faults.map((f) => f.seq));
const resumeMs: { seq: number; stage: string; action: string; ms: number }[] = [];
let received = 0;
engine.onOutput((m) => {
  received++;
  if (faultSeqs.has(m.seq)) {
    const f = faults.find((x) => x.seq === m.seq)!;
    resumeMs.push({ seq: m.seq, stage: f.stage, action: f.action, ms: Math.round(((monoNs() - m.firstSeenNs) / 1e6) * 100) / 100 });
  }
});
await engine.start();
while (received < count) {
  if (engine.error()) throw engine.error();
  await new Promise((r) => setTimeout(r, 50));
}
await engine.stop();
const ms = resumeMs.map((r) => r.ms).sort((a, b) => a - b);
const median = ms[Math.floor(ms.length / 2)]!;
const max = ms[ms.length - 1]!;
process.stderr.write(`restart: ${ms.length} crashes, resume median ${median} ms, max ${max} ms (${resumeMs.map((r) => `${r.stage}/${r.action} ${r.ms}`).join(', ')})\n`);
writeResult('restart', { resumeMedianMs: median, resumeMaxMs: max, crashes: ms.length }, { resumeMs });
