import assert from 'node:assert/strict';
import { captureError } from '../../support/capture-errors.js';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { BlockEvent, RpcTransaction } from '../../../src/messages/schema.js';
import { type CaptureReadOptions, openCapture } from '../../../src/replay/capture/capture-reader.js';
import { CaptureWriter, type CaptureWriterOptions } from '../../../src/replay/capture/capture-writer.js';
import {
  CaptureError,
  type BlockRecord,
  type CaptureRecord,
  FRAME_BYTES,
  type MinedBlock,
  OFF_HEADER_LEN,
  OFF_VERSION,
  PREFIX_BYTES,
  type SegmentHeader,
  type TxRecord,
  createCapturePackr,
  encodeFrame,
  encodeSegmentStart,
} from '../../../src/replay/capture/format.js';

const root = mkdtempSync(join(tmpdir(), 'orion-capture-reader-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `c${n++}`);

const SOURCES = [{ id: 0, name: 'anvil', url: 'ws://127.0.0.1:8545' }, { id: 1, name: 'geth', url: 'ws://10.0.0.2:8546' }];

function writer(dir: string, o: Partial<CaptureWriterOptions> = {}): CaptureWriter {
  return new CaptureWriter(dir, { chainId: 1, sources: SOURCES, startNs: 0, flushMs: 60_000, ...o });
}

function rawTx(i: number, size = 200): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}

function block(i: number, fields: Partial<BlockEvent> = {}): BlockEvent {
  return {
    number: 2 ** 33 + i,
    hash: `0x${i.toString(16).padStart(64, '0')}`,
    parentHash: `0x${(i + 1).toString(16).padStart(64, '0')}`,
    timestamp: 1_700_000_000 + i * 12,
    baseFeePerGas: 7n,
    gasLimit: 30_000_000n,
    gasUsed: 12_345_678n,
    miner: `0x${'11'.repeat(20)}`,
    prevRandao: `0x${'22'.repeat(32)}`,
    excessBlobGas: null,
    reorg: false,
    ...fields,
  };
}

/** A capture of `count` tx records (200-byte raw) in one segment; returns its file. */
function txCapture(count: number, o: Partial<CaptureWriterOptions> = {}): { dir: string; file: string } {
  const dir = freshDir();
  const w = writer(dir, o);
  for (let i = 0; i < count; i++) w.writeTx(i * 10, i % 2, { raw: rawTx(i), hash: `0x${i}` });
  w.close();
  return { dir, file: join(dir, 'capture-000000.orcap') };
}

/** Offsets of every record frame in a segment file, found by walking the length fields. */
function frameOffsets(file: string): number[] {
  const b = readFileSync(file);
  const out: number[] = [];
  for (let at = PREFIX_BYTES + b.readUInt32LE(OFF_HEADER_LEN); at < b.length; at += FRAME_BYTES + b.readUInt32LE(at)) out.push(at);
  return out;
}

function copyTo(file: string, bytes: Uint8Array): string {
  const dir = freshDir();
  mkdirSync(dir);
  const out = join(dir, file.split('/').at(-1)!);
  writeFileSync(out, bytes);
  return out;
}

function readAll(path: string, o: CaptureReadOptions = {}): CaptureRecord[] {
  return [...openCapture(path, o).records()];
}


const HEADER: SegmentHeader = {
  captureId: 'crafted',
  chainId: 1,
  sources: [{ id: 0, name: 'x', url: '' }],
  writer: 'test',
  segment: 0,
  startedAt: 0,
  createdAt: 0,
  firstTs: 0,
};

/** A segment built by hand from arbitrary record bodies, for records the writer cannot produce. */
function craftedSegment(bodies: unknown[], header: SegmentHeader = HEADER): string {
  const packr = createCapturePackr();
  const parts = [encodeSegmentStart(header), ...bodies.map((b) => encodeFrame(b instanceof Uint8Array ? b : packr.pack(b)))];
  return copyTo('capture-000000.orcap', Buffer.concat(parts));
}

const plain = (r: CaptureRecord) => JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array || (v && v.type === 'Buffer') ? Buffer.from(v).toString('hex') : v)));

describe('openCapture / CaptureReader', () => {
  it('default', () => {
    const dir = freshDir();
    const w = writer(dir);
    const rpc: RpcTransaction = {
      hash: `0x${'ab'.repeat(32)}`,
      type: '0x2',
      nonce: '0x1',
      input: '0x',
      accessList: [{ address: `0x${'cd'.repeat(20)}`, storageKeys: [`0x${'00'.repeat(32)}`] }],
      blobVersionedHashes: null,
      chainId: '0x1',
    };
    const blocks = [
      block(1, { baseFeePerGas: 2n ** 64n + 5n, excessBlobGas: 2n ** 70n, gasUsed: 0n }),
      block(2, { baseFeePerGas: null, reorg: true, gasLimit: 2n ** 63n }),
    ];
    const blob = rawTx(9, 131_072 + 100);
    w.writeTx(10, 0, { raw: rawTx(1), hash: `0x${'01'.repeat(32)}` });
    w.writeTx(20.5, 1, { rpc, hash: rpc.hash as string });
    w.writeTx(30, 0, { raw: new Uint8Array(0) });
    w.writeBlock(40, 1, blocks[0]!);
    w.writeTx(50, 1, { raw: blob });
    w.writeBlock(9.87654321e13, 0, blocks[1]!);
    w.close();

    const c = openCapture(dir);
    const recs = [...c.records()];
    assert.deepEqual(recs.map((r) => r.t), ['tx', 'tx', 'tx', 'block', 'tx', 'block']);
    const [a, b, e, d, big, f] = recs as [TxRecord, TxRecord, TxRecord, BlockRecord, TxRecord, BlockRecord];
    assert.deepEqual({ ...a, raw: new Uint8Array(a.raw!) }, { t: 'tx', ts: 10, src: 0, raw: rawTx(1), hash: `0x${'01'.repeat(32)}` });
    assert.deepEqual(b, { t: 'tx', ts: 20.5, src: 1, rpc, hash: rpc.hash });
    assert.equal(e.raw!.length, 0);
    assert.deepEqual(d, { t: 'block', ts: 40, src: 1, block: blocks[0] });
    assert.equal(typeof d.block.gasUsed, 'bigint', 'a zero bigint stays a bigint');
    assert.equal(typeof d.block.number, 'number', 'numbers past 32 bits stay numbers');
    assert.deepEqual(new Uint8Array(big.raw!), blob);
    assert.deepEqual(f, { t: 'block', ts: 9.87654321e13, src: 0, block: blocks[1] });
    assert.ok(a.raw instanceof Uint8Array);
    assert.deepEqual(c.stats.byType, { tx: 4, block: 2 });
    assert.equal(c.stats.records, 6);
    assert.equal(c.stats.bytes, statSync(join(dir, 'capture-000000.orcap')).size);
    assert.equal(c.stats.truncatedTail, null);
  });

  it('behavior: byte fields are copies, not views of the reader\'s reused buffer', () => {
    const { dir } = txCapture(50);
    const recs = readAll(dir, { readBufferBytes: 1024 }) as { raw: Uint8Array }[];
    recs.forEach((r, i) => assert.deepEqual(new Uint8Array(r.raw), rawTx(i), `record ${i}`));
  });

  it('behavior: the async pass yields what the sync pass yields', async () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 0 });
    for (let i = 0; i < 120; i++) {
      if (i % 9 === 0) w.writeBlock(i, 0, block(i));
      else w.writeTx(i, 1, { raw: rawTx(i, (i * 37) % 900) });
    }
    w.close();
    const c = openCapture(dir, { readBufferBytes: 512 });
    const sync = [...c.records()].map(plain);
    const syncStats = structuredClone(c.stats);
    const asyncRecs: CaptureRecord[] = [];
    for await (const r of c.recordsAsync()) asyncRecs.push(r);
    assert.equal(sync.length, 120);
    assert.deepEqual(asyncRecs.map(plain), sync);
    assert.deepEqual(c.stats, syncStats, 'each pass resets and refills the stats');
    assert.deepEqual(c.verify(), syncStats);
  });

  it('args: a single segment file opens on its own', () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 0 });
    for (let i = 0; i < 60; i++) w.writeTx(i, 0, { raw: rawTx(i) });
    w.close();
    const c = openCapture(join(dir, 'capture-000001.orcap'));
    assert.equal(c.segments.length, 1);
    assert.equal(c.header.segment, 1);
    const recs = [...c.records()];
    assert.equal(recs[0]!.ts, c.header.firstTs);
  });

  it('behavior: a capture closed without records reads as a header and no records', () => {
    const dir = freshDir();
    writer(dir).close();
    const c = openCapture(dir);
    assert.equal(c.header.firstTs, null);
    assert.deepEqual([...c.records()], []);
    assert.equal(c.stats.records, 0);
  });

  it('error: a directory without segments', () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    const err = captureError(() => openCapture(dir), 'no-segments');
    assert.match(err.message, /no capture segments .*NNNNNN\.orcap/);
    assert.equal(err.file, dir);
    captureError(() => openCapture(join(dir, 'missing')), 'io');
  });

  it('behavior: a torn last record is a truncated tail at every byte offset, an error without the option', () => {
    const { file } = txCapture(5);
    const whole = readFileSync(file);
    const last = frameOffsets(file).at(-1)!;
    for (let cut = last; cut < whole.length; cut++) {
      const f = copyTo(file, whole.subarray(0, cut));
      const c = openCapture(f, { allowTruncatedTail: true });
      assert.equal([...c.records()].length, 4, `cut at ${cut}`);
      assert.deepEqual(c.stats.truncatedTail, cut === last ? null : { file: f, offset: last, presentBytes: cut - last, neededBytes: cut - last < FRAME_BYTES ? FRAME_BYTES : whole.length - last });
      if (cut === last) continue; // ends on a record boundary: a complete capture of 4 records
      const got: CaptureRecord[] = [];
      const err = captureError(() => {
        for (const r of openCapture(f).records()) got.push(r);
      }, 'truncated');
      assert.equal(err.offset, last);
      assert.equal(err.file, f);
      assert.match(err.message, new RegExp(`at byte ${last}: record truncated: ${cut - last} of \\d+ bytes present at the end of the last segment .*allowTruncatedTail`));
      assert.equal(got.length, 4, 'the records before the tear were returned');
    }
  });

  it('behavior: a torn tail is accepted only in the last segment', () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 0 });
    for (let i = 0; i < 60; i++) w.writeTx(i, 0, { raw: rawTx(i) });
    w.close();
    const files = readdirSync(dir).sort().map((x) => join(dir, x));
    assert.ok(files.length >= 3);
    const lastFile = files.at(-1)!;
    truncateSync(lastFile, statSync(lastFile).size - 3);
    const c = openCapture(dir, { allowTruncatedTail: true });
    assert.equal([...c.records()].at(-1)!.ts, 58);
    assert.equal(c.stats.truncatedTail!.file, lastFile);

    truncateSync(files[0]!, statSync(files[0]!).size - 3);
    const err = captureError(() => [...openCapture(dir, { allowTruncatedTail: true }).records()], 'truncated');
    assert.equal(err.file, files[0]);
    assert.match(err.message, /not the last: the capture is damaged/);
  });

  it('behavior: a last segment torn inside its header is a truncated tail; an only segment so torn is an error', () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 0 });
    for (let i = 0; i < 30; i++) w.writeTx(i, 0, { raw: rawTx(i) });
    w.close();
    const files = readdirSync(dir).sort().map((x) => join(dir, x));
    const lastFile = files.at(-1)!;
    const before = [...openCapture(dir).records()].filter((r) => r.ts < openCapture(lastFile).header.firstTs!).length;
    truncateSync(lastFile, 30);
    const c = openCapture(dir, { allowTruncatedTail: true });
    assert.equal([...c.records()].length, before);
    const tail = c.stats.truncatedTail!;
    assert.deepEqual({ file: tail.file, offset: tail.offset, presentBytes: tail.presentBytes }, { file: lastFile, offset: 0, presentBytes: 30 });
    assert.equal(tail.neededBytes, openCapture(files[0]!).segments[0]!.dataOffset, 'the whole prefix and header');
    assert.match(captureError(() => openCapture(dir), 'truncated').message, /allowTruncatedTail/);

    const only = txCapture(1).file;
    truncateSync(only, 10);
    captureError(() => openCapture(only, { allowTruncatedTail: true }), 'truncated');
    truncateSync(only, 0);
    assert.match(captureError(() => openCapture(only), 'truncated').message, /0 of at least 20 bytes/);
  });

  it('behavior: a zero-filled tail (size extended, data lost) is a truncated tail', () => {
    const { file } = txCapture(3);
    const f = copyTo(file, Buffer.concat([readFileSync(file), Buffer.alloc(4096)]));
    const c = openCapture(f, { allowTruncatedTail: true });
    assert.equal([...c.records()].length, 3);
    assert.equal(c.stats.truncatedTail!.neededBytes, -1);
    assert.match(captureError(() => [...openCapture(f).records()], 'bad-length').message, /record length 0/);
  });

  it('error: a flipped byte in a middle record is a CRC error naming file and offset', () => {
    const { file } = txCapture(10);
    const offsets = frameOffsets(file);
    const bytes = readFileSync(file);
    const at = offsets[4]!;
    bytes[at + FRAME_BYTES + 50]! ^= 0x01;
    const f = copyTo(file, bytes);
    const got: CaptureRecord[] = [];
    const err = captureError(() => {
      for (const r of openCapture(f, { allowTruncatedTail: true }).records()) got.push(r);
    }, 'crc');
    assert.equal(err.offset, at);
    assert.equal(err.file, f);
    assert.match(err.message, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at byte ${at}: record CRC mismatch \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}`));
    assert.equal(got.length, 4);
    assert.equal(err.fatal, true);
  });

  it('error: a corrupt length field is corruption, not a truncated tail', () => {
    const { file } = txCapture(10);
    const bytes = readFileSync(file);
    const at = frameOffsets(file)[6]!;
    bytes[at + 3] = 0x7f; // length now ~2 GiB
    const err = captureError(() => [...openCapture(copyTo(file, bytes), { allowTruncatedTail: true }).records()], 'bad-length');
    assert.equal(err.offset, at);
  });

  it('error: wrong magic', () => {
    const { file } = txCapture(1);
    const bytes = readFileSync(file);
    bytes[1] = 0x00;
    const err = captureError(() => openCapture(copyTo(file, bytes)), 'bad-magic');
    assert.equal(err.offset, 0);
    assert.match(err.message, /not a capture segment: starts with 89 00 52 43 41 50 0d 0a, expected 89 4f 52 43 41 50 0d 0a/);
    captureError(() => openCapture(copyTo(file, Buffer.from('{"t":"tx"}\n'))), 'bad-magic');
  });

  it('error: wrong format version says which was found and which is supported', () => {
    const { file } = txCapture(1);
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(2, OFF_VERSION);
    const err = captureError(() => openCapture(copyTo(file, bytes)), 'bad-version');
    assert.equal(err.offset, OFF_VERSION);
    assert.match(err.message, /capture format version 2 is not supported; this reader supports version 1 \(written by a newer orion: upgrade\)/);
    bytes.writeUInt32LE(0, OFF_VERSION);
    assert.match(captureError(() => openCapture(copyTo(file, bytes)), 'bad-version').message, /version 0 is not supported/);
  });

  it('error: a damaged header', () => {
    const { file } = txCapture(1);
    const bytes = readFileSync(file);
    bytes[PREFIX_BYTES + 5]! ^= 0xff;
    assert.equal(captureError(() => openCapture(copyTo(file, bytes)), 'crc').offset, PREFIX_BYTES);
    const missing = craftedSegment([], { ...HEADER, chainId: 'one' as unknown as number });
    assert.match(captureError(() => openCapture(missing), 'bad-header').message, /header field 'chainId' must be a non-negative integer/);
  });

  it('behavior: readers ignore header fields they do not know', () => {
    const f = craftedSegment([{ t: 'tx', ts: 1, src: 0, raw: new Uint8Array([1]) }], { ...HEADER, fork: 'prague' } as SegmentHeader);
    assert.equal(readAll(f).length, 1);
  });

  it('error: an unknown record type names type and offset; skipUnknownTypes skips and counts it', () => {
    const f = craftedSegment([
      { t: 'tx', ts: 1, src: 0, raw: new Uint8Array([1]) },
      { t: 'trace', ts: 2, src: 0, kind: 'storage' },
      { t: 'tx', ts: 3, src: 0, raw: new Uint8Array([3]) },
      { t: 'weird', ts: 4, src: 0 },
    ]);
    const at = frameOffsets(f)[1]!;
    const err = captureError(() => readAll(f), 'unknown-type');
    assert.equal(err.offset, at);
    assert.match(err.message, /record type 'trace' is not known to this reader .*skipUnknownTypes/);
    const c = openCapture(f, { skipUnknownTypes: true });
    assert.deepEqual([...c.records()].map((r) => r.ts), [1, 3]);
    assert.deepEqual(c.stats.skipped, { trace: 1, weird: 1 });
  });

  it('behavior: the tape records (state, mined, meta) round-trip without a source id', () => {
    const dir = freshDir();
    const w = writer(dir, { prefix: 'tape' });
    const mined: MinedBlock = {
      number: 12,
      hash: `0x${'ab'.repeat(32)}`,
      parentHash: `0x${'cd'.repeat(32)}`,
      timestamp: 1_700_000_000,
      baseFeePerGas: '0x3b9aca00',
      txs: [
        { hash: `0x${'01'.repeat(32)}`, from: `0x${'11'.repeat(20)}`, to: null, nonce: 0, status: 1, touched: [] },
        { hash: `0x${'02'.repeat(32)}`, from: `0x${'11'.repeat(20)}`, to: `0x${'22'.repeat(20)}`, nonce: 1, status: 0, touched: [`0x${'33'.repeat(20)}`] },
      ],
    };
    w.writeMeta(5, { config: { chainId: 1, nested: [1, 'two', null] } });
    w.writeState(10, 'eth_getBalance', [`0x${'11'.repeat(20)}`, '0xc'], { result: '0x1' });
    w.writeState(11, 'eth_getTransactionReceipt', [`0x${'99'.repeat(32)}`], { result: null });
    w.writeState(12, 'eth_call', [{ to: `0x${'22'.repeat(20)}`, data: '0x' }, 'latest'], { error: { code: 3, message: 'execution reverted', data: '0x08c379a0' } });
    w.writeMined(13, mined);
    w.close();
    const recs = readAll(dir);
    assert.deepEqual(recs, [
      { t: 'meta', ts: 5, meta: { config: { chainId: 1, nested: [1, 'two', null] } } },
      { t: 'state', ts: 10, m: 'eth_getBalance', p: [`0x${'11'.repeat(20)}`, '0xc'], r: '0x1' },
      { t: 'state', ts: 11, m: 'eth_getTransactionReceipt', p: [`0x${'99'.repeat(32)}`], r: null },
      { t: 'state', ts: 12, m: 'eth_call', p: [{ to: `0x${'22'.repeat(20)}`, data: '0x' }, 'latest'], e: { code: 3, message: 'execution reverted', data: '0x08c379a0' } },
      { t: 'mined', ts: 13, block: mined },
    ]);
    const c = openCapture(dir);
    c.verify();
    assert.deepEqual(c.stats.byType, { meta: 1, state: 3, mined: 1 });
    // append() copies records as they are, ts included: a filtered copy of a tape.
    const copy = freshDir();
    const w2 = writer(copy, { prefix: 'tape' });
    for (const r of recs) if (r.t !== 'meta') w2.append(r);
    w2.append({ t: 'tx', ts: 99, src: 1, raw: rawTx(1) });
    w2.close();
    const expected: CaptureRecord[] = [...recs.slice(1), { t: 'tx', ts: 99, src: 1, raw: rawTx(1) }];
    assert.deepEqual(readAll(copy).map(plain), expected.map(plain));
    assert.throws(() => writer(freshDir()).append({ t: 'tx', ts: 1, src: 7, raw: rawTx(1) }), /source id 7 is not among/);
  });

  it('error: tape records of the wrong shape are bad records', () => {
    const tx = { hash: '0x01', from: '0x02', to: null, nonce: 0, status: 1, touched: [] };
    const blk = { number: 1, hash: '0x0a', parentHash: '0x0b', timestamp: 2, baseFeePerGas: null, txs: [tx] };
    const cases: [unknown, RegExp][] = [
      [{ t: 'state', m: 'eth_chainId', p: [], r: '0x1' }, /state record: 'ts' must be a number/],
      [{ t: 'state', ts: 1, p: [], r: '0x1' }, /'m' \(method\) must be a string/],
      [{ t: 'state', ts: 1, m: 'eth_chainId', p: {}, r: '0x1' }, /'p' \(params\) must be an array/],
      [{ t: 'state', ts: 1, m: 'eth_chainId', p: [] }, /exactly one of 'r' \(result\) and 'e' \(error\)/],
      [{ t: 'state', ts: 1, m: 'eth_chainId', p: [], r: '0x1', e: { code: 1, message: 'x' } }, /exactly one of 'r'/],
      [{ t: 'state', ts: 1, m: 'eth_chainId', p: [], e: { code: '1', message: 'x' } }, /'e' must be \{ code: number, message: string \}/],
      [{ t: 'mined', ts: 1, block: { ...blk, number: '1' } }, /mined record: 'block' needs number/],
      [{ t: 'mined', ts: 1, block: { ...blk, baseFeePerGas: 7 } }, /'block.baseFeePerGas' must be/],
      [{ t: 'mined', ts: 1, block: { ...blk, txs: {} } }, /'block.txs' must be an array/],
      [{ t: 'mined', ts: 1, block: { ...blk, txs: [tx, { ...tx, status: 2 }] } }, /'block.txs\[1\]' must be/],
      [{ t: 'mined', ts: 1, block: { ...blk, txs: [{ ...tx, touched: [5] }] } }, /'block.txs\[0\]' must be/],
      [{ t: 'meta', ts: 1, meta: [1] }, /meta record: 'meta' must be a map/],
    ];
    for (const [body, message] of cases) assert.match(captureError(() => readAll(craftedSegment([body])), 'bad-record').message, message);
    assert.equal(readAll(craftedSegment([{ t: 'mined', ts: 1, block: blk }])).length, 1);
  });

  it('error: a body that is not msgpack, or not a valid record', () => {
    const notMsgpack = craftedSegment([{ t: 'tx', ts: 1, src: 0, raw: new Uint8Array([1]) }, new Uint8Array([0x92, 0x01])]);
    assert.equal(captureError(() => readAll(notMsgpack), 'bad-msgpack').offset, frameOffsets(notMsgpack)[1]);
    const cases: [unknown, RegExp][] = [
      [[1, 2], /not a msgpack map/],
      [{ ts: 1, src: 0 }, /no string type/],
      [{ t: 'tx', ts: 1, src: 0, raw: new Uint8Array(1), rpc: {} }, /exactly one of 'raw' and 'rpc'/],
      [{ t: 'tx', ts: 1, src: 0, raw: 'ab' }, /'raw' must be bytes/],
      [{ t: 'tx', ts: 1, src: 5, raw: new Uint8Array(1) }, /'src' 5 is not a source id/],
      [{ t: 'tx', ts: '1', src: 0, raw: new Uint8Array(1) }, /'ts' must be a number/],
      [{ t: 'block', ts: 1, src: 0, block: { number: 1 } }, /'block' must be a block event/],
    ];
    for (const [body, message] of cases) assert.match(captureError(() => readAll(craftedSegment([body])), 'bad-record').message, message);
  });

  it('error: a capture with a missing middle segment or a foreign segment', () => {
    const dir = freshDir();
    const w = writer(dir, { segmentBytes: 4096, retainBytes: 0 });
    for (let i = 0; i < 80; i++) w.writeTx(i, 0, { raw: rawTx(i) });
    w.close();
    const other = txCapture(1);
    const foreign = join(dir, 'capture-000002.orcap');
    const saved = readFileSync(foreign);
    copyFileSync(other.file, foreign);
    assert.match(captureError(() => openCapture(dir), 'segments').message, /belongs to another capture/);
    unlinkSync(foreign);
    assert.match(captureError(() => openCapture(dir), 'segments').message, /segments 2\.\.2 are missing between capture-000001\.orcap and capture-000003\.orcap/);
    writeFileSync(foreign, saved);
    assert.equal(readAll(dir).length, 80);
  });

  it('args: prefix picks one of several captures in a directory', () => {
    const dir = freshDir();
    writer(dir, { prefix: 'a' }).close();
    const b = writer(dir, { prefix: 'b' });
    b.writeTx(1, 0, { raw: rawTx(1) });
    b.close();
    assert.match(captureError(() => openCapture(dir), 'segments').message, /several captures \(prefixes a, b\)/);
    assert.equal(readAll(dir, { prefix: 'b' }).length, 1);
    assert.equal(readAll(dir, { prefix: 'a' }).length, 0);
  });
});
