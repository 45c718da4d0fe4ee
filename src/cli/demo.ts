import { parseArgs } from 'node:util';
import { type Devnet, startDevnet } from '../devnet/devnet.js';
import { devnetEngineConfig } from '../devnet/engine-config.js';
import type { TrafficRun } from '../devnet/traffic.js';
import type { Opportunity } from '../actors/scorer/opportunity.js';
import { Engine, type EngineStats, STAGES } from '../engine.js';
import { Kind } from '../messages/schema.js';
import { type ConfigInput, type EngineConfig, loadConfig } from '../runtime/config.js';
import { fail } from './common.js';

export const DEMO_HELP = `Usage: orion demo [options]

Starts a local devnet (anvil from npm on 127.0.0.1, Uniswap V2 ×2 and V3 deployed from the npm
artifacts), sends it a realistic transaction mix, and runs Orion against it: ingest subscribes
to the node's pending transactions, the decoder decodes every type, recovers senders and
classifies swaps, the simulator runs what the decoder could not classify in the EVM, and the
scorer finds V2 sandwiches and backrun arbitrages, each verified as a bundle in the EVM from the
devnet's searcher account (the submitter is a pass-through stand-in until its issue lands). One
status line per second on stderr; Ctrl-C drains every stage and stops cleanly.

Options:
  --rate N          Devnet transactions per second (default 50)
  --duration S      Stop after S seconds and print a summary (default: until Ctrl-C)
  --rpc URL         Use this node (ws:// or wss://) instead of starting a devnet; no traffic is sent
  --record DIR      Record what ingest receives to a capture in DIR (docs/capture-format.md)
  --synthetic       Run the synthetic runtime pipeline instead (no node; --rate is records/s,
                    default 1000; --record-bytes N sets the payload size)
  --seed N          Traffic seed (default 1)
  --json            Print the summary as one JSON object on stdout
  --config FILE     JSON config file (see docs/config.md); flags override it
  -h, --help        Show this help

Environment (read once at start): ORION_WAIT_STRATEGY, ORION_LOG_LEVEL, ORION_DEAD_LETTER_PATH,
ORION_ANVIL_BIN (an anvil binary other than the npm one).
`;

/** The summary `orion demo` prints at the end (and as JSON with --json). */
export interface DemoSummary {
  mode: 'devnet' | 'rpc' | 'synthetic';
  seconds: number;
  records: number;
  recordsPerSecond: number;
  endToEndUs: { p50: number; p99: number; p999: number };
  latencyUs: Record<string, { serviceP50: number; serviceP99: number; queueWaitP50: number; queueWaitP99: number }>;
  restarts: number;
  deadLetters: number;
  drops: number;
  /** Live modes: what ingest and the decoder did. */
  txs?: { received: number; decoded: number; rejected: Record<string, number>; filtered: Record<string, number>; intents: Record<string, number>; blocks: number };
  traffic?: { sent: number; accepted: number; achievedRate: number };
  /** Live modes: opportunities emitted, by kind (verified or, without a searcher, unverified). */
  opportunities?: Record<string, number>;
  /** Opportunities the EVM verification rejected, by reason. */
  rejectedOpportunities?: Record<string, number>;
  /** Sum of the predicted net profit (wei) of the emitted, non-rejected opportunities; a decimal string. */
  predictedNetProfitWei?: string;
  /** First seen → scored (closed form) and → verified, µs. */
  firstSeenToOpportunityUs?: { p50: number; p99: number };
  firstSeenToVerifiedUs?: { p50: number; p99: number };
}

/** Tally of the opportunities the engine emitted. */
interface OppTally {
  byKind: Record<string, number>;
  rejected: Record<string, number>;
  netWei: bigint;
}

function byPrefix(counters: Record<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) if (k.startsWith(prefix) && v > 0) out[k.slice(prefix.length)] = v;
  return out;
}

function summarize(s: EngineStats, mode: DemoSummary['mode'], opps?: OppTally): DemoSummary {
  const latencyUs: DemoSummary['latencyUs'] = {};
  let restarts = 0;
  let deadLetters = 0;
  let drops = 0;
  for (const [name, st] of Object.entries(s.stages)) {
    latencyUs[name] = { serviceP50: st.serviceUs.p50, serviceP99: st.serviceUs.p99, queueWaitP50: st.queueWaitUs.p50, queueWaitP99: st.queueWaitUs.p99 };
    restarts += st.restarts;
    deadLetters += st.deadLetters;
    drops += st.outputDrops;
  }
  const out: DemoSummary = {
    mode,
    seconds: s.uptimeSec,
    records: s.output.records,
    recordsPerSecond: s.output.perSecond,
    endToEndUs: { p50: s.endToEndUs.p50, p99: s.endToEndUs.p99, p999: s.endToEndUs.p999 },
    latencyUs,
    restarts,
    deadLetters,
    drops,
  };
  const ing = s.stages.ingest?.counters;
  const dec = s.stages.decoder;
  if (mode !== 'synthetic' && ing && dec) {
    const rejected = byPrefix(dec.counters, 'reject.');
    const filtered = byPrefix(dec.counters, 'filtered.');
    out.txs = { received: ing['unique.txs'] ?? 0, decoded: dec.counters.decoded ?? 0, rejected, filtered, intents: byPrefix(dec.counters, 'intent.'), blocks: ing['unique.blocks'] ?? 0 };
  }
  if (mode !== 'synthetic' && opps) {
    out.opportunities = { ...opps.byKind };
    out.rejectedOpportunities = { ...opps.rejected };
    out.predictedNetProfitWei = opps.netWei.toString();
    const h = s.stages.scorer?.histogramsUs;
    if (h?.firstSeenToScored) out.firstSeenToOpportunityUs = { p50: h.firstSeenToScored.p50, p99: h.firstSeenToScored.p99 };
    if (h?.firstSeenToVerified) out.firstSeenToVerifiedUs = { p50: h.firstSeenToVerified.p50, p99: h.firstSeenToVerified.p99 };
  }
  return out;
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`--${flag} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

/** `orion demo`. */
export async function demo(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        rate: { type: 'string' },
        duration: { type: 'string' },
        rpc: { type: 'string' },
        record: { type: 'string' },
        synthetic: { type: 'boolean', default: false },
        'record-bytes': { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${DEMO_HELP}`);
  }
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return;
  }
  const rate = num('rate', values.rate);
  const duration = num('duration', values.duration);
  const seed = num('seed', values.seed) ?? 1;
  if (values.synthetic && (values.rpc || values.record)) fail('--synthetic runs without a node: it takes neither --rpc nor --record');
  if (values.rpc && !/^wss?:\/\//.test(values.rpc)) fail(`--rpc must be a ws:// or wss:// URL, got ${JSON.stringify(values.rpc)}`);
  const mode: DemoSummary['mode'] = values.synthetic ? 'synthetic' : values.rpc ? 'rpc' : 'devnet';
  const log = (line: string) => process.stderr.write(`${line}\n`);

  let devnet: Devnet | null = null;
  let traffic: TrafficRun | null = null;
  const overrides: ConfigInput = {};
  if (mode === 'synthetic') {
    overrides.pipeline = 'synthetic';
    overrides.synthetic = {};
    if (rate !== undefined) overrides.synthetic.rate = Math.round(rate);
    const recordBytes = num('record-bytes', values['record-bytes']);
    if (recordBytes !== undefined) overrides.synthetic.recordBytes = Math.round(recordBytes);
  }
  let config: EngineConfig;
  try {
    config = loadConfig({ file: values.config, overrides, env: process.env });
  } catch (err) {
    fail(`invalid configuration: ${(err as Error).message}`);
  }

  const cleanup = async () => {
    await traffic?.stop().catch(() => {});
    await devnet?.stop().catch(() => {});
  };
  if (mode !== 'synthetic') {
    let url = values.rpc;
    let routers = config.decoder.routers;
    let chainId = config.decoder.chainId;
    if (mode === 'devnet') {
      log('orion demo: starting a devnet (anvil, prague, 1 s blocks) and deploying Uniswap V2 ×2 and V3…');
      const t0 = performance.now();
      devnet = await startDevnet({ blockTime: 1, seed });
      try {
        const { anvil, deployment } = devnet;
        url = anvil.wsUrl;
        const dc = devnetEngineConfig(devnet);
        routers = [...routers, ...(dc.decoder!.routers as typeof routers)];
        chainId = anvil.chainId;
        Object.assign(overrides, { simulator: { ...dc.simulator, ...overrides.simulator }, scorer: { ...dc.scorer, ...overrides.scorer } });
        log(`devnet ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${anvil.rpcUrl} (pid ${anvil.pid}), ${deployment.tokens.length} tokens, ${deployment.v2.reduce((n, v) => n + v.pairs.length, 0)} V2 pairs on ${deployment.v2.length} factories, ${deployment.v3?.pools.length ?? 0} V3 pools`);
        traffic = devnet.traffic({ rate: rate ?? 50, keepRecords: false });
      } catch (err) {
        await cleanup();
        throw err;
      }
    }
    try {
      config = loadConfig({
        file: values.config,
        env: process.env,
        overrides: {
          ...overrides,
          pipeline: 'live',
          ingest: {
            sources: [{ kind: 'rpc-ws', name: mode === 'devnet' ? 'devnet' : 'node', url: url!, mode: 'auto' }],
            ...(values.record ? { record: { dir: values.record, segmentBytes: 64 << 20, retainBytes: 1 << 30 } } : {}),
          },
          decoder: { routers, chainId },
        },
      });
    } catch (err) {
      await cleanup();
      fail(`invalid configuration: ${(err as Error).message}`);
    }
  }

  const engine = new Engine(config);
  const opps: OppTally = { byKind: {}, rejected: {}, netWei: 0n };
  engine.onOutput((m) => {
    if (m.kind !== Kind.Opportunity) return;
    const o = m.data as Opportunity;
    if (o.verification === 'rejected') opps.rejected[o.rejectReason?.split(':')[0] ?? 'unknown'] = (opps.rejected[o.rejectReason?.split(':')[0] ?? 'unknown'] ?? 0) + 1;
    else {
      opps.byKind[o.kind] = (opps.byKind[o.kind] ?? 0) + 1;
      opps.netWei += o.profit.netWei;
    }
  });
  const tty = process.stderr.isTTY;
  const what = mode === 'synthetic' ? `synthetic stages, ${config.synthetic.rate || 'max'} records/s` : mode === 'devnet' ? `devnet traffic ${rate ?? 50} tx/s` : `node ${values.rpc}`;
  log(`orion demo: ${STAGES.join(' → ')} on ${STAGES.length} worker threads (${what})${duration ? `, ${duration} s` : ', Ctrl-C to stop'}`);
  try {
    await engine.start();
    await traffic?.ready;
  } catch (err) {
    await engine.kill();
    await cleanup();
    throw err;
  }
  let stopping = false;
  let last = { t: performance.now(), n: 0 };
  const status = setInterval(() => {
    const s = engine.stats();
    const now = performance.now();
    const rateNow = Math.round(((s.output.records - last.n) * 1000) / (now - last.t));
    last = { t: now, n: s.output.records };
    const sum = summarize(s, mode, opps);
    const oppLine = sum.opportunities ? `  opps ${Object.values(sum.opportunities).reduce((a, b) => a + b, 0)} (rejected ${Object.values(sum.rejectedOpportunities ?? {}).reduce((a, b) => a + b, 0)})` : '';
    const txs = sum.txs
      ? `  txs ${sum.txs.received} decoded ${sum.txs.decoded} swaps ${Object.values(sum.txs.intents).reduce((a, b) => a + b, 0)} rejected ${Object.values(sum.txs.rejected).reduce((a, b) => a + b, 0)} filtered ${Object.values(sum.txs.filtered).reduce((a, b) => a + b, 0)} blocks ${sum.txs.blocks}${oppLine}`
      : '';
    const line = `${s.uptimeSec.toFixed(0).padStart(4)}s  ${String(rateNow).padStart(6)} rec/s${txs}  e2e p50 ${sum.endToEndUs.p50} µs p99 ${sum.endToEndUs.p99} µs  restarts ${sum.restarts}  drops ${sum.drops}`;
    process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }, 1000);
  const finish = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(status);
    if (tty) process.stderr.write('\n');
    log('stopping: traffic first, then every stage drains…');
    const report = await traffic?.stop();
    await engine.stop();
    await devnet?.stop();
    const sum = summarize(engine.stats(), mode, opps);
    if (report) sum.traffic = { sent: report.sent, accepted: report.accepted, achievedRate: Math.round(report.achievedRate * 10) / 10 };
    if (values.json) process.stdout.write(`${JSON.stringify(sum)}\n`);
    else {
      log(`done: ${sum.records} records in ${sum.seconds} s (${sum.recordsPerSecond}/s), end-to-end p50 ${sum.endToEndUs.p50} µs, p99 ${sum.endToEndUs.p99} µs`);
      if (sum.txs) {
        log(`  txs: ${sum.txs.received} received, ${sum.txs.decoded} decoded, ${sum.txs.blocks} blocks`);
        log(`  swap intents: ${JSON.stringify(sum.txs.intents)}  rejected: ${JSON.stringify(sum.txs.rejected)}  filtered: ${JSON.stringify(sum.txs.filtered)}`);
      }
      if (sum.opportunities) {
        log(`  opportunities: ${JSON.stringify(sum.opportunities)}  rejected by verification: ${JSON.stringify(sum.rejectedOpportunities)}  predicted net ${sum.predictedNetProfitWei} wei`);
        if (sum.firstSeenToOpportunityUs) log(`  first seen → scored p50 ${sum.firstSeenToOpportunityUs.p50} µs p99 ${sum.firstSeenToOpportunityUs.p99} µs${sum.firstSeenToVerifiedUs ? `; → verified p50 ${sum.firstSeenToVerifiedUs.p50} µs p99 ${sum.firstSeenToVerifiedUs.p99} µs` : ''}`);
      }
      for (const [name, l] of Object.entries(sum.latencyUs)) {
        log(`  ${name.padEnd(10)} service p50 ${l.serviceP50} µs p99 ${l.serviceP99} µs   queue wait p50 ${l.queueWaitP50} µs p99 ${l.queueWaitP99} µs`);
      }
    }
  };
  process.once('SIGINT', () => void finish().then(() => process.exit(0)));
  process.once('SIGTERM', () => void finish().then(() => process.exit(0)));
  const timer = duration ? new Promise<void>((res) => setTimeout(res, duration * 1000)) : new Promise<void>(() => {});
  try {
    await Promise.race([timer, engine.failed()]);
    await finish();
  } catch (err) {
    clearInterval(status);
    await engine.kill();
    await cleanup();
    throw err;
  }
}
