import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Opportunity } from '../actors/scorer/opportunity.js';
import type { Submission } from '../actors/submitter/submission.js';
import { type Devnet, startDevnet } from '../devnet/devnet.js';
import { devnetEngineConfig } from '../devnet/engine-config.js';
import { TRAFFIC_KINDS, type TrafficKind, type TrafficRun } from '../devnet/traffic.js';
import { Engine } from '../engine.js';
import { type BlockEvent, type DecodedTx, Kind } from '../messages/schema.js';
import { SENDERS_FILE, writeSenderHints } from '../replay/capture/senders.js';
import { redactUrl, writerName } from '../replay/capture/format.js';
import { OutputDigest, canonicalJson } from '../replay/digest.js';
import { INGEST_PREFIX, LIVE_FILE, TAPE_DIR } from '../replay/replay.js';
import { TapeRecorder } from '../replay/tape/tape-recorder.js';
import { type ConfigInput, type EngineConfig, loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/log.js';
import { fail } from './common.js';

export const CAPTURE_HELP = `Usage: orion capture (--rpc ws://… | --devnet) --out DIR [options]

Records a run so it can be replayed without a node (orion replay DIR): every pending transaction
and head ingest receives, every node read the simulator, scorer and submitter make (the "tape":
accounts, code, storage, reserves, logs, per block), each mined block with its transactions and the
pools they traded, and the configuration. The engine runs in deterministic mode while it records
(nothing is shed for latency), with the submitter dry, so the capture replays to exactly the
opportunities this run produced; their digest is kept in DIR/${LIVE_FILE}.

A progress line per second on stderr: events, bytes on disk, rate. Ctrl-C (or --duration) stops.

Options:
  --rpc URL          Node websocket (ws:// or wss://) to record from
  --http URL         The node's HTTP JSON-RPC for state reads (default: --rpc with ws → http)
  --devnet           Start a local devnet with traffic instead (as orion demo) and record it
  --rate N           Devnet transactions per second (default 50)
  --seed N           Devnet traffic seed (default 1)
  --mix K=W,…        Devnet traffic weights by kind, e.g. blob=0 (kinds: ${TRAFFIC_KINDS.join(', ')})
  --out DIR          Capture directory (created; must not already hold a capture)
  --duration S       Stop after S seconds (default: until Ctrl-C)
  --segment-mb N     Start a new segment file past N MiB (default 64)
  --retain-mb N      Delete the oldest segments while the capture exceeds N MiB (default 1024; 0 keeps all)
  --segment-min N    Also start a new segment every N minutes (default: by size only)
  --retain-hours N   Delete segments whose last record is older than N hours (default: no age limit)
  --config FILE      JSON config file (docs/config.md): decoder routers, scorer factories, …
  --outputs FILE     Write this run's outputs (opportunities, dry-run submissions) to FILE, one JSON
                     per line, as orion replay --outputs does: diff the two to see where they part
  --json             Print the summary as one JSON object on stdout
  -h, --help         Show this help

Then: orion replay DIR [--report report.json]   (docs/replay.md)
`;

/** What `orion capture --json` prints. */
export interface CaptureSummary {
  out: string;
  seconds: number;
  txs: number;
  blocks: number;
  stateReads: number;
  minedBlocks: number;
  bytes: number;
  /** Opportunities not rejected, by kind (last revision of each; as `orion replay` reports them). */
  opportunities: Record<string, number>;
  /** The digest of this run's outputs, which a replay of the capture reproduces. */
  digest: string;
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`--${flag} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

/** Bytes under `dir`, recursively (a capture is a few dozen files). */
function diskBytes(dir: string): number {
  let n = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? diskBytes(p) : statSync(p).size;
  }
  return n;
}

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/** `orion capture`. */
export async function capture(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        rpc: { type: 'string' },
        http: { type: 'string' },
        devnet: { type: 'boolean', default: false },
        rate: { type: 'string' },
        seed: { type: 'string' },
        mix: { type: 'string' },
        out: { type: 'string' },
        duration: { type: 'string' },
        'segment-mb': { type: 'string' },
        'retain-mb': { type: 'string' },
        'segment-min': { type: 'string' },
        'retain-hours': { type: 'string' },
        config: { type: 'string' },
        outputs: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${CAPTURE_HELP}`);
  }
  if (values.help) {
    process.stdout.write(CAPTURE_HELP);
    return;
  }
  if (!values.out) fail(`--out DIR is required\n\n${CAPTURE_HELP}`);
  if (!values.rpc === !values.devnet) fail('give exactly one of --rpc ws://… (a node) and --devnet (a local devnet with traffic)');
  if (values.rpc && !/^wss?:\/\//.test(values.rpc)) fail(`--rpc must be a ws:// or wss:// URL, got ${JSON.stringify(values.rpc)}`);
  if (values.http && !/^https?:\/\//.test(values.http)) fail(`--http must be an http:// or https:// URL, got ${JSON.stringify(values.http)}`);
  const out = values.out;
  if (existsSync(out) && readdirSync(out).some((n) => n.endsWith('.orcap') || n === TAPE_DIR)) fail(`${out} already holds a capture; a capture is never appended to: choose a new directory`);
  const duration = num('duration', values.duration);
  const segmentBytes = Math.max(1, num('segment-mb', values['segment-mb']) ?? 64) * (1 << 20);
  const retainBytes = (num('retain-mb', values['retain-mb']) ?? 1024) * (1 << 20);
  const segmentMs = Math.round((num('segment-min', values['segment-min']) ?? 0) * 60_000);
  const retainMs = Math.round((num('retain-hours', values['retain-hours']) ?? 0) * 3_600_000);
  if (retainMs > 0 && segmentMs === 0) fail('--retain-hours needs --segment-min: age retention drops whole segments, so they must also rotate by age');
  const seed = num('seed', values.seed) ?? 1;
  const rate = num('rate', values.rate) ?? 50;
  const mix: Partial<Record<TrafficKind, number>> = {};
  for (const part of values.mix ? values.mix.split(',') : []) {
    const [k, w] = part.split('=');
    if (!TRAFFIC_KINDS.includes(k as TrafficKind) || w === undefined || !(Number(w) >= 0)) fail(`--mix: expected kind=weight with a kind of ${TRAFFIC_KINDS.join(', ')}, got ${JSON.stringify(part)}`);
    mix[k as TrafficKind] = Number(w);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);

  let devnet: Devnet | null = null;
  let traffic: TrafficRun | null = null;
  let tape: TapeRecorder | null = null;
  const cleanup = async () => {
    await traffic?.stop().catch(() => {});
    await tape?.close().catch(() => {});
    await devnet?.stop().catch(() => {});
  };
  let wsUrl = values.rpc;
  let httpUrl = values.http;
  let base: ConfigInput = {};
  let chainId: number | null = null;
  try {
    if (values.devnet) {
      log('orion capture: starting a devnet (anvil, prague, 1 s blocks) and deploying Uniswap V2 ×2 and V3…');
      devnet = await startDevnet({ blockTime: 1, seed });
      wsUrl = devnet.anvil.wsUrl;
      httpUrl = devnet.anvil.rpcUrl;
      chainId = devnet.anvil.chainId;
      base = devnetEngineConfig(devnet);
    }
    httpUrl ??= wsUrl!.replace(/^ws(s?):\/\//, 'http$1://');
    mkdirSync(out, { recursive: true });
    tape = new TapeRecorder({ upstream: httpUrl, dir: join(out, TAPE_DIR), chainId: chainId ?? 0, segmentBytes, retainBytes, segmentMs, retainMs });
    await tape.start();
  } catch (err) {
    await cleanup();
    throw err;
  }

  let config: EngineConfig;
  try {
    const file = loadConfig({ file: values.config, env: process.env, overrides: base });
    config = loadConfig({
      file: values.config,
      env: process.env,
      overrides: {
        ...base,
        pipeline: 'live',
        deterministic: true,
        ingest: {
          sources: [{ kind: 'rpc-ws', name: values.devnet ? 'devnet' : 'node', url: wsUrl!, mode: 'auto' }],
          record: { dir: out, segmentBytes, retainBytes, segmentMs, retainMs },
        },
        decoder: { ...base.decoder, routers: [...file.decoder.routers], chainId: chainId ?? file.decoder.chainId },
        simulator: { ...base.simulator, rpcUrl: tape!.url },
        scorer: { ...base.scorer, rpcUrl: tape!.url },
        // Dry: a capture records what the engine sees and decides, it trades nothing (and keeps no ledger).
        submitter: { rpcUrl: tape!.url, mode: 'dry-run', ledgerPath: null },
        gateway: { enabled: false },
      },
    });
  } catch (err) {
    await cleanup();
    fail(`invalid configuration: ${(err as Error).message}`);
  }
  // What a replay needs to run as this run did; node URLs are the replay's own, keys never stored.
  const { gateway: _g, ...kept } = config;
  tape!.writeMeta({ config: { ...kept, ingest: { ...kept.ingest, sources: [], record: null } }, writer: writerName(), node: redactUrl(wsUrl!), createdAt: new Date().toISOString() });

  // The decoder's tap gives every sender it recovered: kept as the capture's sender hints.
  const engine = new Engine(config, { logger: createLogger('capture', config.log.level), txTap: true, signerKey: null });
  const senders = new Map<string, string>();
  engine.onTx((m) => {
    const tx = m.data as DecodedTx;
    senders.set(tx.hash, tx.from);
  });
  const digest = new OutputDigest();
  const outputs = values.outputs ? createWriteStream(values.outputs) : null;
  /** Last revision of each opportunity: kind and verification. */
  const finals = new Map<string, { kind: string; revision: number; verification: string }>();
  /** Every opportunity record of this run: id, revision, verification, predicted net (wei). */
  const records: [string, number, string, string][] = [];
  const mined: Promise<void>[] = [];
  engine.onOutput((m) => {
    if (m.kind === Kind.Opportunity) {
      const o = m.data as Opportunity;
      digest.add({ type: 'opportunity', opportunity: o });
      outputs?.write(`${canonicalJson({ type: 'opportunity', opportunity: o })}\n`);
      records.push([o.id, o.revision, o.verification, o.profit.netWei.toString()]);
      const prev = finals.get(o.id);
      if (prev === undefined || o.revision >= prev.revision) finals.set(o.id, { kind: o.kind, revision: o.revision, verification: o.verification });
    } else if (m.kind === Kind.Submission) {
      digest.add({ type: 'submission', submission: m.data as Submission });
      outputs?.write(`${canonicalJson({ type: 'submission', submission: m.data as Submission })}\n`);
    }
    else if (m.kind === Kind.BlockEvent) {
      const p = tape!.recordMined((m.data as BlockEvent).number).then(() => {}, (err: unknown) => {
        log(`orion capture: mined block ${(m.data as BlockEvent).number} not recorded: ${(err as Error).message}`);
      });
      mined.push(p);
    }
  });
  const t0 = performance.now();
  try {
    await engine.start();
    if (devnet) {
      traffic = devnet.traffic({ rate, keepRecords: false, ...(values.mix ? { mix } : {}) });
      await traffic.ready;
    }
  } catch (err) {
    await engine.kill();
    await cleanup();
    throw err;
  }
  log(`orion capture: recording ${values.devnet ? `devnet traffic ${rate} tx/s` : redactUrl(wsUrl!)} to ${out}${duration ? ` for ${duration} s` : ', Ctrl-C to stop'}`);

  let last = { t: performance.now(), events: 0 };
  const counts = () => {
    const c = engine.stats().stages.ingest?.counters ?? {};
    return { txs: c['unique.txs'] ?? 0, blocks: c['unique.blocks'] ?? 0 };
  };
  const status = setInterval(() => {
    const { txs, blocks } = counts();
    const now = performance.now();
    const events = txs + blocks;
    const r = Math.round(((events - last.events) * 1000) / (now - last.t));
    last = { t: now, events };
    const line = `${((now - t0) / 1000).toFixed(0).padStart(4)}s  events ${events} (txs ${txs}, heads ${blocks})  state reads ${tape!.stats().recorded}  ${mib(diskBytes(out))}  ${r}/s`;
    process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
  }, 1000);

  let finishing: Promise<void> | null = null;
  const finish = () =>
    (finishing ??= (async () => {
      clearInterval(status);
      if (process.stderr.isTTY) process.stderr.write('\n');
      log('stopping: traffic first, then every stage drains, then the tape closes…');
      await traffic?.stop().catch(() => {});
      await engine.stop();
      await Promise.all(mined);
      if (outputs) await new Promise<void>((res) => outputs.end(res));
      const { txs, blocks } = counts();
      const ts = tape!.stats();
      await tape!.close();
      const d = digest.digest();
      // As the replay report counts them: the last revision of each, rejected ones left out.
      const byKind: Record<string, number> = {};
      for (const f of finals.values()) if (f.verification !== 'rejected') byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
      const summary: CaptureSummary = {
        out,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
        txs,
        blocks,
        stateReads: ts.recorded,
        minedBlocks: ts.mined,
        bytes: 0,
        opportunities: byKind,
        digest: d,
      };
      writeFileSync(join(out, LIVE_FILE), `${JSON.stringify({ digest: d, outputs: digest.count, txs, blocks, opportunities: byKind, segments: INGEST_PREFIX, records: records.sort((a, b) => (a[0] + a[1] < b[0] + b[1] ? -1 : 1)) })}\n`);
      writeSenderHints(join(out, SENDERS_FILE), senders);
      summary.bytes = diskBytes(out);
      await devnet?.stop().catch(() => {});
      if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else log(`done: ${txs} txs, ${blocks} heads, ${summary.stateReads} state reads, ${summary.minedBlocks} mined blocks, ${mib(summary.bytes)} in ${out}; opportunities ${JSON.stringify(byKind)}; digest ${d}\n  replay it: orion replay ${out}`);
    })());
  const onSignal = () => void finish().then(() => process.exit(0), (err: unknown) => fail(`capture: ${(err as Error).message}`, 1));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = duration ? new Promise<void>((res) => setTimeout(res, duration * 1000)) : new Promise<void>(() => {});
  try {
    await Promise.race([timer, engine.failed()]);
  } catch (err) {
    clearInterval(status);
    await engine.kill();
    await cleanup();
    throw err;
  }
  await finish();
}
