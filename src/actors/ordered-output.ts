import { MAX_SUB } from '../messages/envelope.js';
import type { Kind } from '../messages/schema.js';
import type { ActorContext } from '../runtime/actor.js';

/**
 * Output order = input order for stages whose work finishes out of order (a worker pool, an EVM
 * verification): one {@link OutputSlot} per input record, filled when its work is done; the ready
 * slots at the head go out, in order, whatever finished first. With the actor's `settled()`
 * returning {@link settled}, the host commits input only once its outputs are out, so a crash
 * redelivers exactly what was not finished and downstream order is deterministic.
 */

/** Sub numbers of {@link OrderedOutput.late} records start here, above any a stage derives from one input directly. */
export const LATE_SUB_BASE = 32_768;

/** The outputs of one input record. */
export interface OutputSlot {
  readonly seq: number;
  readonly firstSeenNs: number;
  /** Records to emit, in order: kind, payload and sub (the record id is `(seq, sub)`). */
  readonly records: [kind: Kind, data: unknown, sub: number][];
  /** Work still running for this record; the slot goes out when it is 0. */
  open: number;
  /** {@link OrderedOutput.late} records that go out after `records`. */
  readonly late: [kind: Kind, data: unknown, firstSeenNs: number][];
  emitted: Promise<void> | null;
  resolve: (() => void) | null;
  reject: ((err: unknown) => void) | null;
}

/** In-order emission over an actor's `out` port. */
export class OrderedOutput {
  private readonly slots: OutputSlot[] = [];
  private failure: unknown = null;
  /** Id of the last record emitted, which {@link late} records continue from when no slot is open. */
  private lastSeq = -1;
  private lastSub = -1;

  constructor(
    private readonly ctx: Pick<ActorContext, 'emit'>,
    private readonly port = 'out',
  ) {}

  /** A slot for the next input record, at the tail. */
  open(seq: number, firstSeenNs: number): OutputSlot {
    const s: OutputSlot = { seq, firstSeenNs, records: [], open: 0, late: [], emitted: null, resolve: null, reject: null };
    this.slots.push(s);
    return s;
  }

  /** Emits every finished slot at the head, in order. Nothing goes out after {@link fail}. */
  flush(): void {
    if (this.failure !== null) return;
    const q = this.slots;
    let n = 0;
    while (n < q.length && q[n]!.open === 0) {
      const s = q[n]!;
      let sub = -1;
      for (const r of s.records) {
        sub = r[2];
        this.ctx.emit(this.port, r[0], s.seq, sub, s.firstSeenNs, r[1]);
      }
      for (let i = 0; i < s.late.length; i++) {
        sub = LATE_SUB_BASE + i;
        this.ctx.emit(this.port, s.late[i]![0], s.seq, sub, s.late[i]![2], s.late[i]![1]);
      }
      this.lastSeq = s.seq;
      this.lastSub = sub;
      s.resolve?.();
      n++;
    }
    if (n > 0) q.splice(0, n);
  }

  /**
   * Emits a record that follows from no particular input: the outcome of work nothing waited for
   * (a verification that finished after its opportunity went out). It goes out after the newest
   * open slot's records, or at once, after the last record emitted, when no slot is open; either way
   * its id `(seq, sub ≥ LATE_SUB_BASE)` keeps ids increasing. Not covered by a commit: a crash before
   * it is emitted loses it.
   * @throws RangeError when one input already carried 32,768 late records.
   */
  late(kind: Kind, data: unknown, firstSeenNs: number): void {
    if (this.failure !== null) return;
    const tail = this.slots[this.slots.length - 1];
    if (tail !== undefined) {
      tail.late.push([kind, data, firstSeenNs]);
      return;
    }
    const sub = Math.max(this.lastSub + 1, LATE_SUB_BASE);
    if (this.lastSeq < 0 || sub >= MAX_SUB) throw new RangeError(`late record after seq ${this.lastSeq} sub ${this.lastSub}: no room in the id space`);
    this.ctx.emit(this.port, kind, this.lastSeq, sub, firstSeenNs, data);
    this.lastSub = sub;
  }

  /** Resolves when everything opened so far is emitted; null when it already is (the actor's `settled`). */
  settled(): Promise<void> | null {
    const last = this.slots[this.slots.length - 1];
    if (last === undefined) return null;
    last.emitted ??= new Promise<void>((resolve, reject) => {
      last.resolve = resolve;
      last.reject = reject;
    });
    return last.emitted;
  }

  /** Stops emission and rejects every waiter: the stage dies and its unfinished input is redelivered. */
  fail(err: unknown): void {
    this.failure ??= err;
    for (const s of this.slots) s.reject?.(err);
  }

  /** The first failure, or null. */
  error(): unknown {
    return this.failure;
  }

  /** Waits until every slot is out (graceful stop); throws the failure if there is one. */
  async drain(): Promise<void> {
    while (this.slots.length > 0) {
      if (this.failure !== null) throw this.failure;
      await this.settled();
    }
    if (this.failure !== null) throw this.failure;
  }
}
