import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CaptureSummary } from '../../src/cli/capture.js';
import { CaptureError } from '../../src/replay/capture/format.js';
import { openCapture } from '../../src/replay/capture/capture-reader.js';
import { CaptureWriter } from '../../src/replay/capture/capture-writer.js';
import { type ReplayOutput, ReplayError, type ReplayReport, replay } from '../../src/index.js';
import { runCli } from '../support/cli.js';

/**
 * Capture and replay end to end: `orion capture --devnet` records a live run (anvil, Uniswap,
 * traffic), then the capture is replayed, without the devnet, through the real actors and threads.
 */

const cli = (args: string[]) => runCli(args);

interface Live {
  digest: string;
  records: [id: string, revision: number, verification: string, netWei: string][];
}

const root = mkdtempSync(join(tmpdir(), 'orion-replay-e2e-'));
const dir = join(root, 'capture');
let summary: CaptureSummary;
let live: Live;

/** A copy of the capture to damage. */
function copy(name: string): string {
  const to = join(root, name);
  cpSync(dir, to, { recursive: true });
  return to;
}

function firstSegment(d: string): string {
  return join(d, readdirSync(d).filter((n) => n.startsWith('capture-') && n.endsWith('.orcap')).sort()[0]!);
}

describe('orion capture → orion replay', { timeout: 600_000 }, () => {
  before(async () => {
    const r = await cli(['capture', '--devnet', '--rate', '60', '--duration', '8', '--out', dir, '--json']);
    assert.equal(r.status, 0, r.stderr);
    summary = JSON.parse(r.stdout) as CaptureSummary;
    live = JSON.parse(readFileSync(join(dir, 'live.json'), 'utf8')) as Live;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('records transactions, heads, node reads and mined blocks, with progress', () => {
    assert.ok(summary.txs > 100, JSON.stringify(summary));
    assert.ok(summary.blocks >= 4, JSON.stringify(summary));
    assert.ok(summary.stateReads > 0);
    assert.ok(summary.minedBlocks >= 4);
    assert.ok(Object.values(summary.opportunities).reduce((a, b) => a + b, 0) > 0, 'the devnet run found opportunities');
    assert.ok(existsSync(join(dir, 'tape')));
    assert.ok(existsSync(join(dir, 'senders.bin')), 'the senders the run recovered');
    assert.equal(live.digest, summary.digest);
  });

  it('replays to the same opportunities (ids and predicted profit) the live run produced, without the node', async () => {
    const run = replay(dir, { threads: 2 });
    const got: [string, number, string, string][] = [];
    for await (const o of run) if (o.type === 'opportunity') got.push([o.opportunity.id, o.opportunity.revision, o.opportunity.verification, o.opportunity.profit.netWei.toString()]);
    const report = await run.report;
    got.sort((a, b) => (a[0] + a[1] < b[0] + b[1] ? -1 : 1));
    assert.ok(got.length > 0);
    assert.deepEqual(got, live.records);
    assert.equal(report.digest, live.digest);
    assert.deepEqual(report.live, { digest: live.digest, matches: true });
    assert.equal(report.complete, true);
    assert.equal(report.txs, summary.txs);
    assert.ok(report.capture.senderHints > summary.txs / 2, `sender hints ${report.capture.senderHints}`);
    assert.deepEqual(report.opportunities, summary.opportunities);
    assert.ok(report.backtest !== null && report.backtest.minedBlocks >= 4);
    assert.ok(report.backtest.considered > 0);
    assert.ok(report.submissions.byStatus['dry-run'] !== undefined || report.submissions.byStatus.skipped !== undefined, JSON.stringify(report.submissions));
  });

  it('gives the same digest on 10 replays: 1 and 2 EVM threads, at max speed and at 1x', async () => {
    const plan: { threads: number; speed: 'max' | number }[] = [
      ...Array.from({ length: 8 }, (_, i) => ({ threads: 1 + (i % 2), speed: 'max' as const })),
      { threads: 1, speed: 1 },
      { threads: 2, speed: 1 },
    ];
    const digests: string[] = [];
    for (const p of plan) {
      const r: ReplayReport = await replay(dir, p).report;
      digests.push(r.digest);
      assert.equal(r.complete, true);
    }
    assert.deepEqual(new Set(digests), new Set([live.digest]), digests.join('\n'));
  });

  it('a flipped byte: CaptureError naming the file, offset and kind; no report', async () => {
    const d = copy('flipped');
    const seg = firstSegment(d);
    const bytes = readFileSync(seg);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(seg, bytes);
    await assert.rejects(replay(d).report, (err: unknown) => {
      assert.ok(err instanceof CaptureError, String(err));
      assert.ok(['crc', 'bad-length', 'bad-msgpack', 'bad-record'].includes(err.kind), err.kind);
      assert.equal(err.file, seg);
      assert.ok(err.offset > 0 && err.offset <= at, `offset ${err.offset}`);
      return true;
    });
    const r = await cli(['replay', d, '--report', join(d, 'report.json')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /at byte \d+/);
    assert.equal(existsSync(join(d, 'report.json')), false);
  });

  it('a truncated capture and a wrong format version fail with their kind', async () => {
    const t = copy('truncated');
    const seg = firstSegment(t);
    truncateSync(seg, statSync(seg).size - 7);
    await assert.rejects(replay(t).report, (err: unknown) => err instanceof CaptureError && err.kind === 'truncated' && err.offset > 0);
    const v = copy('version');
    const vseg = firstSegment(v);
    const bytes = readFileSync(vseg);
    bytes.writeUInt32LE(99, 8);
    writeFileSync(vseg, bytes);
    await assert.rejects(replay(v).report, (err: unknown) => err instanceof CaptureError && err.kind === 'bad-version' && /99/.test(err.message));
  });

  it('a tape that lacks a node read: a ReplayError naming the read, and a partial report marked incomplete', async () => {
    const d = copy('lacking');
    const tapeDir = join(d, 'tape');
    const reader = openCapture(tapeDir, { prefix: 'tape' });
    const records = [...reader.records()];
    rmSync(tapeDir, { recursive: true });
    // Drop every storage read: the EVM and the pool sync cannot run without them.
    const w = new CaptureWriter(tapeDir, { chainId: reader.header.chainId, sources: [], prefix: 'tape', startNs: 0 });
    let dropped = 0;
    for (const r of records) {
      if (r.t === 'state' && (r.m === 'eth_getStorageAt' || r.m === 'eth_call')) {
        dropped++;
        continue;
      }
      w.append(r);
    }
    w.close();
    assert.ok(dropped > 0);
    await assert.rejects(replay(d).report, (err: unknown) => {
      assert.ok(err instanceof ReplayError, String(err));
      assert.match(err.message, /lacks \d+ node read/);
      assert.match(err.message, /eth_getStorageAt|eth_call/);
      assert.equal(err.partial?.complete, false);
      return true;
    });
  });

  it('the library iterates every output once and the CLI writes the report', async () => {
    const run = replay(dir);
    const outputs: ReplayOutput[] = [];
    for await (const o of run) outputs.push(o);
    const report = await run.report;
    const opps = outputs.filter((o) => o.type === 'opportunity').length;
    assert.equal(opps, live.records.length);
    const file = join(root, 'report.json');
    const r = await cli(['replay', dir, '--report', file, '--speed', 'max']);
    assert.equal(r.status, 0, r.stderr);
    const written = JSON.parse(readFileSync(file, 'utf8')) as ReplayReport;
    assert.equal(written.digest, report.digest);
    assert.ok(written.txPerSecond > 0 && written.wallSeconds > 0);
    assert.deepEqual(written.opportunities, report.opportunities);
    // Not a terminal: no progress bar in what it wrote.
    assert.doesNotMatch(r.stderr, /\[#*\.*\]/);
  });
});
