import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  CAPTURE_FORMAT_VERSION,
  CAPTURE_MAGIC,
  CaptureError,
  FRAME_BYTES,
  OFF_HEADER_CRC,
  OFF_HEADER_LEN,
  OFF_VERSION,
  PREFIX_BYTES,
  type SegmentHeader,
  createCapturePackr,
  createCaptureUnpackr,
  RAW_TX_BODY_OVERHEAD,
  encodeFrame,
  encodeRawTxBody,
  encodeSegmentStart,
  parseSegmentFileName,
  redactUrl,
  segmentFileName,
  writerName,
} from '../../../src/replay/capture/format.js';
import { OrionError } from '../../../src/runtime/errors.js';

const header: SegmentHeader = {
  captureId: 'c1',
  chainId: 31337,
  sources: [{ id: 0, name: 'anvil', url: 'ws://127.0.0.1:8545/' }],
  writer: 'orion-mev/test',
  segment: 3,
  startedAt: 1_700_000_000_000,
  createdAt: 1_700_000_001_000,
  firstTs: 12.5,
};

describe('capture format', () => {
  it('default', () => {
    assert.equal(CAPTURE_FORMAT_VERSION, 1);
    assert.equal(Buffer.from(CAPTURE_MAGIC).toString('latin1'), '\x89ORCAP\r\n');
    assert.equal(segmentFileName('capture', 7), 'capture-000007.orcap');
    assert.deepEqual(parseSegmentFileName('capture-000007.orcap'), { prefix: 'capture', index: 7 });
    assert.deepEqual(parseSegmentFileName('a-b-1234567.orcap'), { prefix: 'a-b', index: 1_234_567 });
    assert.equal(parseSegmentFileName('capture-7.orcap'), null);
    assert.equal(parseSegmentFileName('capture-000007.orcap.tmp'), null);
    assert.match(writerName(), /^orion-mev\/\d+\.\d+\.\d+/);
  });

  it('behavior: a segment starts with the documented byte layout', () => {
    const b = encodeSegmentStart(header);
    assert.deepEqual(new Uint8Array(b.subarray(0, 8)), new Uint8Array(CAPTURE_MAGIC));
    assert.equal(b.readUInt32LE(OFF_VERSION), CAPTURE_FORMAT_VERSION);
    const len = b.readUInt32LE(OFF_HEADER_LEN);
    assert.equal(b.length, PREFIX_BYTES + len);
    const body = b.subarray(PREFIX_BYTES);
    assert.equal(b.readUInt32LE(OFF_HEADER_CRC), crc32(body));
    assert.deepEqual(createCaptureUnpackr().unpack(body), header);
  });

  it('behavior: a frame is u32 LE length, u32 LE crc32 of the body, then the body', () => {
    const body = createCapturePackr().pack({ t: 'tx', ts: 1, src: 0, raw: new Uint8Array([1, 2, 3]) });
    const f = encodeFrame(body);
    assert.equal(f.readUInt32LE(0), body.length);
    assert.equal(f.readUInt32LE(4), crc32(body));
    assert.deepEqual(new Uint8Array(f.subarray(FRAME_BYTES)), new Uint8Array(body));
  });

  it('behavior: bodies are plain msgpack any library reads: maps, bin, int64 and ext 0x42 for big integers', () => {
    const packr = createCapturePackr();
    const body = packr.pack({ t: 'tx', raw: new Uint8Array([0xaa]), small: 5n, big: 2n ** 64n + 1n, neg: -(2n ** 70n) });
    // A map16 of 5 entries with string keys: no msgpackr record extension.
    assert.deepEqual([...body.subarray(0, 4)], [0xde, 0x00, 0x05, 0xa1]);
    const hex = Buffer.from(body).toString('hex');
    assert.ok(hex.includes('c401aa'), 'bytes are msgpack bin 8');
    assert.ok(hex.includes('d30000000000000005'), 'a bigint within 64 bits is int64');
    assert.ok(hex.includes('d842' + '00000000000000010000000000000001'), 'a larger bigint is ext 0x42, big-endian two\'s complement');
    const back = createCaptureUnpackr().unpack(body) as Record<string, unknown>;
    assert.equal(back.small, 5n);
    assert.equal(back.big, 2n ** 64n + 1n);
    assert.equal(back.neg, -(2n ** 70n));
    assert.ok(back.raw instanceof Uint8Array);
  });

  it('behavior: encodeRawTxBody writes byte for byte what the packer writes', () => {
    const packr = createCapturePackr();
    const target = Buffer.alloc(70_000 + 320);
    const tss = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, 12.5, 9.87654321e13, -0.25, 2 ** 53 + 2];
    const srcs = [0, 3, 127, 128, 300, 70_000];
    const raws = [0, 1, 200, 255, 256, 65_535, 65_536].map((n) => new Uint8Array(n).map((_, i) => (i * 13) & 0xff));
    const hashes = [undefined, '', '0x1', 'x'.repeat(31), 'x'.repeat(32), `0x${'ab'.repeat(32)}`, 'é'.repeat(15), 'é'.repeat(16), '€'.repeat(85), 'x'.repeat(85)];
    let cases = 0;
    for (const ts of tss) for (const src of srcs) for (const raw of raws) for (const hash of hashes) {
      if (raw.length > 300 && (tss.indexOf(ts) % 5 !== 0 || hash === '')) continue; // large bodies: a sample is enough
      const rec = hash === undefined ? { t: 'tx', ts, src, raw } : { t: 'tx', ts, src, raw, hash };
      const expected = Buffer.from(packr.pack(rec));
      const end = encodeRawTxBody(target, 7, ts, src, raw, hash);
      assert.deepEqual(target.subarray(7, end), expected, JSON.stringify({ ts, src, raw: raw.length, hash }));
      assert.ok(end - 7 <= raw.length + RAW_TX_BODY_OVERHEAD);
      cases++;
    }
    assert.ok(cases > 1000);
    assert.equal(encodeRawTxBody(target, 0, 1, 0, new Uint8Array(1), 'x'.repeat(86)), -1, 'a longer hash goes through the packer');
  });

  it('behavior: two packers write one record to the same bytes (no state carried between records)', () => {
    const a = createCapturePackr();
    const rec = { t: 'block', ts: 3, src: 1, block: { number: 1, hash: '0x01', baseFeePerGas: 7n } };
    const first = Buffer.from(a.pack(rec));
    a.pack({ t: 'tx', ts: 0, src: 0, raw: new Uint8Array(4) });
    assert.deepEqual(Buffer.from(a.pack(rec)), first);
    assert.deepEqual(Buffer.from(createCapturePackr().pack(rec)), first);
  });
});

describe('redactUrl', () => {
  it('default', () => {
    assert.equal(redactUrl('ws://127.0.0.1:8545'), 'ws://127.0.0.1:8545/');
  });

  it('behavior: user, password, key-like path segments, query values and fragment are removed', () => {
    assert.equal(redactUrl('wss://user:secret@node.example:8546/ws#frag'), 'wss://node.example:8546/ws');
    assert.equal(redactUrl('wss://mainnet.infura.io/ws/v3/0123456789abcdef0123456789abcdef'), 'wss://mainnet.infura.io/ws/v3/***');
    assert.equal(redactUrl('https://eth-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWx_-12'), 'https://eth-mainnet.g.alchemy.com/v2/***');
    assert.equal(redactUrl('https://rpc.example/?apikey=s3cret&x=1&x=2'), 'https://rpc.example/?apikey=***&x=***');
  });

  it('args: a value that is not a URL keeps no userinfo or query', () => {
    assert.equal(redactUrl('/var/run/geth.ipc'), '/var/run/geth.ipc');
    assert.equal(redactUrl('node//me:pw@host?token=1'), 'node//host');
  });
});

describe('CaptureError', () => {
  it('default', () => {
    const err = new CaptureError('crc', '/tmp/c/capture-000001.orcap', 4242, 'record CRC mismatch');
    assert.ok(err instanceof OrionError);
    assert.equal(err.code, 'ORION_ERR_CAPTURE');
    assert.equal(err.kind, 'crc');
    assert.equal(err.file, '/tmp/c/capture-000001.orcap');
    assert.equal(err.offset, 4242);
    assert.equal(err.fatal, true, 'a damaged file stays damaged: restarting cannot help');
    assert.equal(err.message, '/tmp/c/capture-000001.orcap at byte 4242: record CRC mismatch [crc]');
  });

  it('args: without an offset the message names only the file', () => {
    assert.equal(new CaptureError('no-segments', '/tmp/c', -1, 'no capture segments').message, '/tmp/c: no capture segments [no-segments]');
    assert.equal(new CaptureError('io', '/x', -1, 'disk full', { fatal: false }).fatal, false);
  });
});
