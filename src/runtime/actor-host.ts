import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { RecordReader, RecordWriter } from '../messages/codec.js';
import { MAX_SUB, type Message, type RawMessage, recordId } from '../messages/envelope.js';
import { type Kind, SCHEMA_HASH } from '../messages/schema.js';
import type { Actor, ActorContext, ActorFactory, ActorReport, ActorWorkerData } from './actor.js';
import { monoNs } from './clock.js';
import {
  ActorState,
  BATCH_COUNT,
  BATCH_END,
  BATCH_START,
  ControlBlock,
  HEARTBEAT,
  NEXT_SEQ_F64,
  SEQ_EPOCH_F64,
  STATE,
  STOP,
  StopMode,
} from './control-block.js';
import { OrionError } from './errors.js';
import { type Logger, createLogger } from './log.js';
import { StageMetrics, recordNs } from './metrics.js';
import { RingBuffer, WriteStatus } from './ring/ring-buffer.js';
import { type WaitStrategy, createWaitStrategy } from './ring/wait-strategy.js';

function report(msg: ActorReport): void {
  parentPort!.postMessage(msg);
}

function errorReport(err: unknown, phase: 'bootstrap' | 'run'): ActorReport {
  if (err instanceof OrionError) return { t: 'error', phase, code: err.code, message: err.message, fatal: err.fatal };
  const e = err instanceof Error ? err : new Error(String(err));
  return { t: 'error', phase, code: phase === 'bootstrap' ? 'ORION_ERR_ACTOR_BOOTSTRAP' : 'ORION_ERR_ACTOR_CRASHED', message: `${e.name}: ${e.message}`, fatal: false };
}

/**
 * Worker entry for one actor: READY handshake, then the batch loop (or the source loop), heartbeat
 * and stop flag in shared memory, metrics snapshots to the supervisor. A worker file is three lines:
 * `hostActor((ctx) => new MyActor(ctx))`.
 */
export function hostActor<C>(factory: ActorFactory<C>): void {
  if (isMainThread || !parentPort) throw new Error('hostActor runs inside a worker thread started by the supervisor');
  const data = workerData as ActorWorkerData;
  const die = (err: unknown) =>
    setImmediate(() => {
      throw err;
    });
  let host: ActorHost<C>;
  try {
    host = new ActorHost<C>(data, factory);
  } catch (err) {
    report(errorReport(err, 'bootstrap'));
    die(err);
    return;
  }
  host.run().catch((err: unknown) => {
    // Reported once with its code and fatality (bootstrap errors were reported by run()), then
    // rethrown so the thread dies and the supervisor reacts.
    if (!reported.has(err as object)) report(errorReport(err, 'run'));
    die(err);
  });
}

const NO_BYTES = new Uint8Array(0);

/** Errors already reported to the supervisor, so a bootstrap failure is not reported twice. */
const reported = new WeakSet<object>();

class ActorHost<C> {
  private readonly control: ControlBlock;
  private readonly ctl: Int32Array;
  private readonly metrics = new StageMetrics();
  private readonly log: Logger;
  private readonly strategy: WaitStrategy;
  private readonly writers = new Map<string, RecordWriter>();
  private readonly input: RingBuffer | null;
  private readonly reader: RecordReader | null;
  private actor!: Actor;
  private heartbeat = 0;
  private nextMetricsNs = 0;

  constructor(
    private readonly data: ActorWorkerData,
    private readonly factory: ActorFactory<C>,
  ) {
    this.control = new ControlBlock(data.control);
    this.log = createLogger(data.name, data.runtime.logLevel);
    this.ctl = this.control.i32;
    this.strategy = createWaitStrategy(data.runtime.wait.strategy, data.runtime.wait.spinMicros);
    this.input = data.input ? new RingBuffer(data.input) : null;
    this.reader = this.input ? new RecordReader(this.input) : null;
    for (const [port, sab] of Object.entries(data.outputs)) this.writers.set(port, new RecordWriter(new RingBuffer(sab)));
  }

  private beat(): void {
    this.heartbeat = (this.heartbeat + 1) | 0;
    Atomics.store(this.ctl, HEARTBEAT, this.heartbeat); // release: only liveness, any order is fine
  }

  async run(): Promise<void> {
    try {
      if (this.data.schemaHash !== SCHEMA_HASH) {
        throw new OrionError('ORION_ERR_SCHEMA_MISMATCH', `actor ${this.data.name} was built with another message schema`, {
          details: `supervisor ${String(this.data.schemaHash).slice(0, 12)}…, this thread ${SCHEMA_HASH.slice(0, 12)}…`,
          fatal: true,
        });
      }
      this.actor = await this.factory(this.context());
      await this.actor.onStart?.();
    } catch (err) {
      report(errorReport(err, 'bootstrap'));
      if (err !== null && typeof err === 'object') reported.add(err);
      throw err;
    }
    Atomics.store(this.ctl, STATE, ActorState.READY); // release: observers may now trust the heartbeat
    report({ t: 'ready' });
    this.nextMetricsNs = monoNs() + this.data.runtime.metricsIntervalMs * 1e6;
    // Atomics.waitAsync holds no libuv handle: without this timer an I/O actor's thread would end
    // as soon as its event loop ran dry between records.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      if (this.input) await this.consumeLoop(this.input);
      else if (this.actor.poll) await this.sourceLoop();
      else throw new OrionError('ORION_ERR_ACTOR_BOOTSTRAP', `actor ${this.data.name} has no input ring and no poll(): nothing would drive it`, { fatal: true });
    } finally {
      clearInterval(keepAlive);
    }
    await this.actor.onStop?.();
    await this.settleAll();
    Atomics.store(this.ctl, STATE, ActorState.STOPPED); // release: the supervisor may now mark downstream's upstream as done
    report({ t: 'stopped', snapshot: this.metrics.snapshot() });
  }

  private context(): ActorContext<C> {
    const d = this.data;
    const f64 = this.control.f64;
    return {
      name: d.name,
      config: d.config as C,
      runtime: d.runtime,
      metrics: this.metrics,
      log: this.log,
      shared: d.shared,
      restarts: d.restarts,
      emit: (port, kind, seq, sub, firstSeenNs, payload) => this.emit(port, kind, seq, sub, firstSeenNs, payload),
      offer: (port, kind, seq, sub, firstSeenNs, payload) => this.offer(port, kind, seq, sub, firstSeenNs, payload),
      forward: (port, msg) => this.forward(port, msg),
      decode: (msg) => {
        if (!this.reader) throw new OrionError('ORION_ERR_CONFIG', `actor ${d.name} has no input ring to decode from`, { fatal: true });
        return this.reader.decodeRaw(msg);
      },
      nextSeq: () => {
        const s = f64[NEXT_SEQ_F64]!;
        f64[NEXT_SEQ_F64] = s + 1; // plain: only this thread writes it; read by the supervisor after we died
        return s;
      },
      peekSeq: () => f64[NEXT_SEQ_F64]!,
      seqEpochNs: (set?: number) => {
        if (set !== undefined) f64[SEQ_EPOCH_F64] = set;
        return f64[SEQ_EPOCH_F64]!;
      },
      stopRequested: () => this.control.stopMode() !== StopMode.NONE,
    };
  }

  private writer(port: string): RecordWriter {
    const w = this.writers.get(port);
    if (!w) throw new OrionError('ORION_ERR_CONFIG', `actor ${this.data.name} has no output port "${port}" (ports: ${[...this.writers.keys()].join(', ') || 'none'})`, { fatal: true });
    return w;
  }

  private checkSub(sub: number): void {
    // A larger sub would collide with the next seq's ids and be dropped downstream as a duplicate.
    if (!(sub >= 0 && sub < MAX_SUB)) throw new OrionError('ORION_ERR_CONFIG', `actor ${this.data.name} emitted sub ${sub}; sub must be an integer in [0, ${MAX_SUB})`, { fatal: true });
  }

  private emit(port: string, kind: Kind, seq: number, sub: number, firstSeenNs: number, payload: unknown): void {
    if (sub !== 0) this.checkSub(sub);
    const w = this.writer(port);
    this.finishWrite(port, w, w.write(kind, seq, sub, firstSeenNs, payload), seq);
  }

  private forward(port: string, m: RawMessage): void {
    if (m.sub !== 0) this.checkSub(m.sub);
    const w = this.writer(port);
    this.finishWrite(port, w, w.writeEncoded(m.kind, m.seq, m.sub, m.firstSeenNs, m.bytes, m.start, m.end), m.seq);
  }

  /** Finishes a write that must not be dropped: waits out FULL, reports TOO_LARGE. */
  private finishWrite(port: string, w: RecordWriter, first: WriteStatus, seq: number): void {
    let status = first;
    while (status === WriteStatus.FULL) {
      // Backpressure: the consumer is slow or restarting; keep beating so we are not taken for hung.
      this.beat();
      if (this.control.stopMode() === StopMode.NOW) throw new OrionError('ORION_ERR_STOPPED', `actor ${this.data.name} stopped while its output "${port}" was full`);
      w.ring.waitForSpace(w.lastRecordBytes(), this.strategy, this.data.runtime.heartbeatIntervalMs);
      status = w.retry();
    }
    if (status === WriteStatus.TOO_LARGE) this.tooLarge(port, w, seq);
  }

  private offer(port: string, kind: Kind, seq: number, sub: number, firstSeenNs: number, payload: unknown): WriteStatus {
    if (sub !== 0) this.checkSub(sub);
    const w = this.writer(port);
    const status = w.write(kind, seq, sub, firstSeenNs, payload);
    if (status === WriteStatus.FULL) {
      w.ring.countDrop();
      this.metrics.count(`dropped.full.${port}`);
    } else if (status === WriteStatus.TOO_LARGE) this.tooLarge(port, w, seq);
    return status;
  }

  private tooLarge(port: string, w: RecordWriter, seq: number): void {
    w.ring.countDrop();
    this.metrics.count(`dropped.tooLarge.${port}`);
    if (this.metrics.counters[`dropped.tooLarge.${port}`] === 1) {
      this.log.warn('record larger than the ring allows was dropped', {
        port,
        seq,
        bytes: w.lastRecordBytes(),
        maxBytes: w.ring.maxRecordBytes,
      });
    }
  }

  private maybeShipMetrics(now: number): void {
    const gen = this.control.metricsGen();
    if (gen !== this.metrics.gen) {
      // The supervisor reset latency stats: start afresh and say so at once.
      this.metrics.resetHistograms(gen);
      this.nextMetricsNs = 0;
    }
    if (now < this.nextMetricsNs) return;
    this.nextMetricsNs = now + this.data.runtime.metricsIntervalMs * 1e6;
    report({ t: 'metrics', snapshot: this.metrics.snapshot() });
  }

  /** Waits for input without blocking the event loop (I/O actors). */
  private async waitAsync(ring: RingBuffer): Promise<boolean> {
    if (ring.waitForData(this.strategy, 0)) return true; // spin only: a zero timeout never sleeps
    return ring.waitForDataAsync(this.data.runtime.heartbeatIntervalMs);
  }

  /** Message objects {@link RecordReader.nextRaw} fills, reused batch after batch; never replaced. */
  private readonly rawPool: RawMessage[] = [];
  /** For each batch size n, an array of the first n pooled messages: a raw batch allocates nothing. */
  private readonly rawBatches: RawMessage[][] = [];

  private rawSlot(i: number): RawMessage {
    return (this.rawPool[i] ??= { kind: 0 as Kind, seq: 0, sub: 0, firstSeenNs: 0, enqueueNs: 0, bytes: NO_BYTES, start: 0, end: 0 });
  }

  private async consumeLoop(input: RingBuffer): Promise<void> {
    const reader = this.reader!;
    const raw = this.actor.onRawBatch !== undefined;
    // Decoded messages of the batch being read; handed over as an exact-length copy, then cleared
    // so the next batch does not keep them alive.
    const pending: (Message | null)[] = [];
    const rt = this.data.runtime;
    const actor = this.actor;
    const m = this.metrics;
    let lastId = input.lastCommittedId();
    let careful = this.data.carefulUntil >= 0;
    const carefulUntil = this.data.carefulUntil >>> 0;
    for (;;) {
      this.beat();
      if (this.settleError !== null) throw this.settleError;
      this.checkCrashRequest();
      const stop = this.control.stopMode();
      if (stop === StopMode.NOW) return;
      const hasData = actor.io ? await this.waitAsync(input) : input.waitForData(this.strategy, rt.heartbeatIntervalMs);
      if (!hasData) {
        if (stop === StopMode.DRAIN && this.control.upstreamDone() && !input.readable()) return;
        this.maybeShipMetrics(monoNs());
        continue;
      }
      if (careful && ((input.readIndex() - carefulUntil) | 0) >= 0) careful = false;
      const max = careful ? 1 : rt.batchMaxRecords;
      const start = input.readIndex();
      let taken = 0;
      let n = 0;
      if (raw) reader.rewindRaw();
      while (taken < max) {
        let msg: Message | RawMessage | null;
        if (raw) msg = reader.nextRaw(this.rawSlot(n)) ? this.rawPool[n]! : null;
        else msg = pending[n] = reader.next();
        if (msg === null) break;
        taken++;
        const id = recordId(msg.seq, msg.sub);
        if (id <= lastId) {
          m.duplicates++;
          continue;
        }
        lastId = id;
        recordNs(m.queueWait, reader.lastDequeueNs - msg.enqueueNs);
        n++;
      }
      if (!raw) pending[n] = null; // a duplicate read last is not kept alive
      // Where the batch lies, so the supervisor can isolate a record that kills us.
      Atomics.store(this.ctl, BATCH_START, start | 0); // release: read by the supervisor only after our death
      Atomics.store(this.ctl, BATCH_END, input.readIndex() | 0);
      Atomics.store(this.ctl, BATCH_COUNT, taken);
      if (n > 0) {
        const t0 = monoNs();
        let r: void | Promise<void>;
        if (raw) r = actor.onRawBatch!((this.rawBatches[n] ??= this.rawPool.slice(0, n)), !input.readable());
        else {
          const batch = pending.slice(0, n) as Message[];
          pending.fill(null, 0, n);
          r = actor.onBatch!(batch, !input.readable());
        }
        if (r !== undefined) await r;
        const t1 = monoNs();
        recordNs(m.service, (t1 - t0) / n, n);
        m.records += n;
        m.batches++;
        this.maybeShipMetrics(t1);
      }
      const settled = actor.settled?.() ?? null;
      if (settled === null && this.unsettled.length === 0) input.commit(lastId);
      else this.deferCommit(input, lastId, settled);
      Atomics.store(this.ctl, BATCH_COUNT, 0); // the batch is handled: a death now is not its fault
    }
  }

  /** Batches read but not yet committed because their outputs are still being produced, oldest first. */
  private readonly unsettled: { index: number; id: number; done: boolean; wait: Promise<void> | null }[] = [];
  private settleError: unknown = null;

  /** Queues the batch just read for commit once it and every earlier batch have settled. */
  private deferCommit(input: RingBuffer, lastId: number, settled: Promise<void> | null): void {
    const entry = { index: input.readIndex(), id: lastId, done: settled === null, wait: null as Promise<void> | null };
    if (settled !== null) {
      entry.wait = settled.then(
        () => {
          entry.done = true;
          this.flushCommits(input);
        },
        (err: unknown) => {
          // Not committed: the thread dies (next loop turn) and the batch is redelivered.
          this.settleError ??= err;
        },
      );
    }
    this.unsettled.push(entry);
    this.flushCommits(input);
  }

  private flushCommits(input: RingBuffer): void {
    let last: { index: number; id: number } | null = null;
    while (this.unsettled.length > 0 && this.unsettled[0]!.done) last = this.unsettled.shift()!;
    if (last !== null) input.commitAt(last.index, last.id);
  }

  /** Waits for every unsettled batch and commits it (graceful stop). */
  private async settleAll(): Promise<void> {
    while (this.unsettled.length > 0) {
      const pending = this.unsettled.map((e) => e.wait).filter((w): w is Promise<void> => w !== null);
      await Promise.all(pending);
      if (this.settleError !== null) throw this.settleError;
      if (this.input) this.flushCommits(this.input);
      if (pending.length === 0) break;
    }
  }

  /** Dies as a crash when the supervisor asked (restart on request): between batches, at a loop turn. */
  private checkCrashRequest(): void {
    if (this.control.takeCrashRequest()) throw new OrionError('ORION_ERR_ACTOR_CRASHED', `actor ${this.data.name} restarted on request`);
  }

  private async sourceLoop(): Promise<void> {
    const actor = this.actor;
    const hb = this.data.runtime.heartbeatIntervalMs;
    for (;;) {
      this.beat();
      this.checkCrashRequest();
      if (this.control.stopMode() !== StopMode.NONE) return;
      const r = actor.poll!();
      const waitMs = typeof r === 'number' ? r : await r;
      const now = monoNs();
      this.maybeShipMetrics(now);
      if (waitMs < 0) {
        // Finished: stay alive (idle) until told to stop, so the engine decides when the run ends.
        Atomics.wait(this.ctl, STOP, StopMode.NONE, hb); // wakes at once on requestStop's notify
        continue;
      }
      if (waitMs > 0) {
        if (actor.io) await new Promise((res) => setTimeout(res, Math.min(waitMs, hb)));
        else Atomics.wait(this.ctl, STOP, StopMode.NONE, Math.min(waitMs, hb)); // sleep on the schedule; a stop request wakes us
      }
    }
  }
}
