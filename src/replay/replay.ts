import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Opportunity } from '../actors/scorer/opportunity.js';
import type { Submission } from '../actors/submitter/submission.js';
import { Engine, type EngineStats } from '../engine.js';
import { Kind } from '../messages/schema.js';
import { type ConfigInput, type EngineConfig, validateConfig } from '../runtime/config.js';
import { OrionError } from '../runtime/errors.js';
import { createLogger, type LogLevel } from '../runtime/log.js';
import { type BacktestReport, backtest } from './backtest.js';
import { openCapture } from './capture/capture-reader.js';
import { CaptureError } from './capture/format.js';
import { SENDERS_FILE, readSenderHints } from './capture/senders.js';
import { OutputDigest, type ReplayOutput } from './digest.js';
import { TapeServer } from './tape/tape-server.js';

export type { ReplayOutput } from './digest.js';

/**
 * Deterministic replay (`orion replay`, `import { replay } from 'orion-mev'`): a capture's ingest
 * records go through the same five actors on the same worker threads as a live run, in
 * deterministic mode (`config.deterministic`), with every node read answered from the capture's
 * tape. No node is needed. The outputs (opportunities, dry-run submissions) and a report come out;
 * the report's `digest` is the same on every run of the same capture and configuration, whatever the
 * thread count or speed.
 */

/** Ingest segment prefix of a capture (`capture-NNNNNN.orcap`). */
export const INGEST_PREFIX = 'capture';
/** The capture's tape: the node reads of the capture run (`<capture>/tape`). */
export const TAPE_DIR = 'tape';
/** What the capture run itself produced (`<capture>/live.json`), written by `orion capture` when it ends. */
export const LIVE_FILE = 'live.json';

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** `max` (default): as fast as the pipeline takes records; a number: that multiple of the recorded pace (1 = as recorded). */
  speed?: 'max' | number;
  /** EVM threads of the simulator and of the scorer's verification (default: the capture's configuration). */
  threads?: number;
  /**
   * Configuration over the capture's own (the one it was recorded with): strategy settings such as
   * `scorer.minNetProfitWei`, `scorer.verify`, `decoder.filter`. Node URLs, ingest sources and the
   * submitter's mode are the replay's and cannot be changed.
   */
  config?: ConfigInput;
  /** Engine log level (default `warn`). */
  logLevel?: LogLevel;
  /** Called about 4 times a second while the replay runs. */
  onProgress?: (p: ReplayProgress) => void;
}

/** Progress of a running replay. */
export interface ReplayProgress {
  /** Ingest records (transactions and heads) delivered so far, and in the capture. */
  records: number;
  totalRecords: number;
  txs: number;
  opportunities: number;
  elapsedSec: number;
}

/** Latency percentiles (µs). */
export interface P {
  p50: number;
  p99: number;
  /** Samples and maximum, for the stages' own histograms (`scorer.scoreTime`, …). */
  count?: number;
  max?: number;
}

/** What a replay reports (`--report FILE`). */
export interface ReplayReport {
  /** Bumped when a field changes meaning. */
  reportVersion: 1;
  /** Always true in a report {@link replay} resolves; a failed replay rejects instead (see {@link ReplayError}). */
  complete: boolean;
  /** sha256 over the canonical ordered outputs ({@link OutputDigest}). */
  digest: string;
  capture: {
    path: string;
    captureId: string;
    chainId: number;
    /** Ingest records in the capture: transactions and heads. */
    txRecords: number;
    blockRecords: number;
    /** Seconds between the capture's first and last ingest record. */
    durationSeconds: number;
    /** Node reads the tape holds. */
    stateReads: number;
    minedBlocks: number;
    /** Senders the capture run recovered (`senders.bin`), which the replay's decoder takes instead of recovering them again. */
    senderHints: number;
  };
  speed: 'max' | number;
  threads: { simulator: number; verify: number };
  /** Unique transactions ingest delivered. */
  txs: number;
  blocks: number;
  /** Opportunities that were not rejected, by kind (revision 0; a rejected verification moves one to `rejectedOpportunities`). */
  opportunities: Record<string, number>;
  /** Opportunities rejected (at once or by verification), by reason code. */
  rejectedOpportunities: Record<string, number>;
  /** Predicted net profit (wei, decimal strings) of the non-rejected opportunities: total and by kind. */
  predictedNetProfitWei: { total: string; byKind: Record<string, string> };
  /** The 10 non-rejected opportunities of highest predicted net profit (final revision). */
  topOpportunities: { id: string; kind: string; verification: string; targetBlock: number; predictedNetWei: string; victim: string | null; pools: string[] }[];
  /** Dry-run submissions by status (`dry-run`, `skipped`…) and skip reasons. */
  submissions: { byStatus: Record<string, number>; skipped: Record<string, number> };
  /** Per stage: records taken in, and what it counted (rejections, sheds, skips, EVM outcomes). */
  stages: Record<string, { records: number; counters: Record<string, number> }>;
  /** Rejections by code across stages: `decoder.reject.*`, `simulator.state.*`, `scorer.skip.*`, `scorer.verify.rejected.*`, `submitter.skip.*`. */
  rejections: Record<string, number>;
  latencyUs: {
    /** On the wall clock of this run: service time per record of each stage, and first seen → scored / verified / out. */
    wall: Record<string, P>;
    /**
     * On the capture's clock (the virtual clock the pacing follows): the wall figures × the speed.
     * Null at `max`, where the virtual clock does not advance with processing.
     */
    virtual: Record<string, P> | null;
  };
  /** Whole run: start-up (threads, tape), processing and drain. */
  wallSeconds: number;
  /** From the engine being ready (every actor started) to the last output taken off the pipeline. */
  processingSeconds: number;
  /** Unique transactions ÷ processing seconds. */
  txPerSecond: number;
  /** Capture duration ÷ processing seconds: how many times faster than real time. */
  realTimeMultiple: number;
  /** The tape: reads served, code reads served from another block (deployed code never changes), conflicting records. */
  tape: { calls: number; served: number; codeFallbacks: number; conflicts: number };
  /** Predicted opportunities against the mined blocks the capture recorded; null when it has none. */
  backtest: BacktestReport | null;
  /** When the capture run left its own digest (`live.json`): whether this replay reproduced it. */
  live: { digest: string; matches: boolean } | null;
}

/** A replay that could not produce a complete report: a damaged capture, a missing state read, a failed engine. */
export class ReplayError extends OrionError {
  override name = 'ReplayError';
  /** What was measured before it failed, marked `complete: false`; null when it failed before the run. */
  readonly partial: ReplayReport | null;
  constructor(message: string, partial: ReplayReport | null, options: { cause?: unknown } = {}) {
    super('ORION_ERR_CAPTURE', message, { fatal: true, ...options });
    this.partial = partial;
  }
}

/** A running replay: iterate it for the outputs (optional), await `report` for the report. */
export interface ReplayRun extends AsyncIterable<ReplayOutput> {
  /** Resolves with the complete report; rejects with a {@link ReplayError} (or a `CaptureError` for a damaged capture). */
  readonly report: Promise<ReplayReport>;
}

interface Scan {
  captureId: string;
  chainId: number;
  txRecords: number;
  blockRecords: number;
  durationSeconds: number;
}

/**
 * Reads every ingest record once, strictly: a damaged or truncated capture, or one of another
 * format version, fails here with a `CaptureError` naming the file, byte offset and kind, before
 * anything runs.
 */
export function scanCapture(path: string): Scan {
  const reader = openCapture(path, { prefix: INGEST_PREFIX });
  let txRecords = 0;
  let blockRecords = 0;
  let first = -1;
  let last = -1;
  for (const r of reader.records()) {
    if (r.t === 'tx') txRecords++;
    else if (r.t === 'block') blockRecords++;
    else continue;
    if (first < 0) first = r.ts;
    last = r.ts;
  }
  return { captureId: reader.header.captureId, chainId: reader.header.chainId, txRecords, blockRecords, durationSeconds: first < 0 ? 0 : (last - first) / 1e9 };
}

/** Deep overlay of plain objects; arrays and scalars in `b` replace `a`'s. */
function overlay(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = overlay(out[k], v);
  return out;
}

/** The engine configuration a replay runs with: the capture's, the caller's strategy settings, then the replay's own. */
export function replayConfig(captured: ConfigInput, path: string, tapeUrl: string, options: ReplayOptions, scratch: string, senderHints: string | null = null): EngineConfig {
  const forced: ConfigInput = {
    decoder: { senderHints },
    pipeline: 'live',
    deterministic: true,
    ingest: { sources: [{ kind: 'capture', name: 'replay', path, speed: options.speed ?? 'max' }], record: null },
    simulator: { rpcUrl: tapeUrl, ...(options.threads !== undefined ? { threads: options.threads } : {}) },
    scorer: { rpcUrl: tapeUrl, ...(options.threads !== undefined ? { verifyThreads: options.threads } : {}) },
    // Never sends: the replay's submissions are what would have been sent.
    submitter: { rpcUrl: tapeUrl, mode: 'dry-run', ledgerPath: null },
    gateway: { enabled: false, apiKeys: [] },
    supervisor: { metricsIntervalMs: 250, deadLetterPath: join(scratch, 'dead-letters.jsonl') },
    log: { level: options.logLevel ?? 'warn' },
  };
  const { gateway: _g, ...strategy } = (options.config ?? {}) as ConfigInput;
  const merged = overlay(overlay(captured, strategy), forced) as ConfigInput;
  // The capture run's submitter sent nothing either, but its routes name endpoints; a replay has none.
  return validateConfig(merged);
}

/**
 * Replays the capture at `path` (a directory written by `orion capture`) and yields its outputs.
 *
 * ```ts
 * import { replay } from 'orion-mev';
 * const run = replay('samples/devnet', { config: { scorer: { minNetProfitWei: '1000000000000000' } } });
 * for await (const o of run) if (o.type === 'opportunity') console.log(o.opportunity.kind, o.opportunity.profit.netWei);
 * const report = await run.report;
 * ```
 * Outputs are buffered for the iterator from the moment it is taken; a caller that only wants the
 * report need not iterate.
 */
export function replay(path: string, options: ReplayOptions = {}): ReplayRun {
  const queue: ReplayOutput[] = [];
  let iterating = false;
  let wake: (() => void) | null = null;
  let ended = false;
  const push = (o: ReplayOutput) => {
    if (!iterating) return;
    queue.push(o);
    wake?.();
  };
  const report = run(path, options, push).finally(() => {
    ended = true;
    wake?.();
  });
  report.catch(() => {});
  return {
    report,
    async *[Symbol.asyncIterator]() {
      iterating = true;
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended) break;
        await new Promise<void>((res) => (wake = res));
        wake = null;
      }
      // A failed replay ends the iteration with its error.
      await report;
    },
  };
}

async function run(path: string, options: ReplayOptions, push: (o: ReplayOutput) => void): Promise<ReplayReport> {
  const t0 = performance.now();
  const speed = options.speed ?? 'max';
  if (speed !== 'max' && !(typeof speed === 'number' && speed > 0 && Number.isFinite(speed))) throw new RangeError(`speed must be 'max' or a positive number, got ${String(speed)}`);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new CaptureError('no-segments', path, -1, 'not a capture directory (orion capture --out DIR writes one)');
  const scan = scanCapture(path);
  const tapeDir = join(path, TAPE_DIR);
  if (!existsSync(tapeDir)) throw new CaptureError('no-segments', tapeDir, -1, 'this capture has no tape (the node reads a replay needs): record it with `orion capture`, not `--record`');
  const tape = new TapeServer({ dir: tapeDir });
  await tape.start();
  const scratch = mkdtempSync(join(tmpdir(), 'orion-replay-'));
  let engine: Engine | null = null;
  try {
    const meta = tape.meta() as { config?: ConfigInput } | null;
    const hintsFile = join(path, SENDERS_FILE);
    // Checked here, so a damaged file is a clear error before any thread starts.
    const hints = existsSync(hintsFile) ? readSenderHints(hintsFile).size : 0;
    const config = replayConfig(meta?.config ?? {}, path, tape.url, options, scratch, hints > 0 ? hintsFile : null);
    engine = new Engine(config, { logger: createLogger('replay', config.log.level), txTap: false });
    const digest = new OutputDigest();
    const finals = new Map<string, Opportunity>();
    const tallies = { byKind: {} as Record<string, number>, rejected: {} as Record<string, number>, net: new Map<string, bigint>(), subs: {} as Record<string, number>, skipped: {} as Record<string, number> };
    let opportunities = 0;
    let lastOutputAt = 0;
    engine.onOutput((m) => {
      lastOutputAt = performance.now();
      if (m.kind === Kind.Opportunity) {
        const o = m.data as Opportunity;
        opportunities++;
        digest.add({ type: 'opportunity', opportunity: o });
        const prev = finals.get(o.id);
        if (prev === undefined || o.revision >= prev.revision) finals.set(o.id, o);
        push({ type: 'opportunity', opportunity: o });
      } else if (m.kind === Kind.Submission) {
        const s = m.data as Submission;
        digest.add({ type: 'submission', submission: s });
        tallies.subs[s.status] = (tallies.subs[s.status] ?? 0) + 1;
        if (s.status === 'skipped') {
          const why = s.reason?.split(':')[0] ?? 'unknown';
          tallies.skipped[why] = (tallies.skipped[why] ?? 0) + 1;
        }
        push({ type: 'submission', submission: s });
      }
    });
    await engine.start();
    const tReady = performance.now();
    const totalRecords = scan.txRecords + scan.blockRecords;
    // The capture source ends by itself; the engine then drains every stage in order.
    let lastStats: EngineStats = engine.stats();
    await new Promise<void>((resolve, reject) => {
      let lastProgress = 0;
      const timer = setInterval(() => {
        lastStats = engine!.stats();
        const c = lastStats.stages.ingest?.counters ?? {};
        const delivered = (c['source.replay.txs'] ?? 0) + (c['source.replay.blocks'] ?? 0);
        const now = performance.now();
        if (options.onProgress && now - lastProgress >= 250) {
          lastProgress = now;
          options.onProgress({ records: delivered, totalRecords, txs: c['unique.txs'] ?? 0, opportunities, elapsedSec: (now - t0) / 1000 });
        }
        if ((c['source.replay.error'] ?? 0) > 0) {
          clearInterval(timer);
          reject(new ReplayError(`the capture source failed after ${delivered} of ${totalRecords} records (see the log)`, null));
        } else if ((c['source.replay.stopped'] ?? 0) > 0) {
          clearInterval(timer);
          resolve();
        }
      }, 250);
      engine!.failed().catch((err: unknown) => {
        clearInterval(timer);
        reject(new ReplayError(`the engine failed: ${(err as Error).message}`, null, { cause: err }));
      });
    });
    await engine.stop();
    const tEnd = performance.now();
    const stats = engine.stats();
    engine = null;
    const ts = tape.stats();
    // Ready (every actor started; the scorer has its pools) → the last output: start-up and the
    // stop's drain are left out, so the figure is the pipeline's own pace.
    const processingSeconds = (Math.max(lastOutputAt, tReady + 1) - tReady) / 1000;
    const txs = stats.stages.ingest?.counters['unique.txs'] ?? 0;
    for (const o of finals.values()) {
      if (o.verification === 'rejected') {
        const why = o.rejectReason?.split(':')[0] ?? 'unknown';
        tallies.rejected[why] = (tallies.rejected[why] ?? 0) + 1;
      } else {
        tallies.byKind[o.kind] = (tallies.byKind[o.kind] ?? 0) + 1;
        tallies.net.set(o.kind, (tallies.net.get(o.kind) ?? 0n) + o.profit.netWei);
      }
    }
    const liveFile = join(path, LIVE_FILE);
    const liveDigest = existsSync(liveFile) ? ((JSON.parse(readFileSync(liveFile, 'utf8')) as { digest?: string }).digest ?? null) : null;
    const mined = tape.mined();
    const d = digest.digest();
    const report: ReplayReport = {
      reportVersion: 1,
      complete: ts.misses === 0,
      digest: d,
      capture: { path, captureId: scan.captureId, chainId: scan.chainId, txRecords: scan.txRecords, blockRecords: scan.blockRecords, durationSeconds: round(scan.durationSeconds, 3), stateReads: tape.size, minedBlocks: mined.length, senderHints: hints },
      speed,
      threads: { simulator: config.simulator.threads, verify: config.scorer.verifyThreads },
      txs,
      blocks: stats.stages.ingest?.counters['unique.blocks'] ?? 0,
      opportunities: tallies.byKind,
      rejectedOpportunities: tallies.rejected,
      predictedNetProfitWei: { total: [...tallies.net.values()].reduce((a, b) => a + b, 0n).toString(), byKind: Object.fromEntries([...tallies.net].map(([k, v]) => [k, v.toString()])) },
      topOpportunities: top(finals.values()),
      submissions: { byStatus: tallies.subs, skipped: tallies.skipped },
      stages: Object.fromEntries(Object.entries(stats.stages).map(([name, st]) => [name, { records: st.records, counters: st.counters }])),
      rejections: rejections(stats),
      latencyUs: latency(stats, speed),
      wallSeconds: round((tEnd - t0) / 1000, 3),
      processingSeconds: round(processingSeconds, 3),
      txPerSecond: processingSeconds > 0 ? Math.round(txs / processingSeconds) : 0,
      realTimeMultiple: processingSeconds > 0 ? round(scan.durationSeconds / processingSeconds, 2) : 0,
      tape: { calls: ts.calls, served: ts.served, codeFallbacks: ts.codeFallbacks, conflicts: ts.conflicts },
      backtest: mined.length > 0 ? backtest(finals.values(), mined, config.submitter.targetBlocks, config.scorer.searcher) : null,
      live: liveDigest === null ? null : { digest: liveDigest, matches: liveDigest === d },
    };
    if (ts.misses > 0) {
      const first = ts.firstMisses[0];
      throw new ReplayError(
        `the capture lacks ${ts.misses} node read${ts.misses === 1 ? '' : 's'} the replay needed (first: ${first?.method} ${JSON.stringify(first?.params)}); the outputs that depend on them are not the capture run's, so no complete report`,
        { ...report, complete: false },
      );
    }
    return report;
  } finally {
    await engine?.kill().catch(() => {});
    await tape.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function top(finals: Iterable<Opportunity>): ReplayReport['topOpportunities'] {
  return [...finals]
    .filter((o) => o.verification !== 'rejected')
    .sort((a, b) => (b.profit.netWei > a.profit.netWei ? 1 : b.profit.netWei < a.profit.netWei ? -1 : a.id < b.id ? -1 : 1))
    .slice(0, 10)
    .map((o) => {
      const v = o.plan.find((s) => s.kind === 'victim');
      return { id: o.id, kind: o.kind, verification: o.verification, targetBlock: o.targetBlock, predictedNetWei: o.profit.netWei.toString(), victim: v?.kind === 'victim' ? v.hash : null, pools: o.pools };
    });
}

const REJECTION_PREFIXES: Record<string, string[]> = {
  decoder: ['reject.', 'filtered.'],
  simulator: ['state.', 'shed.', 'skipped.'],
  scorer: ['skip.', 'verify.rejected.', 'chain.', 'state.'],
  submitter: ['skip.'],
};

function rejections(stats: EngineStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [stage, prefixes] of Object.entries(REJECTION_PREFIXES)) {
    const c = stats.stages[stage]?.counters ?? {};
    for (const [k, v] of Object.entries(c)) if (v > 0 && prefixes.some((p) => k.startsWith(p))) out[`${stage}.${k}`] = v;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function latency(stats: EngineStats, speed: 'max' | number): ReplayReport['latencyUs'] {
  const wall: Record<string, P> = {};
  for (const [name, st] of Object.entries(stats.stages)) wall[name] = { p50: st.serviceUs.p50, p99: st.serviceUs.p99 };
  const h = stats.stages.scorer?.histogramsUs ?? {};
  for (const [stage, st] of Object.entries(stats.stages)) for (const [k, v] of Object.entries(st.histogramsUs)) if (v.count > 0) wall[`${stage}.${k}`] = { p50: v.p50, p99: v.p99, count: v.count, max: v.max };
  if (h.firstSeenToScored) wall.firstSeenToScored = { p50: h.firstSeenToScored.p50, p99: h.firstSeenToScored.p99 };
  if (h.firstSeenToVerified) wall.firstSeenToVerified = { p50: h.firstSeenToVerified.p50, p99: h.firstSeenToVerified.p99 };
  wall.endToEnd = { p50: stats.endToEndUs.p50, p99: stats.endToEndUs.p99 };
  const virtual = speed === 'max' ? null : Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, { p50: Math.round(v.p50 * speed), p99: Math.round(v.p99 * speed) }]));
  return { wall, virtual };
}
