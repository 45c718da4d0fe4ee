import type { Message, RawMessage } from '../messages/envelope.js';
import type { Kind } from '../messages/schema.js';
import type { EngineConfig } from './config.js';
import type { Logger } from './log.js';
import type { StageMetrics } from './metrics.js';
import type { WriteStatus } from './ring/ring-buffer.js';

/** The runtime part of the config every actor gets. */
export interface RuntimeSlice {
  wait: EngineConfig['wait'];
  batchMaxRecords: number;
  heartbeatIntervalMs: number;
  metricsIntervalMs: number;
  logLevel: EngineConfig['log']['level'];
}

/** What the host gives an actor: its frozen config slice, outputs, metrics and identity. */
export interface ActorContext<C = unknown> {
  /** Stage name (`decoder`, …). */
  readonly name: string;
  /** The actor's own frozen config slice. */
  readonly config: C;
  readonly runtime: Readonly<RuntimeSlice>;
  readonly metrics: StageMetrics;
  readonly log: Logger;
  /** Shared memory the engine handed this stage (e.g. counters that outlive a restart). */
  readonly shared: Readonly<Record<string, SharedArrayBuffer>>;
  /** How many times this actor was restarted before this incarnation. */
  readonly restarts: number;
  /**
   * Writes a record to an output port, waiting for space while the ring is full: an accepted
   * record is never dropped. Use in every stage after ingest.
   */
  emit(port: string, kind: Kind, seq: number, sub: number, firstSeenNs: number, data: unknown): void;
  /** Writes a record or drops it (counted on the ring) when the ring is full: load shedding at ingest. */
  offer(port: string, kind: Kind, seq: number, sub: number, firstSeenNs: number, data: unknown): WriteStatus;
  /**
   * Writes a record from {@link Actor.onRawBatch} to an output port as it came, payload bytes
   * unchanged, under its envelope's kind, seq, sub and first-seen time (a fresh enqueue time); waits
   * for space like {@link emit}. Forwarding this way skips the unpack and the re-pack.
   */
  forward(port: string, msg: RawMessage): void;
  /**
   * Unpacks the payload of a record from {@link Actor.onRawBatch}.
   * @throws OrionError `ORION_ERR_DECODE` when the payload is not valid.
   */
  decode(msg: RawMessage): unknown;
  /** Takes a source's next sequence number; kept in shared memory, so it continues across restarts. */
  nextSeq(): number;
  /** The sequence number {@link nextSeq} would return, without taking it. */
  peekSeq(): number;
  /** Origin of a source's schedule (ns), kept across restarts; set once by the source. */
  seqEpochNs(set?: number): number;
  /** True once the supervisor asked this actor to stop. */
  stopRequested(): boolean;
}

/**
 * The actor contract (after artemis' Collector/Strategy/Executor and the disruptor's
 * `BatchEventProcessor`): start, handle batches, stop. A consumer implements `onBatch`; a source
 * (no input ring) implements `poll`.
 */
export interface Actor {
  /** Runs the actor's event loop between batches instead of blocking the thread (actors with I/O). */
  readonly io?: boolean;
  onStart?(): void | Promise<void>;
  /**
   * Handles records in ring order. `endOfBatch` is true when the input ring had nothing more at the
   * time the batch was cut: the moment to flush. Records are committed after this returns, so a
   * crash here redelivers them (at-least-once).
   */
  onBatch?(msgs: Message[], endOfBatch: boolean): void | Promise<void>;
  /**
   * Instead of `onBatch`, for stages that forward most records as they came: the records with
   * their payloads still encoded (`ctx.decode` unpacks one, `ctx.forward` writes one on unchanged),
   * with the same order, dedup and commit rules. The bytes are this thread's copy (patching them
   * before forwarding is allowed), and the host reuses the array, the message objects and the bytes
   * for the next batch: they are valid only until this returns (or its promise settles), so keep
   * what `ctx.decode` returns, never the messages.
   */
  onRawBatch?(msgs: readonly RawMessage[], endOfBatch: boolean): void | Promise<void>;
  /**
   * For actors that emit a batch's outputs after asynchronous work (a worker pool, a verification):
   * called right after `onBatch`, it returns a promise that resolves once every output of that batch
   * is emitted, or null when they all are. The host then commits the batch only when it and every
   * earlier batch have settled, so a crash redelivers what was not finished (at-least-once) while
   * the actor keeps taking new input. A rejection is a crash.
   */
  settled?(): Promise<void> | null;
  /** A source emits what is due and returns ms until it has more, or -1 when it is finished. */
  poll?(): number | Promise<number>;
  /** Flushes outputs; called once on graceful stop, after the input is drained. */
  onStop?(): void | Promise<void>;
}

/** Builds an actor from its context; the worker entry passes one to `hostActor`. */
export type ActorFactory<C = unknown> = (ctx: ActorContext<C>) => Actor | Promise<Actor>;

/** Messages an actor's thread posts to the supervisor. */
export type ActorReport =
  | { t: 'ready' }
  | { t: 'metrics'; snapshot: import('./metrics.js').MetricsSnapshot }
  | { t: 'error'; phase: 'bootstrap' | 'run'; code: string; message: string; fatal: boolean }
  | { t: 'stopped'; snapshot: import('./metrics.js').MetricsSnapshot };

/** What the supervisor passes to an actor's thread. */
export interface ActorWorkerData {
  name: string;
  schemaHash: string;
  config: unknown;
  runtime: RuntimeSlice;
  control: SharedArrayBuffer;
  input: SharedArrayBuffer | null;
  outputs: Record<string, SharedArrayBuffer>;
  shared: Record<string, SharedArrayBuffer>;
  restarts: number;
  /** Input ring index before which records are handled one per batch, to isolate a poison record; -1 for none. */
  carefulUntil: number;
}
