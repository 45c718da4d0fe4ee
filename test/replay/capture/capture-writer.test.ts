import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { BlockEvent } from '../../../src/messages/schema.js';
import { openCapture } from '../../../src/replay/capture/capture-reader.js';
import { CAPTURE_WRITER_DEFAULTS, CaptureWriter, type CaptureWriterOptions } from '../../../src/replay/capture/capture-writer.js';
import { CaptureError, type CaptureRecord, parseSegmentFileName } from '../../../src/replay/capture/format.js';

const root = mkdtempSync(join(tmpdir(), 'orion-capture-writer-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `c${n++}`);

const SOURCES = [{ id: 0, name: 'anvil', url: 'ws://127.0.0.1:8545' }, { id: 3, name: 'backup', url: 'wss://node.example/ws' }];

function writer(dir: string, o: Partial<CaptureWriterOptions> = {}): CaptureWriter {
  // Huge flush thresholds unless a test says otherwise, so nothing depends on timing.
  return new CaptureWriter(dir, { chainId: 31337, sources: SOURCES, startNs: 0, flushMs: 60_000, ...o });
}

function rawTx(i: number, size = 200): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}

function block(i: number): BlockEvent {
  return {
    number: i,
    hash: `0x${i.toString(16).padStart(64, '0')}`,
    parentHash: `0x${(i - 1).toString(16).padStart(64, '0')}`,
    timestamp: 1_700_000_000 + i * 12,
    baseFeePerGas: 2n ** 70n + BigInt(i),
    gasLimit: 30_000_000n,
    gasUsed: BigInt(i),
    miner: `0x${'11'.repeat(20)}`,
    prevRandao: `0x${'22'.repeat(32)}`,
    excessBlobGas: null,
    reorg: false,
  };
}

function segments(dir: string): { name: string; index: number; bytes: number }[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = parseSegmentFileName(name);
      return p ? [{ name, index: p.index, bytes: statSync(join(dir, name)).size }] : [];
    })
    .sort((a, b) => a.index - b.index);
}

function readAll(dir: string, options = {}): CaptureRecord[] {
  return [...openCapture(dir, options).records()];
}

function assertCaptureError(fn: () => unknown, kind: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CaptureError, `not a CaptureError: ${String(err)}`);
    assert.equal(err.code, 'ORION_ERR_CAPTURE');
    assert.equal(err.kind, kind);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('CaptureWriter', () => {
  it('default', () => {
    const dir = freshDir();
    const w = writer(dir);
    w.writeTx(1000, 0, { raw: rawTx(1), hash: '0xaa' });
    w.writeBlock(2000, 3, block(5));
    w.close();
    const s = w.stats();
    assert.equal(s.records, 2);
    assert.equal(s.segments, 1);
    assert.equal(s.deletedSegments, 0);
    assert.equal(s.bufferedBytes, 0);
    assert.deepEqual(segments(dir).map((x) => x.name), ['capture-000000.orcap']);
    assert.equal(s.bytes, segments(dir)[0]!.bytes);
    assert.equal(s.diskBytes, s.bytes);
    const recs = readAll(dir);
    assert.deepEqual(recs.map((r) => [r.t, r.ts, 'src' in r ? r.src : null]), [['tx', 1000, 0], ['block', 2000, 3]]);
    assert.deepEqual(CAPTURE_WRITER_DEFAULTS, { segmentBytes: 64 * 2 ** 20, retainBytes: 2 ** 30, flushMs: 100, flushBytes: 256 * 1024, prefix: 'capture' });
  });

  it('behavior: raw txs with any hash, and rpc txs, round-trip', () => {
    const dir = freshDir();
    const w = writer(dir);
    const hashes = [undefined, '0x01', `0x${'ab'.repeat(32)}`, 'h'.repeat(86), 'ünïcödé'];
    hashes.forEach((hash, i) => w.writeTx(i, 0, { raw: rawTx(i, i * 100), hash }));
    w.writeTx(9, 3, { rpc: { hash: '0x09', input: '0x' }, hash: '0x09' });
    w.close();
    const recs = readAll(dir) as { raw?: Uint8Array; hash?: string; rpc?: object }[];
    assert.deepEqual(recs.map((r) => r.hash), [...hashes, '0x09']);
    hashes.forEach((_, i) => assert.deepEqual(new Uint8Array(recs[i]!.raw!), rawTx(i, i * 100)));
    assert.deepEqual(recs[5]!.rpc, { hash: '0x09', input: '0x' });
  });

  it('behavior: ts is monotonic ns since startNs, and the header keeps the wall-clock start', () => {
    const dir = freshDir();
    const w = writer(dir, { startNs: 5_000_000, startedAt: 1_712_345_678_901 });
    w.writeTx(5_000_250, 0, { raw: rawTx(0) });
    w.writeTx(4_999_000, 0, { raw: rawTx(1) });
    w.close();
    const c = openCapture(dir);
    assert.deepEqual([...c.records()].map((r) => r.ts), [250, -1000]);
    assert.equal(c.header.startedAt, 1_712_345_678_901);
    assert.equal(c.header.firstTs, 250);
    assert.equal(c.header.chainId, 31337);
    assert.equal(c.header.segment, 0);
    assert.equal(c.header.captureId, w.captureId);
    assert.deepEqual(c.header.sources, [{ id: 0, name: 'anvil', url: 'ws://127.0.0.1:8545/' }, { id: 3, name: 'backup', url: 'wss://node.example/ws' }]);
  });

  it('behavior: records are buffered until flush, and flushed records survive a writer that never closes', () => {
    const dir = freshDir();
    const w = writer(dir);
    w.writeTx(1, 0, { raw: rawTx(1) });
    w.writeTx(2, 0, { raw: rawTx(2) });
    const seg = join(dir, 'capture-000000.orcap');
    assert.equal(statSync(seg).size, 0, 'nothing written per record');
    assert.equal(w.stats().writes, 0);
    w.flush();
    assert.equal(w.stats().writes, 1, 'one write for the whole buffer');
    assert.equal(statSync(seg).size, w.stats().bytes);
    // As after a crash: no close, no fsync; the file still holds every flushed record.
    assert.deepEqual(readAll(dir).map((r) => r.ts), [1, 2]);
    w.close();
  });

  it('args: flushBytes writes once that many bytes are buffered', () => {
    const dir = freshDir();
    const w = writer(dir, { flushBytes: 1000 });
    let writes = 0;
    for (let i = 0; i < 20; i++) {
      w.writeTx(i, 0, { raw: rawTx(i) });
      const st = w.stats();
      assert.ok(st.bufferedBytes < 1000, 'never more than flushBytes left buffered');
      writes = st.writes;
    }
    assert.ok(writes >= 4 && writes < 20, `batched into a few writes, got ${writes}`);
    w.close();
  });

  it('args: flushMs flushes an idle writer from its timer', async () => {
    const dir = freshDir();
    const w = writer(dir, { flushMs: 20 });
    w.writeTx(1, 0, { raw: rawTx(1) });
    const seg = join(dir, 'capture-000000.orcap');
    // Waits for the timer, however slow the machine; asserts that it happens, not how fast.
    for (let i = 0; i < 500 && statSync(seg).size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(statSync(seg).size, w.stats().bytes);
    assert.equal(w.stats().bufferedBytes, 0);
    w.close();
  });

  it('args: flushMs 0 writes every record at once', () => {
    const dir = freshDir();
    const w = writer(dir, { flushMs: 0 });
    w.writeTx(1, 0, { raw: rawTx(1) });
    assert.equal(w.stats().bufferedBytes, 0);
    w.close();
  });

  it('behavior: segments rotate before passing segmentBytes and read back in order', () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 0, flushBytes: 1500 });
    for (let i = 0; i < 200; i++) {
      if (i % 20 === 19) w.writeBlock(i, 3, block(i));
      else w.writeTx(i, 0, { raw: rawTx(i), hash: `0x${i.toString(16)}` });
    }
    w.close();
    const segs = segments(dir);
    assert.ok(segs.length >= 10, `several segments, got ${segs.length}`);
    assert.deepEqual(segs.map((s) => s.index), segs.map((_, i) => i));
    for (const s of segs) assert.ok(s.bytes <= 4096, `${s.name} is ${s.bytes} bytes`);
    assert.equal(w.stats().segments, segs.length);
    const c = openCapture(dir);
    const recs = [...c.records()];
    assert.deepEqual(recs.map((r) => r.ts), Array.from({ length: 200 }, (_, i) => i));
    assert.equal(c.stats.segmentsRead, segs.length);
    // Each segment's header names its own index and the ts of its first record.
    assert.deepEqual(c.segments.map((s) => s.header!.segment), segs.map((s) => s.index));
    assert.equal(new Set(c.segments.map((s) => s.header!.captureId)).size, 1);
    assert.ok(c.segments.every((s, i) => i === 0 || s.header!.firstTs! > c.segments[i - 1]!.header!.firstTs!));
  });

  it('behavior: segments that start with a block or an rpc tx keep that record intact', () => {
    // These go through the packer, and a new segment's header is packed while such a record waits to be framed.
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 0 });
    for (let i = 0; i < 100; i++) {
      if (i % 2 === 0) w.writeBlock(i, 0, block(i));
      else w.writeTx(i, 3, { rpc: { hash: `0x${i}`, input: `0x${'ab'.repeat(100)}` } });
    }
    w.close();
    assert.ok(segments(dir).length > 3);
    const recs = readAll(dir);
    assert.equal(recs.length, 100);
    recs.forEach((r, i) => {
      if (i % 2 === 0) assert.deepEqual(r, { t: 'block', ts: i, src: 0, block: block(i) });
      else assert.deepEqual(r, { t: 'tx', ts: i, src: 3, rpc: { hash: `0x${i}`, input: `0x${'ab'.repeat(100)}` } });
    });
  });

  it('behavior: a record larger than a segment gets a segment of its own', () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 0 });
    w.writeTx(0, 0, { raw: rawTx(0) });
    w.writeTx(1, 0, { raw: rawTx(1, 10_000) });
    w.writeTx(2, 0, { raw: rawTx(2) });
    w.close();
    assert.equal(segments(dir).length, 3);
    const recs = readAll(dir) as { raw?: Uint8Array }[];
    assert.deepEqual(recs.map((r) => r.raw?.length), [200, 10_000, 200]);
    assert.deepEqual(new Uint8Array(recs[1]!.raw!), rawTx(1, 10_000));
  });

  it('behavior: retention deletes the oldest segments and keeps the capture within retainBytes', () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 16_384, flushBytes: 1024 });
    for (let i = 0; i < 1000; i++) {
      w.writeTx(i, 0, { raw: rawTx(i) });
      const total = segments(dir).reduce((a, s) => a + s.bytes, 0);
      assert.ok(total <= 16_384, `after record ${i}: ${total} bytes on disk`);
    }
    w.close();
    const segs = segments(dir);
    const total = segs.reduce((a, s) => a + s.bytes, 0);
    const st = w.stats();
    assert.ok(st.deletedSegments > 0);
    assert.equal(segs.length + st.deletedSegments, st.segments);
    assert.equal(st.diskBytes, total);
    assert.ok(total <= 16_384 && total > 16_384 - 2 * 4096, `kept ${total} bytes`);
    // What is left is the newest, contiguous window; it opens and reads to the last record.
    assert.equal(segs[0]!.index, st.deletedSegments);
    const c = openCapture(dir);
    const recs = [...c.records()];
    assert.equal(recs.at(-1)!.ts, 999);
    assert.equal(c.header.firstTs, recs[0]!.ts);
    assert.deepEqual(recs.map((r) => r.ts), Array.from({ length: recs.length }, (_, i) => 1000 - recs.length + i));
  });

  it('behavior: retention never deletes the segment being written', () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 4096, flushMs: 0 });
    for (let i = 0; i < 100; i++) w.writeTx(i, 0, { raw: rawTx(i) });
    w.close();
    const segs = segments(dir);
    assert.equal(segs.length, 1);
    assert.equal(readAll(dir).at(-1)!.ts, 99);
  });

  it('behavior: segmentMs rotates by age and retainMs deletes segments whose last record is too old', async () => {
    const dir = freshDir();
    const w = writer(dir, { retainBytes: 0, segmentMs: 20, retainMs: 150, flushMs: 0 });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    w.writeTx(0, 0, { raw: rawTx(0) });
    await sleep(40);
    w.writeTx(1, 0, { raw: rawTx(1) }); // the first segment is 20 ms old: a new one
    assert.equal(segments(dir).length, 2);
    await sleep(200);
    w.writeTx(2, 0, { raw: rawTx(2) }); // both closed segments are now past 150 ms
    w.close();
    assert.deepEqual(segments(dir).map((x) => x.index), [2]);
    assert.equal(w.stats().deletedSegments, 2);
    assert.deepEqual(readAll(dir).map((r) => r.ts), [2]);
  });

  it('args: retainBytes 0 keeps every segment', () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 0 });
    for (let i = 0; i < 300; i++) w.writeTx(i, 0, { raw: rawTx(i) });
    w.close();
    assert.equal(w.stats().deletedSegments, 0);
    assert.equal(segments(dir).length, w.stats().segments);
    assert.equal(readAll(dir).length, 300);
  });

  it('behavior: a capture closed without records is one header-only segment', () => {
    const dir = freshDir();
    const w = writer(dir);
    w.close();
    assert.equal(segments(dir).length, 1);
    const c = openCapture(dir);
    assert.equal(c.header.firstTs, null);
    assert.equal(c.header.chainId, 31337);
    assert.deepEqual([...c.records()], []);
  });

  it('behavior: credentials in source URLs never reach the file', () => {
    const dir = freshDir();
    const w = new CaptureWriter(dir, {
      chainId: 1,
      sources: [{ id: 0, name: 'infura', url: 'wss://alice:hunter2@mainnet.infura.io/ws/v3/0123456789abcdef0123456789abcdef?token=t0ps3cret' }],
    });
    w.close();
    const bytes = readFileSync(join(dir, 'capture-000000.orcap')).toString('latin1');
    for (const secret of ['alice', 'hunter2', '0123456789abcdef0123456789abcdef', 't0ps3cret']) assert.ok(!bytes.includes(secret), secret);
    assert.equal(openCapture(dir).header.sources[0]!.url, 'wss://mainnet.infura.io/ws/v3/***?token=***');
  });

  it('behavior: close is idempotent and a closed writer refuses records', () => {
    const dir = freshDir();
    const w = writer(dir);
    w.close();
    w.close();
    assertCaptureError(() => w.writeTx(1, 0, { raw: rawTx(1) }), 'closed');
    assertCaptureError(() => w.flush(), 'closed');
  });

  it('args: invalid options are refused naming the field', () => {
    const dir = freshDir();
    assert.throws(() => writer(dir, { segmentBytes: 100 }), /segmentBytes must be at least 4096, got 100/);
    assert.throws(() => writer(dir, { segmentBytes: 1.5 }), /segmentBytes must be an integer/);
    assert.throws(() => writer(dir, { segmentBytes: 8192, retainBytes: 4096 }), /retainBytes must be 0 or at least segmentBytes/);
    assert.throws(() => writer(dir, { chainId: -1 }), /chainId must be at least 0/);
    assert.throws(() => writer(dir, { flushBytes: 0 }), /flushBytes must be at least 1/);
    assert.throws(() => writer(dir, { prefix: '../x' }), /prefix must be/);
    assert.throws(() => writer(dir, { sources: [{ id: 1, name: 'a', url: '' }, { id: 1, name: 'b', url: '' }] }), /sources\[\]\.id must be unique/);
    assert.throws(() => writer(dir, { sources: [{ id: -1, name: 'a', url: '' }] }), /sources\[0\]\.id must be at least 0/);
  });

  it('error: a tx needs exactly one of raw and rpc, and a known source', () => {
    const w = writer(freshDir());
    assert.throws(() => w.writeTx(1, 0, {}), TypeError);
    assert.throws(() => w.writeTx(1, 0, { raw: rawTx(1), rpc: { hash: '0x' } }), /exactly one of raw and rpc/);
    assert.throws(() => w.writeTx(1, 7, { raw: rawTx(1) }), /source id 7 is not among the capture's sources/);
    assert.throws(() => w.writeTx(Number.NaN, 0, { raw: rawTx(1) }), /timestamp must be a number/);
    w.writeTx(1, 0, { raw: rawTx(1), rpc: null, hash: null });
    w.close();
    assert.deepEqual(Object.keys(readAll(w.dir)[0]!), ['t', 'ts', 'src', 'raw'], 'null fields are left out');
  });

  it('error: a directory that already holds a capture is refused', () => {
    const dir = freshDir();
    writer(dir).close();
    assertCaptureError(() => writer(dir), 'segments', /already holds a capture/);
    // Another prefix in the same directory is another capture.
    const other = writer(dir, { prefix: 'second' });
    other.close();
    assert.ok(existsSync(join(dir, 'second-000000.orcap')));
  });

  it('error: a failed write is reported, and again on the next call', () => {
    const dir = freshDir();
    const w = writer(dir, { flushMs: 0 });
    w.writeTx(1, 0, { raw: rawTx(1) });
    // Stands in for a failing disk (ENOSPC, EIO): every write through this descriptor fails (EBADF).
    (w as unknown as { fd: number }).fd = 2 ** 30;
    assertCaptureError(() => w.writeTx(2, 0, { raw: rawTx(2) }), 'io', /cannot write segment/);
    assertCaptureError(() => w.writeTx(3, 0, { raw: rawTx(3) }), 'io');
    assertCaptureError(() => w.close(), 'io');
  });
});
