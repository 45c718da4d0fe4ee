import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AttemptOutcome, type DropReason, type QueueEntry, type QueueTimers, TxQueue, type TxQueueOptions, backoffDelay, retryableFailure } from '../../../src/actors/submitter/tx-queue.js';
import type { RouteError } from '../../../src/actors/submitter/types.js';
import { mulberry32 } from '../../support/prng.js';

/** Timers on a clock the test moves. */
class FakeTimers implements QueueTimers {
  now = 0;
  private id = 0;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  /** Every delay asked for, in order. */
  readonly asked: number[] = [];

  set(fn: () => void, ms: number): unknown {
    const id = ++this.id;
    this.pending.set(id, { at: this.now + ms, fn });
    this.asked.push(ms);
    return id;
  }

  clear(h: unknown): void {
    this.pending.delete(h as number);
  }

  /** Moves the clock by `ms`, firing what falls due, earliest first. */
  advance(ms: number): void {
    const to = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.pending) if (e[1].at <= to && (next === null || e[1].at < next[1].at)) next = e;
      if (next === null) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = to;
  }
}

/** A promise the test settles. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every settled attempt's continuation run. */
const settle = () => new Promise((r) => setImmediate(r));

interface Harness {
  q: TxQueue<string>;
  timers: FakeTimers;
  started: string[];
  /** Attempts running, by id: settle them with what the attempt reports. */
  running: Map<string, (o: AttemptOutcome) => void>;
  dropped: [string, DropReason, string | null][];
  maxRunning: number;
}

function harness(o: Partial<TxQueueOptions<string>> = {}, auto?: (e: QueueEntry<string>) => AttemptOutcome): Harness {
  const timers = new FakeTimers();
  const h: Harness = { q: null as unknown as TxQueue<string>, timers, started: [], running: new Map(), dropped: [], maxRunning: 0 };
  h.q = new TxQueue<string>({
    concurrency: 1,
    maxAttempts: 3,
    backoffMs: 100,
    maxBackoffMs: 1000,
    jitter: 0,
    seed: 1,
    timers,
    run: (e) => {
      h.started.push(e.id);
      h.maxRunning = Math.max(h.maxRunning, h.q.running);
      if (auto) return Promise.resolve(auto(e));
      const d = deferred<AttemptOutcome>();
      h.running.set(e.id, (r) => {
        h.running.delete(e.id);
        d.resolve(r);
      });
      return d.promise;
    },
    onDrop: (e, why) => h.dropped.push([e.id, why, e.lastError]),
    ...o,
  });
  return h;
}

describe('TxQueue', () => {
  it('default: entries start best expected profit first; ties by the earlier target block, then by arrival', async () => {
    const h = harness({ concurrency: 1 }, () => 'done');
    h.q.onHead(99);
    h.q.push('low', 1n, 100, 'x');
    h.q.push('high-late-block', 50n, 102, 'x');
    h.q.push('high-early-block', 50n, 101, 'x');
    h.q.push('mid-first', 10n, 101, 'x');
    h.q.push('mid-second', 10n, 101, 'x');
    h.q.push('negative', -5n, 100, 'x');
    h.q.push('top', 10n ** 18n, 105, 'x');
    h.q.pump();
    for (let i = 0; i < 10; i++) await settle();
    assert.deepEqual(h.started, ['top', 'high-early-block', 'high-late-block', 'mid-first', 'mid-second', 'low', 'negative']);
    assert.equal(h.q.size, 0);
    assert.deepEqual(h.dropped, []);
  });

  it('behavior: never more than `concurrency` attempts at once, and a freed slot takes the best waiting entry', async () => {
    const h = harness({ concurrency: 3 });
    const rand = mulberry32(7);
    const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    for (const [i, id] of ids.entries()) h.q.push(id, BigInt(Math.floor(rand() * 1000)), 10 + (i % 3), id);
    h.q.pump();
    assert.equal(h.q.running, 3);
    assert.equal(h.q.queued, 37);
    const order: string[] = [];
    while (h.running.size > 0) {
      // Each freed slot goes to the best entry still queued at that moment.
      const waiting = ids.filter((id) => h.q.get(id)?.state === 'queued').map((id) => h.q.get(id)!);
      const best = waiting.sort((a, b) => (a.priority !== b.priority ? (a.priority > b.priority ? -1 : 1) : a.targetBlock - b.targetBlock || a.seq - b.seq))[0];
      const running = [...h.running.keys()];
      const pick = running[Math.floor(rand() * running.length)]!;
      order.push(pick);
      const before = h.started.length;
      h.running.get(pick)!('done');
      await settle();
      assert.ok(h.q.running <= 3);
      if (best !== undefined) assert.equal(h.started[before], best.id, 'the freed slot went to the best queued entry');
    }
    assert.equal(h.maxRunning, 3, 'at most 3 ran at once');
    assert.equal(h.started.length, 40);
    assert.equal(new Set(h.started).size, 40, 'each once');
  });

  it('behavior: a retryable failure comes back after exponential backoff, up to maxAttempts, then is dropped as exhausted', async () => {
    const h = harness({ maxAttempts: 4, backoffMs: 100, maxBackoffMs: 250, jitter: 0 }, () => ({ retry: 'http 500' }));
    h.q.push('a', 1n, 100, 'x');
    h.q.pump();
    await settle();
    assert.deepEqual(h.started, ['a']);
    assert.equal(h.q.waiting, 1, 'in backoff');
    assert.equal(h.q.get('a')!.state, 'backoff');
    h.timers.advance(99);
    await settle();
    assert.deepEqual(h.started, ['a'], 'not before its delay');
    h.timers.advance(1);
    await settle();
    assert.deepEqual(h.started, ['a', 'a']);
    h.timers.advance(200);
    await settle();
    h.timers.advance(250);
    await settle();
    assert.deepEqual(h.started, ['a', 'a', 'a', 'a']);
    assert.deepEqual(h.timers.asked, [100, 200, 250], 'doubling, capped at maxBackoffMs');
    assert.deepEqual(h.dropped, [['a', 'exhausted', 'http 500']]);
    assert.equal(h.q.size, 0);
    assert.equal(h.timers.pending.size, 0);
  });

  it('behavior: backoff delays are exponential, capped, and jittered by a seeded PRNG that replays', () => {
    const o = { backoffMs: 200, maxBackoffMs: 2000, jitter: 0 };
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, o, () => 0.5)), [200, 400, 800, 1600, 2000, 2000]);
    const j = { ...o, jitter: 0.5 };
    const a = mulberry32(42);
    const delays = [1, 2, 3, 4, 5].map((n) => backoffDelay(n, j, a));
    const full = [200, 400, 800, 1600, 2000];
    delays.forEach((d, i) => assert.ok(d > full[i]! / 2 - 1 && d <= full[i]!, `delay ${i + 1}: ${d} within [${full[i]! / 2}, ${full[i]}]`));
    const b = mulberry32(42);
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, j, b)), delays, 'the same seed gives the same delays');
    const c = mulberry32(43);
    assert.notDeepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, j, c)), delays);
    // Through the queue: its seed drives the same sequence.
    const h = harness({ maxAttempts: 6, backoffMs: 200, maxBackoffMs: 2000, jitter: 0.5, seed: 42 }, () => ({ retry: 'refused' }));
    h.q.push('r', 1n, 100, 'x');
    h.q.pump();
    return (async () => {
      for (let i = 0; i < 6; i++) {
        await settle();
        h.timers.advance(5000);
      }
      await settle();
      assert.deepEqual(h.timers.asked, delays);
      assert.deepEqual(h.dropped, [['r', 'exhausted', 'refused']]);
    })();
  });

  it('behavior: an attempt reporting done (an unknown outcome is done: it is tracked, not retried) is never run again', async () => {
    const outcomes: AttemptOutcome[] = ['done'];
    const h = harness({ maxAttempts: 5 }, () => outcomes.shift() ?? { retry: 'x' });
    h.q.push('unknown-outcome', 1n, 100, 'x');
    h.q.pump();
    await settle();
    h.timers.advance(10_000);
    await settle();
    assert.deepEqual(h.started, ['unknown-outcome']);
    assert.equal(h.timers.asked.length, 0, 'no backoff scheduled');
    assert.deepEqual(h.dropped, []);
  });

  it('behavior: retryableFailure: only definite transport failures and HTTP 5xx/429; never an unknown outcome', () => {
    const e = (kind: RouteError['kind'], status?: number): RouteError => ({ kind, message: kind, ...(status !== undefined ? { status } : {}) });
    assert.equal(retryableFailure(e('timeout'), false), false, 'a timeout may have been taken');
    assert.equal(retryableFailure(e('network'), false), false, 'a dropped connection may have been taken');
    assert.equal(retryableFailure(e('http', 500), false), false, 'not definite: one endpoint of the route may have taken it');
    assert.equal(retryableFailure(e('refused'), true), true, 'no connection: nothing was sent');
    assert.equal(retryableFailure(e('http', 500), true), true);
    assert.equal(retryableFailure(e('http', 503), true), true);
    assert.equal(retryableFailure(e('http', 429), true), true);
    assert.equal(retryableFailure(e('http', 400), true), false);
    assert.equal(retryableFailure(e('http', 403), true), false);
    assert.equal(retryableFailure(e('rpc'), true), false, 'the route refused the content');
    assert.equal(retryableFailure(e('garbage'), true), false);
    assert.equal(retryableFailure(null, true), false);
  });

  it('behavior: entries whose target block the head reached are dropped as stale: queued, in backoff, or when a retry is asked', async () => {
    const h = harness({ concurrency: 1 });
    h.q.onHead(100);
    assert.equal(h.q.push('already-stale', 9n, 100, 'x'), 'stale');
    h.q.push('runs', 5n, 101, 'x');
    h.q.push('queued-101', 4n, 101, 'x');
    h.q.push('queued-103', 3n, 103, 'x');
    h.q.pump();
    assert.deepEqual(h.started, ['runs']);
    h.q.onHead(101);
    assert.deepEqual(h.dropped, [['queued-101', 'stale', null]], 'the queued one targeting 101 is stale; the running one is left alone');
    h.running.get('runs')!({ retry: 'http 502' });
    await settle();
    assert.deepEqual(h.dropped.at(-1), ['runs', 'stale', 'http 502'], 'no retry past its target block');
    assert.deepEqual(h.started, ['runs', 'queued-103']);
    h.running.get('queued-103')!({ retry: 'refused' });
    await settle();
    assert.equal(h.q.get('queued-103')!.state, 'backoff');
    h.q.onHead(103);
    assert.deepEqual(h.dropped.at(-1), ['queued-103', 'stale', 'refused'], 'dropped during its backoff');
    assert.equal(h.timers.pending.size, 0, 'its timer cleared');
    assert.equal(h.q.size, 0);
    // A head that moves back (a reorg) does not revive anything or lower the bar.
    h.q.onHead(90);
    assert.equal(h.q.push('still-stale', 1n, 103, 'x'), 'stale');
  });

  it('behavior: cancel withdraws a queued entry or one in backoff; a running one is left to its caller', async () => {
    const h = harness({ concurrency: 1 });
    h.q.push('run', 3n, 100, 'x');
    h.q.push('wait', 2n, 100, 'x');
    h.q.pump();
    assert.equal(h.q.cancel('run'), 'running');
    assert.equal(h.q.cancel('wait'), 'cancelled');
    assert.equal(h.q.cancel('nope'), 'unknown');
    h.running.get('run')!({ retry: 'refused' });
    await settle();
    assert.equal(h.q.cancel('run'), 'cancelled', 'in backoff');
    assert.equal(h.timers.pending.size, 0);
    assert.deepEqual(h.dropped, [['wait', 'cancelled', null], ['run', 'cancelled', 'refused']]);
    h.timers.advance(10_000);
    await settle();
    assert.deepEqual(h.started, ['run']);
  });

  it('behavior: stop drops what waits (stopped), lets running attempts end, and starts nothing more', async () => {
    const h = harness({ concurrency: 1 });
    h.q.push('run', 3n, 100, 'x');
    h.q.push('wait', 2n, 100, 'x');
    h.q.pump();
    h.q.stop();
    assert.deepEqual(h.dropped, [['wait', 'stopped', null]]);
    h.running.get('run')!({ retry: 'refused' });
    await settle();
    assert.deepEqual(h.dropped.at(-1), ['run', 'stopped', 'refused']);
    assert.deepEqual(h.started, ['run']);
    assert.equal(h.q.size, 0);
  });

  it('behavior: a rejected attempt counts as done; onChange follows depth and running', async () => {
    const seen: [number, number][] = [];
    let q!: TxQueue<string>;
    q = new TxQueue<string>({
      concurrency: 2,
      maxAttempts: 3,
      backoffMs: 0,
      maxBackoffMs: 0,
      jitter: 0,
      seed: 0,
      timers: new FakeTimers(),
      run: () => Promise.reject(new Error('boom')),
      onDrop: () => assert.fail('nothing is dropped'),
      onChange: () => seen.push([q.queued + q.waiting, q.running]),
    });
    q.push('a', 1n, 5, 'x');
    q.push('b', 1n, 5, 'x');
    q.push('c', 1n, 5, 'x');
    q.pump();
    for (let i = 0; i < 5; i++) await settle();
    assert.equal(q.size, 0);
    assert.deepEqual(seen.at(-1), [0, 0]);
    assert.ok(seen.some(([, r]) => r === 2));
  });

  it('args: counts, delays and jitter out of range are refused', () => {
    const base = { concurrency: 1, maxAttempts: 1, backoffMs: 0, maxBackoffMs: 0, jitter: 0, seed: 0, run: async (): Promise<AttemptOutcome> => 'done', onDrop: () => {} };
    assert.throws(() => new TxQueue({ ...base, concurrency: 0 }), RangeError);
    assert.throws(() => new TxQueue({ ...base, maxAttempts: 0 }), RangeError);
    assert.throws(() => new TxQueue({ ...base, backoffMs: 10, maxBackoffMs: 5 }), RangeError);
    assert.throws(() => new TxQueue({ ...base, jitter: 1.5 }), RangeError);
    assert.throws(() => new TxQueue({ ...base, run: undefined as never }), TypeError);
  });
});
