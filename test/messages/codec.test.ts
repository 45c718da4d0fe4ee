import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { RecordReader, RecordWriter, peekEnvelope } from '../../src/messages/codec.js';
import { ENVELOPE_BYTES, ENVELOPE_VERSION, MAX_SUB, type Message, OFF_KIND, OFF_VERSION, type RawMessage, recordId } from '../../src/messages/envelope.js';
import { Kind, SCHEMA_HASH, type SyntheticTx } from '../../src/messages/schema.js';
import { monoNs } from '../../src/runtime/clock.js';
import { OrionError } from '../../src/runtime/errors.js';
import { RingBuffer, WriteStatus } from '../../src/runtime/ring/ring-buffer.js';
import { mulberry32 } from '../support/prng.js';
import { seededRecord, testBlock } from '../support/records.js';

const writerWorker = new URL('../support/record-writer.worker.js', import.meta.url);

function pair(capacity = 1 << 16): { ring: RingBuffer; writer: RecordWriter; reader: RecordReader } {
  const ring = RingBuffer.create(capacity);
  return { ring, writer: new RecordWriter(ring), reader: new RecordReader(ring) };
}

function tx(body: Uint8Array | number[], hops = 0): SyntheticTx {
  return { body: body instanceof Uint8Array ? body : new Uint8Array(body), hops };
}

function txBody(m: Message): Uint8Array {
  return (m.data as SyntheticTx).body;
}

/** Raw record bytes: an envelope (version 1 unless told) followed by `payload`. */
function rawRecord(kind: number, payload: number[], version = ENVELOPE_VERSION): Uint8Array {
  const b = new Uint8Array(ENVELOPE_BYTES + payload.length);
  b[OFF_KIND] = kind;
  b[OFF_VERSION] = version;
  b.set(payload, ENVELOPE_BYTES);
  return b;
}

function assertDecodeError(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OrionError, `not an OrionError: ${String(err)}`);
    assert.equal(err.code, 'ORION_ERR_DECODE');
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('RecordWriter / RecordReader', () => {
  it('default', () => {
    const { writer, reader } = pair();
    assert.equal(reader.next(), null, 'an empty ring reads as null');
    const t0 = monoNs();
    assert.equal(writer.write(Kind.SyntheticTx, 41, 3, 123_456.5, tx([1, 2, 3], 2)), WriteStatus.WRITTEN);
    const t1 = monoNs();
    const m = reader.next();
    assert.ok(m);
    assert.equal(m.kind, Kind.SyntheticTx);
    assert.equal(m.seq, 41);
    assert.equal(m.sub, 3);
    assert.equal(m.firstSeenNs, 123_456.5);
    assert.ok(m.enqueueNs >= t0 && m.enqueueNs <= t1, 'enqueueNs is the time of the write');
    assert.ok(reader.lastDequeueNs >= m.enqueueNs);
    assert.deepEqual(new Uint8Array(txBody(m)), new Uint8Array([1, 2, 3]));
    assert.equal((m.data as SyntheticTx).hops, 2);
    assert.equal(reader.lastRecordBytes, writer.lastRecordBytes());
    assert.equal(reader.next(), null);
  });

  it('behavior: envelope fields survive at their limits', () => {
    const { writer, reader } = pair();
    const cases = [
      { kind: Kind.BlockEvent, seq: 0, sub: 0, firstSeenNs: 0 },
      { kind: Kind.SyntheticTx, seq: 2 ** 37 - 1, sub: MAX_SUB - 1, firstSeenNs: 9.87654321e15 },
      { kind: Kind.SyntheticTx, seq: 2 ** 53 - 1, sub: 2 ** 32 - 1, firstSeenNs: -1.5 },
    ];
    for (const c of cases) {
      assert.equal(writer.write(c.kind, c.seq, c.sub, c.firstSeenNs, c.kind === Kind.BlockEvent ? { number: 1, hash: '', parentHash: '', timestamp: 0, baseFeePerGas: null } : tx([])), WriteStatus.WRITTEN);
      const m = reader.next();
      assert.ok(m);
      assert.deepEqual({ kind: m.kind, seq: m.seq, sub: m.sub, firstSeenNs: m.firstSeenNs }, c);
    }
  });

  it('behavior: each kind’s payload round-trips through a ring', () => {
    const { writer, reader } = pair();
    const payloads: [Kind, unknown][] = [
      [Kind.SyntheticTx, tx(new Uint8Array(5000).fill(0xa5), 2 ** 40)],
      [Kind.BlockEvent, testBlock({ number: 2 ** 33, hash: '0x01', parentHash: '0x02', timestamp: 2 ** 32 + 1, baseFeePerGas: 2n ** 64n + 5n })],
      [Kind.BlockEvent, testBlock({ number: 1, hash: '0x03', parentHash: '0x04', timestamp: 5, baseFeePerGas: null })],
      [Kind.BlockEvent, testBlock({ number: 1, hash: '0x03', parentHash: '0x04', timestamp: 5, baseFeePerGas: 2n ** 255n })],
    ];
    payloads.forEach(([kind, data], seq) => assert.equal(writer.write(kind, seq, 0, 0, data), WriteStatus.WRITTEN));
    for (const [kind, data] of payloads) {
      const m = reader.next();
      assert.ok(m);
      assert.equal(m.kind, kind);
      if (kind === Kind.SyntheticTx) {
        assert.deepEqual(new Uint8Array(txBody(m)), (data as SyntheticTx).body);
        assert.equal((m.data as SyntheticTx).hops, (data as SyntheticTx).hops);
      } else assert.deepEqual(m.data, data);
    }
  });

  it('behavior: decoded bytes do not alias the reader’s reused buffer', () => {
    const { ring, writer, reader } = pair(256);
    writer.write(Kind.SyntheticTx, 1, 0, 0, tx(new Uint8Array(64).fill(0x11)));
    writer.write(Kind.SyntheticTx, 2, 0, 0, tx(new Uint8Array(64).fill(0x22)));
    const first = reader.next();
    const second = reader.next();
    assert.ok(first && second);
    ring.commit();
    // The third record wraps over the freed bytes of the first, and its read reuses the scratch buffer.
    writer.write(Kind.SyntheticTx, 3, 0, 0, tx(new Uint8Array(64).fill(0x33)));
    assert.ok(reader.next());
    assert.deepEqual(new Uint8Array(txBody(first)), new Uint8Array(64).fill(0x11));
    assert.deepEqual(new Uint8Array(txBody(second)), new Uint8Array(64).fill(0x22));
    assert.notEqual(txBody(first).buffer, txBody(second).buffer);
    assert.ok(!(txBody(first).buffer instanceof SharedArrayBuffer));
  });

  it('behavior: FULL keeps the record and retry() writes it once space frees', () => {
    const { ring, writer, reader } = pair(1024);
    const payload = (seq: number) => tx(new Uint8Array(200).fill(seq), seq);
    let seq = 0;
    while (writer.write(Kind.SyntheticTx, seq, 0, seq * 10, payload(seq)) === WriteStatus.WRITTEN) seq++;
    const fullSeq = seq;
    assert.ok(fullSeq >= 2, 'some records fit first');
    assert.equal(writer.retry(), WriteStatus.FULL, 'still full while nothing was committed');
    assert.equal(ring.drops(), 0, 'FULL from a RecordWriter is not counted as a drop');
    // Reading alone frees nothing; committing does.
    const m0 = reader.next();
    assert.equal(m0?.seq, 0);
    assert.equal(writer.retry(), WriteStatus.FULL);
    ring.commit(recordId(0, 0));
    assert.equal(writer.retry(), WriteStatus.WRITTEN);
    const seen: Message[] = [];
    for (let m = reader.next(); m; m = reader.next()) seen.push(m);
    assert.deepEqual(
      seen.map((m) => m.seq),
      Array.from({ length: fullSeq }, (_, i) => i + 1),
      'the retried record arrives once, after the others',
    );
    const last = seen.at(-1)!;
    assert.equal(last.firstSeenNs, fullSeq * 10);
    assert.deepEqual(new Uint8Array(txBody(last)), payload(fullSeq).body);
  });

  it('error: a record larger than the ring allows returns TOO_LARGE and writes nothing', () => {
    const { ring, writer, reader } = pair(1024);
    let sawTooLarge = false;
    let sawFit = false;
    for (let len = 900; len <= 1100; len++) {
      const status = writer.write(Kind.SyntheticTx, len, 0, 0, tx(new Uint8Array(len)));
      if (writer.lastRecordBytes() > ring.maxRecordBytes) {
        assert.equal(status, WriteStatus.TOO_LARGE, `${writer.lastRecordBytes()} bytes`);
        assert.equal(reader.next(), null);
        sawTooLarge = true;
      } else {
        assert.equal(status, WriteStatus.WRITTEN, `${writer.lastRecordBytes()} bytes`);
        assert.equal(reader.next()?.seq, len);
        ring.commit();
        sawFit = true;
      }
    }
    assert.ok(sawFit && sawTooLarge);
    assert.equal(writer.write(Kind.SyntheticTx, 1, 0, 0, tx(new Uint8Array(100_000))), WriteStatus.TOO_LARGE);
    assert.equal(writer.retry(), WriteStatus.TOO_LARGE);
    assert.equal(writer.write(Kind.SyntheticTx, 2, 0, 0, tx([1])), WriteStatus.WRITTEN, 'a small record still fits afterwards');
    assert.equal(reader.next()?.seq, 2);
  });

  it('error: a corrupt record throws ORION_ERR_DECODE', () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ['shorter than an envelope', new Uint8Array(10).fill(1), /record of 10 bytes has no valid envelope/],
      ['an envelope alone, no payload', rawRecord(Kind.SyntheticTx, []), /cannot unpack SyntheticTx record/],
      ['another envelope version', rawRecord(Kind.SyntheticTx, [0x01], 2), /no valid envelope/],
      ['a truncated payload', rawRecord(Kind.SyntheticTx, [0x92, 0x01]), /cannot unpack SyntheticTx record/],
      ['bytes after the payload', rawRecord(Kind.BlockEvent, [0x01, 0x02, 0x03]), /cannot unpack BlockEvent record/],
      ['garbage', rawRecord(Kind.SyntheticTx, [0xc1, 0xc1, 0xc1, 0xdd, 0xff, 0xff, 0xff, 0xff]), /cannot unpack/],
    ];
    for (const [what, bytes] of cases) {
      const { ring, reader } = pair();
      assert.equal(ring.write(bytes), WriteStatus.WRITTEN);
      assertDecodeError(() => reader.next(), cases.find((c) => c[0] === what)![2]);
    }
  });

  it('error: an unknown kind byte throws ORION_ERR_DECODE', () => {
    const unused = Math.max(...Object.values(Kind)) + 1;
    for (const kind of [0, unused, 99, 255]) {
      const { ring, reader } = pair();
      ring.write(rawRecord(kind, [0x01]));
      assertDecodeError(() => reader.next(), new RegExp(`unknown record kind ${kind}$`));
    }
  });

  it('behavior: after a corrupt record, its bytes can be copied and the next record decodes', () => {
    const { ring, writer, reader } = pair();
    const bad = rawRecord(Kind.SyntheticTx, [0x92, 0x01]);
    writer.write(Kind.SyntheticTx, 1, 0, 0, tx([1]));
    ring.write(bad);
    writer.write(Kind.SyntheticTx, 3, 0, 0, tx([3]));
    assert.equal(reader.next()?.seq, 1);
    assertDecodeError(() => reader.next());
    assert.deepEqual(reader.lastRecordCopy(), bad);
    const m = reader.next();
    assert.equal(m?.seq, 3);
    assert.deepEqual(new Uint8Array(txBody(m!)), new Uint8Array([3]));
  });

  it('behavior: lastRecordCopy() is an independent copy of the record last read', () => {
    const { writer, reader } = pair();
    writer.write(Kind.SyntheticTx, 7, 2, 0, tx([7, 7]));
    writer.write(Kind.SyntheticTx, 8, 0, 0, tx([8, 8]));
    reader.next();
    const copy = reader.lastRecordCopy();
    assert.equal(copy.length, writer.lastRecordBytes());
    reader.next();
    assert.deepEqual(peekEnvelope(copy), { kind: Kind.SyntheticTx, seq: 7, sub: 2, id: recordId(7, 2) });
  });
});

function rawMessage(): RawMessage {
  return { kind: Kind.SyntheticTx, seq: 0, sub: 0, firstSeenNs: 0, enqueueNs: 0, bytes: new Uint8Array(0), start: 0, end: 0 };
}

describe('RecordReader raw / RecordWriter.writeEncoded', () => {
  it('default: nextRaw reads the envelope and leaves the payload encoded; decodeRaw unpacks it', () => {
    const { writer, reader } = pair();
    writer.write(Kind.SyntheticTx, 5, 3, 1234.5, tx([1, 2, 3], 2));
    const m = rawMessage();
    assert.equal(reader.nextRaw(m), true);
    assert.equal(m.kind, Kind.SyntheticTx);
    assert.equal(m.seq, 5);
    assert.equal(m.sub, 3);
    assert.equal(m.firstSeenNs, 1234.5);
    assert.ok(m.enqueueNs > 0);
    assert.equal(m.end - m.start, writer.lastRecordBytes() - ENVELOPE_BYTES);
    const data = reader.decodeRaw(m) as SyntheticTx;
    assert.deepEqual([...data.body], [1, 2, 3]);
    assert.equal(data.hops, 2);
    assert.equal(reader.nextRaw(m), false);
    assert.deepEqual(peekEnvelope(reader.lastRecordCopy()), { kind: Kind.SyntheticTx, seq: 5, sub: 3, id: recordId(5, 3) });
  });

  it('behavior: every payload read since rewindRaw stays intact; rewindRaw starts again at the front', () => {
    const { ring, writer, reader } = pair(1 << 12);
    const msgs: RawMessage[] = [];
    for (let batch = 0; batch < 3; batch++) {
      reader.rewindRaw();
      msgs.length = 0;
      for (let i = 0; i < 10; i++) writer.write(Kind.SyntheticTx, batch * 10 + i, 0, 0, tx(new Uint8Array(37 + i * 9).fill(batch * 10 + i)));
      for (let m = rawMessage(); reader.nextRaw(m); m = rawMessage()) msgs.push(m);
      assert.equal(msgs.length, 10);
      assert.equal(msgs[0]!.start, ENVELOPE_BYTES, 'the batch starts at the front of the buffer');
      msgs.forEach((m, i) => {
        assert.equal(m.seq, batch * 10 + i);
        assert.deepEqual(txBody({ ...m, data: reader.decodeRaw(m) }), new Uint8Array(37 + i * 9).fill(batch * 10 + i));
      });
      ring.commit(recordId(batch * 10 + 9, 0));
    }
  });

  it('behavior: without rewindRaw the reader starts again at the front when its buffer is full', () => {
    const { ring, writer, reader } = pair(1 << 10);
    const m = rawMessage();
    for (let seq = 0; seq < 200; seq++) {
      writer.write(Kind.SyntheticTx, seq, 0, 0, tx(new Uint8Array(100).fill(seq)));
      assert.equal(reader.nextRaw(m), true);
      assert.ok(m.end <= ring.maxRecordBytes);
      assert.deepEqual((reader.decodeRaw(m) as SyntheticTx).body, new Uint8Array(100).fill(seq));
      ring.commit(recordId(seq, 0));
    }
  });

  it('behavior: writeEncoded forwards the payload byte for byte under the new envelope', () => {
    const a = pair();
    const b = pair();
    const block = testBlock({ number: 9, hash: '0x09', parentHash: '0x08', timestamp: 1, baseFeePerGas: 3n });
    a.writer.write(Kind.BlockEvent, 41, 0, 77, block);
    const sent = a.writer.lastRecordBytes();
    const m = rawMessage();
    assert.ok(a.reader.nextRaw(m));
    assert.equal(b.writer.writeEncoded(m.kind, m.seq, 6, m.firstSeenNs, m.bytes, m.start, m.end), WriteStatus.WRITTEN);
    assert.equal(b.writer.lastRecordBytes(), sent);
    const out = b.reader.next()!;
    assert.equal(out.kind, Kind.BlockEvent);
    assert.equal(out.seq, 41);
    assert.equal(out.sub, 6);
    assert.equal(out.firstSeenNs, 77);
    assert.deepEqual(out.data, block);
    assert.deepEqual(b.reader.lastRecordCopy().subarray(ENVELOPE_BYTES), m.bytes.subarray(m.start, m.end));
  });

  it('behavior: writeEncoded keeps the record for retry() after FULL', () => {
    const { ring, writer, reader } = pair(256);
    const payload = new Uint8Array(300).fill(0x5a).subarray(100, 200);
    let seq = 0;
    while (writer.writeEncoded(Kind.SyntheticTx, seq, 0, 0, new Uint8Array(payload.buffer), 100, 200) === WriteStatus.WRITTEN) seq++;
    assert.equal(writer.retry(), WriteStatus.FULL);
    const m = rawMessage();
    while (reader.nextRaw(m));
    ring.commit(recordId(seq - 1, 0));
    assert.equal(writer.retry(), WriteStatus.WRITTEN);
    assert.ok(reader.nextRaw(m));
    assert.equal(m.seq, seq);
    assert.deepEqual(m.bytes.subarray(m.start, m.end), payload);
  });

  it('error: nextRaw throws ORION_ERR_DECODE on a bad envelope; decodeRaw on a bad payload', () => {
    const { ring, reader } = pair();
    ring.write(rawRecord(Kind.SyntheticTx, [0x01], ENVELOPE_VERSION + 1));
    assertDecodeError(() => reader.nextRaw(rawMessage()), /no valid envelope/);
    ring.write(rawRecord(Kind.SyntheticTx, [0x92, 0x01]));
    const m = rawMessage();
    assert.equal(reader.nextRaw(m), true);
    assertDecodeError(() => reader.decodeRaw(m), /cannot unpack SyntheticTx record seq 0/);
  });
});

describe('peekEnvelope', () => {
  it('default', () => {
    const { writer, reader } = pair();
    writer.write(Kind.BlockEvent, 2 ** 36 + 5, 17, 99, testBlock({ number: 1, hash: '', parentHash: '', timestamp: 0, baseFeePerGas: 1n }));
    reader.next();
    assert.deepEqual(peekEnvelope(reader.lastRecordCopy()), { kind: Kind.BlockEvent, seq: 2 ** 36 + 5, sub: 17, id: recordId(2 ** 36 + 5, 17) });
  });

  it('args: a view at an offset into a larger buffer', () => {
    const { writer, reader } = pair();
    writer.write(Kind.SyntheticTx, 12, 4, 0, tx([1]));
    reader.next();
    const rec = reader.lastRecordCopy();
    const big = new Uint8Array(rec.length + 13).fill(0xee);
    big.set(rec, 5);
    assert.deepEqual(peekEnvelope(big.subarray(5, 5 + rec.length)), { kind: Kind.SyntheticTx, seq: 12, sub: 4, id: recordId(12, 4) });
  });

  it('args: fewer bytes than an envelope give null', () => {
    assert.equal(peekEnvelope(new Uint8Array(0)), null);
    assert.equal(peekEnvelope(new Uint8Array(ENVELOPE_BYTES - 1)), null);
    assert.notEqual(peekEnvelope(new Uint8Array(ENVELOPE_BYTES)), null);
  });
});

describe('recordId', () => {
  it('default', () => {
    assert.equal(recordId(0, 0), 0);
    assert.equal(recordId(1, 0), MAX_SUB);
    assert.equal(recordId(2, 3), 2 * MAX_SUB + 3);
  });

  it('behavior: orders records by (seq, sub), exactly up to seq 2^37', () => {
    const rng = mulberry32(7);
    const pairs: [number, number][] = [
      [0, 0],
      [0, MAX_SUB - 1],
      [1, 0],
      [2 ** 37 - 1, MAX_SUB - 1],
      [2 ** 37 - 1, MAX_SUB - 2],
      [2 ** 37 - 2, MAX_SUB - 1],
    ];
    for (let i = 0; i < 2000; i++) pairs.push([Math.floor(rng() * 2 ** 37), Math.floor(rng() * MAX_SUB)]);
    const lexical = [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const numeric = [...pairs].sort((a, b) => recordId(a[0], a[1]) - recordId(b[0], b[1]));
    assert.deepEqual(numeric, lexical);
    for (const [seq, sub] of pairs) {
      const id = recordId(seq, sub);
      assert.ok(Number.isSafeInteger(id), `id of (${seq}, ${sub}) is exact`);
      assert.equal(Math.floor(id / MAX_SUB), seq);
      assert.equal(id % MAX_SUB, sub);
    }
  });
});

describe('codec across threads', () => {
  it('behavior: records packed by a RecordWriter in a worker read back equal on this thread', async () => {
    const count = 5000;
    const seed = 0x5eed;
    // A small ring, so the writer wraps around and waits for space many times.
    const ring = RingBuffer.create(4096);
    const reader = new RecordReader(ring);
    const worker = new Worker(writerWorker, { workerData: { sab: ring.sab, count, seed } });
    const workerError = new Promise<never>((_, reject) => worker.once('error', reject));
    const exited = once(worker, 'exit');
    const [hello] = (await Promise.race([once(worker, 'message'), workerError])) as [{ schemaHash: string }];
    assert.equal(hello.schemaHash, SCHEMA_HASH);
    const deadline = performance.now() + 30_000;
    let prevEnqueue = -Infinity;
    for (let seq = 0; seq < count; ) {
      assert.ok(performance.now() < deadline, `timed out at record ${seq}`);
      if (!(await Promise.race([ring.waitForDataAsync(100), workerError]))) continue;
      for (let m = reader.next(); m !== null; m = reader.next(), seq++) {
        const want = seededRecord(seed, seq);
        assert.equal(m.kind, want.kind, `record ${seq} kind`);
        assert.equal(m.seq, want.seq);
        assert.equal(m.sub, want.sub, `record ${seq} sub`);
        assert.equal(m.firstSeenNs, want.firstSeenNs, `record ${seq} firstSeenNs`);
        assert.ok(m.enqueueNs >= prevEnqueue, `record ${seq} enqueueNs does not go back`);
        prevEnqueue = m.enqueueNs;
        if (want.kind === Kind.SyntheticTx) {
          const w = want.data as SyntheticTx;
          assert.deepEqual(new Uint8Array(txBody(m)), w.body, `record ${seq} body`);
          assert.equal((m.data as SyntheticTx).hops, w.hops);
        } else {
          assert.deepEqual(m.data, want.data, `record ${seq} block`);
        }
      }
      ring.commit(recordId(seq, 0));
    }
    assert.equal(reader.next(), null, 'nothing beyond the last record');
    const [code] = (await exited) as [number];
    assert.equal(code, 0);
    assert.equal(ring.drops(), 0);
  });
});
