import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CONSUMER_SLEEPING, HEADER_BYTES, READ_INDEX, WRITE_INDEX, recordSpan } from '../../../src/runtime/ring/layout.js';
import { EMPTY, RingBuffer, WriteStatus } from '../../../src/runtime/ring/ring-buffer.js';
import type { WaitStrategyName } from '../../../src/runtime/ring/wait-strategy.js';
import { type SizeMix, checkRecord, fillRecord, mulberry32, sizePicker, uniformSize } from '../../support/prng.js';
import type { RingConsumerData, RingConsumerResult } from '../../support/ring-consumer.worker.js';
import type { RingProducerData, RingProducerResult } from '../../support/ring-producer.worker.js';

const producerUrl = new URL('../../support/ring-producer.worker.js', import.meta.url);
const consumerUrl = new URL('../../support/ring-consumer.worker.js', import.meta.url);
const waiterUrl = new URL('../../support/ring-waiter.worker.js', import.meta.url);

function bytes(seq: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  fillRecord(b, seq, len);
  return b;
}

/**
 * A new empty ring whose free-running indices both start at `index`, as if `index` bytes had
 * already passed through it: the only way to reach the 2^31 and 2^32 index boundaries quickly.
 */
function ringAt(capacity: number, index: number): RingBuffer {
  const sab = RingBuffer.create(capacity).sab;
  const ctrl = new Int32Array(sab, 0, HEADER_BYTES / 4);
  Atomics.store(ctrl, WRITE_INDEX, index | 0); // setup before any other view exists
  Atomics.store(ctrl, READ_INDEX, index | 0);
  return new RingBuffer(sab);
}

/** The first message of a worker, or its error, or a rejection if it exits without one. */
function resultOf<T>(w: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited (code ${code}) without a result`)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Bytes `count` records of the seeded sequence take in the ring: where the indices end up. */
function totalSpan(count: number, seed: number, sizes: SizeMix, max: number): number {
  const rng = mulberry32(seed);
  const pick = sizePicker(sizes);
  let total = 0;
  for (let i = 0; i < count; i++) total += recordSpan(pick(rng, max));
  return total;
}

interface CrossThread {
  capacity: number;
  count: number;
  seed: number;
  sizes: SizeMix;
  strategy: WaitStrategyName;
  /** Where the ring's indices start (see {@link ringAt}). */
  startIndex?: number;
}

/**
 * A producer Worker writes `count` seeded records and a consumer Worker checks each one's length and
 * bytes in order; the main thread only watches, so the test timeout still works if a side hangs.
 */
async function crossThread(o: CrossThread): Promise<{ consumer: RingConsumerResult; producer: RingProducerResult; ring: RingBuffer }> {
  const ring = ringAt(o.capacity, o.startIndex ?? 0);
  const abort = new Int32Array(new SharedArrayBuffer(4));
  const common = { sab: ring.sab, count: o.count, seed: o.seed, sizes: o.sizes, strategy: o.strategy, abort };
  const consumer = new Worker(consumerUrl, { workerData: common satisfies RingConsumerData });
  const producer = new Worker(producerUrl, { workerData: common satisfies RingProducerData });
  try {
    const [c, p] = await Promise.all([resultOf<RingConsumerResult>(consumer), resultOf<RingProducerResult>(producer)]);
    return { consumer: c, producer: p, ring };
  } finally {
    Atomics.store(abort, 0, 1); // tells a side still waiting on the ring to give up
    await Promise.all([consumer.terminate(), producer.terminate()]);
  }
}

describe('RingBuffer', () => {
  it('default: an empty ring of the requested capacity', () => {
    const ring = RingBuffer.create(1024);
    assert.equal(ring.capacity, 1024);
    assert.equal(ring.maxRecordBytes, 1020);
    assert.equal(ring.sab.byteLength, HEADER_BYTES + 1024);
    assert.equal(ring.usedBytes(), 0);
    assert.equal(ring.freeBytes(), 1024);
    assert.equal(ring.readable(), false);
    assert.equal(ring.readInto(new Uint8Array(1020)), EMPTY);
    assert.equal(ring.skip(), EMPTY);
    assert.equal(ring.written(), 0);
    assert.equal(ring.drops(), 0);
    assert.equal(ring.lastCommittedId(), -1);
    assert.equal(ring.committedIndex(), 0);
  });

  it('args: capacity not a power of two, too small or too large is a RangeError', () => {
    for (const bad of [0, -16, 8, 12, 1000, 3 * 1024, 2 ** 31, 2 ** 32, 1.5, 16.5, Number.NaN, Infinity]) {
      assert.throws(() => RingBuffer.create(bad), RangeError, `capacity ${bad}`);
    }
    assert.equal(RingBuffer.create(16).maxRecordBytes, 12, 'smallest ring');
    assert.equal(RingBuffer.create(1 << 20).maxRecordBytes, (1 << 20) - 4);
  });

  it('args: wrapping a buffer that is not a ring is a TypeError', () => {
    assert.throws(() => new RingBuffer(new SharedArrayBuffer(HEADER_BYTES + 1024)), TypeError, 'zeroed buffer: no magic');
    assert.throws(() => new RingBuffer(new SharedArrayBuffer(8)), TypeError, 'shorter than a header');
    assert.throws(() => new RingBuffer(new ArrayBuffer(HEADER_BYTES + 64) as unknown as SharedArrayBuffer), TypeError, 'not shared');
    assert.throws(() => new RingBuffer({} as SharedArrayBuffer), TypeError);
    // A real ring's header in a buffer of the wrong size.
    const ring = RingBuffer.create(64);
    const bigger = new SharedArrayBuffer(HEADER_BYTES + 128);
    new Uint8Array(bigger).set(new Uint8Array(ring.sab, 0, HEADER_BYTES));
    assert.throws(() => new RingBuffer(bigger), /bad magic or size/);
  });

  it('args: new RingBuffer(ring.sab) is another view of the same ring', () => {
    const a = RingBuffer.create(64);
    assert.equal(a.write(bytes(1, 5)), WriteStatus.WRITTEN);
    const b = new RingBuffer(a.sab);
    assert.equal(b.capacity, 64);
    assert.equal(b.usedBytes(), 12);
    assert.equal(b.written(), 1);
    const out = new Uint8Array(b.maxRecordBytes);
    assert.equal(b.readInto(out), 5);
    assert.equal(checkRecord(out, 1, 5), -1);
    b.commit(1);
    assert.equal(a.usedBytes(), 0, 'the commit through b frees space seen through a');
    assert.equal(a.lastCommittedId(), 1);
    // b's producer side resumes after a's record.
    assert.equal(b.write(bytes(2, 3)), WriteStatus.WRITTEN);
    assert.equal(b.readInto(out), 3);
    assert.equal(checkRecord(out, 2, 3), -1);
  });

  it('behavior: write until FULL, exact fit, read until EMPTY', () => {
    const ring = RingBuffer.create(256);
    const out = new Uint8Array(ring.maxRecordBytes);
    // 10-byte payloads take 16 bytes: 16 of them fill 256 exactly.
    let n = 0;
    while (ring.write(bytes(n, 10)) === WriteStatus.WRITTEN) n++;
    assert.equal(n, 16);
    assert.equal(ring.usedBytes(), 256);
    assert.equal(ring.freeBytes(), 0);
    assert.equal(ring.drops(), 1, 'the write that found the ring FULL');
    for (let i = 0; i < n; i++) {
      assert.equal(ring.readInto(out), 10);
      assert.equal(checkRecord(out, i, 10), -1);
    }
    assert.equal(ring.readInto(out), EMPTY);
    assert.equal(ring.usedBytes(), 256, 'reading frees nothing before commit');
    assert.equal(ring.write(new Uint8Array(0)), WriteStatus.FULL);
    ring.commit(n - 1);
    assert.equal(ring.usedBytes(), 0);
    // Exact fit of what is left: 200 used, then a record of 52 bytes (span 56) fills the rest.
    assert.equal(ring.write(bytes(100, 196)), WriteStatus.WRITTEN);
    assert.equal(ring.write(bytes(101, 53)), WriteStatus.FULL, 'span 60 > 56 free');
    assert.equal(ring.write(bytes(101, 52)), WriteStatus.WRITTEN, 'span 56 = 56 free');
    assert.equal(ring.freeBytes(), 0);
    assert.equal(ring.readInto(out), 196);
    assert.equal(checkRecord(out, 100, 196), -1);
    assert.equal(ring.readInto(out), 52);
    assert.equal(checkRecord(out, 101, 52), -1);
    assert.equal(ring.readInto(out), EMPTY);
  });

  it('behavior: TOO_LARGE above maxRecordBytes; exactly maxRecordBytes fits an empty ring', () => {
    for (const capacity of [16, 64, 4096]) {
      const ring = RingBuffer.create(capacity);
      const out = new Uint8Array(ring.maxRecordBytes);
      assert.equal(ring.maxRecordBytes, capacity - 4);
      assert.equal(ring.write(new Uint8Array(capacity - 3)), WriteStatus.TOO_LARGE);
      assert.equal(ring.write(new Uint8Array(capacity * 4)), WriteStatus.TOO_LARGE);
      assert.equal(ring.tryWriteParts(new Uint8Array(capacity), capacity - 4, new Uint8Array(1), 1), WriteStatus.TOO_LARGE, 'the parts add up');
      assert.equal(ring.usedBytes(), 0);
      assert.equal(ring.write(bytes(7, ring.maxRecordBytes)), WriteStatus.WRITTEN);
      assert.equal(ring.usedBytes(), capacity);
      assert.equal(ring.write(new Uint8Array(0)), WriteStatus.FULL, 'even an empty record needs 4 bytes');
      assert.equal(ring.readInto(out), ring.maxRecordBytes);
      assert.equal(checkRecord(out, 7, ring.maxRecordBytes), -1);
      ring.commit();
      // Once the indices are off zero, the largest record wraps around the end.
      assert.equal(ring.write(bytes(8, 0)), WriteStatus.WRITTEN);
      assert.equal(ring.readInto(out), 0);
      ring.commit();
      assert.equal(ring.write(bytes(9, ring.maxRecordBytes)), WriteStatus.WRITTEN);
      assert.equal(ring.readInto(out), ring.maxRecordBytes);
      assert.equal(checkRecord(out, 9, ring.maxRecordBytes), -1);
      assert.equal(ring.drops(), 3);
      assert.equal(ring.written(), 3);
    }
  });

  it('behavior: zero-length records take 4 bytes each and read back as 0', () => {
    const ring = RingBuffer.create(64);
    const out = new Uint8Array(ring.maxRecordBytes);
    for (let i = 0; i < 16; i++) assert.equal(ring.write(new Uint8Array(0)), WriteStatus.WRITTEN, `record ${i}`);
    assert.equal(ring.usedBytes(), 64);
    assert.equal(ring.write(new Uint8Array(0)), WriteStatus.FULL);
    for (let i = 0; i < 16; i++) assert.equal(ring.readInto(out), 0);
    assert.equal(ring.readInto(out), EMPTY);
    assert.equal(ring.written(), 16);
    // skip() steps over zero-length records the same way.
    ring.commit();
    ring.write(new Uint8Array(0));
    ring.write(bytes(3, 3));
    assert.equal(ring.skip(), 0);
    assert.equal(ring.readInto(out), 3);
    assert.equal(ring.skip(), EMPTY);
  });

  it('behavior: write() counts drops on FULL and TOO_LARGE; tryWriteParts() does not; written() and usedBytes() track writes', () => {
    const ring = RingBuffer.create(64);
    const out = new Uint8Array(ring.maxRecordBytes);
    assert.equal(ring.write(bytes(0, 20)), WriteStatus.WRITTEN);
    assert.equal(ring.usedBytes(), 24);
    assert.equal(ring.write(bytes(1, 21)), WriteStatus.WRITTEN);
    assert.equal(ring.usedBytes(), 24 + 28, 'spans are 4-byte aligned');
    assert.equal(ring.write(bytes(2, 20)), WriteStatus.FULL);
    assert.equal(ring.write(bytes(3, 61)), WriteStatus.TOO_LARGE);
    assert.equal(ring.drops(), 2);
    assert.equal(ring.tryWriteParts(bytes(2, 20), 20, new Uint8Array(0), 0), WriteStatus.FULL);
    assert.equal(ring.tryWriteParts(bytes(3, 61), 61, new Uint8Array(0), 0), WriteStatus.TOO_LARGE);
    assert.equal(ring.drops(), 2, 'tryWriteParts leaves counting to the caller');
    ring.countDrop();
    assert.equal(ring.drops(), 3);
    assert.equal(ring.written(), 2, 'only successful writes count');
    assert.equal(ring.write(new Uint8Array(100), 8), WriteStatus.WRITTEN, 'len bounds a larger source');
    assert.equal(ring.usedBytes(), 64);
    ring.readInto(out);
    assert.equal(ring.usedBytes(), 64, 'usedBytes counts what is not committed');
    ring.commit();
    assert.equal(ring.usedBytes(), 40);
    assert.equal(ring.written(), 3);
  });

  it('behavior: two-part records read back as one, across the wrap', () => {
    const ring = RingBuffer.create(64);
    const out = new Uint8Array(ring.maxRecordBytes);
    ring.write(new Uint8Array(40));
    ring.readInto(out);
    ring.commit();
    const whole = bytes(9, 50);
    assert.equal(ring.tryWriteParts(whole.subarray(0, 20), 20, whole.subarray(20), 30), WriteStatus.WRITTEN);
    assert.equal(ring.readInto(out), 50);
    assert.equal(checkRecord(out, 9, 50), -1);
  });

  it('behavior: tryWriteParts from any offset of b, readInto at any offset of dst, across the wrap and the copy thresholds', () => {
    // Sizes around the byte-loop / word-copy / set() thresholds; offsets make either end unaligned.
    const ring = RingBuffer.create(4096);
    const sizes = [0, 3, 47, 48, 49, 300, 1023, 1024, 1025, 2000];
    const src = new Uint8Array(4096);
    const dst = new Uint8Array(ring.maxRecordBytes + 8).fill(0xee);
    let seq = 0;
    for (let round = 0; round < 7; round++) {
      for (const len of sizes) {
        for (const bOff of [0, 1, 2, 4, 7]) {
          const header = bytes(seq, 8);
          const body = bytes(seq + 1, len);
          src.set(body, bOff);
          assert.equal(ring.tryWriteParts(header, 8, src, len, bOff), WriteStatus.WRITTEN);
          assert.equal(ring.nextLength(), 8 + len);
          const dstOff = (seq >> 1) % 8;
          dst.fill(0xee);
          assert.equal(ring.readInto(dst, dstOff), 8 + len);
          assert.equal(dst[dstOff - 1] ?? 0xee, 0xee, 'nothing copied before dstOff');
          assert.equal(checkRecord(dst.subarray(dstOff), seq, 8), -1, `header: len ${len} bOff ${bOff} dstOff ${dstOff}`);
          assert.equal(checkRecord(dst.subarray(dstOff + 8), seq + 1, len), -1, `body: len ${len} bOff ${bOff} dstOff ${dstOff}`);
          assert.equal(dst[dstOff + 8 + len], 0xee, 'nothing copied past the record');
          assert.equal(ring.nextLength(), EMPTY);
          ring.commit((seq += 2));
        }
      }
      // Shift the ring's position so the next round wraps at other places.
      ring.write(new Uint8Array(4 * round + 1));
      ring.readInto(dst);
      ring.commit();
    }
  });

  it('behavior: wrap-around at every 4-byte offset with every record size that fits', () => {
    let checked = 0;
    for (const capacity of [16, 64, 128]) {
      const ring = RingBuffer.create(capacity);
      const out = new Uint8Array(ring.maxRecordBytes);
      let seq = 0;
      for (let offset = 0; offset < capacity; offset += 4) {
        for (let len = 0; len <= ring.maxRecordBytes; len++) {
          // Move both indices to `offset` (mod capacity) with one filler record.
          const gap = (offset - (ring.readIndex() % capacity) + capacity) % capacity;
          if (gap > 0) {
            assert.equal(ring.write(new Uint8Array(gap - 4)), WriteStatus.WRITTEN);
            assert.equal(ring.readInto(out), gap - 4);
            ring.commit();
          }
          assert.equal(ring.readIndex() % capacity, offset);
          out.fill(0xee);
          assert.equal(ring.write(bytes(seq, len)), WriteStatus.WRITTEN, `capacity ${capacity} offset ${offset} len ${len}`);
          assert.equal(ring.readable(), true);
          assert.equal(ring.readInto(out), len);
          assert.equal(checkRecord(out, seq, len), -1, `content: capacity ${capacity} offset ${offset} len ${len}`);
          assert.equal(out[len], len < out.length ? 0xee : undefined, 'nothing copied past the record');
          assert.equal(ring.readInto(out), EMPTY);
          ring.commit(seq++);
          checked++;
        }
      }
      // Two records back to back from every offset: the second starts where the first wrapped.
      for (let offset = 0; offset < capacity; offset += 4) {
        for (let a = 0; a <= ring.maxRecordBytes - 4; a += 3) {
          const b = capacity - ((a + 7) & ~3) - 4;
          const gap = (offset - (ring.readIndex() % capacity) + capacity) % capacity;
          if (gap > 0) {
            ring.write(new Uint8Array(gap - 4));
            ring.readInto(out);
            ring.commit();
          }
          assert.equal(ring.write(bytes(seq, a)), WriteStatus.WRITTEN);
          assert.equal(ring.write(bytes(seq + 1, b)), WriteStatus.WRITTEN, 'exactly fills the ring');
          assert.equal(ring.freeBytes(), 0);
          assert.equal(ring.readInto(out), a);
          assert.equal(checkRecord(out, seq, a), -1);
          assert.equal(ring.readInto(out), b);
          assert.equal(checkRecord(out, seq + 1, b), -1, `pair at offset ${offset}: ${a} then ${b}`);
          ring.commit((seq += 2));
          checked++;
        }
      }
    }
    assert.ok(checked > 3000);
  });

  it('behavior: indices crossing 2^31 and 2^32 (regression: signed index read as a full ring)', () => {
    for (const start of [2 ** 31 - 64, 2 ** 32 - 64, 2 ** 31 - 2, 2 ** 32 - 2].map((s) => s & ~3)) {
      const ring = ringAt(128, start >>> 0);
      const out = new Uint8Array(ring.maxRecordBytes);
      assert.equal(ring.readIndex(), start >>> 0, 'a view resumes at the published index');
      assert.equal(ring.readable(), false, `empty at ${start}`);
      assert.equal(ring.readInto(out), EMPTY);
      for (let seq = 0; seq < 64; seq++) {
        const len = (seq * 13) % (ring.maxRecordBytes + 1);
        assert.equal(ring.write(bytes(seq, len)), WriteStatus.WRITTEN, `write ${seq} from ${start}`);
        assert.equal(ring.readInto(out), len, `read ${seq} from ${start}`);
        assert.equal(checkRecord(out, seq, len), -1);
        assert.equal(ring.readInto(out), EMPTY, `empty after record ${seq} from ${start}, index ${ring.readIndex()}`);
        assert.equal(ring.readable(), false);
        assert.equal(ring.skip(), EMPTY);
        ring.commit(seq);
        assert.equal(ring.usedBytes(), 0);
        assert.equal(ring.freeBytes(), 128);
        assert.equal(ring.waitForData({ name: 'busy-spin', await: (probe) => probe() }, 0), false);
      }
      // A view made after the crossing resumes there too.
      const again = new RingBuffer(ring.sab);
      assert.equal(again.readIndex(), ring.committedIndex());
      assert.equal(again.readInto(out), EMPTY);
      assert.equal(again.write(bytes(99, 9)), WriteStatus.WRITTEN);
      assert.equal(again.readInto(out), 9);
      assert.equal(checkRecord(out, 99, 9), -1);
    }
  });

  it('behavior: seeded random sizes from 0 to maxRecordBytes keep order and content on one thread', () => {
    for (const capacity of [64, 1024]) {
      const ring = RingBuffer.create(capacity);
      const steps = mulberry32(42);
      const sizes = mulberry32(43);
      const out = new Uint8Array(ring.maxRecordBytes);
      const lens: number[] = [uniformSize(sizes, ring.maxRecordBytes)];
      let written = 0;
      let read = 0;
      let committed = 0;
      let full = 0;
      let rewinds = 0;
      while (read < 30_000) {
        const r = steps();
        if (r < 0.5) {
          if (written === 30_000) continue;
          const len = lens[written]!;
          const status = ring.tryWriteParts(bytes(written, len), len, out, 0);
          if (status === WriteStatus.FULL) {
            full++;
            continue;
          }
          assert.equal(status, WriteStatus.WRITTEN);
          lens.push(uniformSize(sizes, ring.maxRecordBytes));
          written++;
          continue;
        }
        const len = ring.readInto(out);
        if (len === EMPTY) {
          assert.equal(read, written, 'EMPTY only when everything written was read');
          ring.commit(read - 1);
          committed = read;
          continue;
        }
        assert.equal(len, lens[read], `length of record ${read}`);
        assert.equal(checkRecord(out, read, len), -1, `content of record ${read}`);
        read++;
        // Commit at random points, and sometimes go back to reread what was not committed.
        if (r > 0.8) {
          ring.commit(read - 1);
          committed = read;
        } else if (r > 0.79) {
          ring.rewind();
          rewinds++;
          assert.equal(ring.readIndex(), ring.committedIndex());
          assert.equal(ring.lastCommittedId(), committed - 1);
          read = committed;
        }
      }
      assert.ok(full > 0, 'the ring filled up at times');
      assert.ok(rewinds > 0);
      assert.equal(ring.written(), 30_000);
      assert.equal(ring.drops(), 0);
    }
  });

  it('behavior: readInto/commit/rewind redeliver uncommitted records; a new consumer view starts at the commit', () => {
    const ring = RingBuffer.create(256);
    const out = new Uint8Array(ring.maxRecordBytes);
    assert.equal(ring.lastCommittedId(), -1, 'no commit yet');
    for (let i = 0; i < 5; i++) ring.write(bytes(i, 10 + i));
    assert.equal(ring.readInto(out), 10);
    ring.commit(100);
    assert.equal(ring.lastCommittedId(), 100);
    assert.equal(ring.committedIndex(), 16);
    assert.equal(ring.readInto(out), 11);
    assert.equal(ring.readInto(out), 12);
    assert.equal(ring.usedBytes(), 16 + 16 + 20 + 20, 'uncommitted reads still hold their space');
    ring.rewind();
    assert.equal(ring.readIndex(), 16);
    assert.equal(ring.readInto(out), 11, 'redelivered after rewind');
    assert.equal(checkRecord(out, 1, 11), -1);
    const fresh = new RingBuffer(ring.sab);
    assert.equal(fresh.readIndex(), 16, 'a restarted consumer resumes at the committed index');
    assert.equal(fresh.lastCommittedId(), 100);
    assert.equal(fresh.readInto(out), 11);
    assert.equal(checkRecord(out, 1, 11), -1);
    assert.equal(fresh.readInto(out), 12);
    fresh.commit(102);
    assert.equal(ring.lastCommittedId(), 102);
    fresh.commit();
    assert.equal(fresh.lastCommittedId(), 102, 'commit() without an id keeps the last one');
    assert.equal(fresh.readInto(out), 13);
    fresh.rewind();
    assert.equal(fresh.readInto(out), 13, 'rewind goes back only to the last commit');
    assert.equal(fresh.readInto(out), 14);
    fresh.commit(104);
    assert.equal(fresh.readInto(out), EMPTY);
    assert.equal(fresh.usedBytes(), 0);
  });

  it('behavior: 10,000,000 seeded records cross two threads in order and intact', { timeout: 60_000 }, async () => {
    // 64 KiB ring, 99% of sizes in 0..64 and 1% up to 65,532: ~3.6 GB through the ring, so the
    // free-running indices cross 2^31 on the way.
    const { consumer, producer, ring } = await crossThread({ capacity: 1 << 16, count: 10_000_000, seed: 7, sizes: 'mostly-small', strategy: 'wait' });
    assert.equal(consumer.error, null);
    assert.equal(consumer.read, 10_000_000);
    assert.equal(producer.written, 10_000_000);
    assert.equal(ring.written(), 10_000_000);
    assert.equal(ring.drops(), 0);
    assert.equal(ring.usedBytes(), 0);
    const total = totalSpan(10_000_000, 7, 'mostly-small', ring.maxRecordBytes);
    assert.ok(total > 2 ** 31 && total < 2 ** 32, `${total} bytes went through`);
    assert.equal(ring.committedIndex(), total, 'the indices went past 2^31');
    assert.ok(producer.fullWaits > 0, 'the producer had to wait for space');
  });

  it('behavior: uniform sizes up to maxRecordBytes on a small ring wrap correctly across threads', { timeout: 60_000 }, async () => {
    // Starts just below 2^31 so the run also crosses the signed boundary mid-stream.
    const start = 2 ** 31 - (1 << 24);
    const { consumer, ring } = await crossThread({ capacity: 4096, count: 200_000, seed: 11, sizes: 'uniform', strategy: 'wait', startIndex: start });
    assert.equal(consumer.error, null);
    assert.equal(consumer.read, 200_000);
    assert.equal(ring.usedBytes(), 0);
    const end = start + totalSpan(200_000, 11, 'uniform', ring.maxRecordBytes);
    assert.ok(end > 2 ** 31);
    assert.equal(ring.committedIndex(), end);
  });

  it('behavior: the busy-spin strategy delivers the same, across the 2^32 index wrap', { timeout: 60_000 }, async () => {
    const start = 2 ** 32 - (1 << 22);
    const { consumer, ring } = await crossThread({ capacity: 1 << 12, count: 200_000, seed: 13, sizes: 'mostly-small', strategy: 'busy-spin', startIndex: start });
    assert.equal(consumer.error, null);
    assert.equal(consumer.read, 200_000);
    const end = start + totalSpan(200_000, 13, 'mostly-small', ring.maxRecordBytes);
    assert.ok(end > 2 ** 32);
    assert.equal(ring.committedIndex(), end - 2 ** 32, 'the indices wrapped past 2^32');
  });

  it('behavior: waitForData in another thread sleeps and wakes on a write', { timeout: 20_000 }, async () => {
    const ring = RingBuffer.create(1 << 12);
    const ctrl = new Int32Array(ring.sab, 0, HEADER_BYTES / 4);
    const waiter = new Worker(waiterUrl, { workerData: { sab: ring.sab, strategy: 'wait', spinMicros: 50, timeoutMs: 10_000 } });
    try {
      const result = resultOf<{ ready: boolean; elapsedMs: number }>(waiter);
      while (Atomics.load(ctrl, CONSUMER_SLEEPING) === 0) await sleep(1);
      await sleep(20);
      assert.equal(ring.write(bytes(0, 8)), WriteStatus.WRITTEN);
      const r = await result;
      assert.equal(r.ready, true);
      assert.ok(r.elapsedMs < 5_000, `woken by the write, not the timeout (${r.elapsedMs} ms)`);
    } finally {
      await waiter.terminate();
    }
  });

  it('behavior: wakeConsumer ends a sleeping waitForData without data, well before its timeout', { timeout: 20_000 }, async () => {
    // The supervisor's graceful stop relies on this to make blocked consumers re-check their stop flag.
    const ring = RingBuffer.create(1 << 12);
    const ctrl = new Int32Array(ring.sab, 0, HEADER_BYTES / 4);
    const waiter = new Worker(waiterUrl, { workerData: { sab: ring.sab, strategy: 'wait', spinMicros: 50, timeoutMs: 10_000 } });
    try {
      const result = resultOf<{ ready: boolean; elapsedMs: number }>(waiter);
      while (Atomics.load(ctrl, CONSUMER_SLEEPING) === 0) await sleep(1);
      // Keep waking: one notify could land between its flag store and its Atomics.wait.
      let done = false;
      void result.finally(() => (done = true)).catch(() => {});
      while (!done) {
        ring.wakeConsumer();
        await sleep(10);
      }
      const r = await result;
      assert.equal(r.ready, false);
      assert.ok(r.elapsedMs < 5_000, `returned on the wake-up, not the timeout (${r.elapsedMs} ms)`);
    } finally {
      await waiter.terminate();
    }
  });

  it('behavior: waitForDataAsync resolves true when a worker writes and false after its timeout', { timeout: 20_000 }, async () => {
    const ring = RingBuffer.create(1 << 12);
    const out = new Uint8Array(ring.maxRecordBytes);
    const abort = new Int32Array(new SharedArrayBuffer(4));
    // A pending Atomics.waitAsync does not keep Node's event loop alive; without a ref'd handle the
    // process could end while the test awaits it.
    const keepAlive = setInterval(() => {}, 60_000);
    let worker: Worker | undefined;
    try {
      let t0 = performance.now();
      assert.equal(await ring.waitForDataAsync(50), false);
      assert.ok(performance.now() - t0 >= 45, 'waited out the timeout');
      worker = new Worker(producerUrl, {
        workerData: { sab: ring.sab, count: 1, seed: 5, sizes: 'mostly-small', strategy: 'wait', abort, startDelayMs: 100 } satisfies RingProducerData,
      });
      const finished = resultOf<RingProducerResult>(worker);
      t0 = performance.now();
      assert.equal(await ring.waitForDataAsync(10_000), true);
      assert.ok(performance.now() - t0 < 5_000, 'woken by the write');
      const len = ring.readInto(out);
      assert.ok(len >= 0);
      assert.equal(checkRecord(out, 0, len), -1);
      ring.commit(0);
      assert.equal((await finished).written, 1);
      t0 = performance.now();
      assert.equal(await ring.waitForDataAsync(30), false, 'nothing more comes');
      assert.ok(performance.now() - t0 >= 25);
      // A wait without a timeout ends on wakeConsumer.
      const pending = ring.waitForDataAsync(Infinity);
      ring.wakeConsumer();
      assert.equal(await pending, false);
      // And one that finds a record already there resolves at once.
      ring.write(bytes(1, 4));
      assert.equal(await ring.waitForDataAsync(Infinity), true);
    } finally {
      clearInterval(keepAlive);
      await worker?.terminate();
    }
  });
});
