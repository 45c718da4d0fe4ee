/**
 * Per-actor shared control block: how the supervisor and an actor's thread see each other without
 * messages. Owned by the supervisor, so it outlives the actor's thread across restarts.
 *
 * ```
 * Int32 slot | field          | written by  | meaning
 * -----------+----------------+-------------+-----------------------------------------------
 *      0     | state          | actor       | STARTING, READY, STOPPED        ── line 0
 *     16     | heartbeat      | actor       | bumped every loop turn          ── line 1
 *     17     | batchCount     | actor       | records in the batch being handled (0 between batches)
 *     18     | batchStart     | actor       | input ring index of the batch's first record
 *     19     | batchEnd       | actor       | input ring index just past its last record
 *     32     | stop           | supervisor  | NONE, DRAIN, NOW                ── line 2
 *     33     | upstreamDone   | supervisor  | 1 once every producer of the input ring stopped
 *     34     | metricsGen     | supervisor  | bumped to reset latency histograms (benchmark warm-up)
 *     35     | crash          | supervisor  | 1: die at the next loop turn, as a crash (restart on request)
 *     48     | (f64 #24) nextSeq    | actor | a source's next sequence number ── line 3
 *     50     | (f64 #25) seqEpochNs | actor | a source's schedule origin
 * ```
 */
export const CONTROL_BYTES = 256;
export const STATE = 0;
export const HEARTBEAT = 16;
export const BATCH_COUNT = 17;
export const BATCH_START = 18;
export const BATCH_END = 19;
export const STOP = 32;
export const UPSTREAM_DONE = 33;
export const METRICS_GEN = 34;
export const CRASH = 35;
export const NEXT_SEQ_F64 = 24;
export const SEQ_EPOCH_F64 = 25;

export const ActorState = { STARTING: 0, READY: 1, STOPPED: 2 } as const;
export const StopMode = { NONE: 0, DRAIN: 1, NOW: 2 } as const;

/** Typed views over one actor's control block. */
export class ControlBlock {
  readonly i32: Int32Array;
  readonly f64: Float64Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(CONTROL_BYTES)) {
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
  }

  heartbeat(): number {
    return Atomics.load(this.i32, HEARTBEAT); // observer: atomicity is all it needs
  }

  stopMode(): number {
    return Atomics.load(this.i32, STOP); // acquire: pairs with the supervisor's store in requestStop
  }

  requestStop(mode: number): void {
    Atomics.store(this.i32, STOP, mode); // release: the actor acts on it at its next check
    Atomics.notify(this.i32, STOP); // wakes a source sleeping on its schedule
  }

  /**
   * Asks the actor to die as if it had crashed, at its next loop turn (between batches, never inside
   * a native call, which a `worker.terminate()` could interrupt and abort the process with).
   */
  requestCrash(): void {
    Atomics.store(this.i32, CRASH, 1); // release: the actor acts on it at its next check
    Atomics.notify(this.i32, STOP); // wakes a source sleeping on its schedule
  }

  /** True once per {@link requestCrash}: the actor takes the request. */
  takeCrashRequest(): boolean {
    return Atomics.exchange(this.i32, CRASH, 0) === 1; // acq-rel: the next incarnation starts clear
  }

  /** Latency histograms recorded before this generation are discarded. */
  metricsGen(): number {
    return Atomics.load(this.i32, METRICS_GEN); // observer: a reset taking effect one batch late is fine
  }

  /** Asks the actor to start its latency histograms afresh. */
  bumpMetricsGen(): number {
    return Atomics.add(this.i32, METRICS_GEN, 1) + 1; // the actor sees it at its next metrics check
  }

  upstreamDone(): boolean {
    return Atomics.load(this.i32, UPSTREAM_DONE) === 1; // acquire: set after the producer's thread exited, so its writes are visible
  }

  /** The batch in progress when the actor died: `{count, start, end}` of the input ring. */
  batch(): { count: number; start: number; end: number } {
    return {
      count: Atomics.load(this.i32, BATCH_COUNT), // the dead thread's last stores; atomic loads suffice
      start: Atomics.load(this.i32, BATCH_START) >>> 0,
      end: Atomics.load(this.i32, BATCH_END) >>> 0,
    };
  }
}
