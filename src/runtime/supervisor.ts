import { EventEmitter } from 'node:events';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { peekEnvelope } from '../messages/codec.js';
import { KIND_NAMES, SCHEMA_HASH } from '../messages/schema.js';
import type { ActorReport, ActorWorkerData, RuntimeSlice } from './actor.js';
import type { EngineConfig } from './config.js';
import { deepFreeze } from './config.js';
import { ActorState, ControlBlock, STATE, StopMode, UPSTREAM_DONE } from './control-block.js';
import { OrionError } from './errors.js';
import type { Logger } from './log.js';
import { StageMetricsView } from './metrics.js';
import { EMPTY, RingBuffer } from './ring/ring-buffer.js';

/** One actor of a pipeline: its worker entry, config slice and ring wiring. */
export interface StageSpec {
  name: string;
  /** Worker entry module (a `hostActor(...)` file). */
  worker: URL;
  /** The actor's config slice; frozen before it is handed over. */
  config: unknown;
  /** Ring it consumes; none for a source. */
  input?: string;
  /** Output port → ring it produces into. */
  outputs: Record<string, string>;
  /** Extra shared memory for the actor. */
  shared?: Record<string, SharedArrayBuffer>;
}

/** Rings (name → capacity in bytes) and stages in topological order (producers first). */
export interface PipelineSpec {
  rings: Record<string, number>;
  stages: StageSpec[];
}

/** Lifecycle of one actor slot, as `/health` and `stats()` report it. */
export type ActorStatus = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

interface Slot {
  spec: StageSpec;
  control: ControlBlock;
  worker: Worker | null;
  status: ActorStatus;
  ready: boolean;
  restarts: number;
  restartTimes: number[];
  consecutiveCrashes: number;
  readyAt: number;
  lastError: (ActorReport & { t: 'error' }) | null;
  poisonPos: number;
  poisonDeaths: number;
  carefulUntil: number;
  deadLetters: number;
  lastBeat: number;
  lastBeatChangeAt: number;
  hung: boolean;
  metrics: StageMetricsView;
  onReady: (() => void) | null;
  onStopped: (() => void) | null;
  restartTimer: NodeJS.Timeout | null;
}

/** Events: `crash` {stage, reason, at}, `restart` {stage, restarts, delayMs}, `ready` {stage, at}, `dead-letter` {stage, seq}, `fatal` (OrionError). */
/** How long {@link Supervisor.kill} lets a thread leave on its own before terminating it. */
const KILL_GRACE_MS = 250;

export class Supervisor extends EventEmitter {
  readonly rings = new Map<string, RingBuffer>();
  private readonly slots = new Map<string, Slot>();
  /** Ring name → stage producing into it. */
  private readonly producerOf = new Map<string, string>();
  private readonly runtime: RuntimeSlice;
  private watchdog: NodeJS.Timeout | null = null;
  private fatal: OrionError | null = null;
  private stopping = false;
  private readonly failure: Promise<never>;
  private rejectFailure!: (err: OrionError) => void;

  constructor(
    spec: PipelineSpec,
    private readonly config: EngineConfig,
    private readonly log: Logger,
  ) {
    super();
    this.failure = new Promise<never>((_res, rej) => (this.rejectFailure = rej));
    this.failure.catch(() => {}); // observed through failed()/start()/stop()
    this.runtime = deepFreeze({
      wait: config.wait,
      batchMaxRecords: config.batchMaxRecords,
      heartbeatIntervalMs: config.supervisor.heartbeatIntervalMs,
      metricsIntervalMs: config.supervisor.metricsIntervalMs,
      logLevel: config.log.level,
    });
    for (const [name, capacity] of Object.entries(spec.rings)) this.rings.set(name, RingBuffer.create(capacity));
    for (const s of spec.stages) {
      if (s.input && !this.rings.has(s.input)) throw new TypeError(`stage ${s.name}: input ring "${s.input}" is not declared`);
      for (const [port, ring] of Object.entries(s.outputs)) {
        if (!this.rings.has(ring)) throw new TypeError(`stage ${s.name}: output ${port} → ring "${ring}" is not declared`);
        if (this.producerOf.has(ring)) throw new TypeError(`ring "${ring}" has two producers (${this.producerOf.get(ring)} and ${s.name}); rings are single-producer`);
        this.producerOf.set(ring, s.name);
      }
      deepFreeze(s.config);
      this.slots.set(s.name, {
        spec: s,
        control: new ControlBlock(),
        worker: null,
        status: 'starting',
        ready: false,
        restarts: 0,
        restartTimes: [],
        consecutiveCrashes: 0,
        readyAt: 0,
        lastError: null,
        poisonPos: -1,
        poisonDeaths: 0,
        carefulUntil: -1,
        deadLetters: 0,
        lastBeat: 0,
        lastBeatChangeAt: 0,
        hung: false,
        metrics: new StageMetricsView(),
        onReady: null,
        onStopped: null,
        restartTimer: null,
      });
    }
  }

  /** Starts every actor and resolves once all are READY; rejects (and stops everything) if one fails its bootstrap. */
  async start(): Promise<void> {
    const ready = [...this.slots.values()].map(
      (slot) =>
        new Promise<void>((res) => {
          slot.onReady = res;
          this.spawn(slot);
        }),
    );
    await Promise.race([Promise.all(ready), this.failure]);
    const interval = Math.max(10, Math.min(250, this.config.supervisor.hangTimeoutMs / 4));
    this.watchdog = setInterval(() => this.checkHeartbeats(), interval);
    this.watchdog.unref();
  }

  /** Rejects with the fatal error once the engine has failed. */
  failed(): Promise<never> {
    return this.failure;
  }

  /** The fatal error, if the engine failed. */
  error(): OrionError | null {
    return this.fatal;
  }

  private spawn(slot: Slot): void {
    if (this.fatal) return;
    const s = slot.spec;
    const data: ActorWorkerData = {
      name: s.name,
      schemaHash: SCHEMA_HASH,
      config: s.config,
      runtime: this.runtime,
      control: slot.control.sab,
      input: s.input ? this.rings.get(s.input)!.sab : null,
      outputs: Object.fromEntries(Object.entries(s.outputs).map(([port, ring]) => [port, this.rings.get(ring)!.sab])),
      shared: s.shared ?? {},
      restarts: slot.restarts,
      carefulUntil: slot.carefulUntil,
    };
    Atomics.store(slot.control.i32, STATE, ActorState.STARTING); // before the thread exists; it sets READY itself
    slot.ready = false;
    slot.hung = false;
    slot.lastError = null;
    slot.status = slot.restarts === 0 ? 'starting' : 'restarting';
    const worker = new Worker(s.worker, { workerData: data, name: `orion:${s.name}` });
    slot.worker = worker;
    const bootTimer = setTimeout(() => {
      if (!slot.ready && slot.worker === worker) {
        this.fail(new OrionError('ORION_ERR_ACTOR_BOOTSTRAP', `actor ${s.name} was not READY within ${this.config.supervisor.bootstrapTimeoutMs} ms`, { fatal: true }));
      }
    }, this.config.supervisor.bootstrapTimeoutMs);
    bootTimer.unref();
    worker.on('message', (msg: ActorReport) => this.onReport(slot, worker, msg));
    worker.on('error', (err) => {
      if (slot.worker !== worker) return;
      if (!slot.lastError) slot.lastError = { t: 'error', phase: slot.ready ? 'run' : 'bootstrap', code: 'ORION_ERR_ACTOR_CRASHED', message: `${err.name}: ${err.message}`, fatal: false };
    });
    worker.on('exit', (code) => {
      clearTimeout(bootTimer);
      if (slot.worker === worker) this.onExit(slot, code);
    });
  }

  private onReport(slot: Slot, worker: Worker, msg: ActorReport): void {
    if (slot.worker !== worker) return;
    switch (msg.t) {
      case 'ready':
        slot.ready = true;
        slot.readyAt = performance.now();
        slot.lastBeatChangeAt = slot.readyAt;
        slot.status = this.stopping ? 'stopping' : 'running';
        this.emit('ready', { stage: slot.spec.name, at: slot.readyAt });
        slot.onReady?.();
        slot.onReady = null;
        break;
      case 'metrics':
        slot.metrics.update(msg.snapshot);
        break;
      case 'error':
        slot.lastError = msg;
        break;
      case 'stopped':
        slot.metrics.update(msg.snapshot);
        break;
    }
  }

  private onExit(slot: Slot, code: number): void {
    const name = slot.spec.name;
    slot.worker = null;
    slot.metrics.endIncarnation();
    if (Atomics.load(slot.control.i32, STATE) === ActorState.STOPPED || slot.control.stopMode() === StopMode.NOW) {
      slot.status = 'stopped';
      slot.onStopped?.();
      slot.onStopped = null;
      return;
    }
    if (this.fatal) {
      slot.status = 'failed';
      return;
    }
    const err = slot.lastError;
    if (!slot.ready) {
      slot.status = 'failed';
      this.fail(
        new OrionError('ORION_ERR_ACTOR_BOOTSTRAP', `actor ${name} failed during bootstrap (exit code ${code}); not restarting it`, {
          details: err ? `${err.code}: ${err.message}` : undefined,
          fatal: true,
        }),
      );
      return;
    }
    if (err?.fatal) {
      slot.status = 'failed';
      this.fail(new OrionError('ORION_ERR_ACTOR_CRASHED', `actor ${name} hit a fatal error`, { details: `${err.code}: ${err.message}`, fatal: true }));
      return;
    }
    const reason = slot.hung ? 'hung' : err ? err.message : `exit code ${code}`;
    const now = performance.now();
    this.emit('crash', { stage: name, reason, at: now });
    this.log.warn('actor died; restarting it', { stage: name, reason, restarts: slot.restarts + 1 });
    this.attributeCrash(slot);
    if (this.fatal) return;

    // Restart budget: more than `restartBudget` restarts within the window stops the engine.
    const sup = this.config.supervisor;
    slot.restartTimes = slot.restartTimes.filter((t) => now - t < sup.restartWindowMs);
    slot.restartTimes.push(now);
    if (slot.restartTimes.length > sup.restartBudget) {
      slot.status = 'failed';
      this.fail(
        new OrionError('ORION_ERR_RESTART_BUDGET', `actor ${name} exceeded its restart budget (${sup.restartBudget} restarts in ${sup.restartWindowMs} ms)`, {
          details: `last failure: ${reason}`,
          fatal: true,
        }),
      );
      return;
    }
    // Exponential backoff over consecutive crashes; a long enough healthy run counts as recovered.
    slot.consecutiveCrashes = now - slot.readyAt > sup.restartBackoffResetMs ? 1 : slot.consecutiveCrashes + 1;
    const delayMs = Math.min(sup.restartBackoffInitialMs * 2 ** (slot.consecutiveCrashes - 1), sup.restartBackoffMaxMs);
    slot.restarts++;
    slot.status = 'restarting';
    this.emit('restart', { stage: name, restarts: slot.restarts, delayMs });
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      this.spawn(slot);
    }, delayMs);
  }

  /**
   * Works out which input record killed the actor. A death in a batch of several records makes the
   * next incarnation take that range one record per batch; a death on a single record counts
   * against it, and at `poisonThreshold` deaths the record is dead-lettered and skipped.
   */
  private attributeCrash(slot: Slot): void {
    const input = slot.spec.input;
    if (!input) return;
    const batch = slot.control.batch();
    if (batch.count > 1) {
      slot.carefulUntil = batch.end;
      return;
    }
    if (batch.count !== 1) return;
    if (slot.poisonPos === batch.start) slot.poisonDeaths++;
    else {
      slot.poisonPos = batch.start;
      slot.poisonDeaths = 1;
    }
    if (slot.poisonDeaths >= this.config.supervisor.poisonThreshold) {
      this.deadLetter(slot, this.rings.get(input)!, batch.start);
      slot.poisonPos = -1;
      slot.poisonDeaths = 0;
    }
  }

  private deadLetter(slot: Slot, ring: RingBuffer, pos: number): void {
    // The consumer is dead, so this thread may act as the ring's consumer for one record.
    const view = new RingBuffer(ring.sab);
    if (view.committedIndex() !== pos) {
      this.log.error('poison record is no longer at the read index; not dead-lettering', { stage: slot.spec.name, pos, readIndex: view.committedIndex() });
      return;
    }
    const buf = new Uint8Array(view.maxRecordBytes);
    const len = view.readInto(buf);
    if (len === EMPTY) return;
    const bytes = buf.subarray(0, len);
    const env = peekEnvelope(bytes);
    const path = this.config.supervisor.deadLetterPath;
    const entry = {
      time: new Date().toISOString(),
      stage: slot.spec.name,
      kind: env ? (KIND_NAMES[env.kind] ?? env.kind) : null,
      seq: env?.seq ?? null,
      sub: env?.sub ?? null,
      deaths: slot.poisonDeaths,
      error: slot.lastError ? `${slot.lastError.code}: ${slot.lastError.message}` : slot.hung ? 'hung' : 'exited',
      record: Buffer.from(bytes).toString('base64'),
    };
    try {
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, `${JSON.stringify(entry)}\n`);
    } catch (cause) {
      this.fail(new OrionError('ORION_ERR_CONFIG', `cannot write the dead-letter file ${path}`, { cause, fatal: true }));
      return;
    }
    view.commit(env ? env.id : view.lastCommittedId());
    slot.deadLetters++;
    this.log.error('record dead-lettered after repeated deaths', { stage: slot.spec.name, seq: entry.seq, deaths: entry.deaths, file: path });
    this.emit('dead-letter', { stage: slot.spec.name, seq: entry.seq });
  }

  private checkHeartbeats(): void {
    const now = performance.now();
    const limit = this.config.supervisor.hangTimeoutMs;
    for (const slot of this.slots.values()) {
      if (!slot.worker || !slot.ready || slot.hung) continue;
      const beat = slot.control.heartbeat();
      if (beat !== slot.lastBeat) {
        slot.lastBeat = beat;
        slot.lastBeatChangeAt = now;
      } else if (now - slot.lastBeatChangeAt > limit) {
        slot.hung = true;
        this.log.warn('actor heartbeat stalled; terminating it', { stage: slot.spec.name, stalledMs: Math.round(now - slot.lastBeatChangeAt) });
        void slot.worker.terminate();
      }
    }
  }

  private fail(err: OrionError): void {
    if (this.fatal) return;
    this.fatal = err;
    this.log.error(err.shortMessage, { code: err.code, details: err.details });
    this.emit('fatal', err);
    this.teardown();
    this.rejectFailure(err);
  }

  private teardown(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    for (const slot of this.slots.values()) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      slot.control.requestStop(StopMode.NOW);
      void slot.worker?.terminate();
    }
    // Main-thread consumers wait without a timeout: wake them so they see the failure.
    for (const ring of this.rings.values()) ring.wakeConsumer();
  }

  /** Whether the producer of `ring` has stopped (or there is none). */
  producerStopped(ring: string): boolean {
    const p = this.producerOf.get(ring);
    return !p || this.slots.get(p)!.status === 'stopped';
  }

  /**
   * Graceful stop: stops stages in topological order, each after it drained what its (already
   * stopped) producer left in its input ring, and calls each actor's `onStop` to flush. An actor
   * that does not finish within `drainTimeoutMs` is terminated and the loss is logged.
   */
  async stop(): Promise<void> {
    if (this.fatal) throw this.fatal;
    this.stopping = true;
    for (const slot of this.slots.values()) {
      if (slot.status === 'stopped') continue;
      const stopped = new Promise<void>((res) => (slot.onStopped = res));
      // A ring fed from outside the pipeline (the main thread) gets no more records once stop begins.
      if (slot.spec.input && !this.producerOf.has(slot.spec.input)) Atomics.store(slot.control.i32, UPSTREAM_DONE, 1); // release: as below
      slot.control.requestStop(StopMode.DRAIN);
      if (slot.spec.input) this.rings.get(slot.spec.input)!.wakeConsumer();
      const timeout = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), this.config.supervisor.drainTimeoutMs).unref());
      const outcome = await Promise.race([stopped, timeout, this.failure]);
      if (outcome === 'timeout') {
        this.log.error('actor did not drain in time; terminating it', { stage: slot.spec.name, drainTimeoutMs: this.config.supervisor.drainTimeoutMs });
        slot.control.requestStop(StopMode.NOW);
        if (slot.restartTimer) clearTimeout(slot.restartTimer);
        await slot.worker?.terminate();
        slot.status = 'stopped';
      }
      // Tell each consumer of this stage's rings (actors and main-thread sinks) that nothing more will come.
      for (const ring of Object.values(slot.spec.outputs)) {
        for (const other of this.slots.values()) {
          if (other.spec.input === ring) Atomics.store(other.control.i32, UPSTREAM_DONE, 1); // release: the producer's thread has exited, its writes are visible
        }
        this.rings.get(ring)!.wakeConsumer();
      }
    }
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /**
   * Terminates one actor as if it had crashed; the supervisor restarts it and redelivers its
   * uncommitted input. For operators un-wedging a stage, and for the actor contract tests.
   */
  async restartActor(name: string): Promise<void> {
    const slot = this.slots.get(name);
    if (!slot) throw new TypeError(`no actor named "${name}" (actors: ${[...this.slots.keys()].join(', ')})`);
    const worker = slot.worker;
    if (!worker || !slot.ready) return;
    slot.lastError = { t: 'error', phase: 'run', code: 'ORION_ERR_ACTOR_CRASHED', message: 'restarted on request', fatal: false };
    // The actor dies at its next loop turn; terminate() only if it does not within the hang timeout
    // (terminating a thread inside a native call, e.g. libsecp256k1, can abort the whole process).
    const exited = new Promise<void>((res) => worker.once('exit', () => res()));
    slot.control.requestCrash();
    if (slot.spec.input) this.rings.get(slot.spec.input)!.wakeConsumer();
    const timer = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), this.config.supervisor.hangTimeoutMs).unref());
    if ((await Promise.race([exited, timer])) === 'timeout') await worker.terminate();
  }

  /** Ring fed by no stage: the caller (main thread) is its producer. */
  ring(name: string): RingBuffer {
    const r = this.rings.get(name);
    if (!r) throw new TypeError(`no ring named "${name}" (rings: ${[...this.rings.keys()].join(', ')})`);
    return r;
  }

  /** Terminates every actor at once, without draining. */
  async kill(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const ring of this.rings.values()) ring.wakeConsumer();
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        if (slot.restartTimer) clearTimeout(slot.restartTimer);
        slot.control.requestStop(StopMode.NOW);
        const worker = slot.worker;
        if (worker) {
          // A thread leaves on its own at its next loop turn; terminate() (which can abort the
          // process when it lands inside a native call) only for one that does not, briefly.
          const exited = new Promise<void>((res) => worker.once('exit', () => res()));
          const timer = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), KILL_GRACE_MS).unref());
          if ((await Promise.race([exited, timer])) === 'timeout') await worker.terminate();
        }
        slot.status = 'stopped';
      }),
    );
  }

  /**
   * Starts every stage's latency histograms afresh (counts and counters stay): benchmarks call it
   * after warm-up so JIT compilation and connection set-up do not count. Actors apply it at their
   * next batch or heartbeat; until their first new snapshot a stage shows empty histograms.
   */
  resetLatencyStats(): void {
    for (const slot of this.slots.values()) slot.metrics.resetHistograms(slot.control.bumpMetricsGen());
  }

  /** Per-stage status, restarts, dead letters, input ring and metrics. */
  stageStats() {
    return [...this.slots.values()].map((slot) => {
      const input = slot.spec.input ? this.rings.get(slot.spec.input)! : null;
      const outputs = Object.values(slot.spec.outputs).map((r) => this.rings.get(r)!);
      return {
        name: slot.spec.name,
        status: slot.status,
        restarts: slot.restarts,
        deadLetters: slot.deadLetters,
        ring: input ? { depthBytes: input.usedBytes(), capacityBytes: input.capacity, drops: input.drops() } : null,
        outputDrops: outputs.reduce((n, r) => n + r.drops(), 0),
        /** The actor thread's memory at its latest metrics snapshot (null before the first). */
        memory: slot.metrics.memory(),
        ...slot.metrics.summary(),
      };
    });
  }
}
