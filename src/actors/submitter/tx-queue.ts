import type { SubmitterConfig } from './submitter-config.js';
import { mulberry32 } from '../../runtime/prng.js';
import type { RouteError } from './types.js';

/**
 * The submitter's send queue: submissions wait here for a send slot, best first, and come back
 * after a backoff when every route failed in a way that says nothing was taken.
 *
 * ```
 *  push ──► queued ──pump (slot free)──► running ──'done'──► gone
 *             ▲  │                          │
 *             │  └─ head ≥ target: stale     └─{ retry }─► backoff ──timer──┘ (back to queued)
 *             │                                              │
 *             └──────────────────────────────────────────────┘ head ≥ target: stale; attempts spent: exhausted
 * ```
 *
 * - Order: expected net profit, higher first; ties by the earlier target block, then arrival.
 * - At most `concurrency` entries run at once (an attempt: build, sign, the route chain).
 * - An entry whose target block is not after the head any more is dropped as `stale`, whether it
 *   waits for a slot or for its backoff: it is never sent past its target window.
 * - Retries: only an attempt that reports `{ retry }` comes back, after
 *   {@link backoffDelay} (exponential, capped, with seeded jitter), up to `maxAttempts` attempts in
 *   all. Whether a failure may be retried is {@link retryableFailure}'s call: an unknown outcome
 *   never is.
 *
 * Every change of state is synchronous; only attempts and backoff timers are asynchronous.
 */

/** Options of {@link TxQueue}. */
export interface TxQueueOptions<T> extends Readonly<SubmitterConfig['queue']> {
  /** One attempt of `entry` (its `attempt` is already counted). Should not reject; a rejection counts as done. */
  run(entry: QueueEntry<T>): Promise<AttemptOutcome>;
  /** `entry` left the queue without another attempt. */
  onDrop(entry: QueueEntry<T>, why: DropReason): void;
  /** Called after every change of depth or of the running count (for a gauge). */
  onChange?(): void;
  /** Timers; tests pass a fake clock. Default `setTimeout` / `clearTimeout` (unref'd). */
  timers?: QueueTimers;
}

/** Timer functions the queue schedules its retries with. */
export interface QueueTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** What an attempt reports. */
export type AttemptOutcome = 'done' | { retry: string };

/**
 * Why an entry left without another attempt: `stale` (its target block is no longer ahead of the
 * head), `exhausted` (its attempts are spent; `lastError` says why the last failed), `cancelled`
 * ({@link TxQueue.cancel}), `stopped` ({@link TxQueue.stop}).
 */
export type DropReason = 'stale' | 'exhausted' | 'cancelled' | 'stopped';

/** Where an entry is. */
export type EntryState = 'queued' | 'running' | 'backoff';

/** One submission in the queue. */
export interface QueueEntry<T> {
  readonly id: string;
  /** Expected net profit (wei); higher goes first. */
  readonly priority: bigint;
  /** First block it targets; stale once the head reaches it. */
  readonly targetBlock: number;
  /** Arrival order, the last tie-break. */
  readonly seq: number;
  /** Attempts started so far (1 during the first). */
  attempt: number;
  state: EntryState;
  /** Why the latest attempt asked for a retry. */
  lastError: string | null;
  /** The caller's payload. */
  readonly value: T;
}

/** What {@link TxQueue.push} did. */
export type PushStatus = 'queued' | 'duplicate' | 'stale';

/** What {@link TxQueue.cancel} found. */
export type CancelStatus = 'cancelled' | 'running' | 'unknown';

/**
 * The delay before retry number `attempt` (1: the first retry): `min(maxBackoffMs, backoffMs ×
 * 2^(attempt − 1))`, less up to `jitter` of it at random, rounded to a whole ms.
 */
export function backoffDelay(attempt: number, o: Pick<TxQueueOptions<unknown>, 'backoffMs' | 'maxBackoffMs' | 'jitter'>, random: () => number): number {
  const exp = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exp * (1 - o.jitter * random()));
}

/**
 * Whether a route failure may be retried: only a definite one (the route said nothing was taken)
 * from the transport or the server: no connection (`refused`), HTTP 5xx or 429. A timeout or a
 * dropped connection leaves the outcome unknown (the transactions may be out), so the same nonces
 * must not go out again anywhere; a JSON-RPC error or a malformed answer is the route refusing the
 * content, which a retry would not change.
 */
export function retryableFailure(error: RouteError | null, definite: boolean): boolean {
  if (!definite || error === null) return false;
  if (error.kind === 'refused') return true;
  return error.kind === 'http' && error.status !== undefined && (error.status >= 500 || error.status === 429);
}

/** Priority order: profit descending, then target block ascending, then arrival. */
function before(a: QueueEntry<unknown>, b: QueueEntry<unknown>): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.targetBlock !== b.targetBlock) return a.targetBlock < b.targetBlock;
  return a.seq < b.seq;
}

const REAL_TIMERS: QueueTimers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

/** A priority queue of submissions with bounded concurrency, stale drops and retries. */
export class TxQueue<T> {
  private readonly o: TxQueueOptions<T>;
  private readonly timers: QueueTimers;
  private readonly random: () => number;
  /** Binary heap of queued entries, best at 0. */
  private readonly heap: QueueEntry<T>[] = [];
  private readonly byId = new Map<string, QueueEntry<T>>();
  private readonly backoff = new Map<string, unknown>();
  private runningCount = 0;
  private nextSeq = 0;
  private head = -1;
  private stopped = false;

  constructor(o: TxQueueOptions<T>) {
    const posInt = (v: number, name: string, min: number) => {
      if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`TxQueue: ${name} must be an integer ≥ ${min}, got ${v}`);
    };
    posInt(o.concurrency, 'concurrency', 1);
    posInt(o.maxAttempts, 'maxAttempts', 1);
    posInt(o.backoffMs, 'backoffMs', 0);
    posInt(o.maxBackoffMs, 'maxBackoffMs', o.backoffMs);
    if (typeof o.jitter !== 'number' || !(o.jitter >= 0 && o.jitter <= 1)) throw new RangeError(`TxQueue: jitter must be in [0, 1], got ${o.jitter}`);
    if (typeof o.run !== 'function' || typeof o.onDrop !== 'function') throw new TypeError('TxQueue: run and onDrop must be functions');
    this.o = o;
    this.timers = o.timers ?? REAL_TIMERS;
    this.random = mulberry32(o.seed);
  }

  /** Entries waiting for a slot. */
  get queued(): number {
    return this.heap.length;
  }

  /** Entries waiting for their backoff to end. */
  get waiting(): number {
    return this.backoff.size;
  }

  /** Entries running an attempt. */
  get running(): number {
    return this.runningCount;
  }

  /** Entries anywhere in the queue (queued, running or in backoff). */
  get size(): number {
    return this.byId.size;
  }

  /** The entry with this id, wherever it is. */
  get(id: string): QueueEntry<T> | undefined {
    return this.byId.get(id);
  }

  /**
   * Adds a submission. `duplicate` when the id is already in the queue, `stale` (and nothing added)
   * when its target block is not after the latest head. Does not start it: call {@link pump}.
   */
  push(id: string, priority: bigint, targetBlock: number, value: T): PushStatus {
    if (this.byId.has(id)) return 'duplicate';
    if (targetBlock <= this.head) return 'stale';
    const e: QueueEntry<T> = { id, priority, targetBlock, seq: this.nextSeq++, attempt: 0, state: 'queued', lastError: null, value };
    this.byId.set(id, e);
    this.heapPush(e);
    this.o.onChange?.();
    return 'queued';
  }

  /** Starts the best queued entries while slots are free; drops the stale ones it meets. */
  pump(): void {
    if (this.stopped) return;
    while (this.runningCount < this.o.concurrency && this.heap.length > 0) {
      const e = this.heapPop()!;
      if (e.targetBlock <= this.head) {
        this.drop(e, 'stale');
        continue;
      }
      this.start(e);
    }
  }

  /** A new head: every waiting entry (queued or in backoff) whose target block it reached is dropped as stale. */
  onHead(n: number): void {
    if (n > this.head) this.head = n;
    const stale: QueueEntry<T>[] = [];
    for (const e of this.byId.values()) if (e.state !== 'running' && e.targetBlock <= this.head) stale.push(e);
    if (stale.length === 0) return;
    for (const e of stale) {
      if (e.state === 'backoff') this.clearBackoff(e);
      else this.heapRemove(e);
      this.drop(e, 'stale');
    }
  }

  /**
   * Withdraws a waiting entry (`cancelled`, reported to `onDrop`). A running one is not touched
   * (`running`: the caller acts on it when its attempt ends); `unknown` when the id is not here.
   */
  cancel(id: string): CancelStatus {
    const e = this.byId.get(id);
    if (e === undefined) return 'unknown';
    if (e.state === 'running') return 'running';
    if (e.state === 'backoff') this.clearBackoff(e);
    else this.heapRemove(e);
    this.drop(e, 'cancelled');
    return 'cancelled';
  }

  /** Drops every waiting entry (`stopped`) and starts nothing more; running attempts finish. */
  stop(): void {
    this.stopped = true;
    for (const e of [...this.byId.values()]) {
      if (e.state === 'running') continue;
      if (e.state === 'backoff') this.clearBackoff(e);
      this.drop(e, 'stopped');
    }
    this.heap.length = 0;
  }

  private start(e: QueueEntry<T>): void {
    e.state = 'running';
    e.attempt++;
    this.runningCount++;
    this.o.onChange?.();
    let p: Promise<AttemptOutcome>;
    try {
      p = this.o.run(e);
    } catch {
      p = Promise.resolve('done');
    }
    p.catch((): AttemptOutcome => 'done').then((r) => this.finished(e, r));
  }

  private finished(e: QueueEntry<T>, r: AttemptOutcome): void {
    this.runningCount--;
    if (r === 'done') {
      this.byId.delete(e.id);
    } else {
      e.lastError = r.retry;
      if (this.stopped) this.drop(e, 'stopped');
      else if (e.attempt >= this.o.maxAttempts) this.drop(e, 'exhausted');
      else if (e.targetBlock <= this.head) this.drop(e, 'stale');
      else {
        e.state = 'backoff';
        const ms = backoffDelay(e.attempt, this.o, this.random);
        this.backoff.set(
          e.id,
          this.timers.set(() => {
            this.backoff.delete(e.id);
            if (this.byId.get(e.id) !== e || e.state !== 'backoff') return;
            e.state = 'queued';
            this.heapPush(e);
            this.pump();
            this.o.onChange?.();
          }, ms),
        );
      }
    }
    this.o.onChange?.();
    this.pump();
  }

  private clearBackoff(e: QueueEntry<T>): void {
    const h = this.backoff.get(e.id);
    if (h !== undefined) this.timers.clear(h);
    this.backoff.delete(e.id);
  }

  private drop(e: QueueEntry<T>, why: DropReason): void {
    this.byId.delete(e.id);
    this.o.onDrop(e, why);
    this.o.onChange?.();
  }

  // ---- binary heap ----------------------------------------------------------------------------

  private heapPush(e: QueueEntry<T>): void {
    const h = this.heap;
    h.push(e);
    this.up(h.length - 1);
  }

  private heapPop(): QueueEntry<T> | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Removes `e` from the heap (cancel, stale): O(n), rare. */
  private heapRemove(e: QueueEntry<T>): void {
    const h = this.heap;
    const i = h.indexOf(e);
    if (i < 0) return;
    const last = h.pop()!;
    if (i === h.length) return;
    h[i] = last;
    this.down(i);
    this.up(i);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
