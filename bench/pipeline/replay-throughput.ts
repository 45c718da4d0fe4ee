/**
 * Replay throughput (issue 7: ≥ 20,000 tx/s at `max` speed of decode + simulate-where-needed +
 * closed-form scoring, on the sample capture's mix, as a multiple of real time).
 *
 * Replays the sample capture kept in the repo (samples/devnet-capture: devnet traffic recorded by
 * `orion capture --devnet`) through the five actors on their worker threads, with the node reads
 * answered from its tape, at `max` speed. The timed path is the issue's: verification off
 * (`scorer.verify: false`), so every transaction is decoded (sender recovered), run in the EVM when
 * the decoder could not classify it, and scored in closed form; the dry-run submitter sees the
 * unverified opportunities. Time per round: from the engine being ready (threads up, the scorer's
 * pool registry loaded from the tape) to the last output, `ReplayReport.processingSeconds`.
 * REPLAY_ROUNDS rounds (default 5); the median is the metric. One more round with verification on
 * (every opportunity verified as a bundle in the EVM) is reported beside it, not gated.
 * Every round must give the same digest (the verification round its own): a benchmark of a replay
 * that is not deterministic measures nothing.
 * Writes bench/results/replay.json.
 *
 *   node dist/bench/pipeline/replay-throughput.js [capture dir]
 */
import { join } from 'node:path';
import { type ReplayReport, replay } from '../../src/replay/replay.js';
import { ROOT, writeResult } from '../support/results.js';

const ROUNDS = Number(process.env.REPLAY_ROUNDS ?? 5);
const capture = process.argv[2] ?? join(ROOT, 'samples', 'devnet-capture');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const closedForm: ReplayReport[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const r = await replay(capture, { config: { scorer: { verify: false } } }).report;
  closedForm.push(r);
  process.stderr.write(`round ${i + 1}/${ROUNDS}: ${r.txs} txs in ${r.processingSeconds} s = ${r.txPerSecond} tx/s (${r.realTimeMultiple}× real time); wall ${r.wallSeconds} s\n`);
}
const digests = new Set(closedForm.map((r) => r.digest));
if (digests.size !== 1) throw new Error(`replay is not deterministic: ${digests.size} digests over ${ROUNDS} rounds: ${[...digests].join(', ')}`);
const full = await replay(capture).report;
process.stderr.write(`with verification: ${full.txs} txs in ${full.processingSeconds} s = ${full.txPerSecond} tx/s; digest ${full.live?.matches ? 'matches' : 'does not match'} the capture run's\n`);
if (full.live !== null && !full.live.matches) throw new Error('the verified replay does not reproduce the capture run');

const tps = median(closedForm.map((r) => r.txPerSecond));
const rt = median(closedForm.map((r) => r.realTimeMultiple));
const s = closedForm[0]!;
const stageUs = Object.fromEntries(Object.entries(s.latencyUs.wall).map(([k, v]) => [k, v]));
const path = writeResult(
  'replay',
  {
    replayTxPerSecond: tps,
    replayRealTimeMultiple: rt,
    replayVerifiedTxPerSecond: full.txPerSecond,
    txs: s.txs,
  },
  {
    capture,
    captureSeconds: s.capture.durationSeconds,
    rounds: closedForm.map((r) => ({ txPerSecond: r.txPerSecond, processingSeconds: r.processingSeconds, wallSeconds: r.wallSeconds })),
    mix: { decoder: s.stages.decoder?.counters, simulator: s.stages.simulator?.counters },
    stageServiceUs: stageUs,
    digest: s.digest,
    verified: { txPerSecond: full.txPerSecond, processingSeconds: full.processingSeconds, digest: full.digest },
  },
);
process.stdout.write(`replay: median ${tps} tx/s, ${rt}× real time over ${ROUNDS} rounds (verified: ${full.txPerSecond} tx/s) → ${path}\n`);
