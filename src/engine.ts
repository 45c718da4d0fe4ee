import { controlBuffer, secretsBuffer } from './actors/submitter/control.js';
import { RecordReader } from './messages/codec.js';
import { type Envelope, type Message, type RawMessage, recordId } from './messages/envelope.js';
import type { Kind } from './messages/schema.js';
import { type EngineConfig, validateConfig } from './runtime/config.js';
import type { OrionError } from './runtime/errors.js';
import { type Logger, createLogger } from './runtime/log.js';
import { monoNs } from './runtime/clock.js';
import { type Percentiles, createHistogram, percentilesUs, recordNs } from './runtime/metrics.js';
import type { RingBuffer } from './runtime/ring/ring-buffer.js';
import { type PipelineSpec, type StageSpec, Supervisor } from './runtime/supervisor.js';

/** The five stages, in pipeline order. */
export const STAGES = ['ingest', 'decoder', 'simulator', 'scorer', 'submitter'] as const;

/** Longest a main-thread sink sleeps without re-checking whether its producer stopped (ms). */
const SINK_BACKSTOP_MS = 250;

/** Longest the main thread's sinks hold the event loop before giving it a turn (ns). */
const SINK_SLICE_NS = 500_000;

/** Ring the main thread consumes: the submitter's output. */
export const RESULTS_RING = 'results';

/** Ring of every decoded transaction (the decoder's tap, before its early filter), when {@link LivePipelineOptions.txTap} is on. */
export const TX_TAP_RING = 'tx-tap';

/**
 * The synthetic five-stage pipeline: a synthetic source as ingest and pass-through stages for the
 * rest, wired ingest → decoder → simulator → scorer → submitter → main thread.
 */
export function syntheticPipeline(config: EngineConfig, opts: { io?: boolean } = {}): PipelineSpec {
  const y = config.synthetic;
  // One trigger counter per fault, shared by every stage and kept across restarts.
  const shared = { faults: new SharedArrayBuffer(Math.max(4, y.faults.length * 4)) };
  const rings = ['raw', 'decoded', 'simulated', 'scored', RESULTS_RING];
  const source = new URL('./actors/synthetic/synthetic-source.worker.js', import.meta.url);
  const pass = new URL('./actors/synthetic/pass-through.worker.js', import.meta.url);
  const stages: StageSpec[] = STAGES.map((name, i) => ({
    name,
    worker: i === 0 ? source : pass,
    config:
      i === 0
        ? { rate: y.rate, count: y.count, recordBytes: y.recordBytes, blockEvery: y.blockEvery, onFull: y.onFull, workNs: y.stages.ingest.workNs, faults: y.faults }
        : { workNs: y.stages[name].workNs, io: opts.io ?? false, faults: y.faults },
    ...(i === 0 ? {} : { input: rings[i - 1] }),
    outputs: { out: rings[i]! },
    shared,
  }));
  return { rings: Object.fromEntries(rings.map((r) => [r, config.ring.capacityBytes])), stages };
}

/** Options of {@link livePipeline}. */
export interface LivePipelineOptions {
  /** Chain id for capture headers (the decoder's `chainId` when set). */
  chainId?: number | null;
  /**
   * Last stage whose output the main thread consumes: `decoder`, `simulator` or `scorer` end the
   * pipeline there (tests and benchmarks); `submitter` (default) runs the full five stages.
   */
  until?: 'decoder' | 'simulator' | 'scorer' | 'submitter';
  /** Shared memory of the submitter: its keys ({@link secretsBuffer}) and operator control ({@link controlBuffer}). */
  submitterShared?: { secrets: SharedArrayBuffer; control: SharedArrayBuffer };
  /** The start gate capture sources wait on ({@link Engine.start} opens it once every stage is ready). */
  gate?: SharedArrayBuffer;
  /**
   * The decoder also offers every decoded transaction (before its early filter) to the
   * {@link TX_TAP_RING}, for the gateway's `txs` topic. A full tap ring drops (counted): a slow
   * consumer never holds the pipeline back.
   */
  txTap?: boolean;
}

/**
 * HTTP JSON-RPC URL of the node the simulator and scorer read state from: `explicit`, else the
 * first `rpc-ws` source's URL with `ws` → `http` (anvil, geth and reth serve both on one port).
 */
export function stateRpcUrl(config: EngineConfig, explicit: string | null): string | null {
  if (explicit !== null) return explicit;
  for (const s of config.ingest.sources) if (s.kind === 'rpc-ws') return s.url.replace(/^ws(s?):\/\//, 'http$1://');
  return null;
}

/**
 * The live pipeline: real ingest (node websockets, captures), decoder, simulator, scorer and
 * submitter. The simulator, scorer and submitter read the chain from a node ({@link stateRpcUrl}).
 * @throws TypeError naming `config.simulator.rpcUrl` when the full pipeline has no node to read.
 */
export function livePipeline(config: EngineConfig, opts: LivePipelineOptions = {}): PipelineSpec {
  const until = opts.until ?? 'submitter';
  const names = STAGES.slice(0, STAGES.indexOf(until) + 1);
  const rings = names.map((_, i) => (i === names.length - 1 ? RESULTS_RING : ['raw', 'decoded', 'simulated', 'scored'][i]!));
  const pass = new URL('./actors/synthetic/pass-through.worker.js', import.meta.url);
  const workers: Record<string, URL> = {
    ingest: new URL('./actors/ingest/ingest.worker.js', import.meta.url),
    decoder: new URL('./actors/decoder/decoder.worker.js', import.meta.url),
    simulator: new URL('./actors/simulator/simulator.worker.js', import.meta.url),
    scorer: new URL('./actors/scorer/scorer.worker.js', import.meta.url),
    submitter: new URL('./actors/submitter/submitter.worker.js', import.meta.url),
  };
  const chainId = opts.chainId ?? config.decoder.chainId;
  const txTap = opts.txTap === true && names.length > 2;
  const configs: Record<string, unknown> = {
    ingest: { ...config.ingest, chainId },
    decoder: { ...config.decoder, tap: txTap },
  };
  if (names.includes('submitter')) {
    const url = stateRpcUrl(config, config.submitter.rpcUrl ?? config.scorer.rpcUrl ?? config.simulator.rpcUrl);
    if (url === null) throw new TypeError('config.submitter.rpcUrl: the submitter reads nonces, blocks and receipts from a node; set it or add an rpc-ws ingest source');
    configs.submitter = { ...config.submitter, rpcUrl: url, chainId: config.submitter.chainId ?? chainId ?? 1, weth: config.scorer.weth.toLowerCase() };
  }
  if (names.includes('simulator')) {
    const simUrl = stateRpcUrl(config, config.simulator.rpcUrl);
    const scoreUrl = stateRpcUrl(config, config.scorer.rpcUrl);
    if (simUrl === null || scoreUrl === null) {
      throw new TypeError(`config.${simUrl === null ? 'simulator' : 'scorer'}.rpcUrl: the simulator and scorer read state from a node; set it or add an rpc-ws ingest source`);
    }
    const deterministic = config.deterministic;
    configs.simulator = { ...config.simulator, rpcUrl: simUrl, chainId: config.simulator.chainId ?? chainId ?? 1, deterministic };
    configs.scorer = { ...config.scorer, rpcUrl: scoreUrl, chainId: config.scorer.chainId ?? chainId ?? 1, deterministic };
  }
  const stages: StageSpec[] = names.map((name, i) => ({
    name,
    worker: workers[name] ?? pass,
    config: configs[name] ?? { workNs: 0, io: false, faults: [] },
    ...(i === 0 ? {} : { input: rings[i - 1] }),
    outputs: (name === 'decoder' && txTap ? { out: rings[i]!, tap: TX_TAP_RING } : { out: rings[i]! }) as Record<string, string>,
    ...(name === 'submitter' ? { shared: { ...(opts.submitterShared ?? { secrets: secretsBuffer({}), control: controlBuffer() }) } as Record<string, SharedArrayBuffer> } : {}),
    ...(name === 'ingest' && opts.gate ? { shared: { gate: opts.gate } as Record<string, SharedArrayBuffer> } : {}),
  }));
  const all = txTap ? [...rings, TX_TAP_RING] : rings;
  return { rings: Object.fromEntries(all.map((r) => [r, config.ring.capacityBytes])), stages };
}

/** 32 key bytes from 0x-hex; the error never quotes the key. */
function keyBytes(hex: string | null | undefined, what: string): Uint8Array | null {
  if (hex === undefined || hex === null || hex === '') return null;
  const s = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]{64}$/.test(s)) throw new TypeError(`${what} must be a 32-byte key as 64 hex digits (0x optional)`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Per-stage figures in {@link EngineStats}. */
export interface StageStats {
  status: string;
  restarts: number;
  deadLetters: number;
  records: number;
  batches: number;
  duplicates: number;
  /** Service time per record. */
  serviceUs: Percentiles;
  /** Time from enqueue on the input ring to dequeue. */
  queueWaitUs: Percentiles;
  /** The stage's input ring (null for a source). */
  ring: { depthBytes: number; capacityBytes: number; drops: number } | null;
  /** Records its outputs dropped (ring full at ingest, or too large). */
  outputDrops: number;
  counters: Record<string, number>;
  /** Stage-specific latency histograms (ingest lead time per source, decoder first-seen → decoded, …). */
  histogramsUs: Record<string, Percentiles>;
}

/** What {@link Engine.stats} returns. */
export interface EngineStats {
  uptimeSec: number;
  stages: Record<string, StageStats>;
  /** First-seen → taken off the results ring by the main thread. */
  endToEndUs: Percentiles;
  output: { records: number; duplicates: number; perSecond: number; handlerErrors: number };
}

/** Engine options beyond the config. */
export interface EngineOptions {
  /** Topology; defaults to {@link livePipeline} or {@link syntheticPipeline} as `config.pipeline` says. */
  pipeline?: PipelineSpec;
  logger?: Logger;
  /** Run synthetic stages in I/O mode (event loop between batches). */
  io?: boolean;
  /** Live pipeline: feed {@link Engine.onTx} from the decoder's tap (default: `config.gateway.enabled`). */
  txTap?: boolean;
  /**
   * The submitter's signing key (0x-hex, 32 bytes): with it (and `config.submitter.mode` `auto`) it
   * sends; without, it runs dry. Handed to the submitter's thread in shared memory, never in a config
   * slice; the CLI reads it from `ORION_PRIVATE_KEY`.
   */
  signerKey?: string | null;
  /** Key that signs relay requests (`X-Flashbots-Signature`); default a random one per run. */
  relayAuthKey?: string | null;
}

/**
 * Allocates the rings, starts the supervisor and its actors, and consumes the results ring on the
 * main thread with `Atomics.waitAsync`, so the event loop stays free for the gateway.
 */
export class Engine {
  readonly config: EngineConfig;
  readonly supervisor: Supervisor;
  private readonly log: Logger;
  private readonly e2e = createHistogram();
  private readonly handlers: ((msg: Message) => void)[] = [];
  private readonly envelopeHandlers: ((env: Readonly<Envelope>) => void)[] = [];
  private readonly txHandlers: ((msg: Message) => void)[] = [];
  private outRecords = 0;
  private outDuplicates = 0;
  private handlerErrors = 0;
  private startedAt = 0;
  private sinkDone: Promise<void> | null = null;
  private tapDone: Promise<void> | null = null;
  private closed = false;
  /** `Atomics.waitAsync` keeps no libuv handle alive; this timer keeps the process up while the engine runs. */
  private keepAlive: NodeJS.Timeout | null = null;

  constructor(config: EngineConfig = validateConfig(), opts: EngineOptions = {}) {
    this.config = config;
    this.log = opts.logger ?? createLogger('engine', config.log.level);
    this.control = controlBuffer();
    const submitterShared = { secrets: secretsBuffer({ signer: keyBytes(opts.signerKey, 'signerKey'), relayAuth: keyBytes(opts.relayAuthKey, 'relayAuthKey') }), control: this.control };
    const spec = opts.pipeline ?? (config.pipeline === 'synthetic' ? syntheticPipeline(config, { io: opts.io ?? false }) : livePipeline(config, { txTap: opts.txTap ?? config.gateway.enabled, submitterShared, gate: this.gate }));
    this.supervisor = new Supervisor(spec, config, this.log);
  }

  /** The submitter's operator control and published state ({@link readControl}, {@link requestControl}). */
  readonly control: SharedArrayBuffer;
  /** Opened by {@link start} once every stage is ready; capture sources deliver nothing before. */
  private readonly gate = new SharedArrayBuffer(4);

  /** Calls `handler` on the main thread for every record the last stage outputs, in order, once. */
  onOutput(handler: (msg: Message) => void): void {
    this.handlers.push(handler);
  }

  /**
   * Like {@link onOutput} with the envelope only (kind, seq, sub, first-seen and enqueue times):
   * the payload is not unpacked for it, and the object is reused, valid only during the call.
   */
  onEnvelope(handler: (env: Readonly<Envelope>) => void): void {
    this.envelopeHandlers.push(handler);
  }

  /**
   * Calls `handler` on the main thread for every transaction the decoder decoded (a `DecodedTx`
   * record, filtered or not), when the pipeline has the decoder's tap ({@link EngineOptions.txTap}).
   * Best effort: records the tap ring had no room for are dropped and counted, never waited for.
   */
  onTx(handler: (msg: Message) => void): void {
    this.txHandlers.push(handler);
  }

  /** Whether the pipeline has the decoder's tap that feeds {@link onTx}. */
  hasTxTap(): boolean {
    return this.supervisor.rings.has(TX_TAP_RING);
  }

  /** Records dropped at the decoder's tap ring (full). */
  txTapDrops(): number {
    return this.supervisor.rings.get(TX_TAP_RING)?.drops() ?? 0;
  }

  /** Starts every actor; resolves when all are READY. Rejects with a fatal OrionError on bootstrap failure. */
  async start(): Promise<void> {
    this.startedAt = performance.now();
    this.keepAlive = setInterval(() => {}, 1 << 30);
    this.sinkDone = this.consume(RESULTS_RING, true);
    this.sinkDone.catch(() => {});
    if (this.hasTxTap()) {
      this.tapDone = this.consume(TX_TAP_RING, false);
      this.tapDone.catch(() => {});
    }
    this.supervisor.failed().catch(() => this.release());
    try {
      await this.supervisor.start();
    } catch (err) {
      this.release();
      throw err;
    }
    const g = new Int32Array(this.gate);
    Atomics.store(g, 0, 1);
    Atomics.notify(g, 0);
  }

  /** Rejects with the fatal error if the engine fails (restart budget, fatal actor error). */
  failed(): Promise<never> {
    return this.supervisor.failed();
  }

  /** The fatal error, if any. */
  error(): OrionError | null {
    return this.supervisor.error();
  }

  /** Graceful stop: drains every stage in order, flushes outputs, and consumes the last records. */
  async stop(): Promise<void> {
    try {
      await this.supervisor.stop();
      await this.sinkDone;
      await this.tapDone;
    } finally {
      this.release();
    }
  }

  private release(): void {
    this.closed = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
  }

  /** Terminates everything without draining (for after a failure). */
  async kill(): Promise<void> {
    this.release();
    await this.supervisor.kill();
  }

  /** Consumes `name` on the main thread: the results ring (`main`) or the decoder's tap. */
  private async consume(name: string, main: boolean): Promise<void> {
    const ring: RingBuffer = this.supervisor.rings.get(name)!;
    const reader = new RecordReader(ring);
    let lastId = ring.lastCommittedId();
    const handlers = main ? this.handlers : this.txHandlers;
    const envelopeHandlers = main ? this.envelopeHandlers : [];
    // One reused envelope: the payload is unpacked only when an onOutput handler wants it, so a
    // consumer of envelopes alone (latency benchmarks, counters) allocates nothing per record.
    const raw: RawMessage = { kind: 0 as Kind, seq: 0, sub: 0, firstSeenNs: 0, enqueueNs: 0, bytes: new Uint8Array(0), start: 0, end: 0 };
    for (;;) {
      if (this.closed || this.supervisor.error()) return;
      // Its producer (the last stage) stopped and left nothing: every record has been consumed.
      // Checked before each wait too: the supervisor's wake-up when the producer stops is lost if
      // it comes while this loop is busy, and the wait below would then never end.
      if (this.supervisor.producerStopped(name) && !ring.readable()) return;
      // The supervisor wakes this ring when its producer stops or the engine fails; the timeout is a
      // backstop for a wake-up that came between the check above and the wait.
      if (!(await ring.waitForDataAsync(SINK_BACKSTOP_MS))) continue;
      reader.rewindRaw();
      let sliceStart = monoNs();
      while (reader.nextRaw(raw)) {
        const id = recordId(raw.seq, raw.sub);
        if (id <= lastId) {
          this.outDuplicates++;
          continue;
        }
        lastId = id;
        if (main) {
          recordNs(this.e2e, reader.lastDequeueNs - raw.firstSeenNs);
          this.outRecords++;
        }
        for (const h of envelopeHandlers) this.call(h, raw);
        if (handlers.length === 0) continue;
        const msg: Message = { kind: raw.kind, seq: raw.seq, sub: raw.sub, firstSeenNs: raw.firstSeenNs, enqueueNs: raw.enqueueNs, data: reader.decodeRaw(raw) };
        for (const h of handlers) this.call(h, msg);
        // While records keep coming, waitForDataAsync resolves in a microtask and the event loop
        // would never turn: the gateway's sockets (uWS sends what was published at the end of a
        // turn) and HTTP would wait for the whole backlog. Give the loop a turn every slice.
        if (monoNs() - sliceStart > SINK_SLICE_NS) {
          ring.commit(lastId);
          await new Promise<void>((res) => setImmediate(res));
          if (this.closed || this.supervisor.error()) return;
          reader.rewindRaw();
          sliceStart = monoNs();
        }
      }
      ring.commit(lastId);
    }
  }

  private call<T extends Envelope>(h: (m: T) => void, m: T): void {
    try {
      h(m);
    } catch (err) {
      // A consumer's bug must not stall the pipeline: count it, log the first, keep draining.
      if (this.handlerErrors++ === 0) this.log.error('output handler threw; continuing', { seq: m.seq, error: (err as Error)?.message ?? String(err) });
    }
  }

  /** Starts every latency histogram afresh, the engine's end-to-end one included (after a warm-up). */
  resetLatencyStats(): void {
    this.supervisor.resetLatencyStats();
    this.e2e.reset();
  }

  /** Per-stage p50/p90/p99/p99.9/max of service time and queue wait, ring depth, drops, restarts, dead letters. */
  stats(): EngineStats {
    const uptimeSec = this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
    const stages: Record<string, StageStats> = {};
    for (const s of this.supervisor.stageStats()) {
      const { name, ...rest } = s;
      stages[name] = rest;
    }
    return {
      uptimeSec: Math.round(uptimeSec * 1000) / 1000,
      stages,
      endToEndUs: percentilesUs(this.e2e),
      output: { records: this.outRecords, duplicates: this.outDuplicates, handlerErrors: this.handlerErrors, perSecond: uptimeSec > 0 ? Math.round(this.outRecords / uptimeSec) : 0 },
    };
  }
}
