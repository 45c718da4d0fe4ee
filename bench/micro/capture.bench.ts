/**
 * Capture writer and reader (tinybench), each against the obvious alternative in the same run.
 * Append: CaptureWriter.writeTx of a 200-byte raw tx (buffered, framed msgpack) vs one
 * `writeSync` per record of the same frame (unbuffered) vs one `writeSync` per JSON line (hex
 * bytes). Read: a full pass of CaptureReader.records() over RECORDS tx records vs JSON lines
 * (readFileSync, split, JSON.parse, hex decode). Writes bench/results/capture.json.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { openCapture } from '../../src/replay/capture/capture-reader.js';
import { CaptureWriter } from '../../src/replay/capture/capture-writer.js';
import { createCapturePackr, encodeFrame } from '../../src/replay/capture/format.js';
import { monoNs } from '../../src/runtime/clock.js';
import { writeResult } from '../support/results.js';

const BATCH = 10_000;
const RECORDS = 200_000;
const RAW_BYTES = 200;
const SOURCES = [{ id: 0, name: 'bench', url: 'ws://127.0.0.1:8545' }];

const root = mkdtempSync(join(tmpdir(), 'orion-capture-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const raw = new Uint8Array(RAW_BYTES);
for (let i = 0; i < RAW_BYTES; i++) raw[i] = (i * 7 + 3) & 0xff;
const hash = `0x${'ab'.repeat(32)}`;
const rawHex = `0x${Buffer.from(raw).toString('hex')}`;

// Retention bounds what the append benchmark leaves on disk however many iterations tinybench runs.
const writer = new CaptureWriter(join(root, 'append'), { chainId: 1, sources: SOURCES, retainBytes: 256 * 1024 * 1024 });
const framePackr = createCapturePackr();
const frameFd = openSync(join(root, 'frames.bin'), 'w');
const jsonFd = openSync(join(root, 'append.jsonl'), 'w');
let framePos = 0;
let jsonPos = 0;
const WRAP = 64 * 1024 * 1024; // the alternatives rewrite one 64 MiB region instead of growing forever

const bench = new Bench({ time: 2000, warmupTime: 300, iterations: 5 });
bench
  .add('CaptureWriter.writeTx', () => {
    for (let i = 0; i < BATCH; i++) writer.writeTx(monoNs(), 0, { raw, hash });
  })
  .add('writeSync per record (same frame)', () => {
    for (let i = 0; i < BATCH; i++) {
      const f = encodeFrame(framePackr.pack({ t: 'tx', ts: monoNs(), src: 0, raw, hash }));
      if (framePos > WRAP) framePos = 0;
      framePos += writeSync(frameFd, f, 0, f.length, framePos);
    }
  })
  .add('writeSync per JSON line', () => {
    for (let i = 0; i < BATCH; i++) {
      const line = `${JSON.stringify({ t: 'tx', ts: monoNs(), src: 0, raw: rawHex, hash })}\n`;
      if (jsonPos > WRAP) jsonPos = 0;
      jsonPos += writeSync(jsonFd, line, jsonPos);
    }
  });
await bench.run();
writer.close();
closeSync(frameFd);
closeSync(jsonFd);

// Read side: the same RECORDS records in both forms.
const readDir = join(root, 'read');
const w = new CaptureWriter(readDir, { chainId: 1, sources: SOURCES, startNs: 0, retainBytes: 0 });
const lines: string[] = [];
for (let i = 0; i < RECORDS; i++) {
  w.writeTx(i * 1000, 0, { raw, hash });
  lines.push(JSON.stringify({ t: 'tx', ts: i * 1000, src: 0, raw: rawHex, hash }));
}
w.close();
const jsonlPath = join(root, 'read.jsonl');
const jfd = openSync(jsonlPath, 'w');
writeSync(jfd, `${lines.join('\n')}\n`);
closeSync(jfd);
lines.length = 0;
const capture = openCapture(readDir);
let sink = 0;

const readBench = new Bench({ time: 3000, warmupTime: 500, iterations: 5 });
readBench
  .add('CaptureReader.records()', () => {
    let n = 0;
    for (const r of capture.records()) n += r.ts > -1 ? 1 : 0;
    if (n !== RECORDS) throw new Error(`read ${n} records`);
    sink += n;
  })
  .add('JSON lines', () => {
    let n = 0;
    for (const line of readFileSync(jsonlPath, 'utf8').split('\n')) {
      if (line.length === 0) continue;
      const o = JSON.parse(line) as { raw: string };
      n += Buffer.from(o.raw.slice(2), 'hex').length > 0 ? 1 : 0;
    }
    if (n !== RECORDS) throw new Error(`read ${n} lines`);
    sink += n;
  });
await readBench.run();

function p50Ms(b: Bench, name: string): number {
  const task = b.tasks.find((x) => x.name === name)!;
  const res = task.result as unknown as { latency?: { p50?: number }; period?: number };
  return res.latency?.p50 ?? res.period ?? Number.NaN;
}
const us = (ms: number) => Math.round(((ms * 1000) / BATCH) * 1000) / 1000;
const appendUs = us(p50Ms(bench, 'CaptureWriter.writeTx'));
const frameSyncUs = us(p50Ms(bench, 'writeSync per record (same frame)'));
const jsonSyncUs = us(p50Ms(bench, 'writeSync per JSON line'));
const readMs = p50Ms(readBench, 'CaptureReader.records()');
const jsonReadMs = p50Ms(readBench, 'JSON lines');
const readRecordsPerSec = Math.round((RECORDS / readMs) * 1000);
const jsonReadRecordsPerSec = Math.round((RECORDS / jsonReadMs) * 1000);
const captureBytes = capture.segments.reduce((a, s) => a + s.bytes, 0);
const jsonBytes = statSync(jsonlPath).size;
const ws = writer.stats();

process.stderr.write(
  `append: CaptureWriter ${appendUs} µs/record, writeSync per frame ${frameSyncUs} µs, writeSync per JSON line ${jsonSyncUs} µs ` +
    `(${ws.writes} writes for ${ws.records} records)\n` +
    `read: CaptureReader ${readRecordsPerSec} records/s (${((readRecordsPerSec * captureBytes) / RECORDS / 2 ** 20).toFixed(0)} MiB/s), JSON lines ${jsonReadRecordsPerSec} records/s; ` +
    `${(captureBytes / RECORDS).toFixed(1)} B/record on disk vs ${(jsonBytes / RECORDS).toFixed(1)} as JSON (${sink > 0 ? 'ok' : ''})\n`,
);
writeResult(
  'capture',
  {
    appendUs,
    appendVsWriteSyncPerRecord: Math.round((frameSyncUs / appendUs) * 100) / 100,
    appendVsJsonLines: Math.round((jsonSyncUs / appendUs) * 100) / 100,
    readRecordsPerSec,
    readVsJsonLines: Math.round((readRecordsPerSec / jsonReadRecordsPerSec) * 100) / 100,
    bytesPerTxRecord: Math.round((captureBytes / RECORDS) * 10) / 10,
  },
  {
    batch: BATCH,
    records: RECORDS,
    rawTxBytes: RAW_BYTES,
    writeSyncPerFrameUs: frameSyncUs,
    writeSyncPerJsonLineUs: jsonSyncUs,
    jsonReadRecordsPerSec,
    jsonBytesPerRecord: Math.round((jsonBytes / RECORDS) * 10) / 10,
    writerStats: ws,
    note: 'append: median time per batch of 10k appends / 10k (flushes and rotation amortised); read: median full pass over 200k tx records (page cache warm)',
  },
);
