import { type BlockEvent, Kind, type RawTx, type RpcTransaction } from '../../messages/schema.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { monoNs } from '../../runtime/clock.js';
import { recordNs } from '../../runtime/metrics.js';
import { WriteStatus } from '../../runtime/ring/ring-buffer.js';
import { HashWindow } from './hash-window.js';
import { CaptureWriter } from '../../replay/capture/capture-writer.js';
import { createSource } from './sources/create-source.js';
import type { Source, SourceSink, SourceStatusEvent } from './sources/source.js';
import type { IngestConfig } from './ingest-config.js';

/** First sighting of a transaction or block: which source, and when. */
interface Sighting {
  source: number;
  seenNs: number;
}

/**
 * The ingest stage: drives every configured source (node websockets, capture files) on this
 * thread's event loop, merges what they deliver, and writes each new transaction and head to the
 * decoder's ring.
 *
 * - Merge: a transaction or block is emitted once, when the first source delivers it; later
 *   sightings by other sources only feed per-source coverage and lag metrics.
 * - Never blocks: a full ring drops the transaction (counted on the ring and as `dropped.full.out`)
 *   rather than stall the sockets; block events wait for space, since every later stage needs them.
 * - Records what the sources deliver (before the merge, so a replay reproduces the merge) when
 *   `record` is configured.
 */
export class Ingest implements Actor {
  readonly io = true;
  private readonly txs: HashWindow<Sighting>;
  private readonly blocks = new HashWindow<Sighting>(1024);
  private readonly sources: Source[] = [];
  private readonly names: string[];
  /** Counter names per source, built once: `source.<name>.txs|first|blocks`. */
  private readonly keys: { txs: string; first: string; blocks: string }[];
  private readonly frameToRing;
  private readonly lag: ReturnType<ActorContext['metrics']['histogram']>[];
  private recorder: CaptureWriter | null = null;
  /** Per source: wait for ring space instead of shedding (captures must replay without loss). */
  private readonly lossless: boolean[] = [];
  private finished = 0;

  constructor(private readonly ctx: ActorContext<IngestConfig>) {
    this.txs = new HashWindow<Sighting>(ctx.config.dedupeWindow);
    this.names = ctx.config.sources.map((s) => s.name);
    this.keys = this.names.map((n) => ({ txs: `source.${n}.txs`, first: `source.${n}.first`, blocks: `source.${n}.blocks` }));
    this.frameToRing = ctx.metrics.histogram('frameToRing');
    this.lag = this.names.map((n) => ctx.metrics.histogram(`lag.${n}`));
  }

  onStart(): void {
    const c = this.ctx.config;
    if (c.record) {
      // A restarted ingest starts a new capture beside the old one: a capture is never appended to.
      const prefix = this.ctx.restarts === 0 ? 'capture' : `capture-restart${this.ctx.restarts}`;
      this.recorder = new CaptureWriter(c.record.dir, {
        chainId: c.chainId ?? 0,
        sources: c.sources.map((s, id) => ({ id, name: s.name, url: s.kind === 'rpc-ws' ? s.url : `capture:${s.path}` })),
        segmentBytes: c.record.segmentBytes,
        retainBytes: c.record.retainBytes,
        segmentMs: c.record.segmentMs ?? 0,
        retainMs: c.record.retainMs ?? 0,
        prefix,
      });
    }
    const sink: SourceSink = {
      tx: (source, seenNs, hash, raw, rpc) => this.onTx(source, seenNs, hash, raw, rpc),
      block: (source, seenNs, block) => this.onBlock(source, seenNs, block),
      status: (source, event) => this.onStatus(source, event),
    };
    c.sources.forEach((cfg, i) => {
      const source = createSource(i, cfg, sink, () => this.finished++, this.ctx.shared.gate);
      this.sources.push(source);
      this.lossless.push(source.lossless === true);
      source.start();
    });
    this.ctx.log.info('ingest started', { sources: c.sources.map((s) => `${s.name} (${s.kind})`).join(', '), recording: c.record?.dir ?? 'off' });
  }

  /** Sources push from socket handlers; poll only says how long to idle (and -1 once every source ended). */
  poll(): number {
    if (this.sources.length > 0 && this.finished === this.sources.length) return -1;
    this.recorder?.maybeFlush();
    return this.ctx.runtime.heartbeatIntervalMs;
  }

  private onTx(source: number, seenNs: number, hash: string, raw: Uint8Array | null, rpc: RpcTransaction | null): void {
    const m = this.ctx.metrics;
    const keys = this.keys[source]!;
    m.count(keys.txs);
    this.recorder?.writeTx(seenNs, source, { raw, rpc, hash });
    const first = this.txs.get(hash);
    if (first !== undefined) {
      // Another source got here first: how far behind it this source was is the lag metric.
      m.duplicates++;
      if (first.source !== source) recordNs(this.lag[source]!, Math.max(1, seenNs - first.seenNs));
      return;
    }
    this.txs.add(hash, { source, seenNs });
    m.count(keys.first);
    m.count('unique.txs');
    const msg: RawTx = { source, raw, rpc, hash };
    if (this.lossless[source]) {
      this.ctx.emit('out', Kind.RawTx, this.ctx.nextSeq(), 0, seenNs, msg);
      m.records++;
      return;
    }
    const seq = this.ctx.peekSeq();
    const status = this.ctx.offer('out', Kind.RawTx, seq, 0, seenNs, msg);
    // A dropped record gives its sequence number back, so ids stay dense for the next stage.
    if (status === WriteStatus.WRITTEN) {
      this.ctx.nextSeq();
      m.records++;
      recordNs(this.frameToRing, monoNs() - seenNs);
    }
  }

  private onBlock(source: number, seenNs: number, block: BlockEvent): void {
    const m = this.ctx.metrics;
    m.count(this.keys[source]!.blocks);
    this.recorder?.writeBlock(seenNs, source, block);
    if (this.blocks.get(block.hash) !== undefined) return;
    this.blocks.add(block.hash, { source, seenNs });
    m.count('unique.blocks');
    // Every later stage keys its state on heads: wait for space rather than drop one.
    this.ctx.emit('out', Kind.BlockEvent, this.ctx.nextSeq(), 0, seenNs, block);
    m.records++;
  }

  private onStatus(source: number, event: SourceStatusEvent): void {
    const name = this.names[source] ?? String(source);
    const { log, metrics } = this.ctx;
    metrics.count(`source.${name}.${event.type}`);
    const fields = { source: name, ...event };
    if (event.type === 'error' || event.type === 'bad-frame' || event.type === 'disconnected') log.warn(`source ${name}: ${event.type}`, fields);
    else log.info(`source ${name}: ${event.type}`, fields);
  }

  async onStop(): Promise<void> {
    await Promise.allSettled(this.sources.map((s) => s.stop()));
    for (const s of this.sources) this.ctx.log.info(`source ${s.name} stopped`, { ...s.stats() });
    this.recorder?.close();
  }
}
