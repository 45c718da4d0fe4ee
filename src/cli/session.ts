/**
 * What `orion demo` and `orion run` share: run an engine (and its gateway) until a duration ends
 * or a signal arrives, show a one-line progress summary, then drain and summarize.
 */
import type { Opportunity } from '../actors/scorer/opportunity.js';
import type { Submission } from '../actors/submitter/submission.js';
import { Engine, type EngineStats } from '../engine.js';
import { Gateway, type GatewayAddress } from '../gateway/gateway.js';
import { Kind } from '../messages/schema.js';
import type { EngineConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/log.js';

/** The summary printed at the end (one JSON object on stdout with `--json`). */
export interface RunSummary {
  mode: 'devnet' | 'rpc' | 'synthetic' | 'config';
  seconds: number;
  /** Transactions seen (unique, from every source); synthetic mode: records through the pipeline. */
  txs: number;
  txsPerSecond: number;
  /** Opportunities that left the pipeline and were not rejected by verification, by kind. */
  opportunities: Record<string, number>;
  /** Opportunities the EVM verification rejected, by reason. */
  rejectedOpportunities: Record<string, number>;
  /** Sum of the predicted net profit (wei) of the emitted, non-rejected opportunities; a decimal string. */
  predictedNetProfitWei: string;
  /**
   * Per stage: service time per record (`p50`, `p99`) and input queue wait; `firstSeenToOpportunity`
   * (first seen → scored in closed form), `firstSeenToVerified`, and `endToEnd` (first seen → out of the last stage).
   */
  latencyUs: Record<string, { p50: number; p99: number; queueWaitP50?: number; queueWaitP99?: number }>;
  /** Records out of the last stage. */
  records: number;
  recordsPerSecond: number;
  restarts: number;
  deadLetters: number;
  drops: number;
  /** What the decoder did with what ingest received (live modes). */
  decoder?: { decoded: number; rejected: Record<string, number>; filtered: Record<string, number>; intents: Record<string, number>; blocks: number };
  traffic?: { sent: number; accepted: number; achievedRate: number };
  gateway?: { url: string; framesSent: Record<string, number>; framesDropped: number; clientsAtEnd: number };
  /** Submissions by outcome (live modes): sent, and of those included, missed, reverted, replaced. */
  submissions?: { sent: number; included: number; missed: number; reverted: number; replaced: number; cancelled: number; failed: number; dryRun: number; skipped: number };
  /** Realized net profit of the included (and reverted) submissions, from their receipts (wei, decimal string). */
  realizedNetProfitWei?: string;
  /** The predicted net profit of the submissions that were included (wei, decimal string). */
  predictedNetProfitOfIncludedWei?: string;
}

/** Tally of submission records. */
interface SubTally {
  sent: number;
  included: number;
  missed: number;
  reverted: number;
  replaced: number;
  cancelled: number;
  failed: number;
  dryRun: number;
  skipped: number;
  realizedNetWei: bigint;
  predictedOfIncludedWei: bigint;
}

function tallySubmission(t: SubTally, s: Submission): void {
  switch (s.status) {
    case 'sent':
      t.sent++;
      break;
    case 'included':
      t.included++;
      t.realizedNetWei += s.realizedNetWei ?? 0n;
      t.predictedOfIncludedWei += s.predictedNetWei;
      break;
    case 'reverted':
      t.reverted++;
      t.realizedNetWei += s.realizedNetWei ?? 0n;
      break;
    case 'missed':
      t.missed++;
      t.realizedNetWei += s.realizedNetWei ?? 0n;
      break;
    case 'replaced':
      // Our own fee bump (no block) is a new attempt of the same submission, not an outcome.
      if (s.block !== null) t.replaced++;
      break;
    case 'cancelled':
      t.cancelled++;
      break;
    case 'failed':
      t.failed++;
      break;
    case 'dry-run':
      t.dryRun++;
      break;
    case 'skipped':
      t.skipped++;
      break;
    case 'reopened':
      // A reorg took it out of its block: it counts again when it lands.
      t.included--;
      break;
  }
}

/** Tally of what left the pipeline. */
export interface OppTally {
  byKind: Record<string, number>;
  rejected: Record<string, number>;
  netWei: bigint;
  /** Net profit of each `pending` opportunity, until its outcome (revision 1) replaces it. */
  pending?: Map<string, bigint>;
}

/**
 * Counts an opportunity record: revision 0 by kind (or as rejected at once); a pending one's outcome
 * then either replaces its predicted profit (verified, measured gas) or moves it to the rejected.
 */
export function tally(t: OppTally, o: Opportunity): void {
  const pending = (t.pending ??= new Map());
  const reason = () => o.rejectReason?.split(':')[0] ?? 'unknown';
  if (o.revision === 0) {
    if (o.verification === 'rejected') t.rejected[reason()] = (t.rejected[reason()] ?? 0) + 1;
    else {
      t.byKind[o.kind] = (t.byKind[o.kind] ?? 0) + 1;
      t.netWei += o.profit.netWei;
      if (o.verification === 'pending') pending.set(o.id, o.profit.netWei);
    }
    return;
  }
  const before = pending.get(o.id);
  if (before === undefined) return; // its pending record was not seen (a crash in between)
  pending.delete(o.id);
  t.netWei -= before;
  if (o.verification === 'verified') t.netWei += o.profit.netWei;
  else {
    t.byKind[o.kind] = (t.byKind[o.kind] ?? 1) - 1;
    if (t.byKind[o.kind] === 0) delete t.byKind[o.kind];
    t.rejected[reason()] = (t.rejected[reason()] ?? 0) + 1;
  }
}

function byPrefix(counters: Record<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) if (k.startsWith(prefix) && v > 0) out[k.slice(prefix.length)] = v;
  return out;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** Builds the {@link RunSummary} from the engine's stats. */
export function summarize(s: EngineStats, mode: RunSummary['mode'], opps: OppTally): RunSummary {
  const latencyUs: RunSummary['latencyUs'] = {};
  let restarts = 0;
  let deadLetters = 0;
  let drops = 0;
  for (const [name, st] of Object.entries(s.stages)) {
    latencyUs[name] = { p50: st.serviceUs.p50, p99: st.serviceUs.p99, queueWaitP50: st.queueWaitUs.p50, queueWaitP99: st.queueWaitUs.p99 };
    restarts += st.restarts;
    deadLetters += st.deadLetters;
    drops += st.outputDrops;
  }
  const h = s.stages.scorer?.histogramsUs;
  latencyUs.firstSeenToOpportunity = { p50: h?.firstSeenToScored?.p50 ?? 0, p99: h?.firstSeenToScored?.p99 ?? 0 };
  if (h?.firstSeenToVerified) latencyUs.firstSeenToVerified = { p50: h.firstSeenToVerified.p50, p99: h.firstSeenToVerified.p99 };
  latencyUs.endToEnd = { p50: s.endToEndUs.p50, p99: s.endToEndUs.p99 };
  const ing = s.stages.ingest?.counters;
  const dec = s.stages.decoder;
  const synthetic = mode === 'synthetic';
  const txs = synthetic ? s.output.records : (ing?.['unique.txs'] ?? 0);
  const out: RunSummary = {
    mode,
    seconds: s.uptimeSec,
    txs,
    txsPerSecond: s.uptimeSec > 0 ? Math.round((txs / s.uptimeSec) * 10) / 10 : 0,
    opportunities: { ...opps.byKind },
    rejectedOpportunities: { ...opps.rejected },
    predictedNetProfitWei: opps.netWei.toString(),
    latencyUs,
    records: s.output.records,
    recordsPerSecond: s.output.perSecond,
    restarts,
    deadLetters,
    drops,
  };
  if (!synthetic && ing && dec) {
    out.decoder = { decoded: dec.counters.decoded ?? 0, rejected: byPrefix(dec.counters, 'reject.'), filtered: byPrefix(dec.counters, 'filtered.'), intents: byPrefix(dec.counters, 'intent.'), blocks: ing['unique.blocks'] ?? 0 };
  }
  return out;
}

/** Options of {@link runSession}. */
export interface SessionOptions {
  mode: RunSummary['mode'];
  config: EngineConfig;
  /** Stop after this many seconds; undefined runs until SIGINT/SIGTERM. */
  durationSec?: number;
  json: boolean;
  /** Serve the gateway (`config.gateway`). */
  gateway: boolean;
  /** Printed with the gateway URL (the demo's generated key); never logged anywhere else. */
  showKey?: { key: string; role: string };
  /** The submitter's signing key (0x-hex), or null for a dry run. */
  signerKey?: string | null;
  /** Called once the engine is up (the demo waits for its traffic here). */
  onStarted?: () => Promise<void>;
  /** Called first when stopping (the demo stops its traffic); its result becomes `summary.traffic`. */
  onStopping?: () => Promise<RunSummary['traffic'] | undefined>;
  /** Called last (the demo stops the devnet). */
  cleanup: () => Promise<void>;
  /** What the session runs on, for the first line. */
  what: string;
}

/** Runs the engine and gateway, prints progress on stderr and the summary at the end. */
export async function runSession(o: SessionOptions): Promise<RunSummary> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const engine = new Engine(o.config, { txTap: o.gateway, signerKey: o.signerKey ?? null });
  const subs: SubTally = { sent: 0, included: 0, missed: 0, reverted: 0, replaced: 0, cancelled: 0, failed: 0, dryRun: 0, skipped: 0, realizedNetWei: 0n, predictedOfIncludedWei: 0n };
  const opps: OppTally = { byKind: {}, rejected: {}, netWei: 0n };
  engine.onOutput((m) => {
    if (m.kind === Kind.Opportunity) tally(opps, m.data as Opportunity);
    else if (m.kind === Kind.Submission) tallySubmission(subs, m.data as Submission);
  });
  const gateway = o.gateway ? new Gateway({ config: o.config.gateway, log: createLogger('gateway', o.config.log.level), engine }) : null;
  log(`orion: ${Object.keys(engine.stats().stages).join(' → ')} on worker threads (${o.what})${o.durationSec ? `, ${o.durationSec} s` : ', Ctrl-C to stop'}`);
  let address: GatewayAddress | null = null;
  try {
    await engine.start();
    if (gateway) {
      address = await gateway.listen();
      log(`gateway: ${address.url}  (stream ${address.streamUrl}, status page ${address.url}/${o.showKey ? `?token=${o.showKey.key}` : ''})`);
      if (o.showKey) log(`API key (role ${o.showKey.role}): ${o.showKey.key}\n  try: curl -H 'Authorization: Bearer ${o.showKey.key}' ${address.url}/metrics`);
      else if (o.config.gateway.apiKeys.length === 0) log('gateway: no API keys configured (set ORION_API_KEYS=name:role:key); only /health answers');
    }
    await o.onStarted?.();
  } catch (err) {
    await gateway?.close().catch(() => {});
    await engine.kill();
    await o.cleanup();
    throw err;
  }

  const tty = process.stderr.isTTY;
  let last = { t: performance.now(), txs: 0 };
  const status = setInterval(() => {
    const s = summarize(engine.stats(), o.mode, opps);
    const now = performance.now();
    const rate = Math.round(((s.txs - last.txs) * 1000) / (now - last.t));
    last = { t: now, txs: s.txs };
    const kinds = Object.entries(s.opportunities)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const p99 = s.latencyUs.firstSeenToOpportunity!.p99;
    const line =
      o.mode === 'synthetic'
        ? `${s.seconds.toFixed(0).padStart(4)}s  ${String(rate).padStart(6)} rec/s  e2e p50 ${s.latencyUs.endToEnd!.p50} µs p99 ${s.latencyUs.endToEnd!.p99} µs  restarts ${s.restarts}  drops ${s.drops}`
        : `${s.seconds.toFixed(0).padStart(4)}s  ${String(rate).padStart(4)} tx/s  txs ${s.txs}  opportunities ${sum(s.opportunities)}${kinds ? ` (${kinds})` : ''}  rejected ${sum(s.rejectedOpportunities)}  seen→opportunity p99 ${(p99 / 1000).toFixed(1)} ms${gateway ? `  clients ${gateway.figures().clients}` : ''}  restarts ${s.restarts}`;
    process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }, 1000);

  let finishing: Promise<RunSummary> | null = null;
  const finish = () =>
    (finishing ??= (async () => {
      clearInterval(status);
      if (tty) process.stderr.write('\n');
      log('stopping: traffic first, then the gateway tells its clients, then every stage drains…');
      const traffic = await o.onStopping?.();
      await gateway?.close();
      await engine.stop();
      await o.cleanup();
      const s = summarize(engine.stats(), o.mode, opps);
      if (o.mode !== 'synthetic') {
        s.submissions = { sent: subs.sent, included: subs.included, missed: subs.missed, reverted: subs.reverted, replaced: subs.replaced, cancelled: subs.cancelled, failed: subs.failed, dryRun: subs.dryRun, skipped: subs.skipped };
        s.realizedNetProfitWei = subs.realizedNetWei.toString();
        s.predictedNetProfitOfIncludedWei = subs.predictedOfIncludedWei.toString();
      }
      if (traffic) s.traffic = traffic;
      if (gateway && address) {
        const f = gateway.figures();
        s.gateway = { url: address.url, framesSent: f.framesSent, framesDropped: f.framesDropped, clientsAtEnd: f.clients };
      }
      if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else printSummary(s, log);
      return s;
    })());
  const onSignal = () => void finish().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = o.durationSec ? new Promise<void>((res) => setTimeout(res, o.durationSec! * 1000)) : new Promise<void>(() => {});
  try {
    await Promise.race([timer, engine.failed()]);
  } catch (err) {
    clearInterval(status);
    await gateway?.close().catch(() => {});
    await engine.kill();
    await o.cleanup();
    throw err;
  }
  return finish();
}

function printSummary(s: RunSummary, log: (l: string) => void): void {
  log(`done: ${s.txs} ${s.mode === 'synthetic' ? 'records' : 'txs'} in ${s.seconds} s (${s.txsPerSecond}/s); end-to-end p50 ${s.latencyUs.endToEnd!.p50} µs, p99 ${s.latencyUs.endToEnd!.p99} µs; restarts ${s.restarts}, dead letters ${s.deadLetters}, drops ${s.drops}`);
  if (s.decoder) {
    log(`  decoder: ${s.decoder.decoded} decoded, ${s.decoder.blocks} blocks; swap intents ${JSON.stringify(s.decoder.intents)}; rejected ${JSON.stringify(s.decoder.rejected)}; filtered ${JSON.stringify(s.decoder.filtered)}`);
  }
  if (s.mode !== 'synthetic') {
    log(`  opportunities: ${JSON.stringify(s.opportunities)}; rejected by verification ${JSON.stringify(s.rejectedOpportunities)}; predicted net ${s.predictedNetProfitWei} wei`);
    const v = s.latencyUs.firstSeenToVerified;
    log(`  first seen → opportunity p50 ${s.latencyUs.firstSeenToOpportunity!.p50} µs p99 ${s.latencyUs.firstSeenToOpportunity!.p99} µs${v ? `; → verified p50 ${v.p50} µs p99 ${v.p99} µs` : ''}`);
  }
  for (const [name, l] of Object.entries(s.latencyUs)) {
    if (l.queueWaitP50 === undefined) continue;
    log(`  ${name.padEnd(10)} service p50 ${l.p50} µs p99 ${l.p99} µs   queue wait p50 ${l.queueWaitP50} µs p99 ${l.queueWaitP99} µs`);
  }
  if (s.gateway) log(`  gateway: frames sent ${JSON.stringify(s.gateway.framesSent)}, dropped ${s.gateway.framesDropped}`);
}
